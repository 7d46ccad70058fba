"""The rewrite stage: the question as the knowledge base would put it.

- A follow-up is made standalone with the conversation's topic and instruments, unless it names
  others; a self-contained new question is left alone.
- A scenario's narrative (roles, dates, money, service names) is reduced to its legal question;
  the narrative feeds the context stage, not the search.
- The domain vocabulary maps everyday words, acronyms and Welsh terms to concepts, search words
  and provision ids. A question in Welsh is searched in English through the vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from procguide import provisions as prov
from procguide.context import contract_value, start_mentions
from procguide.vocabulary import Concept, Match, Vocabulary
from procguide.welsh import is_welsh

# A follow-up opens with a connective ...
_CONNECTIVE = re.compile(
    r"^\s*(?:and|but|also|so|then|ok(?:ay)?|right|what\s+about|how\s+about|what\s+if|and\s+if|"
    r"same|a\s+beth\s+am|beth\s+am|beth\s+os|ac|ond|hefyd)\b",
    re.IGNORECASE,
)
# ... or leans on something said before: a pronoun, or a verb left without its object.
_ANAPHORA = re.compile(
    r"\b(?:it|its|they|them|their|those|these|such|the\s+same|that\s+one|this\s+one|that\s+rule|"
    r"that\s+contract|this\s+contract|the\s+contract|that\s+route|that\s+process|that\s+duty|"
    r"that\s+test|this\s+test|that\s+exemption|hwn|hon|hynny|nhw|hyn)\b",
    re.IGNORECASE,
)
_EXPLETIVE = re.compile(
    r"\b(?:is|was|would|will|isn't|wouldn't)\s+it\s+(?:true|ok|okay|possible|legal|lawful|allowed|"
    r"right|wrong|necessary|worth|better|compulsory|mandatory|required|fair|sensible|enough)\b|"
    r"\bit'?s\s+(?:true|ok|okay|possible|legal|allowed|right|worth|fine)\b|\bmake\s+it\s+clear\b",
    re.IGNORECASE,
)
_DANGLING = re.compile(
    r"\b(?:qualify|apply|count|work|differ|change|be\s+(?:allowed|ok|okay|possible|different|the\s+same)|"
    r"still\s+apply|still\s+the\s+case|too|as\s+well|instead|equivalent)\s*\??\s*$",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^\s*(?:can|could|do|does|did|is|are|was|were|how|what|what's|which|when|who|whom|whose|"
    r"where|why|should|must|may|might|will|would|have|has|shall|any|a\s+oes|oes|ydy|ydi|yw|beth|"
    r"pa|sut|pryd|pwy|faint|pam|allwn|gallwn|a\s+allwn|gawn|a\s+gawn|a\s+yw|a\s+ydy|a\s+fyddai|"
    r"a\s+oes|i\s+ba|o\s+dan\s+ba|am\s+ba|tell\s+me|explain|i\s+need\s+to\s+know|we\s+need\s+to\s+know|"
    r"i'?m\s+(?:trying|wondering)|wondering|please|quick\s+q)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.?!])\s+|\n+")
_TOPIC_KINDS = ("topic", "organisation")
_QTYPE_ORDER = ("status", "duration", "amount", "date", "difference", "who", "list", "permission", "definition")


@dataclass
class Query:
    """The question as the search and the answerer read it."""

    question: str  # as screened
    text: str  # standalone search text, in English, with the vocabulary's search words
    focus: str  # what sentences are scored against: the user's own legal question (English),
    # with, for a follow-up that only changes a fact, the question it changes
    own: str = ""  # the user's own legal question (English), without anything carried
    standalone: str = ""  # the question made standalone, before the vocabulary's search words
    asked: str = ""  # the legal question alone, with what a follow-up carries: what evidence is judged on
    language: str = "en"
    concepts: list[Concept] = field(default_factory=list)  # topics and organisations
    out_of_scope: list[Concept] = field(default_factory=list)
    references: list[prov.Reference] = field(default_factory=list)
    instruments: tuple[str, ...] = ()  # instruments the question names, or carries from before
    named_instruments: tuple[str, ...] = ()  # instruments this question itself names
    out_of_scope_mentioned: list[Concept] = field(default_factory=list)  # in its narrative too
    topics: list[Concept] = field(default_factory=list)  # topic concepts of its own legal question
    qtype: str | None = None
    follow_up: bool = False
    narrative: str = ""  # the parts of a scenario left out of the search

    @property
    def provisions(self) -> tuple[str, ...]:
        """Provision ids the question's concepts point to."""
        return tuple(dict.fromkeys(p for c in self.concepts for p in c.provisions))


