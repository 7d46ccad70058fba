"""Score saved answers against their questions, with the metrics of evals/README.md.

"Share of" metrics pool their items over the run (all expected sources, all markers, all
sentences, all facts); source_mrr is the mean over answerable questions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from procguide import provisions as prov
from procguide.answer.citations import MARKER, markers
from procguide.answer.sentences import split_sentences
from procguide.evaluation.questions import Question
from procguide.evaluation.records import AnswerRecord

METRICS = (
    "source_recall_at_k", "source_mrr", "cited_source_recall", "citation_validity",
    "citation_coverage", "citation_support", "fact_recall", "abstention_accuracy",
    "false_abstention_rate", "latency_p50_ms", "latency_p95_ms",
)
MIN_SUBSTANTIVE_WORDS = 4


class SupportChecker(Protocol):
    name: str

    def supports(self, sentence: str, passage: str, provisions: Sequence[str] = ()) -> bool: ...


@dataclass
class QuestionScore:
    id: str
    answerable: bool
    tags: list[str]
    counts: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def rate(self, found: str, total: str) -> float | None:
        t = self.counts.get(total, 0)
        return None if not t else self.counts.get(found, 0) / t

    def scores(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source_recall_at_k": self.rate("sources_retrieved", "sources"),
            "source_rr": self.counts.get("rr"),
            "cited_source_recall": self.rate("sources_cited", "sources"),
            "citation_validity": self.rate("markers_valid", "markers"),
            "citation_coverage": self.rate("sentences_cited", "sentences"),
            "citation_support": self.rate("pairs_supported", "pairs"),
            "fact_recall": self.rate("facts_found", "facts"),
            "abstained": bool(self.counts.get("abstained")),
            "latency_ms": self.counts.get("latency_ms", 0.0),
        }
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def substantive_sentences(answer: str) -> list[str]:
    """Answer sentences that make a claim (at least four words once markers are removed)."""
    return [
        s for s in split_sentences(answer)
        if len(MARKER.sub("", s).split()) >= MIN_SUBSTANTIVE_WORDS
    ]


def score_question(q: Question, rec: AnswerRecord, checker: SupportChecker, k: int) -> QuestionScore:
    qs = QuestionScore(q.id, not q.abstain, q.tags)
    c = qs.counts
    c["latency_ms"] = rec.latency_ms
    c["abstained"] = float(rec.abstained)
    by_n = {cit.n: cit for cit in rec.citations}

    # Citations: validity counts every marker; coverage and support every substantive sentence.
    if not rec.abstained:
        found = markers(rec.answer)
        c["markers"] = len(found)
        c["markers_valid"] = sum(n in by_n for n in found)
        if c["markers_valid"] < c["markers"]:
            qs.problems.append("a citation marker points to no listed source")
        for sentence in substantive_sentences(rec.answer):
            c["sentences"] = c.get("sentences", 0) + 1
            cited = [by_n[n] for n in markers(sentence) if n in by_n]
            if markers(sentence):
                c["sentences_cited"] = c.get("sentences_cited", 0) + 1
            else:
                qs.problems.append(f"uncited sentence: {sentence[:80]}")
            for cit in cited:
                c["pairs"] = c.get("pairs", 0) + 1
                if checker.supports(sentence, cit.text, cit.provisions):
                    c["pairs_supported"] = c.get("pairs_supported", 0) + 1
                else:
                    qs.problems.append(f"[{cit.n}] does not support: {sentence[:80]}")

    if q.abstain:
        c["should_abstain"] = 1
        if not rec.abstained:
            qs.problems.append("answered a question it should have declined")
        return qs

    if rec.abstained:
        qs.problems.append("declined a question it should have answered")
    top = rec.retrieved[:k]
    cited_ids = [pid for cit in rec.citations for pid in cit.provisions]
    c["sources"] = len(q.sources)
    c["sources_retrieved"] = sum(any(prov.any_matches(ids, s) for ids in top) for s in q.sources)
    c["sources_cited"] = sum(prov.any_matches(cited_ids, s) for s in q.sources)
    ranks = [i for i, ids in enumerate(top, start=1) if any(prov.any_matches(ids, s) for s in q.sources)]
    c["rr"] = 1.0 / ranks[0] if ranks else 0.0
    if q.sources and not ranks:
        qs.problems.append(f"no expected source in the top {k}")
    if q.sources and c["sources_cited"] < len(q.sources):
        qs.problems.append("an expected source is not cited")
    c["facts"] = len(q.facts)
    missing = [f for f in q.facts if not re.search(f, rec.answer, re.IGNORECASE)]
    c["facts_found"] = len(q.facts) - len(missing)
    if missing:
        qs.problems.append(f"missing facts: {', '.join(missing)}")
    return qs


def aggregate(scores: Sequence[QuestionScore], empty: float | None = 1.0) -> dict[str, Any]:
    """Metrics over a run. A metric with nothing to count (no markers, no question to decline)
    is `empty`: 1.0 for a whole run, so a perfect run is not failed, None in per-tag tables."""

    def pooled(found: str, total: str, subset: Sequence[QuestionScore]) -> float | None:
        t = sum(s.counts.get(total, 0) for s in subset)
        return sum(s.counts.get(found, 0) for s in subset) / t if t else empty

    answerable = [s for s in scores if s.answerable]
    with_sources = [s for s in answerable if s.counts.get("sources")]
    to_decline = [s for s in scores if not s.answerable]
    latencies = np.array([s.counts.get("latency_ms", 0.0) for s in scores] or [0.0])
    metrics = {
        "source_recall_at_k": pooled("sources_retrieved", "sources", answerable),
        "source_mrr": float(np.mean([s.counts["rr"] for s in with_sources])) if with_sources else empty,
        "cited_source_recall": pooled("sources_cited", "sources", answerable),
        "citation_validity": pooled("markers_valid", "markers", scores),
        "citation_coverage": pooled("sentences_cited", "sentences", scores),
        "citation_support": pooled("pairs_supported", "pairs", scores),
        "fact_recall": pooled("facts_found", "facts", answerable),
        "abstention_accuracy": (
            sum(s.counts.get("abstained", 0) for s in to_decline) / len(to_decline)
            if to_decline else empty
        ),
        "false_abstention_rate": (
            sum(s.counts.get("abstained", 0) for s in answerable) / len(answerable)
            if answerable else (None if empty is None else 0.0)
        ),
        "latency_p50_ms": float(np.percentile(latencies, 50)),
        "latency_p95_ms": float(np.percentile(latencies, 95)),
    }
    return {name: None if metrics[name] is None else round(metrics[name], 4) for name in METRICS}


def score_run(
    questions: Sequence[Question], records: Sequence[AnswerRecord], checker: SupportChecker, k: int
) -> list[QuestionScore]:
    """Score every question; a question with no saved answer is an error, not a silent zero."""
    by_id = {r.id: r for r in records}
    missing = [q.id for q in questions if q.id not in by_id]
    if missing:
        raise ValueError(
            f"{len(missing)} questions have no saved answer (first: {missing[0]}); "
            "generate answers for the same question file"
        )
    return [score_question(q, by_id[q.id], checker, k) for q in questions]


def by_tag(scores: Sequence[QuestionScore]) -> dict[str, dict[str, float]]:
    tags = sorted({t for s in scores for t in s.tags})
    return {t: aggregate([s for s in scores if t in s.tags], empty=None) | {"n": sum(t in s.tags for s in scores)}
            for t in tags}
