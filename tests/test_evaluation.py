"""The eval harness: metrics as defined in evals/README.md, each catching the bad answer it is for."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from procguide.cli import app
from procguide.config import get_settings
from procguide.evaluation.config import Bounds, EvalConfig, parse_bound_options
from procguide.evaluation.metrics import aggregate, score_run, substantive_sentences
from procguide.evaluation.questions import Question
from procguide.evaluation.records import AnswerRecord, CitationRecord, read_answers, write_answers
from procguide.evaluation.run import offline_checker
from procguide.evaluation.support import (
    OfflineSupportChecker,
    accuracy,
    calibrate_threshold,
    load_pairs,
)
from tests.conftest import FIXTURES, ROOT

ART77_3 = ("Under Article 77(3) of Directive 2014/24/EU, a contract reserved for a mutual may last "
           "at most three years.")
ART77_2 = ("Under Article 77(2) of Directive 2014/24/EU, the organisation must have a public service "
           "mission and reinvest its profits to achieve that mission.")
S33 = ("Under section 33 of the Procurement Act 2023, a contract reserved for a public service mutual "
       "may last at most five years.")
LOTS = "Under Article 46 of Directive 2014/24/EU, authorities may divide contracts into lots."


@pytest.fixture(scope="module")
def checker() -> OfflineSupportChecker:
    return offline_checker(get_settings(), EvalConfig.load(ROOT / "evals" / "config.yaml"))


def cite(n: int, text: str, *ids: str) -> CitationRecord:
    return CitationRecord(n=n, doc_id="d", title="t", locator="l", provisions=list(ids), text=text)


QUESTION = Question(id="q", question="How long can a reserved contract for a mutual last?",
                    sources=["eu-dir-2014-24:art-77"], facts=["three years"])
DECLINE = Question(id="d", question="What is a good lasagne recipe?", abstain=True)

GOOD = AnswerRecord(
    id="q", answer="A contract reserved for a mutual may last at most three years [1].",
    citations=[cite(1, ART77_3, "eu-dir-2014-24:art-77(3)")],
    retrieved=[["eu-dir-2014-24:art-77(3)"], ["uk-pa-2023:s-33"]],
)
DECLINED = AnswerRecord(id="d", answer="I can't answer that from the knowledge base.", abstained=True)


def metrics_of(checker, records, questions=(QUESTION, DECLINE)):
    return aggregate(score_run(list(questions), records, checker, k=5))


def test_a_good_answer_scores_full_marks(checker):
    m = metrics_of(checker, [GOOD, DECLINED])
    for name in ("source_recall_at_k", "source_mrr", "cited_source_recall", "citation_validity",
                 "citation_coverage", "citation_support", "fact_recall", "abstention_accuracy"):
        assert m[name] == 1.0, name
    assert m["false_abstention_rate"] == 0.0


def test_a_marker_with_no_source_is_caught_by_citation_validity(checker):
    bad = GOOD.model_copy(update={
        "answer": "A reserved contract may last at most three years [1]. It is a reserved contract [7].",
        "citations": [cite(1, ART77_3, "eu-dir-2014-24:art-77(3)"), cite(2, ART77_2), cite(3, LOTS)],
    })
    m = metrics_of(checker, [bad, DECLINED])
    assert m["citation_validity"] == 0.5


def test_a_sentence_with_no_citation_is_caught_by_citation_coverage(checker):
    bad = GOOD.model_copy(update={
        "answer": GOOD.answer + " After that the authority must run an open competition for the services."})
    assert metrics_of(checker, [bad, DECLINED])["citation_coverage"] == 0.5


def test_a_citation_to_a_passage_that_does_not_support_it_is_caught_by_citation_support(checker):
    bad = GOOD.model_copy(update={
        "answer": "A contract reserved for a mutual may last at most three years [1].",
        "citations": [cite(1, LOTS, "eu-dir-2014-24:art-77(3)")],
    })
    assert metrics_of(checker, [bad, DECLINED])["citation_support"] == 0.0


def test_a_changed_number_is_not_supported(checker):
    assert checker.supports("A reserved contract may last at most five years [1].", ART77_3) is False
    assert checker.supports("A reserved contract may last at most three years [1].", ART77_3) is True


def test_a_citation_to_the_wrong_provision_is_caught_by_cited_source_recall(checker):
    bad = GOOD.model_copy(update={
        "answer": "A contract reserved for a mutual may last at most five years [1].",
        "citations": [cite(1, S33, "uk-pa-2023:s-33")],
    })
    m = metrics_of(checker, [bad, DECLINED])
    assert m["cited_source_recall"] == 0.0
    assert m["source_recall_at_k"] == 1.0  # retrieval found it; the answer cited something else


def test_an_answer_that_should_have_declined_is_caught_by_abstention_accuracy(checker):
    answered = AnswerRecord(id="d", answer="Lasagne needs pasta [1].", citations=[cite(1, LOTS)])
    m = metrics_of(checker, [GOOD, answered])
    assert m["abstention_accuracy"] == 0.0


def test_declining_an_answerable_question_is_a_false_abstention(checker):
    declined = AnswerRecord(id="q", answer="I can't answer that.", abstained=True)
    m = metrics_of(checker, [declined, DECLINED])
    assert m["false_abstention_rate"] == 1.0 and m["fact_recall"] == 0.0


def test_recall_counts_each_expected_source_and_mrr_the_first_match(checker):
    q = Question(id="q", question="?", sources=["eu-dir-2014-24:art-77", "uk-pa-2023:s-33"])
    rec = AnswerRecord(id="q", answer="x", retrieved=[["uk-pcr-2015:reg-77"], ["uk-pa-2023:s-33(5)"]])
    m = metrics_of(checker, [rec], [q])
    assert m["source_recall_at_k"] == 0.5 and m["source_mrr"] == 0.5


def test_a_question_without_a_saved_answer_is_an_error(checker):
    with pytest.raises(ValueError, match="no saved answer"):
        score_run([QUESTION, DECLINE], [GOOD], checker, k=5)


def test_short_fragments_are_not_counted_as_claims():
    assert substantive_sentences("Yes [1]. A reserved contract lasts three years [1].") == [
        "A reserved contract lasts three years [1]."]


def test_bounds_name_each_metric_they_fail():
    bounds = Bounds(min={"fact_recall": 0.8, "nope": 1.0}, max={"false_abstention_rate": 0.05})
    failures = bounds.failures({"fact_recall": 0.7, "false_abstention_rate": 0.1})
    assert any(f.startswith("fact_recall = 0.700, below") for f in failures)
    assert any(f.startswith("false_abstention_rate = 0.100, above") for f in failures)
    assert any(f.startswith("nope: no such metric") for f in failures)


def test_bound_options_must_be_metric_equals_value():
    assert parse_bound_options(["citation_support=0.9"], "min") == {"citation_support": 0.9}
    with pytest.raises(ValueError, match="METRIC=VALUE"):
        parse_bound_options(["citation_support"], "min")


def test_answer_records_round_trip_through_a_file(tmp_path):
    write_answers(tmp_path / "a.jsonl", [GOOD, DECLINED])
    assert read_answers(tmp_path / "a.jsonl") == [GOOD, DECLINED]


def test_the_support_threshold_is_calibrated_on_the_labelled_pairs(checker):
    pairs = load_pairs(FIXTURES / "support_pairs.jsonl")
    assert len(pairs) >= 60 and 0.3 < sum(p.supported for p in pairs) / len(pairs) < 0.7
    _, best = calibrate_threshold(checker, pairs)
    current = accuracy(checker, pairs)
    assert current >= best - 0.03
    assert current >= 0.85


def _scored_saved_run(tmp_path, records):
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(q.model_dump_json() for q in (QUESTION, DECLINE)) + "\n")
    write_answers(tmp_path / "answers.jsonl", records)
    return CliRunner().invoke(app, [
        "eval", "--questions", str(questions), "--answers", str(tmp_path / "answers.jsonl"),
        "--out", str(tmp_path / "out"), "--config", str(ROOT / "evals" / "config.yaml"),
    ])


def test_eval_scores_saved_answers_and_writes_the_report(tmp_path):
    result = _scored_saved_run(tmp_path, [GOOD, DECLINED])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {"n", "k", "metrics", "per_question"} <= set(report)
    assert set(report["metrics"]) >= {"source_recall_at_k", "citation_support", "latency_p95_ms"}
    assert {"id", "answer", "citations", "retrieved", "scores"} <= set(report["per_question"][0])
    assert (tmp_path / "out" / "metrics.png").read_bytes()[:4] == b"\x89PNG"
    assert "## By tag" in (tmp_path / "out" / "report.md").read_text()


def test_eval_exits_1_and_names_the_bound_it_misses(tmp_path):
    answered = AnswerRecord(id="d", answer="Lasagne needs pasta and patience overnight [1].",
                            citations=[cite(1, LOTS)])
    result = _scored_saved_run(tmp_path, [GOOD, answered])
    assert result.exit_code == 1
    assert "abstention_accuracy" in result.output
    md = (tmp_path / "out" / "report.md").read_text()
    assert "### d" in md and "answered a question it should have declined" in md


def test_the_support_checker_embeds_each_text_once():
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return np.eye(len(texts), 8, dtype=np.float32)

    checker = OfflineSupportChecker(embed, threshold=0.5)
    checker.verdict("A claim [1].", "One sentence. Another sentence.")
    checker.verdict("A claim [1].", "One sentence. Another sentence.")
    assert sum(len(c) for c in calls) == 3
