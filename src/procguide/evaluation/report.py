"""Write an eval run's report: report.json (the keys of evals/README.md), report.md (metrics overall
and per tag, baselines side by side, every failing question) and metrics.png (a chart for trainers).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from procguide.evaluation.config import LOWER_IS_BETTER
from procguide.evaluation.metrics import METRICS, QuestionScore, by_tag
from procguide.evaluation.records import AnswerRecord

RATE_METRICS = [m for m in METRICS if not m.startswith("latency")]


def report_json(
    k: int,
    metrics: dict[str, float],
    scores: Sequence[QuestionScore],
    records: Sequence[AnswerRecord],
    baselines: dict[str, dict[str, float]],
    failures: Sequence[str],
) -> dict[str, Any]:
    by_id = {r.id: r for r in records}
    return {
        "n": len(scores),
        "k": k,
        "metrics": metrics,
        "per_question": [
            {
                "id": s.id,
                "answer": by_id[s.id].answer,
                "citations": [c.model_dump() for c in by_id[s.id].citations],
                "retrieved": by_id[s.id].retrieved,
                "scores": s.scores(),
                "problems": s.problems,
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


def report_markdown(report: dict[str, Any], records: Sequence[AnswerRecord]) -> str:
    systems = {"procguide": report["metrics"], **report["baselines"]}
    checker = report.get("support_checker", "offline")
    heading = (f"# Eval report\n\n{report['n']} questions, top {report['k']} passages, "
               f"support judged by the {checker} checker.\n")
    lines = [heading]
    if report["bounds_failed"]:
        lines.append("**Bounds missed:** " + "; ".join(report["bounds_failed"]) + "\n")
    else:
        lines.append("All bounds met.\n")
    lines.append("## Metrics\n")
    lines.append("| metric | " + " | ".join(systems) + " |")
    lines.append("| --- |" + " ---: |" * len(systems))
    for m in METRICS:
        arrow = " (lower is better)" if m in LOWER_IS_BETTER else ""
        lines.append(f"| {m}{arrow} | " + " | ".join(_fmt(m, s.get(m)) for s in systems.values()) + " |")
    baselines = ", ".join(report["baselines"]) or "none"
    lines.append(
        f"\nBaselines ({baselines}) answer with the same built-in answerer; only retrieval differs: "
        "`bm25` is keyword search alone, `naive` is the LangChain recipe "
        "(RecursiveCharacterTextSplitter 1000/200, dense top-4 from Chroma, no fusion).\n"
    )
    lines.append("## By tag\n")
    shown = ["n", "source_recall_at_k", "cited_source_recall", "citation_support", "fact_recall",
             "abstention_accuracy", "false_abstention_rate"]
    lines.append("| tag | " + " | ".join(shown) + " |")
    lines.append("| --- |" + " ---: |" * len(shown))
    for tag, m in report["per_tag"].items():
        lines.append(f"| {tag} | " + " | ".join(
            str(m["n"]) if c == "n" else _fmt(c, m.get(c)) for c in shown) + " |")
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
    for i, (name, m) in enumerate(systems.items()):
        values = [m.get(k) or 0 for k in RATE_METRICS]
        bars = ax.bar(x + i * width - 0.4 + width / 2, values, width, label=name)
        if name == "procguide":
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
    ax.set_xticks(x, [m.replace("_", " ") for m in RATE_METRICS], rotation=25, ha="right", fontsize=9)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("share (false abstention rate: lower is better)")
    ax.set_title(f"procguide eval: {report['n']} questions, top {report['k']} passages")
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
