"""Calibrate the decide stage: fit the policy (a logistic model over the evidence features, and the
thresholds to decline and to caveat) on questions whose right outcome is known, and report how it
does on questions it was not fitted on, by k-fold cross-validation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from procguide.answer.calibration import FEATURES, Policy, knowledge_hash, questions_hash
from procguide.assistant import Assistant
from procguide.config import Settings
from procguide.evaluation.questions import Question

# Wrongly declining an answerable question is the costlier error (the eval bounds it at 0.05):
# the policy declines on evidence only below the threshold that declines at most this share
# (cross-validated on the dev split, 1.5% cost no abstention accuracy against 3%: the rules do
# most of the declining, and weak evidence gets a caveat instead).
MAX_FALSE_ABSTENTION = 0.015
# The answerable questions with the weakest evidence, this share of them, are answered with a
# caveat rather than plainly, and so is anything else whose evidence is as weak.
CAVEAT_SHARE = 0.10


@dataclass
class Observation:
    """One question run through the pipeline: its evidence, and whether it should be answered."""

    id: str
    features: dict[str, float]
    answerable: bool
    ruled: bool = False  # declined by a rule (out of scope, nation or instrument not held)


@dataclass
class FoldResult:
    false_abstention_rate: float
    abstention_accuracy: float
    caveat_rate: float


@dataclass
class CalibrationResult:
    policy: Policy
    folds: list[FoldResult] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        def mean(name: str) -> float:
            return round(float(np.mean([getattr(f, name) for f in self.folds])), 4) if self.folds else 0.0

        return {
            "false_abstention_rate": mean("false_abstention_rate"),
            "abstention_accuracy": mean("abstention_accuracy"),
            "caveat_rate": mean("caveat_rate"),
            "folds": len(self.folds),
        }


def _matrix(observations: Sequence[Observation]) -> np.ndarray:
    return np.array([[o.features.get(name, 0.0) for name in FEATURES] for o in observations], dtype=float)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.1, steps: int = 50) -> np.ndarray:
    """Weights (intercept first) of an L2-regularised logistic regression, by Newton's method."""
    design = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(design.shape[1])
    penalty = l2 * np.eye(design.shape[1])
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -50, 50)))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(w)), gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


def _thresholds(probabilities: np.ndarray, answerable: np.ndarray) -> tuple[float, float]:
    """(decline_below, answer_above): decline as many of the questions to decline as possible
    while declining at most MAX_FALSE_ABSTENTION of the answerable ones; answer with a caveat
    up to the probability that the weakest CAVEAT_SHARE of answerable questions fall below."""
    scores = np.unique(probabilities)
    candidates = np.concatenate([[0.0], (scores[:-1] + scores[1:]) / 2 if len(scores) > 1 else [], [1.0]])
    n_answerable = max(1, int(answerable.sum()))
    decline_below = 0.0
    for t in candidates:
        if (probabilities[answerable] < t).sum() / n_answerable <= MAX_FALSE_ABSTENTION + 1e-12:
            decline_below = float(t)
    weakest = float(np.quantile(probabilities[answerable], CAVEAT_SHARE)) if answerable.any() else 0.0
    return decline_below, max(weakest, decline_below)


def fit_policy(observations: Sequence[Observation]) -> Policy:
    """The policy's model is fitted on every question, including those a rule declines: they are
    real examples of what the knowledge base cannot answer, and teach the model to decline the
    like of them when no rule fires. Its thresholds are set on the questions no rule decided."""
    judged = list(observations)
    x, y = _matrix(judged), np.array([o.answerable for o in judged], dtype=float)
    if len(judged) == 0 or y.min() == y.max():
        return Policy()
    w = fit_logistic(x, y)
    coefficients = {"intercept": float(w[0]), **{name: float(v) for name, v in zip(FEATURES, w[1:], strict=True)}}
    policy = Policy(coefficients=coefficients)
    unruled = [o for o in observations if not o.ruled]
    probabilities = np.array([policy.probability(o.features) for o in unruled])
    labels = np.array([o.answerable for o in unruled], dtype=bool)
    policy.decline_below, policy.answer_above = _thresholds(probabilities, labels)
    return policy


def fold_of(question_id: str, folds: int) -> int:
    """A fixed fold for each question, from its id, so runs are repeatable."""
    return int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % folds


def evaluate(policy: Policy, observations: Sequence[Observation]) -> FoldResult:
    answerable = [o for o in observations if o.answerable]
    to_decline = [o for o in observations if not o.answerable]

    def declined(o: Observation) -> bool:
        return o.ruled or policy.probability(o.features) < policy.decline_below

    caveated = [
        o for o in observations
        if not declined(o) and policy.probability(o.features) < policy.answer_above
    ]
    return FoldResult(
        false_abstention_rate=sum(declined(o) for o in answerable) / max(1, len(answerable)),
        abstention_accuracy=sum(declined(o) for o in to_decline) / max(1, len(to_decline)),
        caveat_rate=len(caveated) / max(1, len(observations)),
    )


def cross_validate(observations: Sequence[Observation], folds: int = 5) -> CalibrationResult:
    """Fit on k-1 folds, measure on the one left out, for each fold; then fit on everything."""
    results = []
    for k in range(folds):
        train = [o for o in observations if fold_of(o.id, folds) != k]
        test = [o for o in observations if fold_of(o.id, folds) == k]
        if test:
            results.append(evaluate(fit_policy(train), test))
    return CalibrationResult(fit_policy(observations), results)


# The calibration set: the dev split, leaving out the formal questions that name their provision
# in the notes' own words, so that at least half of it is scenario-style or colloquial.
CALIBRATION_SPLIT = "dev"
LEFT_OUT_TAGS = ("formal",)


def calibration_set(questions: Sequence[Question]) -> list[Question]:
    return [
        q for q in questions
        if CALIBRATION_SPLIT in q.tags and not any(t in q.tags for t in LEFT_OUT_TAGS)
    ]


def made_on(settings: Settings, questions: Sequence[Question]) -> dict[str, str]:
    """What a calibration was made on: the split, and hashes of its questions and of the
    knowledge base (documents, catalogue and vocabulary), so a test can tell when either changed."""
    return {
        "split": CALIBRATION_SPLIT,
        "left_out_tags": ",".join(LEFT_OUT_TAGS),
        "questions": questions_hash([q.model_dump_json() for q in questions]),
        "knowledge": knowledge_hash(
            settings.knowledge_dir, [settings.instruments_file, settings.vocabulary_file]
        ),
    }


def observe(assistant: Assistant, questions: Sequence[Question], on_answer=lambda: None) -> list[Observation]:
    """Run each question once and keep what the decide stage weighed."""
    out = []
    for q in questions:
        answer = assistant.ask(q.question, history=q.history_messages())
        ruled = answer.abstained and answer.reason not in ("evidence", "")
        out.append(Observation(q.id, dict(answer.features), not q.abstain, ruled))
        on_answer()
    return out
