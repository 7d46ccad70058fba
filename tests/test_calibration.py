"""The calibration artifact (evals/calibration.json): made on the current dev questions and
knowledge base, fitted by cross-validation, and never on the held-out split. The dev questions are
not re-answered here (`procguide calibrate` does that, in minutes): the artifact's hashes say
whether it is stale, its recorded figures and policy are checked as saved, and three questions on
the fast tier's synthetic notes show that answers apply the saved policy."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from procguide.answer.calibration import FEATURES, Calibration, Policy, load_calibration
from procguide.assistant import Assistant
from procguide.config import Settings
from procguide.evaluation.calibrate import (
    CALIBRATION_SPLIT,
    LEFT_OUT_TAGS,
    Observation,
    calibration_set,
    cross_validate,
    fit_policy,
    made_on,
)
from procguide.evaluation.questions import Question, load_questions
from procguide.index import Index
from procguide.ingest import ingest_paths
from tests.conftest import KNOWLEDGE, ROOT, fast_kb_settings, make_settings

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


def stale(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """What the calibration was made on that is no longer so: the split, the left-out tags, the
    dev questions' hash, the knowledge base's hash."""
    return [part for part in ("split", "left_out_tags", "questions", "knowledge")
            if recorded.get(part) != current[part]]


STALE = {
    "knowledge": "knowledge/ changed since evals/calibration.json was made: run `procguide calibrate`",
    "questions": "the dev questions changed since evals/calibration.json was made: run `procguide calibrate`",
    "split": "the calibration split changed: run `procguide calibrate`",
    "left_out_tags": "the calibration's left-out tags changed: run `procguide calibrate`",
}


def test_the_calibration_was_made_on_the_current_dev_questions_and_knowledge_base(repo_settings):
    calibration = load_calibration(ARTIFACT)
    current = made_on(repo_settings, calibration_set(load_questions(QUESTIONS)))
    assert calibration.made_on["split"] == CALIBRATION_SPLIT == "dev"
    assert calibration.made_on["left_out_tags"] == ",".join(LEFT_OUT_TAGS)
    assert not (parts := stale(calibration.made_on, current)), "; ".join(STALE[p] for p in parts)


def test_the_calibration_file_checked_here_is_the_one_procguide_answers_with():
    default = Settings.model_fields["calibration_file"].get_default(call_default_factory=True)
    assert default.resolve() == ARTIFACT.resolve()


def test_the_calibration_reports_cross_validated_figures():
    figures = load_calibration(ARTIFACT).cross_validated
    assert figures["folds"] >= 5
    for name in ("false_abstention_rate", "abstention_accuracy", "caveat_rate"):
        assert 0.0 <= figures[name] <= 1.0, name
    # Loose: a policy that declines everything, or nothing, fails; the eval's bounds are the gate.
    assert figures["false_abstention_rate"] <= 0.05
    assert figures["abstention_accuracy"] >= 0.8


def test_the_saved_policy_weighs_every_feature_and_its_thresholds_are_ordered():
    policy = load_calibration(ARTIFACT).policy
    assert set(policy.coefficients) == {"intercept", *FEATURES}
    assert 0.0 < policy.decline_below <= policy.answer_above < 1.0
    assert policy != Policy()  # fitted, not the built-in default


def test_the_calibration_set_is_dev_only_and_at_least_half_scenario_or_colloquial():
    chosen = calibration_set(load_questions(QUESTIONS))
    assert chosen and all("dev" in q.tags and "heldout" not in q.tags for q in chosen)
    styled = [q for q in chosen if {"scenario", "colloquial"} & set(q.tags)]
    assert len(styled) >= len(chosen) / 2
    assert sum(q.abstain for q in chosen) >= 20


def test_a_stale_hash_is_noticed(repo_settings):
    current = made_on(repo_settings, calibration_set(load_questions(QUESTIONS)))
    assert stale(dict(current), current) == []
    recorded = Calibration(made_on={**current, "knowledge": "0" * 64, "questions": "0" * 64}).made_on
    assert stale(recorded, current) == ["questions", "knowledge"]
    assert stale({}, current) == ["split", "left_out_tags", "questions", "knowledge"]


def _edited(question: Question, text: str) -> Question:
    return question.model_copy(update={"question": text})


def test_an_edited_note_vocabulary_or_dev_question_changes_the_hashes_and_a_held_out_one_does_not(tmp_path):
    """What `stale` compares moves with each thing the calibration was made on."""
    notes = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, notes)
    settings = make_settings(tmp_path / "store", knowledge_dir=notes, instruments_file=notes / "instruments.yaml",
                             vocabulary_file=notes / "vocabulary.yaml")
    questions = load_questions(QUESTIONS)
    before = made_on(settings, calibration_set(questions))

    note = next(p for p in sorted(notes.glob("*.md")) if p.name != "README.md")
    note.write_text(note.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    assert stale(before, made_on(settings, calibration_set(questions))) == ["knowledge"]
    shutil.copy(KNOWLEDGE / note.name, note)
    assert stale(before, made_on(settings, calibration_set(questions))) == []

    vocabulary = notes / "vocabulary.yaml"
    vocabulary.write_text(vocabulary.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert stale(before, made_on(settings, calibration_set(questions))) == ["knowledge"]
    shutil.copy(KNOWLEDGE / "vocabulary.yaml", vocabulary)

    dev = next(i for i, q in enumerate(questions) if q in calibration_set(questions))
    held_out = next(i for i, q in enumerate(questions) if "heldout" in q.tags)
    edited_dev = [*questions[:dev], _edited(questions[dev], "Edited?"), *questions[dev + 1:]]
    assert stale(before, made_on(settings, calibration_set(edited_dev))) == ["questions"]
    edited_held_out = [*questions[:held_out], _edited(questions[held_out], "Edited?"), *questions[held_out + 1:]]
    assert stale(before, made_on(settings, calibration_set(edited_held_out))) == []


# Three questions on the fast tier's synthetic notes: one answered, one caveated or answered, one
# declined on the evidence. Not a measurement of the policy, a check that answers apply it.
SAMPLE = (
    "How long can a contract reserved to a public service mutual last under the Procurement Act 2023?",
    "Can a contract be divided into lots under the Act?",
    "What is the best recipe for bara brith?",
)


def test_answers_apply_the_saved_policy(tmp_path):
    settings = fast_kb_settings(tmp_path).model_copy(update={"calibration_file": ARTIFACT})
    index = Index(settings)
    assert not ingest_paths([settings.knowledge_dir], index).failed
    assistant = Assistant(settings, index, today=date(2026, 12, 1))
    policy = load_calibration(ARTIFACT).policy
    decided = []
    for question in SAMPLE:
        answer = assistant.ask(question)
        assert answer.confidence == pytest.approx(policy.probability(answer.features)), question
        # The built-in default policy would give another figure: this check tells them apart.
        assert Policy().probability(answer.features) != pytest.approx(answer.confidence), question
        if answer.reason == "evidence" and answer.features.get("named", 0.0) < 1.0:
            p = answer.confidence
            expected = ("decline" if p < policy.decline_below
                        else "caveat" if p < policy.answer_above else "answer")
            assert answer.decision == expected, (question, p)
            decided.append(answer.decision)
    assert "answer" in decided and "decline" in decided


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
