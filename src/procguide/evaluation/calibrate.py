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


def best_threshold(
    answerable: list[float], unanswerable: list[float], max_false_abstention: float = 0.05
) -> Calibration:
    """The threshold that declines the most questions it should, while declining at most
    `max_false_abstention` of the answerable ones (wrongly declining is the costlier error:
    the eval suite bounds it at 0.05). Placed midway between the two nearest scores.
    """
    scores = sorted(set(answerable + unanswerable))
    candidates = [0.0] + [(a + b) / 2 for a, b in pairwise(scores)] + [max(scores, default=0) + 1]
    best: Calibration | None = None
    for t in candidates:
        false_abstention = sum(s < t for s in answerable) / max(1, len(answerable))
        if false_abstention > max_false_abstention + 1e-9:
            continue
        declined = sum(s < t for s in unanswerable) / max(1, len(unanswerable))
        balanced = (1 - false_abstention + declined) / 2
        if best is None or declined > best.abstention_accuracy + 1e-9:
            best = Calibration(t, balanced, declined, false_abstention, answerable, unanswerable)
    assert best is not None
    return best
