"""The one entry point: `Assistant.ask(question, history, filters, context) -> Answer`, used alike by
the UI, the CLI and the evals. It runs the named stages of the answer pipeline in order:

1. screen    guard.screen_question: length, markup, instructions (English and Welsh)
2. context   context.infer_context + governing_regime: nation, body, sector, start date, regime
3. rewrite   rewrite.rewrite: follow-ups made standalone, scenarios reduced, vocabulary mapped
4. retrieve  retrieve.hybrid_search: dense + BM25 + provisions, the asker's own law first
5. decide    answer.decide.Decider: answer, answer with a caveat, or decline
6. compose   answer.extractive.ExtractiveComposer (or answer.llm.LLMComposer)
7. check     answer.citations.renumber: every marker points to a listed source; an LLM's text was
             checked sentence by sentence as it streamed (answer.gate.SentenceGate): only
             sentences their cited passages support are shown, the rest withheld and counted
8. annotate  answer.annotate.notices_for: superseded law, the Directive, Welsh, instructions

Each stage can be replaced by configuration (PROCGUIDE_STAGES, PROCGUIDE_ANSWERER) or by passing
an implementation, and each can be tested alone.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from procguide.answer.abstain import EMPTY_INDEX, ONLY_QUESTIONS
from procguide.answer.annotate import disagreement_notices, notices_for
from procguide.answer.calibration import Calibration, load_calibration
from procguide.answer.citations import renumber
from procguide.answer.decide import ANSWER, DECLINE, Decider, Decision
from procguide.answer.evidence import Evidence, EvidenceScorer, QueryVectors
from procguide.answer.extractive import Draft, ExtractiveComposer
from procguide.answer.result import Answer
from procguide.config import Settings, get_settings
from procguide.context import (
    AskerContext,
    ContextSettings,
    Ranking,
    Regime,
    describe,
    governing_regime,
    infer_context,
)
from procguide.guard import screen_question
from procguide.index import Index
from procguide.retrieve import Filters, Hit, Retriever, hybrid_search, keyword_only_search
from procguide.rewrite import Query, rewrite
from procguide.vocabulary import Vocabulary, vocabulary_at

Message = dict[str, str]


class Composer(Protocol):
    def compose(
        self, query: Query, ctx: AskerContext, ranking: Ranking, evidence: Evidence,
        decision: Decision, hits: Sequence[Hit],
    ) -> Draft: ...

    def stream_text(self, draft: Draft) -> Iterator[str]: ...


def literal_rewrite(question: str, history: Sequence[Message] | None, vocabulary: Vocabulary) -> Query:
    """The question as typed, with no follow-up reading and no vocabulary: for comparison."""
    return Query(question=question, text=question, focus=question)


class AlwaysAnswer:
    """A decide stage that never declines: for measuring what the policy adds."""

    def decide(self, query: Query, regime: Regime, hits: Sequence[Hit], evidence: Evidence) -> Decision:
        return Decision(ANSWER, "always", 1.0)


# Implementations each stage can be configured to use (PROCGUIDE_STAGES='{"rewrite": "literal"}').
REWRITERS: dict[str, Callable[..., Query]] = {"standard": rewrite, "literal": literal_rewrite}
RETRIEVERS: dict[str, Retriever] = {"hybrid": hybrid_search, "bm25": keyword_only_search}
DECIDERS = ("calibrated", "always-answer")


@dataclass
class _Stages:
    rewrite: Callable[..., Query]
    retrieve: Retriever
    decide: Any
    compose: Composer


class Assistant:
    def __init__(
        self,
        settings: Settings | None = None,
        index: Index | None = None,
        retriever: Retriever | None = None,
        calibration: Calibration | None = None,
        vocabulary: Vocabulary | None = None,
        today: date | None = None,
    ):
        """`retriever` replaces the retrieve stage (the eval report's baselines use this)."""
        self.settings = settings or get_settings()
        self.index = index or Index(self.settings)
        self.vocabulary = vocabulary or vocabulary_at(str(self.settings.vocabulary_file))
        self.calibration = calibration or load_calibration(self.settings.calibration_file)
        self.today = today
        chosen = {"rewrite": "standard", "retrieve": "hybrid", "decide": "calibrated", **self.settings.stages}
        for stage, options in (("rewrite", REWRITERS), ("retrieve", RETRIEVERS), ("decide", DECIDERS)):
            if chosen[stage] not in options:
                raise ValueError(
                    f"PROCGUIDE_STAGES: '{chosen[stage]}' is not a {stage} stage; choose one of "
                    f"{', '.join(options)}"
                )
        self.evidence = EvidenceScorer(self.index, self.vocabulary, self.calibration.compose)
        decider = (
            AlwaysAnswer() if chosen["decide"] == "always-answer"
            else Decider(self.index, self.vocabulary, self.calibration.policy)
        )
        composer: Composer = ExtractiveComposer(self.calibration.compose, self.settings.max_answer_sentences)
        rewriter = REWRITERS[chosen["rewrite"]]
        if self.settings.answerer == "llm":
            from procguide.answer.llm import LLMComposer, LLMRewriter

            composer = LLMComposer(self.settings, fallback=composer)
            if self.settings.llm_rewrite_follow_ups and chosen["rewrite"] == "standard":
                rewriter = LLMRewriter(self.settings, composer.model, rewriter)
        self.stages = _Stages(
            rewrite=rewriter,
            retrieve=retriever or RETRIEVERS[chosen["retrieve"]],
            decide=decider,
            compose=composer,
        )

    def warm_up(self, wait: bool = True) -> str:
        """Load the index and the embedding model, compile the vocabulary, and (with an LLM) choose the checker its
        sentences must pass, before the first question rather than during it; `wait` False lets
        a slow choice finish in the background. Returns the checker's one-line reason, or ''."""
        passages = self.index.passages()
        self.index.sentence_vectors(passages[:1])  # opens the sentences' store (1 s at 100,000)
        self.index.embed_query("warm up")
        self.vocabulary.compile()
        ready = getattr(self.stages.compose, "ready", None)
        return ready(wait) if ready is not None else ""

    def recalibrated(self, calibration: Calibration) -> Assistant:
        """The same assistant (index, vocabulary, stages, sentence cache) with other weights and
        policy: for tuning sweeps on the dev split."""
        other = copy.copy(self)
        other.calibration = calibration
        other.evidence = copy.copy(self.evidence)
        other.evidence.weights = calibration.compose
        stages = copy.copy(self.stages)
        if isinstance(stages.decide, Decider):
            stages.decide = Decider(self.index, self.vocabulary, calibration.policy)
        if isinstance(stages.compose, ExtractiveComposer):
            stages.compose = ExtractiveComposer(calibration.compose, self.settings.max_answer_sentences)
        other.stages = stages
        return other

    def ask(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        filters: Filters | dict[str, Any] | None = None,
        k: int | None = None,
        context: ContextSettings | dict[str, Any] | None = None,
    ) -> Answer:
        answer: Answer | None = None
        for event in self.stream(question, history, filters, k, context):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        filters: Filters | dict[str, Any] | None = None,
        k: int | None = None,
        context: ContextSettings | dict[str, Any] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are composed, then the finished Answer.

        Raises QuestionRejected (a ValueError) for a question that cannot be taken as typed, and
        ValueError for an unknown filter or context setting.
        """
        # One view of the store for the whole question: its revision is checked once.
        with self.index.pinned() as corpus:
            prepared = self.prepare(question, history, filters, k, context)
            self.retrieve(prepared)
        steps = self.respond(prepared)
        while True:
            with self.index.pinned(corpus):  # each step in whichever thread runs it
                event = next(steps, None)
            if event is None:
                return
            yield event

    def prepare(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        filters: Filters | dict[str, Any] | None = None,
        k: int | None = None,
        context: ContextSettings | dict[str, Any] | None = None,
    ) -> Prepared:
        """Stages 1-3 (screen, context, rewrite), and the question's embeddings."""
        started = time.perf_counter()
        # 1. screen: the question, and the earlier user turns a follow-up is read with.
        screened = screen_question(question, self.settings.max_question_chars)
        history = _screened_history(history, self.settings.max_question_chars)
        parsed_filters = Filters.parse(filters)
        settings_ctx = context if isinstance(context, ContextSettings) else ContextSettings(**(context or {}))
        # 2. context
        ctx = infer_context(screened.text, history, self.vocabulary, settings_ctx, self.today)
        regime = governing_regime(ctx)
        # 3. rewrite
        query = self.stages.rewrite(screened.text, history, self.vocabulary)
        ranking = Ranking(regime, query.instruments)
        vectors = None
        if query.text and self.index.count():
            focus = query.focus or query.text
            embedded = self.index.embed_queries([query.text] if focus == query.text else [query.text, focus])
            vectors = QueryVectors(embedded[0], embedded[-1])
        prepared = Prepared(question, screened.notices, parsed_filters, ctx, regime, query, ranking,
                            vectors, k or self.settings.k, started)
        prepared.lap("prepare")
        return prepared

    def retrieve(self, prepared: Prepared, fusion: dict[str, float] | None = None) -> list[Hit]:
        """Stage 4, with the calibrated fusion weights unless others are given."""
        query = prepared.query
        prepared.hits = []
        if prepared.vectors is not None:
            prepared.hits = self.stages.retrieve(
                self.index, query.text, prepared.k,
                filters=prepared.filters, references=query.references,
                query_vector=prepared.vectors.text, concept_provisions=query.provisions,
                ranking=prepared.ranking, weights=fusion or self.calibration.fusion,
            )
        prepared.lap("retrieve")
        return prepared.hits

    def respond(self, prepared: Prepared) -> Iterator[str | Answer]:
        """Stages 5-8 (decide, compose, check, annotate) on a prepared, retrieved question."""
        query, hits, ranking = prepared.query, prepared.hits, prepared.ranking
        evidence = Evidence([])
        if prepared.vectors is not None:
            evidence = self.evidence.gather(query, prepared.vectors, hits, ranking, prepared.ctx)
        # 5. decide
        if not query.text:
            decision = Decision(DECLINE, "no-question", 0.0, ONLY_QUESTIONS)
        elif prepared.vectors is None:
            decision = Decision(DECLINE, "empty-index", 0.0, EMPTY_INDEX)
        else:
            decision = self.stages.decide.decide(query, prepared.regime, hits, evidence)
        prepared.lap("decide")
        # 6. compose
        draft = self.stages.compose.compose(query, prepared.ctx, ranking, evidence, decision, hits)
        pieces: list[str] = []
        for piece in self.stages.compose.stream_text(draft):
            pieces.append(piece)
            yield piece
        prepared.lap("compose")
        # 7. check: markers renumbered by first use; any that point nowhere are dropped. An LLM's
        # text comes checked and numbered by the sentence gate.
        decision = draft.decision
        # A composer that gave up part-way (an LLM past its time limit) replaces what it streamed.
        raw = draft.final_text if draft.final_text is not None else "".join(pieces)
        if draft.citations is not None:
            text, citations = raw, draft.citations
        else:
            text, citations = renumber(raw, [h.passage for h in hits])
        if decision.declined:
            citations = []
        # 8. annotate
        notices = notices_for([c.passage for c in citations], ranking, query.language,
                              [*prepared.notices, *draft.notices], text)
        if not decision.declined:
            notices += disagreement_notices([(c.n, c.passage) for c in citations],
                                            [h.passage for h in hits], query.focus or query.text)
        prepared.lap("annotate")
        timings = dict(prepared.timings)
        timings["answer_ms"] = sum(timings.get(f"{s}_ms", 0.0) for s in ("decide", "compose", "annotate"))
        timings["total_ms"] = (time.perf_counter() - prepared.started) * 1000
        yield Answer(
            question=prepared.question,
            text=text,
            citations=citations,
            abstained=decision.declined,
            retrieved=hits,
            notices=notices,
            confidence=decision.probability,
            timings=timings,
            decision=decision.kind,
            reason=decision.reason,
            context=context_record(prepared.ctx, prepared.regime),
            suggestions=decision.suggestions if decision.declined else [],
            language=query.language,
            features=evidence.features,
            answerer=draft.answerer,
            withheld=draft.withheld,
            dropped_markers=draft.dropped_markers,
        )


@dataclass
class Prepared:
    """A question after the screen, context and rewrite stages (and, once retrieved, its hits)."""

    question: str
    notices: list[str]
    filters: Filters
    ctx: AskerContext
    regime: Regime
    query: Query
    ranking: Ranking
    vectors: QueryVectors | None
    k: int
    started: float
    hits: list[Hit] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    _clock: float = 0.0

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[f"{stage}_ms"] = (now - (self._clock or self.started)) * 1000
        self._clock = now


def context_record(ctx: AskerContext, regime: Regime) -> dict[str, Any]:
    """Whom the answer is for, as data (for the UI and the answers file) and as one line."""
    return {
        "summary": describe(ctx, regime),
        "nation": ctx.nation,
        "body": ctx.body,
        "sector": ctx.sector,
        "started": ctx.started.isoformat(),
        "started_given": ctx.started_given,
        "governing": list(regime.governing),
        "origin": dict(ctx.origin),
    }


def _screened_history(history: Sequence[Message] | None, max_chars: int) -> list[Message]:
    """Earlier user turns go through the same screen as the question (instructions set aside,
    markup removed); a turn that cannot be taken is left out. Assistant turns are kept as said."""
    from procguide.guard import QuestionRejected

    out: list[Message] = []
    for message in history or ():
        role, content = message.get("role", ""), message.get("content", "")
        if role not in ("user", "assistant") or not isinstance(content, str):
            continue
        if role == "user":
            try:
                content = screen_question(content, max_chars).text
            except QuestionRejected:
                continue  # too long, or nothing but markup: never reaches rewrite or retrieval
            if not content:
                continue  # nothing but instructions
        else:
            # An earlier reply is read only for its regime and provisions; a huge one (a pasted
            # or forged turn) is cut to its start, and its instruction-like lines are dropped.
            try:
                content = screen_question(content[:max_chars], max_chars).text
            except QuestionRejected:
                continue
        out.append({"role": role, "content": content})
    return out