_INTRO = re.compile(
    r"^\s*(?:hi|hello|hiya|morning|thanks|i'?m|i\s+am|we'?re|we\s+are|as\s+(?:the|a|an)|my\s+(?:role|job|name)|"
    r"i\s+work|i\s+lead|i\s+manage|i\s+run|this\s+is|rydw\s+i|dw\s+i|rwy'?n|rydyn\s+ni|ydw)\b",
    re.IGNORECASE,
)
_NOISE = re.compile(
    r"(?:£|€|eur\s?)\s?\d[\d,.]*\s*(?:m|k|bn|million|billion|thousand)?\b|\b\d{1,2}(?:st|nd|rd|th)?\s+\w+\s+\d{4}\b|"
    r"\b\d{4}\b|\b\d+(?:[.,]\d+)?\b",
    re.IGNORECASE,
)


def _leans_back(sentence: str) -> bool:
    return bool(_ANAPHORA.search(_EXPLETIVE.sub(" ", sentence))) or len(sentence.split()) <= 6


def split_question(text: str, vocabulary: Vocabulary | None = None) -> tuple[list[str], list[str]]:
    """(legal question sentences, narrative sentences) of what the user typed. A question that
    leans on the sentence before it ("Can we do that?", or one with no topic of its own: "Is
    there anything we were supposed to record?") keeps that sentence with it."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    if len(sentences) <= 1:
        return sentences, []
    asking = [i for i, s in enumerate(sentences) if s.endswith("?") or _QUESTION_START.match(s)]
    if not asking:
        return sentences, []
    keep = set(asking)
    for i in asking:
        own_topic = vocabulary is not None and bool(vocabulary.concepts_in(sentences[i], *_TOPIC_KINDS))
        leans = _leans_back(sentences[i]) or (vocabulary is not None and not own_topic)
        if i > 0 and leans and not _INTRO.match(sentences[i - 1]):
            keep.add(i - 1)
    return [s for i, s in enumerate(sentences) if i in keep], [s for i, s in enumerate(sentences) if i not in keep]


def clean_narrative(sentences: list[str], vocabulary: Vocabulary) -> str:
    """The story around a question, as search words: introductions dropped, and names of places
    and bodies, sums of money, dates and numbers taken out (they feed the context stage)."""
    kept = [s for s in sentences if not _INTRO.match(s) or vocabulary.concepts_in(s, *_TOPIC_KINDS)]
    text = " ".join(kept)
    for m in sorted(vocabulary.match(text, ("place", "body")), key=lambda m: -m.start):
        text = text[: m.start] + " " + text[m.end:]
    return re.sub(r"\s+", " ", _NOISE.sub(" ", text)).strip()


@dataclass
class _Reading:
    """One user turn, read on its own: what it asks and what it names."""

    focus: str
    asked: str
    english: str
    concepts: list[Concept]
    out_of_scope: list[Concept]
    narrative_out_of_scope: list[Concept]
    topics: list[Concept]
    instruments: tuple[str, ...]
    references: list[prov.Reference]
    qtype: str | None
    language: str
    narrative: str


def _read(text: str, vocabulary: Vocabulary) -> _Reading:
    asks, narrative = split_question(text, vocabulary)
    focus_raw = " ".join(asks)
    # Words that only say when the procurement started ("if we'd gone out to tender in jan
    # 2025") are the asker's story: they name no topic.
    story = [(start, end) for _day, start, end in start_mentions(focus_raw, date.today())]
    matches = [m for m in vocabulary.match(focus_raw)
               if not any(start <= m.start and m.end <= end for start, end in story)]
    welsh = is_welsh(text, sum(len(m.text.split()) for m in matches if m.welsh))
    narrative_text = " ".join(narrative)
    narrative_matches = vocabulary.match(narrative_text, _TOPIC_KINDS)
    concepts = list(dict.fromkeys(
        m.concept for m in [*matches, *narrative_matches] if m.concept.kind in _TOPIC_KINDS
    ))
    out_of_scope = list(dict.fromkeys(m.concept for m in matches if m.concept.kind == "out-of-scope"))
    narrative_oos = [c for c in vocabulary.concepts_in(narrative_text, "out-of-scope") if c not in out_of_scope]
    topics = list(dict.fromkeys(m.concept for m in matches if m.concept.kind == "topic"))
    cues = [m.concept.qtype for m in matches if m.concept.kind == "cue" and m.concept.qtype]
    cues += [m.concept.qtype for m in vocabulary.match(narrative_text, ("cue",)) if m.concept.qtype]
    # The most telling kind of answer wins: "can we still rely on ...?" asks about status.
    cues.sort(key=lambda q: _QTYPE_ORDER.index(q) if q in _QTYPE_ORDER else len(_QTYPE_ORDER))
    references = prov.find_references(text)
    instruments = tuple(dict.fromkeys(
        i for i, _start, _end in prov.alias_spans(text) if i in prov.INSTRUMENTS
    ))
    if welsh:
        english = _english_rendering(focus_raw, matches, references, instruments)
    else:
        english = focus_raw
    # The story joins the search as plain words, without names, sums and dates.
    extra = clean_narrative(narrative, vocabulary) if not welsh else ""
    focus = english.strip()
    return _Reading(
        focus=focus,
        asked=focus,
        english=" ".join(x for x in (focus, extra) if x),
        concepts=concepts,
        out_of_scope=out_of_scope,
        narrative_out_of_scope=narrative_oos,
        topics=topics,
        instruments=instruments,
        references=references,
        qtype=cues[0] if cues else None,
        language="cy" if welsh else "en",
        narrative=narrative_text,
    )


_CUE_WORDS = {
    "duration": "how long maximum term years", "amount": "how much threshold value figure",
    "date": "when date", "permission": "can we may allowed", "definition": "what is meaning",
    "who": "who which organisations", "list": "what are the options", "difference": "difference compared",
    "status": "still apply no longer binds",
}


def _english_rendering(
    text: str, matches: Sequence[Match], references: Sequence[prov.Reference], instruments: Sequence[str]
) -> str:
    """A Welsh question in English words: its concepts, question type, provisions, instruments
    and numbers (the knowledge base and the embedding model are English)."""
    words: list[str] = []
    for m in matches:
        c = m.concept
        if c.kind == "cue":
            words.append(_CUE_WORDS.get(c.qtype, ""))
        elif c.kind in _TOPIC_KINDS:
            words.append(c.search or c.label)
        else:
            words.append(c.label)
    words += [prov.INSTRUMENTS[i].title for i in instruments]
    words += [prov.describe(f"{r.instrument}:{r.part}") for r in references if r.instrument and r.part]
    words += re.findall(r"\b\d+(?:[.,]\d+)?%?", text)
    return " ".join(w for w in words if w)


def _needs_previous(text: str, reading: _Reading) -> bool:
    """Does the question lean on what came before for its topic? A question about an instrument
    itself ("when did the Welsh PSR come in?") has a topic of its own; "And under the new Act?"
    does not."""
    # A kind of organisation or an instrument alone is a topic of its own, except after a
    # connective: "and for a CIC rather than a mutual?" asks the previous question about a CIC.
    own_topic = (
        bool(reading.topics) or any(r.part for r in reading.references)
        or (bool(reading.concepts or reading.instruments) and not _CONNECTIVE.match(text))
    )
    anaphora = bool(_ANAPHORA.search(_EXPLETIVE.sub(" ", text)))
    return anaphora or bool(_DANGLING.search(text)) or not own_topic


def is_follow_up(text: str, reading: _Reading) -> bool:
    return bool(_CONNECTIVE.match(text)) or _needs_previous(text, reading)


def rewrite(question: str, history: Sequence[dict[str, str]] | None, vocabulary: Vocabulary) -> Query:
    """The standalone query for `question`, read with the conversation's earlier user turns."""
    earlier = [m.get("content", "") for m in history or () if m.get("role") == "user"]
    previous: _Reading | None = None
    for turn in earlier:  # each earlier turn made standalone in order, so follow-ups chain
        previous = _standalone(turn, _read(turn, vocabulary), previous, vocabulary)[0]
    own = _read(question, vocabulary)
    reading, follow_up = _standalone(question, own, previous, vocabulary)
    return Query(
        question=question,
        text=_search_text(reading),
        focus=reading.focus,
        own=own.focus,
        standalone=reading.english,
        asked=reading.asked,
        language=own.language,
        concepts=reading.concepts,
        out_of_scope=own.out_of_scope,
        out_of_scope_mentioned=[*own.out_of_scope, *own.narrative_out_of_scope],
        topics=own.topics,
        references=reading.references,
        instruments=reading.instruments,
        named_instruments=own.instruments,
        qtype=reading.qtype,
        follow_up=follow_up,
        narrative=own.narrative,
    )


