"""Calibrate the abstention threshold on questions whose right outcome (answer or decline) is known."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from procguide.evaluation.questions import Question


@dataclass
class Calibration:
    threshold: float
    accuracy: float
    abstention_accuracy: float
    false_abstention_rate: float
    answerable: list[float]
    unanswerable: list[float]


def confidences(
    questions: Sequence[Question], confidence_of: Callable[[Question], float]
) -> tuple[list[float], list[float]]:
    answerable, unanswerable = [], []
    for q in questions:
        (unanswerable if q.abstain else answerable).append(confidence_of(q))
    return answerable, unanswerable


def best_threshold(answerable: list[float], unanswerable: list[float]) -> Calibration:
    """The threshold with the best balanced accuracy, midway between the two nearest scores."""
    scores = sorted(set(answerable + unanswerable))
    candidates = [(a + b) / 2 for a, b in pairwise(scores)] or scores or [0.5]
    best: Calibration | None = None
    for t in candidates:
        keep = sum(s >= t for s in answerable) / max(1, len(answerable))
        decline = sum(s < t for s in unanswerable) / max(1, len(unanswerable))
        balanced = (keep + decline) / 2
        # Prefer fewer false abstentions on ties: a wrong "I can't answer" is the costlier error here.
        if best is None or balanced > best.accuracy + 1e-9:
            best = Calibration(t, balanced, decline, 1 - keep, answerable, unanswerable)
    assert best is not None
    return best
