"""The evidence for an answer: every sentence of the retrieved passages scored against the
question, and the features the decide stage weighs (how close the best sentence is, how much of
the question the passages cover, how much of it the knowledge base has never heard of, whether
the question's concepts and named provisions were found).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial

import numpy as np

from procguide import provisions as prov
from procguide.context import AskerContext, Ranking
from procguide.index import Index
from procguide.retrieve import Hit
from procguide.rewrite import Query
from procguide.tokens import tokenize
from procguide.vocabulary import Vocabulary

FACTS_KEPT = 50_000  # sentences whose facts are kept (a few hundred bytes each)

_NUMBER_WORD = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
# What a sentence that gives the kind of answer asked for contains.
QTYPE_PATTERNS = {
    "duration": re.compile(rf"\b{_NUMBER_WORD}[\s-]+(?:years?|months?|weeks?|days?)\b", re.IGNORECASE),
    "amount": re.compile(r"£\s?\d|€\s?\d|\beur\s?\d|\d\s?%|per ?cent|\b\d{1,3}(?:[ ,]\d{3})+\b|\btwice\b|\bdouble\b", re.IGNORECASE),
    "date": re.compile(rf"\b\d{{1,2}} (?:{_MONTHS}) \d{{4}}\b|\bsince\b|\bfrom\b \d{{4}}", re.IGNORECASE),
    "permission": re.compile(r"\b(?:may|can|cannot|can't|must|need not|allowed|permits?|lets?|required|only if|only where)\b", re.IGNORECASE),
    "definition": re.compile(r"\b(?:means|is an?|are|stands for|refers to|defined|definition|describes?)\b", re.IGNORECASE),
    "who": re.compile(r"\b(?:authorit|bodies|boards?|trusts?|councils?|organisations?|providers?|suppliers?|mutuals?|enterprises?)", re.IGNORECASE),
    "list": re.compile(r",.*,|;|\b(?:include|includes|including)\b", re.IGNORECASE),
    "difference": re.compile(r"\b(?:whereas|unlike|while|differs?|compared|instead|but)\b", re.IGNORECASE),
    # Whether a law still applies: "no longer binds", "governs only procurements started before".
    "status": re.compile(r"\b(?:no longer|still|stopped|replaced|superseded|governs only|in force|from 24 February 2025|before 24 February 2025|binds?)\b", re.IGNORECASE),
}


@dataclass
class ScoredSentence:
    text: str
    hit_rank: int  # index of its passage among the hits
    position: int  # its order in the passage
    score: float
    vector: np.ndarray
    rank: int = 1  # regime rank of its passage (0: named by the question, 1: governing, ...)
    instrument: str = ""  # the instrument of its passage that gave that rank
    semantic: float = 0.0
    on_topic: bool = True  # its passage is about the question's concepts, or shares its words
    filler: bool = False  # it says little beyond naming an instrument


@dataclass
class Evidence:
    sentences: list[ScoredSentence]  # best first
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class QueryVectors:
    text: np.ndarray
    focus: np.ndarray


def filler(sentence: str) -> bool:
    """A sentence that only restates an instrument's title or names a provision."""
    stripped = sentence
    for _inst, start, end in reversed(prov.alias_spans(sentence)):
        stripped = stripped[:start] + " " + stripped[end:]
    stripped = re.sub(r"\((?:[^()]*)\)", " ", stripped)
    return len([t for t in tokenize(stripped) if not t.isdigit()]) < 4


_NATION_NAMES = {
    "England": re.compile(r"\bEngland\b|\bEnglish\b"),
    "Wales": re.compile(r"\bWales\b|\bWelsh\b"),
    "Northern Ireland": re.compile(r"\bNorthern Ireland\b"),
    "Scotland": re.compile(r"\bScotland\b|\bScottish\b"),
}


@dataclass(frozen=True)
class SentenceFacts:
    """What scoring reads from a sentence's own words: the same for every question, so read once
    per sentence (EvidenceScorer keeps the sentences read lately)."""

    tokens: frozenset[str]
    nations: frozenset[str]  # nations it names
    bodies: frozenset[str]  # kinds of body it names (the vocabulary's `body`)
    instruments: frozenset[str]  # instruments it names
    filler: bool  # it says little beyond naming an instrument

    @classmethod
    def read(cls, sentence: str, vocabulary: Vocabulary) -> SentenceFacts:
        return cls(
            tokens=frozenset(tokenize(sentence)),
            nations=frozenset(n for n, pattern in _NATION_NAMES.items() if pattern.search(sentence)),
            bodies=frozenset(m.concept.body for m in vocabulary.match(sentence, ("body",)) if m.concept.body),
            instruments=frozenset(inst for inst, _start, _end in prov.alias_spans(sentence)),
            filler=filler(sentence),
        )


def context_fit(facts: SentenceFacts, ctx: AskerContext) -> float:
    """+1 for a sentence about the asker's own nation, body or kind of care; -1 for one only about
    another nation; 0 otherwise. "Neither PSR applies in Northern Ireland" does not answer an ICB."""
    fit = 0.0
    if ctx.nation in _NATION_NAMES:
        if ctx.nation in facts.nations:
            fit += 1.0
        elif facts.nations:
            fit -= 1.0
    if ctx.body and ctx.body in facts.bodies:
        fit += 1.0
    return max(-1.0, min(1.0, fit))


def sentence_rank(facts: SentenceFacts, rank: int, instrument: str, ranking: Ranking) -> tuple[int, str]:
    """(rank, instrument) of the closest law a sentence names, else those of its passage."""
    if not facts.instruments:
        return rank, instrument
    return min((ranking.rank(i), i) for i in facts.instruments)


