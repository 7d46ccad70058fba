"""The calibration artifact (evals/calibration.json): made on the current dev questions and
knowledge base, fitted by cross-validation, and never on the held-out split. No question is
run here: the hashes say whether the artifact is stale (`procguide calibrate` re-makes it)."""

from __future__ import annotations

import json

import pytest

from procguide.answer.calibration import Calibration, Policy, load_calibration
from procguide.evaluation.calibrate import (
    Observation,
    calibration_set,
    cross_validate,
    fit_policy,
    made_on,
)
from procguide.evaluation.questions import load_questions
from tests.conftest import KNOWLEDGE, ROOT, make_settings

QUESTIONS = ROOT / "evals" / "questions.jsonl"
ARTIFACT = ROOT / "evals" / "calibration.json"

pytestmark = pytest.mark.fast


@pytest.fixture(scope="module")
def repo_settings(tmp_path_factory):
    return make_settings(
        tmp_path_factory.mktemp("cal"),
        instruments_file=KNOWLEDGE / "instruments.yaml",
        vocabulary_file=KNOWLEDGE / "vocabulary.yaml",
        calibration_file=ARTIFACT,
    )


def test_the_calibration_was_made_on_the_current_dev_questions_and_knowledge_base(repo_settings):
    calibration = load_calibration(ARTIFACT)
    current = made_on(repo_settings, calibration_set(load_questions(QUESTIONS)))
    assert calibration.made_on.get("knowledge") == current["knowledge"], (
        "knowledge/ changed since evals/calibration.json was made: run `procguide calibrate`"
    )
    assert calibration.made_on.get("questions") == current["questions"], (
        "the dev questions changed since evals/calibration.json was made: run `procguide calibrate`"
    )


def test_the_calibration_reports_cross_validated_figures():
    figures = load_calibration(ARTIFACT).cross_validated
    assert figures["folds"] >= 5
    assert 0.0 <= figures["false_abstention_rate"] <= 1.0
    assert 0.0 <= figures["abstention_accuracy"] <= 1.0


def test_the_calibration_set_is_dev_only_and_at_least_half_scenario_or_colloquial():
    chosen = calibration_set(load_questions(QUESTIONS))
    assert chosen and all("dev" in q.tags and "heldout" not in q.tags for q in chosen)
    styled = [q for q in chosen if {"scenario", "colloquial"} & set(q.tags)]
    assert len(styled) >= len(chosen) / 2
    assert sum(q.abstain for q in chosen) >= 20


def test_a_stale_hash_is_noticed(repo_settings, tmp_path):
    stale = Calibration(made_on={"knowledge": "0" * 64, "questions": "0" * 64})
    path = tmp_path / "calibration.json"
    path.write_text(stale.to_json(), encoding="utf-8")
    current = made_on(repo_settings, calibration_set(load_questions(QUESTIONS)))
    assert load_calibration(path).made_on["knowledge"] != current["knowledge"]


def _observations(n: int = 60) -> list[Observation]:
    """Answerable questions with strong evidence, questions to decline with weak evidence."""
    out = []
    for i in range(n):
        answerable = i % 3 != 0
        strength = (0.55 + (i % 7) * 0.05) if answerable else (0.1 + (i % 5) * 0.04)
        features = {"similarity": strength, "coverage": strength, "unknown": 1 - strength,
                    "concept": float(answerable), "named": 0.0}
        out.append(Observation(f"q{i}", features, answerable))
    return out


def test_the_fitted_policy_separates_strong_from_weak_evidence():
    policy = fit_policy(_observations())
    strong = {"similarity": 0.8, "coverage": 0.8, "unknown": 0.2, "concept": 1.0}
    weak = {"similarity": 0.1, "coverage": 0.1, "unknown": 0.9, "concept": 0.0}
    assert policy.probability(strong) >= policy.answer_above
    assert policy.probability(weak) < policy.decline_below


def test_cross_validation_measures_each_fold_with_a_policy_fitted_without_it():
    result = cross_validate(_observations(), folds=5)
    assert len(result.folds) == 5
    assert result.summary()["false_abstention_rate"] <= 0.05
    assert result.summary()["abstention_accuracy"] >= 0.9


def test_a_calibration_file_round_trips(tmp_path):
    calibration = Calibration(policy=Policy(answer_above=0.7, decline_below=0.3))
    path = tmp_path / "c.json"
    path.write_text(calibration.to_json(), encoding="utf-8")
    again = load_calibration(path)
    assert again.policy.answer_above == 0.7 and again.compose == calibration.compose
    assert json.loads(path.read_text())["policy"]["decline_below"] == 0.3
