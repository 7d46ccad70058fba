"""An eval run end to end: generate answers (or read saved ones), score them, run the baselines,
check the bounds and write the report. The CLI only parses options and prints the outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from procguide.config import Settings
from procguide.evaluation.config import Bounds, EvalConfig
from procguide.evaluation.metrics import QuestionScore, SupportChecker, aggregate, score_run
from procguide.evaluation.questions import Question
from procguide.evaluation.records import AnswerRecord, read_answers, write_answers
from procguide.evaluation.report import report_json, write_report


@dataclass
class EvalRun:
    metrics: dict[str, float]
    scores: list[QuestionScore]
    records: list[AnswerRecord]
    baselines: dict[str, dict[str, float]]
    failures: list[str]
    report: dict[str, Any]


def choose_support_checker(settings: Settings, config: EvalConfig) -> tuple[SupportChecker, str]:
    """The checker that judges support, and why (answer/judge.py, select_checker): with
    `support.checker` "auto" (the default), the LLM judge only when an LLM is configured and it
    classifies the held-out labelled pairs at least as well as the offline checker; "offline"
    always the offline checker; "llm" the judge, unmeasured."""
    from procguide.answer.judge import select_checker

    return select_checker(_with_threshold(settings, config), config.support.checker)


def support_checker(settings: Settings, config: EvalConfig) -> SupportChecker:
    return choose_support_checker(settings, config)[0]


def _with_threshold(settings: Settings, config: EvalConfig) -> Settings:
    """The settings with the eval config's support threshold, when it sets one."""
    if config.support.threshold is None:
        return settings
    return settings.model_copy(update={"support_threshold": config.support.threshold})


def run_eval(
    questions: Sequence[Question],
    out: Path,
    settings: Settings,
    config: EvalConfig,
    bounds: Bounds,
    answers: Path | None = None,
    baselines: Sequence[str] = (),
    on_answer: Callable[[str], None] = lambda system: None,
    split: str | None = None,
) -> EvalRun:
    """`questions` are those of `split` already (questions.select_split); the split is recorded
    in the report."""
    checker, reason = choose_support_checker(settings, config)
    k = config.k
    baseline_metrics: dict[str, dict[str, float]] = {}
    if answers is not None:
        records = read_answers(answers)
    else:
        from procguide.assistant import Assistant
        from procguide.evaluation.baselines import baseline_assistant
        from procguide.evaluation.generate import generate
        from procguide.index import Index

        index = Index(settings)
        records = generate(questions, Assistant(settings, index), k, lambda: on_answer("procguide"))
        write_answers(out / "answers.jsonl", records)
        for name in baselines:
            assistant = baseline_assistant(name, settings, index, [settings.knowledge_dir])
            base = generate(questions, assistant, k, lambda name=name: on_answer(name))
            write_answers(out / f"answers-{name}.jsonl", base)
            baseline_metrics[name] = aggregate(score_run(questions, base, checker, k))
    scores = score_run(questions, records, checker, k)
    metrics = aggregate(scores)
    failures = bounds.failures(metrics)
    report = report_json(k, metrics, scores, records, baseline_metrics, failures, split)
    report["support_checker"] = checker.name
    report["support_checker_reason"] = reason
    write_report(out, report, records)
    return EvalRun(metrics, scores, records, baseline_metrics, failures, report)