# "2025", "700k", "1.2m", "3bn", "40pc", "10th": a number, with at most a unit or ordinal after it.
_FIGURE = re.compile(r"\d[\d,.]*(?:k|m|bn|pc|st|nd|rd|th)?")


class EvidenceScorer:
    """Scores sentences and gathers features; keeps each passage's sentences and their vectors."""

    def __init__(self, index: Index, vocabulary: Vocabulary, weights: dict[str, float]):
        self.index = index
        self.vocabulary = vocabulary
        self.weights = weights
        self.facts = lru_cache(maxsize=FACTS_KEPT)(partial(SentenceFacts.read, vocabulary=vocabulary))

    def gather(
        self, query: Query, vectors: QueryVectors, hits: Sequence[Hit], ranking: Ranking,
        ctx: AskerContext | None = None,
    ) -> Evidence:
        keyword = self.index.keyword
        w = self.weights
        text_tokens = set(tokenize(query.text))
        focus_tokens = set(tokenize(query.focus))
        separate_focus = query.focus.strip() != query.text.strip()
        concept_ids = query.provisions
        qtype = QTYPE_PATTERNS.get(query.qtype or "")
        scored: list[ScoredSentence] = []
        # Each passage's sentences with their vectors, stored at ingest: one read for all hits.
        known = self.index.sentence_vectors([h.passage for h in hits])
        for hit_rank, hit in enumerate(hits):
            # Fused scores differ little in absolute terms; the rank carries the retrieve stage's view.
            retrieval = w["retrieval"] / (1 + hit_rank)
            passage = hit.passage
            rank, instrument = ranking.of_passage(passage.provisions)
            about_concept = bool(concept_ids) and any(
                prov.any_matches(passage.provisions, c) for c in concept_ids
            )
            heading_tokens = set(tokenize(f"{passage.heading} {passage.title}"))
            sentences, sentence_vectors = known[passage.id]
            if not sentences:
                continue
            semantics = sentence_vectors @ vectors.text
            if separate_focus:
                semantics = (semantics + sentence_vectors @ vectors.focus) / 2
            for position, (text, vector, semantic) in enumerate(
                zip(sentences, sentence_vectors, semantics.tolist(), strict=True)
            ):
                facts = self.facts(text)
                tokens = facts.tokens
                lexical = keyword.weighted_share(text_tokens, tokens)
                score = w["semantic"] * semantic + w["keyword"] * lexical + retrieval
                focus_share = keyword.weighted_share(focus_tokens, tokens | heading_tokens)
                if separate_focus and focus_tokens:
                    score += w["focus"] * keyword.weighted_share(focus_tokens, tokens)
                if qtype is not None and qtype.search(text):
                    score += w["qtype"]
                if position == 0:
                    score += w["opener"]
                if about_concept:
                    score += w["concept"]
                if ctx is not None:
                    score += w["context"] * context_fit(facts, ctx)
                # A sentence that names its law ranks by that law: in a passage comparing
                # section 33 with Article 77, the sentence about Article 77 is background.
                s_rank, s_instrument = sentence_rank(facts, rank, instrument, ranking)
                score -= w["rank"] * s_rank
                scored.append(ScoredSentence(
                    text, hit_rank, position, score, vector, s_rank, s_instrument, semantic,
                    on_topic=about_concept or focus_share >= 0.2 or not concept_ids,
                    filler=facts.filler,
                ))
        scored.sort(key=lambda s: (-s.score, s.hit_rank, s.position))
        return Evidence(scored, self.features(query, vectors, hits, scored))

    def features(
        self, query: Query, vectors: QueryVectors, hits: Sequence[Hit], scored: Sequence[ScoredSentence]
    ) -> dict[str, float]:
        keyword = self.index.keyword
        # A follow-up is judged with what it carries ("and how long can it last?").
        asked = query.asked or query.focus
        # Who is asking, about which service, where and when is context, not content: the
        # passages are not expected to hold "ICB", "podiatry", "Powys" or "April 2026".
        focus_tokens = {
            t for t in tokenize(self._strip(asked, ("place", "body", "service", "cue"))) if not t.isdigit()
        }
        top = set()
        for hit in hits[:3]:
            top |= set(tokenize(hit.passage.search_text()))
        similarity = max((s.semantic for s in scored), default=0.0)
        unknown_tokens = set(tokenize(self._residual(asked))) - keyword.vocabulary()
        # Figures are the asker's facts (a value, a year), not words the knowledge base lacks.
        unknown_tokens = {t for t in unknown_tokens if not _FIGURE.fullmatch(t)}
        total = sum(keyword.idf(t) for t in focus_tokens) or 1.0
        concept_ids = query.provisions
        named = [r for r in query.references if r.part]
        return {
            "similarity": similarity,
            "coverage": keyword.weighted_share(focus_tokens, top),
            "unknown": sum(keyword.idf(t) for t in unknown_tokens) / total,
            "concept": float(any(
                prov.any_matches(h.passage.provisions, c) for h in hits for c in concept_ids
            )),
            "named": float(any(
                r.matches(pid) for h in hits for pid in h.passage.provisions for r in named
            )),
        }

    def _residual(self, text: str) -> str:
        """The text without the words the vocabulary or the catalogue of instruments knows."""
        return self._strip(text, None, instruments=True)

    def _strip(self, text: str, kinds: tuple[str, ...] | None, instruments: bool = False) -> str:
        """The text without the vocabulary's mentions of those kinds (all kinds when None) and,
        if asked, without mentions of instruments."""
        spans = [(m.start, m.end) for m in self.vocabulary.match(text, kinds)]
        if instruments:
            spans += [(start, end) for _inst, start, end in prov.alias_spans(text)]
        for start, end in sorted(spans, reverse=True):
            text = text[:start] + " " + text[end:]
        return text
