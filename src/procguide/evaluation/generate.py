"""Generate answers: run each question (with its history) through the Assistant and keep the
records, so scoring can be repeated without generating again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from procguide.assistant import Assistant
from procguide.evaluation.questions import Question
from procguide.evaluation.records import AnswerRecord
from procguide.guard import QuestionRejected


def generate(
    questions: Sequence[Question],
    assistant: Assistant,
    k: int,
    on_answer: Callable[[], None] = lambda: None,
) -> list[AnswerRecord]:
    records = []
    for q in questions:
        try:
            answer = assistant.ask(q.question, history=q.history_messages(), k=k)
            record = AnswerRecord.model_validate(answer.as_record(q.id))
        except QuestionRejected as exc:  # a refused question counts as declined
            record = AnswerRecord(id=q.id, question=q.question, answer=str(exc), abstained=True)
        records.append(record)
        on_answer()
    return records
