"""The one entry point: `Assistant.ask(question, history, filters) -> Answer`, used alike by the
UI, the CLI and the evals. Runs the stages in order: screen the question, read it with its history,
retrieve, answer, check the citations, add notices.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from procguide import provisions as prov
from procguide.answer.abstain import EMPTY_INDEX, ONLY_QUESTIONS
from procguide.answer.citations import renumber
from procguide.answer.extractive import Draft, ExtractiveAnswerer
from procguide.answer.llm import LLMAnswerer
from procguide.answer.notices import superseded_notices
from procguide.answer.result import Answer
from procguide.config import Settings, get_settings
from procguide.guard import screen_question
from procguide.index import Index
from procguide.retrieve import Filters, Hit, Retriever, contextual_query, hybrid_search

Message = dict[str, str]


class Assistant:
    def __init__(
        self,
        settings: Settings | None = None,
        index: Index | None = None,
        retriever: Retriever = hybrid_search,
    ):
        """`retriever` is hybrid search; the eval report swaps in baselines to compare with it."""
        self.settings = settings or get_settings()
        self.index = index or Index(self.settings)
        self.retriever = retriever
        extractive = ExtractiveAnswerer(
            self.index, self.settings.abstain_threshold, self.settings.max_answer_sentences
        )
        self.answerer: ExtractiveAnswerer | LLMAnswerer = extractive
        if self.settings.answerer == "llm":
            self.answerer = LLMAnswerer(self.settings, extractive)

    def ask(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        filters: Filters | dict[str, Any] | None = None,
        k: int | None = None,
    ) -> Answer:
        answer: Answer | None = None
        for event in self.stream(question, history, filters, k):
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
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are composed, then the finished Answer.

        Raises QuestionRejected (a ValueError) for a question that cannot be taken as typed.
        """
        started = time.perf_counter()
        screened = screen_question(question, self.settings.max_question_chars)
        parsed_filters = Filters.parse(filters)
        query = contextual_query(screened.text, history)
        k = k or self.settings.k

        hits: list[Hit] = []
        vector = None
        if query and self.index.count():
            vector = self.index.embed_query(query)
            references = prov.find_references(query)
            hits = self.retriever(
                self.index, query, k,
                filters=parsed_filters, references=references, query_vector=vector,
            )
        retrieved_at = time.perf_counter()
        if not query:
            draft = Draft([], True, 0.0, ONLY_QUESTIONS)
        elif vector is None:
            draft = Draft([], True, 0.0, EMPTY_INDEX)
        else:
            focus = screened.text if query != screened.text else ""
            draft = self.answerer.draft(query, vector, hits, focus)

        pieces: list[str] = []
        for piece in self.answerer.stream_text(draft):
            pieces.append(piece)
            yield piece
        abstained, confidence = draft.abstained, draft.confidence
        raw = "".join(pieces)
        text, citations = renumber(raw, [h.passage for h in hits])
        if abstained:
            citations = []
        notices = list(screened.notices) + superseded_notices(c.passage for c in citations)
        finished = time.perf_counter()
        yield Answer(
            question=question,
            text=text,
            citations=citations,
            abstained=abstained,
            retrieved=hits,
            notices=notices,
            confidence=confidence,
            timings={
                "retrieve_ms": (retrieved_at - started) * 1000,
                "answer_ms": (finished - retrieved_at) * 1000,
                "total_ms": (finished - started) * 1000,
            },
        )
