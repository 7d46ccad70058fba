"""Score saved answers against their questions, with the metrics of evals/README.md.

Every rate metric is a ratio of per-question counts pooled over the run (all expected sources, all
markers, all sentences, all facts); source_mrr is the mean over answerable questions with sources.
`POOLING` names the counts of each, so the whole run, each tag and each bootstrap resample are
pooled the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from procguide import provisions as prov
from procguide.answer.citations import MARKER, markers
from procguide.answer.gate import NOT_A_FAILURE
from procguide.answer.sentences import answer_sentences
from procguide.answer.support import SupportChecker
from procguide.evaluation.config import LOWER_IS_BETTER
from procguide.evaluation.questions import Question
from procguide.evaluation.records import AnswerRecord, CitationRecord

METRICS = (
    "source_recall_at_k", "source_mrr", "cited_source_recall", "citation_validity",
    "citation_coverage", "citation_support", "fact_recall", "abstention_accuracy",
    "false_abstention_rate", "latency_p50_ms", "latency_p95_ms",
    "padding_rate",
)
RATE_METRICS = tuple(m for m in METRICS if not m.startswith("latency"))
MIN_SUBSTANTIVE_WORDS = 4

Who = Literal["all", "answerable", "to_decline"]
# Each rate metric as (numerator count, denominator count, which questions it pools over);
# "one" counts each such question once, so the ratio is a mean over those questions.
POOLING: dict[str, tuple[str, str, Who]] = {
    "source_recall_at_k": ("sources_retrieved", "sources", "answerable"),
    "source_mrr": ("rr", "has_sources", "answerable"),
    "cited_source_recall": ("sources_cited", "sources", "answerable"),
    "citation_validity": ("markers_valid", "markers", "all"),
    "citation_coverage": ("sentences_cited", "sentences", "all"),
    "citation_support": ("pairs_supported", "pairs", "all"),
    "fact_recall": ("facts_found", "facts", "answerable"),
    "abstention_accuracy": ("abstained", "one", "to_decline"),
    "false_abstention_rate": ("abstained", "one", "answerable"),
    "padding_rate": ("sentences_padded", "sentences_for_padding", "answerable"),
}
assert tuple(POOLING) == RATE_METRICS


@dataclass
class QuestionScore:
    id: str
    answerable: bool
    tags: list[str]
    counts: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    facts_outside_cited: list[str] = field(default_factory=list)  # found, but in no citing sentence
    padded_sentences: list[str] = field(default_factory=list)

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
            "padding_rate": self.rate("sentences_padded", "sentences_for_padding"),
            "abstained": bool(self.counts.get("abstained")),
            "latency_ms": self.counts.get("latency_ms", 0.0),
        }
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def is_substantive(sentence: str) -> bool:
    """A sentence makes a claim when it has at least four words once markers are removed."""
    return len(MARKER.sub("", sentence).split()) >= MIN_SUBSTANTIVE_WORDS


def substantive_sentences(answer: str) -> list[str]:
    """Answer sentences that make a claim; heading lines ("For procurements started before 24
    February 2025:") are not sentences at all."""
    return [s for s in answer_sentences(answer) if is_substantive(s)]


def cites_expected(sentence: str, by_n: dict[int, CitationRecord], sources: Sequence[str]) -> bool:
    """Does one of the sentence's markers point to a citation carrying an expected source?"""
    return any(
        prov.any_matches(by_n[n].provisions, s) for n in markers(sentence) if n in by_n for s in sources
    )


def _has(fact: str, text: str) -> bool:
    return re.search(fact, text, re.IGNORECASE) is not None


def joined(cited: Sequence[CitationRecord]) -> tuple[str, list[str]]:
    """The texts of the passages a sentence cites, joined with a blank line, and their provisions."""
    text = "\n\n".join(cit.text for cit in cited)
    return text, list(dict.fromkeys(pid for cit in cited for pid in cit.provisions))


def supported_jointly(checker: SupportChecker, sentence: str, cited: Sequence[CitationRecord]) -> bool:
    text, provisions = joined(cited)
    return bool(checker.supports(sentence, text, provisions))


# How an LLM answer fared at the answer check (records.py): sentences withheld for want of support
# (not those cut for length), and answers replaced by the built-in answerer's.
LLM, LLM_FALLBACK = "llm", "llm-fallback"


def _count_answer_check(rec: AnswerRecord, sentences: Sequence[str], c: dict[str, float]) -> None:
    if rec.answerer == LLM:
        c["llm_answers"] = 1
        c["withheld"] = sum(w.reason not in NOT_A_FAILURE for w in rec.withheld)
        c["shown"] = 0 if rec.abstained else sum(map(is_substantive, sentences))
    elif rec.answerer == LLM_FALLBACK:
        c["llm_fallbacks"] = 1


def answer_check_rates(scores: Sequence[QuestionScore]) -> dict[str, float]:
    """`withheld_rate` (withheld sentences over withheld and shown substantive sentences, in
    answers the LLM wrote) and `fallback_rate` (the share of LLM answers replaced by the built-in
    answerer's); each only when the run has answers it counts."""
    def total(key: str) -> float:
        return sum(s.counts.get(key, 0) for s in scores)

    out = {}
    withheld, shown = total("withheld"), total("shown")
    if withheld + shown:
        out["withheld_rate"] = round(withheld / (withheld + shown), 4)
    llm, fallbacks = total("llm_answers"), total("llm_fallbacks")
    if llm + fallbacks:
        out["fallback_rate"] = round(fallbacks / (llm + fallbacks), 4)
    return out


def score_question(q: Question, rec: AnswerRecord, checker: SupportChecker, k: int) -> QuestionScore:
    qs = QuestionScore(q.id, not q.abstain, q.tags)
    c = qs.counts
    c["latency_ms"] = rec.latency_ms
    c["abstained"] = float(rec.abstained)
    by_n = {cit.n: cit for cit in rec.citations}
    sentences = answer_sentences(rec.answer)

    # Citations: validity counts every marker, and every marker the answer check dropped because
    # it pointed to no passage sent to the model; coverage and support every substantive sentence.
    # A sentence is judged against all the passages it cites together, as ALCE does: one support
    # pair per sentence with citations.
    if not rec.abstained:
        found = markers(rec.answer)
        c["markers"] = len(found)
        c["markers_valid"] = sum(n in by_n for n in found)
        if c["markers_valid"] < c["markers"]:
            qs.problems.append("a citation marker points to no listed source")
        for sentence in filter(is_substantive, sentences):
            c["sentences"] = c.get("sentences", 0) + 1
            cited = [by_n[n] for n in dict.fromkeys(markers(sentence)) if n in by_n]
            if markers(sentence):
                c["sentences_cited"] = c.get("sentences_cited", 0) + 1
            else:
                qs.problems.append(f"uncited sentence: {sentence[:80]}")
            if cited:
                c["pairs"] = c.get("pairs", 0) + 1
                if supported_jointly(checker, sentence, cited):
                    c["pairs_supported"] = c.get("pairs_supported", 0) + 1
                else:
                    cites = "".join(f"[{cit.n}]" for cit in cited)
                    verb = "does" if len(cited) == 1 else "do"
                    qs.problems.append(f"{cites} {verb} not support: {sentence[:80]}")
    if rec.dropped_markers:
        c["markers"] = c.get("markers", 0) + len(rec.dropped_markers)
        c.setdefault("markers_valid", 0)
        qs.problems.append(f"{len(rec.dropped_markers)} citation markers pointed to no passage sent to "
                           "the model and were dropped")
    _count_answer_check(rec, sentences, c)

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
    c["has_sources"] = float(bool(q.sources))
    c["sources_retrieved"] = sum(any(prov.any_matches(ids, s) for ids in top) for s in q.sources)
    c["sources_cited"] = sum(prov.any_matches(cited_ids, s) for s in q.sources)
    ranks = [i for i, ids in enumerate(top, start=1) if any(prov.any_matches(ids, s) for s in q.sources)]
    c["rr"] = 1.0 / ranks[0] if ranks else 0.0
    if q.sources and not ranks:
        qs.problems.append(f"no expected source in the top {k}")
    if q.sources and c["sources_cited"] < len(q.sources):
        qs.problems.append("an expected source is not cited")

    # Facts: with expected sources, a fact counts only in a sentence citing one of them;
    # without, anywhere in the answer.
    citing = [s for s in sentences if cites_expected(s, by_n, q.sources)] if q.sources else [rec.answer]
    c["facts"] = len(q.facts)
    c["facts_found"] = 0
    missing = []
    for fact in q.facts:
        if any(_has(fact, s) for s in citing):
            c["facts_found"] += 1
        elif _has(fact, rec.answer):
            qs.facts_outside_cited.append(fact)
        else:
            missing.append(fact)
    if missing:
        qs.problems.append(f"missing facts: {', '.join(missing)}")
    for fact in qs.facts_outside_cited:
        qs.problems.append(f"fact '{fact}' is not in a sentence citing an expected source")

    # Padding: substantive sentences of an answer that state no expected fact and cite no
    # expected source. A question with neither gives nothing to judge them by.
    if not rec.abstained and (q.facts or q.sources):
        for sentence in filter(is_substantive, sentences):
            c["sentences_for_padding"] = c.get("sentences_for_padding", 0) + 1
            if not cites_expected(sentence, by_n, q.sources) and not any(_has(f, sentence) for f in q.facts):
                c["sentences_padded"] = c.get("sentences_padded", 0) + 1
                qs.padded_sentences.append(sentence)
    return qs


def _empty(name: str, empty: float | None) -> float | None:
    """A metric's value with nothing to count: `empty` (None in per-tag tables); for a
    lower-is-better rate over a whole run, 0.0, so a perfect run is not failed."""
    if empty is None:
        return None
    return 0.0 if name in LOWER_IS_BETTER else empty


def count_arrays(scores: Sequence[QuestionScore]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per rate metric, the numerator and denominator of each question (zero where the metric
    does not count the question), as arrays in the order of `scores`."""
    answerable = np.array([s.answerable for s in scores], dtype=bool)
    masks = {"all": np.ones(len(scores), dtype=bool), "answerable": answerable, "to_decline": ~answerable}
    out = {}
    for name, (num, den, who) in POOLING.items():
        mask = masks[who]
        n = np.array([s.counts.get(num, 0.0) for s in scores], dtype=float)
        d = np.array([1.0 if den == "one" else s.counts.get(den, 0.0) for s in scores], dtype=float)
        out[name] = (np.where(mask, n, 0.0), np.where(mask, d, 0.0))
    return out


def pooled_rates(
    scores: Sequence[QuestionScore], weights: np.ndarray, empty: float | None = 1.0
) -> dict[str, np.ndarray]:
    """Every rate metric for each row of `weights` (how many times each question counts: a row of
    ones for the run itself, one row per bootstrap resample). NaN where the metric has nothing to
    count and `empty` is None."""
    out = {}
    for name, (num, den) in count_arrays(scores).items():
        found, total = weights @ num, weights @ den
        value = _empty(name, empty)
        fill = np.full(len(weights), np.nan if value is None else value)
        out[name] = np.divide(found, total, out=fill, where=total > 0)
    return out


def aggregate(scores: Sequence[QuestionScore], empty: float | None = 1.0) -> dict[str, Any]:
    """Metrics over a run. A metric with nothing to count (no markers, no question to decline)
    is `empty`: 1.0 for a whole run (0.0 for a lower-is-better rate), so a perfect run is not
    failed; None in per-tag tables."""
    rates = pooled_rates(scores, np.ones((1, len(scores))), empty)
    metrics: dict[str, float | None] = {
        name: None if np.isnan(v[0]) else float(v[0]) for name, v in rates.items()
    }
    latencies = np.array([s.counts.get("latency_ms", 0.0) for s in scores] or [0.0])
    metrics["latency_p50_ms"] = float(np.percentile(latencies, 50))
    metrics["latency_p95_ms"] = float(np.percentile(latencies, 95))
    out: dict[str, Any] = {name: None if metrics[name] is None else round(metrics[name], 4) for name in METRICS}
    return out | answer_check_rates(scores)


BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_CONFIDENCE = 0.95
BOOTSTRAP_SEED = 0


def bootstrap(
    scores: Sequence[QuestionScore],
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = BOOTSTRAP_CONFIDENCE,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, list[float]]:
    """Percentile intervals, [low, high], for every rate metric: the questions resampled with
    replacement `resamples` times (seeded, so the same run gives the same intervals), each
    resample pooled as `aggregate` pools the run. Works on count arrays, without re-scoring."""
    n = len(scores)
    if not n:
        return {}
    picks = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    # How many times each question is drawn in each resample: a (resamples, n) weight matrix.
    flat = (np.arange(resamples)[:, None] * n + picks).ravel()
    weights = np.bincount(flat, minlength=resamples * n).reshape(resamples, n).astype(float)
    tail = (1 - confidence) / 2 * 100
    out = {}
    for name, values in pooled_rates(scores, weights).items():
        low, high = np.percentile(values, [tail, 100 - tail])
        out[name] = [round(float(low), 4), round(float(high), 4)]
    return out


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
