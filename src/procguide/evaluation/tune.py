"""Tuning sweeps on the dev split: each question is screened, read and embedded once; then each
variant of the weights (fusion, sentence scoring, policy) re-runs retrieval and the stages after
it and is scored with the eval metrics. Only the dev split is swept; the held-out split is for
reporting. `procguide tune` runs the variants in a YAML file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from procguide.answer.calibration import Calibration
from procguide.assistant import Assistant, Prepared
from procguide.evaluation.metrics import aggregate, score_run
from procguide.evaluation.questions import Question
from procguide.evaluation.records import AnswerRecord
from procguide.guard import QuestionRejected


@dataclass
class Variant:
    name: str
    fusion: dict[str, float]
    compose: dict[str, float]


def prepare_all(
    assistant: Assistant, questions: Sequence[Question], on_done: Callable[[], None] = lambda: None
) -> dict[str, Prepared | QuestionRejected]:
    out: dict[str, Prepared | QuestionRejected] = {}
    for q in questions:
        try:
            out[q.id] = assistant.prepare(q.question, history=q.history_messages())
        except QuestionRejected as exc:
            out[q.id] = exc
        on_done()
    return out


def answer_all(
    assistant: Assistant, questions: Sequence[Question], prepared: dict[str, Prepared | QuestionRejected],
    fusion: dict[str, float] | None = None,
) -> list[AnswerRecord]:
    records = []
    for q in questions:
        item = prepared[q.id]
        if isinstance(item, QuestionRejected):
            records.append(AnswerRecord(id=q.id, question=q.question, answer=str(item), abstained=True))
            continue
        item = replace(item, timings={}, hits=[])
        assistant.retrieve(item, fusion)
        answer = None
        for event in assistant.respond(item):
            answer = event
        records.append(AnswerRecord.model_validate(answer.as_record(q.id)))  # type: ignore[union-attr]
    return records


def sweep(
    assistant: Assistant,
    questions: Sequence[Question],
    variants: Sequence[Variant],
    checker: Any,
    k: int,
    on_variant: Callable[[str], None] = lambda name: None,
) -> dict[str, dict[str, Any]]:
    """Metrics for each variant, on the same prepared questions."""
    prepared = prepare_all(assistant, questions)
    results: dict[str, dict[str, Any]] = {}
    for variant in variants:
        base = assistant.calibration
        calibration = Calibration(
            fusion={**base.fusion, **variant.fusion},
            compose={**base.compose, **variant.compose},
            policy=base.policy,
        )
        tuned = assistant.recalibrated(calibration)
        records = answer_all(tuned, questions, prepared, calibration.fusion)
        results[variant.name] = aggregate(score_run(questions, records, checker, k))
        on_variant(variant.name)
    return results
