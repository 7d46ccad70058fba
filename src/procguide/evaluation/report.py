"""Write an eval run's report: report.json (the keys of evals/README.md), report.md (metrics overall
with bootstrap intervals, per style and topic tag, baselines side by side, every failing question)
and metrics.png (a chart for trainers).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from procguide.evaluation.config import LOWER_IS_BETTER
from procguide.evaluation.metrics import (
    BOOTSTRAP_CONFIDENCE,
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    METRICS,
    RATE_METRICS,
    QuestionScore,
    bootstrap,
    by_tag,
)
from procguide.evaluation.questions import SPLITS
from procguide.evaluation.records import AnswerRecord

# Tags for how a question is asked, shown in their own table before the topic tags.
STYLE_TAGS = ("scenario", "colloquial", "terse", "acronym", "welsh-language", "follow-up",
              "topic-switch", "formal", "injection")
# Extra metrics of LLM answers (metrics.answer_check_rates), shown only when a run has them.
ANSWER_CHECK_METRICS = ("withheld_rate", "fallback_rate")
TAG_COLUMNS = ("n", "fact_recall", "false_abstention_rate", "abstention_accuracy",
               "cited_source_recall", "padding_rate")


def report_json(
    k: int,
    metrics: dict[str, float],
    scores: Sequence[QuestionScore],
    records: Sequence[AnswerRecord],
    baselines: dict[str, dict[str, float]],
    failures: Sequence[str],
    split: str | None = None,
) -> dict[str, Any]:
    by_id = {r.id: r for r in records}
    return {
        "n": len(scores),
        "k": k,
        "split": split,
        "metrics": metrics,
        "bootstrap": bootstrap(scores),
        "bootstrap_settings": {"resamples": BOOTSTRAP_RESAMPLES, "confidence": BOOTSTRAP_CONFIDENCE,
                               "seed": BOOTSTRAP_SEED},
        "per_question": [
            {
                "id": s.id,
                "answer": by_id[s.id].answer,
                "citations": [c.model_dump() for c in by_id[s.id].citations],
                "retrieved": by_id[s.id].retrieved,
                "scores": s.scores(),
                "problems": s.problems,
                "facts_outside_cited": s.facts_outside_cited,
                "padded_sentences": s.padded_sentences,
            }
            for s in scores
        ],
        "per_tag": by_tag(scores),
        "baselines": baselines,
        "bounds_failed": list(failures),
    }


def _fmt(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if name.startswith("latency") else f"{value:.3f}"


def _interval(name: str, report: dict[str, Any]) -> str:
    interval = report.get("bootstrap", {}).get(name)
    return "–" if interval is None else f"{interval[0]:.3f}–{interval[1]:.3f}"


def _tag_table(title: str, tags: Sequence[str], per_tag: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"### {title}\n"]
    if not tags:
        return lines + ["No question carries one of these tags.\n"]
    lines.append("| tag | " + " | ".join(TAG_COLUMNS) + " |")
    lines.append("| --- |" + " ---: |" * len(TAG_COLUMNS))
    for tag in tags:
        m = per_tag[tag]
        lines.append(f"| {tag} | " + " | ".join(
            str(m["n"]) if c == "n" else _fmt(c, m.get(c)) for c in TAG_COLUMNS) + " |")
    return lines + [""]


def report_markdown(report: dict[str, Any], records: Sequence[AnswerRecord]) -> str:
    checker = report.get("support_checker", "offline")
    split = report.get("split")
    which = f"the {split} split" if split else "all questions"
    heading = (f"# Eval report\n\n{report['n']} questions ({which}), top {report['k']} passages, "
               f"support judged by the {checker} checker.\n")
    if report.get("support_checker_reason"):
        reason = str(report["support_checker_reason"])
        heading += f"\n{reason[:1].upper()}{reason[1:]}.\n"
    lines = [heading]
    if report["bounds_failed"]:
        lines.append("**Bounds missed:** " + "; ".join(report["bounds_failed"]) + "\n")
    else:
        lines.append("All bounds met.\n")
    lines.append("## Metrics\n")
    columns = ["metric", "procguide", "95% interval", *report["baselines"]]
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("| --- |" + " ---: |" * (len(columns) - 1))
    for m in METRICS:
        arrow = " (lower is better)" if m in LOWER_IS_BETTER else ""
        cells = [_fmt(m, report["metrics"].get(m)), _interval(m, report)]
        cells += [_fmt(m, b.get(m)) for b in report["baselines"].values()]
        lines.append(f"| {m}{arrow} | " + " | ".join(cells) + " |")
    extra = [m for m in ANSWER_CHECK_METRICS if report["metrics"].get(m) is not None]
    for m in extra:
        cells = [_fmt(m, report["metrics"][m]), "–"] + [_fmt(m, b.get(m)) for b in report["baselines"].values()]
        lines.append(f"| {m} (lower is better) | " + " | ".join(cells) + " |")
    if extra:
        lines.append(
            "\n`withheld_rate`: of the sentences the LLM wrote (shown or withheld), the share the answer "
            "check withheld as unsupported, uncited or wrongly cited; `fallback_rate`: the share of LLM "
            "answers replaced by the built-in answerer's."
        )
    settings = report.get("bootstrap_settings", {})
    lines.append(
        f"\nThe interval is a bootstrap percentile interval: the questions resampled with "
        f"replacement {settings.get('resamples', 1000)} times, each resample pooled like the run."
    )
    baselines = ", ".join(report["baselines"]) or "none"
    lines.append(
        f"\nBaselines ({baselines}) answer with the same built-in answerer; only retrieval differs: "
        "`bm25` is keyword search alone, `naive` is the LangChain recipe "
        "(RecursiveCharacterTextSplitter 1000/200, dense top-4 from Chroma, no fusion).\n"
    )
    lines.append("## By tag\n")
    per_tag = report["per_tag"]
    styles = [t for t in STYLE_TAGS if t in per_tag]
    topics = [t for t in per_tag if t not in STYLE_TAGS and t not in SPLITS]
    lines += _tag_table("How the question is asked", styles, per_tag)
    lines += _tag_table("Topic", topics, per_tag)
    failing = [q for q in report["per_question"] if q["problems"]]
    lines.append(f"\n## Failing questions ({len(failing)})\n")
    by_id = {r.id: r for r in records}
    for q in failing:
        rec = by_id[q["id"]]
        lines.append(f"### {q['id']}\n")
        lines.append(f"**Question:** {rec.question}\n")
        lines.append("**Problems:** " + "; ".join(q["problems"]) + "\n")
        lines.append(f"**Answer:** {rec.answer}\n")
        for c in rec.citations:
            lines.append(f"- [{c.n}] {c.title} — {c.locator} ({', '.join(c.provisions)})")
        retrieved = "; ".join(", ".join(ids) or "(none)" for ids in rec.retrieved)
        lines.append(f"\n**Retrieved, in rank order:** {retrieved}\n")
        if q.get("padded_sentences"):
            lines.append("**Padding (no expected fact, no expected source):** "
                         + " / ".join(q["padded_sentences"]) + "\n")
    return "\n".join(lines) + "\n"


def metrics_chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    systems = {"procguide": report["metrics"], **report["baselines"]}
    x = np.arange(len(RATE_METRICS))
    width = 0.8 / len(systems)
    fig, ax = plt.subplots(figsize=(12, 5.5), dpi=110)
    intervals = report.get("bootstrap", {})
    for i, (name, m) in enumerate(systems.items()):
        values = [m.get(k) or 0 for k in RATE_METRICS]
        yerr = None
        if name == "procguide" and intervals:  # the bootstrap interval as an error bar
            low = [intervals.get(k, [v, v])[0] for k, v in zip(RATE_METRICS, values, strict=True)]
            high = [intervals.get(k, [v, v])[1] for k, v in zip(RATE_METRICS, values, strict=True)]
            yerr = np.clip([np.subtract(values, low), np.subtract(high, values)], 0, None)
        bars = ax.bar(x + i * width - 0.4 + width / 2, values, width, label=name,
                      yerr=yerr, capsize=2 if yerr is not None else 0)
        if name == "procguide":
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
    ax.set_xticks(x, [m.replace("_", " ") for m in RATE_METRICS], rotation=25, ha="right", fontsize=9)
    ax.set_ylim(0, 1.1)
    lower = ", ".join(m.replace("_", " ") for m in RATE_METRICS if m in LOWER_IS_BETTER)
    ax.set_ylabel(f"share ({lower}: lower is better)")
    which = f"{report['split']} split" if report.get("split") else "all questions"
    ax.set_title(f"procguide eval: {report['n']} questions ({which}), top {report['k']} passages; "
                 "error bars: 95% bootstrap interval")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(out: Path, report: dict[str, Any], records: Sequence[AnswerRecord]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    (out / "report.md").write_text(report_markdown(report, records), encoding="utf-8")
    metrics_chart(report, out / "metrics.png")