def _standalone(
    text: str, reading: _Reading, previous: _Reading | None, vocabulary: Vocabulary
) -> tuple[_Reading, bool]:
    if previous is None or not text.strip() or not is_follow_up(text, reading):
        return reading, False
    instruments = reading.instruments or previous.instruments
    if not _needs_previous(text, reading):
        # "And what about lots?": a new topic, in the same conversation and under the same law.
        return _Reading(**{**reading.__dict__, "instruments": instruments}), True
    carried = previous.english
    if reading.instruments:
        carried = prov.without_other_instruments(carried, set(reading.instruments))
    if reading.instruments or any(r.part for r in reading.references):
        references = reading.references
    else:
        references = previous.references
    focus, implied = reading.focus, []
    if not reading.topics:
        # A sum of money with no topic of its own ("what if it's only worth £400k?") asks
        # whether it crosses a threshold: the conversation's (the KPI duty's £5 million), or
        # else the first the vocabulary lists. The answer is scored against its words.
        if contract_value(text):
            implied = [c for c in previous.concepts if c.money] or vocabulary.money_topics[:1]
        if implied:
            focus = " ".join([*(c.search for c in implied), reading.focus])
        elif not reading.qtype:
            # Nor a kind of answer of its own ("what if we'd gone out in jan 2025?", "same in
            # Wales?", "and for a CIC?"; not "and how long can it last?"): the previous question
            # asked again with one fact changed, so the answer is scored against both.
            focus = f"{previous.focus} {reading.focus}".strip()
    return _Reading(
        focus=focus,
        asked=f"{previous.asked} {reading.focus}".strip(),
        # Searched for the threshold first, then the question it changes.
        english=(" ".join([*(f"{c.label} {c.search}" for c in implied), reading.english, previous.focus])
                 if implied else f"{carried} {reading.english}").strip(),
        concepts=list(dict.fromkeys([*implied, *reading.concepts, *previous.concepts])),
        out_of_scope=reading.out_of_scope,
        narrative_out_of_scope=reading.narrative_out_of_scope,
        topics=reading.topics,
        instruments=instruments,
        references=references,
        qtype=reading.qtype or previous.qtype,
        language=reading.language,
        narrative=reading.narrative,
    ), True


def _search_text(reading: _Reading) -> str:
    """The search text: the standalone question and its concepts' search words."""
    expansions = list(dict.fromkeys(
        c.search for c in reading.concepts if c.search and c.search.lower() not in reading.english.lower()
    ))
    return " ".join([reading.english, *expansions]).strip()

