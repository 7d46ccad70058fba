"""The built-in answerer, which needs no LLM: it quotes the sentences of the top passages that best
answer the question, each followed by the [n] marker of its passage, and abstains when even the
best sentence is too weak a match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from procguide.answer.abstain import abstention_text, not_held_text, unheld_instruments
from procguide.answer.sentences import split_sentences
from procguide.index import Index
from procguide.retrieve import Hit
from procguide.tokens import tokenize

# Weight of meaning (embedding similarity) against wording (share of the question's rarer words).
SEMANTIC_WEIGHT = 0.6
MIN_SENTENCE_CHARS = 30
REDUNDANT = 0.88  # cosine above which two sentences say the same thing
KEEP_RATIO = 0.75  # later sentences must score at least this share of the best one
FOLLOW_BONUS = 0.3  # for the sentence right after a chosen one in the same passage
SAME_PASSAGE_BONUS = 0.15  # for any sentence of a passage already quoted
# Weight of the top passage's coverage of the question's words in the evidence score; chosen by
# 5-fold cross-validation on evals/questions.jsonl (see README, "Abstention").
COVERAGE_WEIGHT = 0.4
FOCUS_WEIGHT = 0.5  # extra weight of a follow-up's own words


@dataclass
class ScoredSentence:
    text: str
    hit_rank: int
    score: float
    vector: np.ndarray
    position: int = 0  # order of the sentence in its passage


@dataclass
class Draft:
    """The answerer's output before the Assistant adds citations' numbering, notices and timings."""

    sentences: list[tuple[str, int]]  # (sentence, index of its passage in the hits)
    abstained: bool
    confidence: float
    text: str = ""
    prompt: list[tuple[str, str]] | None = None  # for an LLM answerer: the messages to send
    hits: list[Hit] = field(default_factory=list)


class ExtractiveAnswerer:
    def __init__(self, index: Index, threshold: float, max_sentences: int = 4):
        self.index = index
        self.threshold = threshold
        self.max_sentences = max_sentences
        self._sentence_cache: dict[str, tuple[list[str], np.ndarray]] = {}

    def score(
        self, query: str, query_vector: np.ndarray, hits: Sequence[Hit], focus: str = ""
    ) -> list[ScoredSentence]:
        """Score every sentence of the hits. `focus` is the latest question when `query` also holds
        an earlier one: its own words then count extra, so "what about in Wales?" finds Wales."""
        q_tokens = set(tokenize(query))
        keyword = self.index.keyword
        f_tokens = set(tokenize(focus))
        scored = []
        for rank, hit in enumerate(hits):
            sentences, vectors = self._sentences(hit)
            for position, (text, vector) in enumerate(zip(sentences, vectors, strict=True)):
                tokens = set(tokenize(text))
                lexical = keyword.weighted_share(q_tokens, tokens)
                semantic = float(vector @ query_vector)
                score = SEMANTIC_WEIGHT * semantic + (1 - SEMANTIC_WEIGHT) * lexical
                if f_tokens:
                    score += FOCUS_WEIGHT * keyword.weighted_share(f_tokens, tokens)
                scored.append(ScoredSentence(text, rank, score, vector, position))
        scored.sort(key=lambda s: (-s.score, s.hit_rank))
        return scored

    def evidence(self, query: str, scored: Sequence[ScoredSentence], hits: Sequence[Hit]) -> float:
        """How well the knowledge base answers: the best sentence's score, plus how much of the
        question's wording (rarer words weigh more) the top passage, title and heading included,
        holds. A question about something next to what is covered ("the Scottish rules on
        reserved contracts") finds good sentences but leaves its distinctive words unmatched.
        """
        if not scored or not hits:
            return 0.0
        top = set(tokenize(hits[0].passage.search_text()))
        coverage = self.index.keyword.weighted_share(set(tokenize(query)), top)
        return scored[0].score + COVERAGE_WEIGHT * coverage

    def draft(
        self, query: str, query_vector: np.ndarray, hits: Sequence[Hit], focus: str = ""
    ) -> Draft:
        scored = self.score(query, query_vector, hits, focus)
        confidence = self.evidence(query, scored, hits)
        missing = unheld_instruments(focus or query, self.index.passages())
        if missing:
            return Draft([], True, confidence, not_held_text(missing, hits))
        if confidence < self.threshold:
            return Draft([], True, confidence, abstention_text(hits))
        chosen = self._choose(scored, scored[0].score)
        return Draft([(c.text, c.hit_rank) for c in chosen], False, confidence)

    def _choose(self, scored: list[ScoredSentence], best: float) -> list[ScoredSentence]:
        """Greedy choice: the best sentence, then the best of the rest, where sentences of a passage
        already quoted gain a bonus, and the sentence right after a quoted one a larger one. Notes
        put one fact per sentence under one heading, and the sentence that best echoes a question
        ("the review makes six recommendations") is often followed by the ones that answer it.
        The bonuses were set on evals/questions.jsonl (README, "How it answers"). Near-duplicates
        are skipped.
        """
        chosen: list[ScoredSentence] = []
        pool = list(scored)
        while pool and len(chosen) < self.max_sentences:
            follows = {(c.hit_rank, c.position + 1) for c in chosen}
            passages = {c.hit_rank for c in chosen}

            def effective(
                s: ScoredSentence, follows: set[tuple[int, int]] = follows, passages: set[int] = passages
            ) -> float:
                bonus = FOLLOW_BONUS if (s.hit_rank, s.position) in follows else 0.0
                return s.score + bonus + (SAME_PASSAGE_BONUS if s.hit_rank in passages else 0.0)

            candidate = max(pool, key=effective)
            pool.remove(candidate)
            if effective(candidate) < KEEP_RATIO * best:
                break
            if any(float(candidate.vector @ c.vector) > REDUNDANT for c in chosen):
                continue
            chosen.append(candidate)
        # Read each passage's sentences in their own order, passages in the order first chosen.
        first = {}
        for c in chosen:
            first.setdefault(c.hit_rank, len(first))
        return sorted(chosen, key=lambda c: (first[c.hit_rank], c.position))

    def stream_text(self, draft: Draft) -> Iterator[str]:
        """The answer text with a [k] marker per sentence, k being 1 + the passage's hit index."""
        if draft.abstained:
            yield draft.text
            return
        for i, (sentence, rank) in enumerate(draft.sentences):
            yield ("" if i == 0 else " ") + with_marker(sentence, rank + 1)

    def _sentences(self, hit: Hit) -> tuple[list[str], np.ndarray]:
        key = hit.passage.id
        if key not in self._sentence_cache:
            sentences = [s for s in split_sentences(hit.passage.text) if len(s) >= MIN_SENTENCE_CHARS]
            vectors = (
                self.index.embed_texts(sentences) if sentences else np.zeros((0, 1), dtype=np.float32)
            )
            if len(self._sentence_cache) > 5000:
                self._sentence_cache.clear()
            self._sentence_cache[key] = (sentences, vectors)
        return self._sentence_cache[key]


def with_marker(sentence: str, n: int) -> str:
    """'It lasts three years.' -> 'It lasts three years [1].'"""
    body = sentence.rstrip()
    m = re.search(r"[.!?;:,]+$", body)
    end = "."
    if m:
        body, end = body[: m.start()], m.group(0)
        end = "." if end[-1] in ";:," else end
    return f"{body} [{n}]{end}"
