"""The eval suite's settings (k, split, bounds, support checker, baselines), read from
evals/config.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from procguide import yamlfile

# Metrics where a lower value is better; every other metric is better higher.
LOWER_IS_BETTER = ("false_abstention_rate", "latency_p50_ms", "latency_p95_ms", "padding_rate")


class Bounds(BaseModel):
    min: dict[str, float] = Field(default_factory=dict)
    max: dict[str, float] = Field(default_factory=dict)

    def failures(self, metrics: dict[str, float]) -> list[str]:
        """Readable lines for every bound a run misses; an unknown metric name is a failure too."""
        out = []
        for name, bound in self.min.items():
            value = metrics.get(name)
            if value is None:
                out.append(f"{name}: no such metric")
            elif value < bound - 1e-9:
                out.append(f"{name} = {value:.3f}, below the minimum {bound}")
        for name, bound in self.max.items():
            value = metrics.get(name)
            if value is None:
                out.append(f"{name}: no such metric")
            elif value > bound + 1e-9:
                out.append(f"{name} = {value:.3f}, above the maximum {bound}")
        return out


class SupportConfig(BaseModel):
    # "auto": the LLM judge only when an LLM is configured (PROCGUIDE_LLM_MODEL) and it classifies
    # the held-out labelled pairs at least as well as the offline checker (answer/judge.py,
    # select_checker); else the offline one. "llm" forces the judge, "offline" the offline checker.
    checker: Literal["auto", "offline", "llm"] = "auto"
    # Unset: PROCGUIDE_SUPPORT_THRESHOLD, the one the answer-time check uses too.
    threshold: float | None = None


class EvalConfig(BaseModel):
    k: int = 5
    # Only the questions tagged with this split ("dev" or "heldout"); None: every question.
    split: str | None = None
    bounds: Bounds = Field(default_factory=Bounds)
    support: SupportConfig = Field(default_factory=SupportConfig)
    baselines: list[str] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None) -> EvalConfig:
        if path is None or not Path(path).exists():
            return cls()
        return cls.model_validate(yamlfile.safe_load(Path(path).read_text(encoding="utf-8")) or {})


def parse_bound_options(options: list[str], kind: str) -> dict[str, float]:
    """`--min citation_support=0.9` options to {"citation_support": 0.9}."""
    out = {}
    for option in options:
        name, sep, value = option.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(f"--{kind} takes METRIC=VALUE, for example citation_support=0.9; got '{option}'")
    return out
