"""Does a cited passage support the sentence that cites it? The offline checker, with no LLM:

- every quantity and date in the sentence (digits or words: "three years", "30%") is in the passage;
- every provision the sentence names ("Article 77(3)", "section 33") is named in the passage or
  carried by it, and so is every instrument ("Directive 2014/24/EU", "the Procurement Act 2023",
  "the Welsh Provider Selection Regime"): a rule of the Act is not supported by a passage on the
  Directive;
- each clause of the sentence agrees in polarity with the passage clause, in any of its sentences,
  that shares most of its words (names of provisions and instruments left out), so a "must not"
  elsewhere does not count against a "must"; limits such as "no more than" and kinds such as
  "not-for-profit" are not read as negations;
- no clause of the sentence is far from the passage (CLAUSE_FLOOR): a clause that adds what the
  passage does not say fails the sentence however well the rest matches;
- the sentence's words and meaning are close to the passage: the share of its content words the
  passage holds, and its embedding similarity to the passage's closest sentence, averaged, reach a
  threshold calibrated on labelled pairs (evals/support_pairs.jsonl, `procguide calibrate-support`).

A sentence citing several passages is judged against their texts joined with a blank line.
The same checker gates an LLM's sentences before they are shown (answer/gate.py) and scores every
answer in the evals (evaluation/metrics.py), unless an LLM judge has earned its place
(answer/judge.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from procguide import provisions as prov
from procguide.answer.citations import MARKER
from procguide.answer.sentences import split_sentences
from procguide.config import Settings
from procguide.tokens import tokenize

_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twice": "2",
    "double": "2", "thrice": "3", "half": "0.5",
}
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DATE = re.compile(rf"\b\d{{1,2}} (?:{_MONTHS}) \d{{4}}\b")
_NUMBER = re.compile(r"\d{1,3}(?:[ ,\u00a0]\d{3})+(?!\d)|\d+(?:\.\d+)?")
_WORD = re.compile(r"[a-z]+")
# "Article 77(3)", "regulation 5(1)(d)", "section 33", "SI 2015/102", "Directive 2014/24/EU":
# numbers that name a provision or an instrument, compared as provisions, not as quantities. A list
# or range goes with its head ("sections 52 and 71", "regulations 74 to 76", "33(7) and (8)"), but
# not a quantity after it ("section 68, 30 days").
_UNIT = r"(?:%|per\b|years?\b|months?\b|weeks?\b|days?\b|working\b|hours?\b|million\b|times\b)"
_MORE_PARTS = rf"(?:\s*(?:,|\band\b|\bor\b|\bto\b|-|–)\s*\(?\d+(?!\d)[a-z]?\)?(?:\s?\([0-9a-z]+\))*(?!\s*{_UNIT}))*"
_REFERENCE = re.compile(
    r"\b(?:articles?|arts?\.?|regulations?|regs?\.?|sections?|ss?\.|schedules?|sch\.|recitals?|"
    r"annex|paragraphs?|points?)\s*\(?\d+[a-z]?\)?(?:\s?\([0-9a-z]+\))*" + _MORE_PARTS +
    r"|\b(?:directive|si|c\.|w\.)\s*\d+(?:/\d+)*(?:/eu)?|\b\d{4}/\d+(?:/eu)?|\(\s*[a-z]\s*\)"
    r"|\b(?:pcr|act|regulations|rules|order|report|review)\s+(?:of\s+)?\d{4}\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|can't|neither|nor|none|nothing|without|unless|outside)\b|n't\b", re.IGNORECASE
)


# "one" is a number only before a unit ("one year"), not as a pronoun ("a voluntary one").
_ONE_COUNTS = re.compile(r"\bone\s+(?:year|month|week|day|working|hour|per|third|quarter|fifth)", re.IGNORECASE)


class SupportChecker(Protocol):
    """What judges whether a passage supports a sentence: the offline checker here, or the LLM
    judge (answer/judge.py)."""

    name: str

    def supports(self, sentence: str, passage: str, provisions: Sequence[str] = ()) -> bool: ...


def numbers_in(text: str) -> set[str]:
    """Quantities and dates in a text: '750 000', '30', 'three' (as '3'), '24 february 2025'."""
    low = _REFERENCE.sub(" ", text.lower())
    dates = set(_DATE.findall(low))
    low = _DATE.sub(" ", low)
    found = {re.sub(r"[ ,\u00a0]", "", n) for n in _NUMBER.findall(low)}
    found |= {_NUMBER_WORDS[w] for w in _WORD.findall(low) if w in _NUMBER_WORDS and w != "one"}
    if _ONE_COUNTS.search(low):
        found.add("1")
    return found | dates


# Phrases that hold a negation word but say a limit or a kind, not the opposite: "no more than
# three years" is a maximum, a "not-for-profit" body is a kind of body.
_NOT_A_NEGATION = re.compile(
    r"\b(?:no|not)\s+(?:more|longer|later|fewer|less|greater|earlier|sooner|higher|lower)\s+than\b"
    r"|\bnot[-\s]for[-\s]profit\b|\bnon[-\s]?profit\b|\bnot\s+only\b|\bwhether\s+or\s+not\b"
    r"|\bno\s+matter\b|\bnone\s+the\s+less\b|\bnevertheless\b",
    re.IGNORECASE,
)
# Where one clause ends and another starts: a sentence can hold "must X" and "must not Y".
_CLAUSE_BREAK = re.compile(
    r"[;:,\u2013\u2014]\s*|\s+(?:and|but|or|while|whereas|although|though|except|unless|so(?!\s+that)|where|if|when"
    r"|provided|because|since|as long as)\s+",
    re.IGNORECASE,
)


def negated(text: str) -> bool:
    return bool(_NEGATION.search(_NOT_A_NEGATION.sub(" ", text)))


def clauses(text: str) -> list[str]:
    """A sentence's clauses, each with some content words. "unless" starts a clause and keeps its
    word, so the clause after it still reads as negated."""
    pieces, start = [], 0
    for match in _CLAUSE_BREAK.finditer(text):
        pieces.append(text[start : match.start()])
        start = match.start() if match.group().strip().lower() == "unless" else match.end()
    pieces.append(text[start:])
    return [piece for piece in (p.strip() for p in pieces) if tokenize(piece)]


_POLARITY_WORDS = frozenset({"not", "no", "never"})


def _without_names(text: str) -> str:
    """The text with provision references and instrument names blanked out: what a clause says,
    not where it is said ("Under section 33 of the Procurement Act 2023" says nothing)."""
    spans = sorted([m.span() for m in _REFERENCE.finditer(text)] + [(a, b) for _, a, b in prov.alias_spans(text)])
    out, last = [], 0
    for a, b in spans:
        if a > last:
            out.append(text[last:a])
        last = max(last, b)
    out.append(text[last:])
    return " ".join(out)


def content_words(text: str) -> set[str]:
    """The stemmed words a clause is matched on: no names of provisions or instruments, and no
    negation words (so that "must" and "must not" clauses about the same thing match)."""
    return set(tokenize(_without_names(text))) - _POLARITY_WORDS


def polarity_agrees(claim: str, passage: str) -> bool:
    """Each clause of the claim agrees in polarity with the clause of the passage (any of its
    sentences) that shares most of its words, names of provisions and instruments left out; a
    clause sharing no words with any is left to the other tests."""
    theirs = [(content_words(c), negated(c)) for piece in split_sentences(passage) or [passage]
              for c in clauses(piece)]
    theirs = [c for c in theirs if c[0]] or [(content_words(passage), negated(passage))]
    for clause in clauses(claim) or [claim]:
        words = content_words(clause)
        if not words:
            continue
        best = max(theirs, key=lambda c: (len(words & c[0]), len(words & c[0]) / len(words | c[0])))
        if words & best[0] and negated(clause) != best[1]:
            return False
    return True


def instruments_agree(claim: str, passage: str, provisions: Sequence[str] = ()) -> bool:
    """Every instrument the claim names ("Directive 2014/24/EU", "the Procurement Act 2023", "the
    Welsh Provider Selection Regime") is one the passage names or carries a provision of."""
    named = prov.instruments_named(claim)
    if not named:
        return True
    have = prov.instruments_named(passage) | {pid.split(":", 1)[0] for pid in provisions}
    return named <= have


def _provisions_named(refs: Sequence[prov.Reference]) -> set[str]:
    return {r.part for r in refs if r.part}


def _provisions_carried(passage: str, provisions: Sequence[str]) -> set[str]:
    parts = _provisions_named(prov.find_references(passage))
    parts |= {pid.split(":", 1)[1] for pid in provisions if ":" in pid}
    return parts


def _named_ok(named: set[str], carried: set[str]) -> bool:
    """Each provision the claim names is one the passage names or carries. A claim naming a
    paragraph ('Article 4(c)') fails against a passage naming another ('Article 4(d)')."""
    for part in named:
        base = part.split("(")[0]
        if part in carried or base in carried:
            continue
        if "(" in part and any(c.split("(")[0] == base for c in carried):
            return False
        if not any(c.split("(")[0] == base for c in carried):
            return False
    return True


# The least a clause of the claim may score against the passage (the share of its words the
# passage holds and its embedding similarity to the closest passage sentence, averaged): a clause
# that adds what the passage does not say ("..., and it must be advertised on Find a Tender")
# fails, however well the rest of the sentence matches. Calibrated on the dev pairs.
CLAUSE_FLOOR = 0.30
# A clause needs this many content words to be judged on its own.
_CLAUSE_WORDS = 2


@dataclass
class SupportVerdict:
    supported: bool
    score: float
    overlap: float
    similarity: float
    numbers_ok: bool
    provisions_ok: bool
    polarity_ok: bool = True
    instruments_ok: bool = True
    weakest_clause: float = 1.0  # the lowest clause score (see CLAUSE_FLOOR)

    def passes(self, threshold: float, clause_floor: float = CLAUSE_FLOOR) -> bool:
        return (self.numbers_ok and self.provisions_ok and self.polarity_ok and self.instruments_ok
                and self.weakest_clause >= clause_floor and self.score >= threshold)


class OfflineSupportChecker:
    name = "offline"

    def __init__(self, embed: Callable[[list[str]], np.ndarray], threshold: float,
                 clause_floor: float = CLAUSE_FLOOR):
        self.embed = embed
        self.threshold = threshold
        self.clause_floor = clause_floor
        self._vectors: dict[str, np.ndarray] = {}

    def _vecs(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for t, v in zip(missing, self.embed(missing), strict=True):
                self._vectors[t] = np.asarray(v, dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def verdict(self, sentence: str, passage: str, provisions: Sequence[str] = ()) -> SupportVerdict:
        claim = MARKER.sub("", sentence).strip()
        claim_tokens = set(tokenize(claim))
        passage_tokens = set(tokenize(passage))
        overlap = len(claim_tokens & passage_tokens) / max(1, len(claim_tokens))
        pieces = split_sentences(passage) or [passage]
        parts = [c for c in clauses(claim) if len(content_words(c)) >= _CLAUSE_WORDS]
        parts = parts if len(parts) > 1 else []
        vectors = self._vecs([claim, *parts, *pieces])
        claim_vectors, piece_vectors = vectors[: 1 + len(parts)], vectors[1 + len(parts):]
        similarities = piece_vectors @ claim_vectors[0]
        similarity = float(np.max(similarities))
        weakest = 1.0
        for part, vector in zip(parts, claim_vectors[1:], strict=True):
            words = set(tokenize(part))
            covered = len(words & passage_tokens) / max(1, len(words))
            weakest = min(weakest, (covered + float(np.max(piece_vectors @ vector))) / 2)
        numbers_ok = numbers_in(claim) <= numbers_in(passage)
        provisions_ok = _named_ok(
            _provisions_named(prov.find_references(claim)), _provisions_carried(passage, provisions)
        )
        verdict = SupportVerdict(
            supported=False, score=(overlap + similarity) / 2, overlap=overlap,
            similarity=similarity, numbers_ok=numbers_ok, provisions_ok=provisions_ok,
            polarity_ok=polarity_agrees(claim, passage),
            instruments_ok=instruments_agree(claim, passage, provisions), weakest_clause=weakest,
        )
        verdict.supported = verdict.passes(self.threshold, self.clause_floor)
        return verdict

    def supports(self, sentence: str, passage: str, provisions: Sequence[str] = ()) -> bool:
        return self.verdict(sentence, passage, provisions).supported


def offline_checker(settings: Settings) -> OfflineSupportChecker:
    """The offline checker with the configured embedding model and threshold."""
    from procguide.index import load_embeddings

    model = load_embeddings(settings.embedding_model)
    return OfflineSupportChecker(
        lambda texts: np.asarray(model.embed_documents(list(texts)), dtype=np.float32),
        settings.support_threshold,
    )
