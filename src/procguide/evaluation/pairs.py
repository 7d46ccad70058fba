"""Labelled sentence-passage pairs for the support checker: load them, find the threshold that
classifies them best, and measure a checker on them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from procguide.answer.support import OfflineSupportChecker


@dataclass
class LabelledPair:
    sentence: str
    passage: str
    supported: bool
    kind: str = ""


def load_pairs(path: Path) -> list[LabelledPair]:
    pairs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            pairs.append(LabelledPair(d["sentence"], d["passage"], bool(d["supported"]), d.get("kind", "")))
    return pairs


def calibrate_threshold(checker: OfflineSupportChecker, pairs: Sequence[LabelledPair]) -> tuple[float, float]:
    """(threshold, accuracy): the middle of the range of thresholds that classify the pairs best."""
    verdicts = [checker.verdict(p.sentence, p.passage) for p in pairs]
    scores = sorted({v.score for v in verdicts})
    candidates = [0.0] + [(a + b) / 2 for a, b in pairwise(scores)] + [1.0]

    def accuracy_at(t: float) -> float:
        return sum(
            v.passes(t) == p.supported for v, p in zip(verdicts, pairs, strict=True)
        ) / len(pairs)

    results = [(t, accuracy_at(t)) for t in candidates]
    best = max(a for _, a in results)
    tied = [t for t, a in results if a >= best - 1e-9]
    return round(tied[len(tied) // 2], 3), best


def accuracy(checker: OfflineSupportChecker, pairs: Sequence[LabelledPair]) -> float:
    return sum(checker.supports(p.sentence, p.passage) == p.supported for p in pairs) / len(pairs)
