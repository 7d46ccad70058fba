"""Welsh: telling a question in Welsh from one in English, and matching Welsh words in the forms
mutation gives them ("contract" is also "gontract", "nghontract" and "chontract").
"""

from __future__ import annotations

import re

# Initial consonant mutations: radical -> (soft, nasal, aspirate) forms, as regex alternatives.
_MUTATIONS: dict[str, tuple[str, ...]] = {
    "p": ("b", "mh", "ph"),
    "t": ("d", "nh", "th"),
    "c": ("g", "ngh", "ch"),
    "b": ("f", "m"),
    "d": ("dd", "n"),
    "g": ("", "ng"),
    "m": ("f",),
    "ll": ("l",),
    "rh": ("r",),
}

# Common Welsh words that English questions do not contain: function words, question words and
# everyday verbs. A question with several of them is read as Welsh.
_WELSH_WORDS = frozenset(
    ["ac", "beth", "oes", "ydy", "yw", "ydyw", "mae", "yr", "yn", "ein", "eich", "ni", "fy", "ei", "gyda", "gan", "wrth", "heb", "rhwng", "drwy", "trwy", "ond", "neu", "os", "pryd", "pwy", "pa", "sut", "faint", "pam", "mewn", "allwn", "gallwn", "gawn", "cawn", "gallu", "dylen", "dylai", "dylem", "rhaid", "angen", "eisiau", "gwneud", "cael", "oedd", "bydd", "fydd", "byddai", "fyddai", "sydd", "hefyd", "hyn", "hwn", "hon", "hynny", "rhain", "fel", "nad", "nid", "ddim", "ydw", "dw", "rydym", "rydyn", "ydyn", "ydych", "roedd", "contractau", "cyngor", "cynghorau", "gofal", "iechyd", "darparwr", "darparwyr", "gwasanaeth", "gwasanaethau", "caffael", "deddf", "ddeddf", "flynedd", "blynedd", "mlynedd", "blynyddoedd", "flynyddoedd", "gymdeithasol", "cymdeithasol", "menter", "cwmni", "lleol", "bwrdd", "awdurdod", "ar", "gyfer", "o", "ran", "i'r", "o'r", "a'r", "y'n"]
)
_ENGLISH_WORDS = frozenset(
    ["the", "is", "are", "of", "and", "we", "can", "what", "how", "our", "to", "for", "does", "do", "with", "under", "who", "which", "when"]
)
_WORD = re.compile(r"[a-zâêîôûŵŷ']+")
# Letters and digraphs that mark Welsh spelling (ŵ, ŷ, and "dd", "ll", "ff" inside words).
_WELSH_SPELLING = re.compile(r"[ŵŷâêîôû]|\b\w*(?:dd|ll|ff|wy)\w*\b")


# Mutated forms that are everyday English words, not matched: "Our tender went out in 2024" is not
# about Gwent ("went" is Gwent's soft mutation), nor is a "rant" a grant or to "reek" Greek.
ENGLISH_LOOKALIKES = frozenset(["went", "rant", "reek", "reece"])


def mutation_pattern(word: str) -> str:
    """A regex matching `word` and its mutated forms: 'cyngor' -> '(?:cyngor|gyngor|nghyngor|chyngor)',
    except forms that are English words (ENGLISH_LOOKALIKES)."""
    word = word.lower()
    for radical in ("ll", "rh", *"ptcbdgm"):
        if word.startswith(radical):
            rest = word[len(radical):]
            forms = [f + rest for f in (radical, *_MUTATIONS[radical])]
            kept = [f for f in forms if f == word or f not in ENGLISH_LOOKALIKES]
            return "(?:" + "|".join(re.escape(f) for f in kept) + ")"
    return re.escape(word)


def phrase_pattern(phrase: str) -> str:
    """A Welsh phrase with every word allowed its mutated forms."""
    words = phrase.lower().split()
    return r"\s+".join(mutation_pattern(w) for w in words)


def is_welsh(text: str, known_welsh_words: int = 0) -> bool:
    """True when the text reads as Welsh: a good share of its words are common Welsh words, or
    words of Welsh terms the vocabulary knows (`known_welsh_words`)."""
    words = _WORD.findall(text.lower())
    if len(words) < 2:
        return False
    welsh = sum(w in _WELSH_WORDS for w in words) + known_welsh_words
    english = sum(w in _ENGLISH_WORDS for w in words)
    return welsh >= 2 and welsh / len(words) >= 0.2 and welsh > 2 * english


WELSH_NOTICE = (
    "Mae'r ateb hwn yn Saesneg am fod y ffynonellau yn Saesneg. "
    "(This answer is in English because its sources are in English.)"
)
