"""The eval harness: metrics as defined in evals/README.md, each catching the bad answer it is for."""

import json
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from procguide.answer.support import OfflineSupportChecker, offline_checker
from procguide.cli import app
from procguide.config import get_settings
from procguide.evaluation.config import Bounds, parse_bound_options
from procguide.evaluation.metrics import (
    METRICS,
    RATE_METRICS,
    aggregate,
    bootstrap,
    score_run,
    substantive_sentences,
)
from procguide.evaluation.pairs import (
    LabelledPair,
    accuracy,
    calibrate_threshold,
    load_pairs,
    measure,
)
from procguide.evaluation.questions import Question, QuestionFileError, select_split
from procguide.evaluation.records import AnswerRecord, CitationRecord, read_answers, write_answers
from tests.conftest import ROOT

ART77_3 = ("Under Article 77(3) of Directive 2014/24/EU, a contract reserved for a mutual may last "
           "at most three years.")
ART77_2 = ("Under Article 77(2) of Directive 2014/24/EU, the organisation must have a public service "
           "mission and reinvest its profits to achieve that mission.")
S33 = ("Under section 33 of the Procurement Act 2023, a contract reserved for a public service mutual "
       "may last at most five years.")
LOTS = "Under Article 46 of Directive 2014/24/EU, authorities may divide contracts into lots."


@pytest.fixture(scope="module")
def checker() -> OfflineSupportChecker:
    return offline_checker(get_settings())


def cite(n: int, text: str, *ids: str) -> CitationRecord:
    return CitationRecord(n=n, doc_id="d", title="t", locator="l", provisions=list(ids), text=text)


QUESTION = Question(id="q", question="How long can a reserved contract for a mutual last?",
                    sources=["eu-dir-2014-24:art-77"], facts=["three years"],
                    tags=["heldout", "terse", "reserved-contracts"])
DECLINE = Question(id="d", question="What is a good lasagne recipe?", abstain=True,
                   tags=["heldout", "colloquial", "out-of-scope"])
TUNED = Question(id="t", question="And in the UK, how long?", sources=["uk-pa-2023:s-33"],
                 facts=["five years"], tags=["dev", "follow-up", "reserved-contracts"])

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


@pytest.mark.fast
def test_limits_and_kinds_are_not_read_as_negations():
    from procguide.answer.support import negated

    assert not negated("The contract may last no more than three years.")
    assert not negated("A mutual must be a not-for-profit body.")
    assert not negated("It counts whether or not it is registered.")
    assert negated("The contract may not last more than three years.")
    assert negated("An authority need not reserve the contract; it cannot be forced to.")


@pytest.mark.fast
def test_polarity_is_compared_clause_by_clause():
    from procguide.answer.support import polarity_agrees

    passage = ("A mutual must pursue a public service mission, must reinvest its profits, and must "
               "not have won a comparable contract in the past three years.")
    # A "must not" elsewhere in the passage's sentence does not count against a "must".
    assert polarity_agrees("A mutual must pursue a public service mission and reinvest its profits [1].", passage)
    assert polarity_agrees("A reserved contract may last no more than three years.", "The maximum term is three years.")
    # A flipped clause still fails, wherever it sits.
    assert not polarity_agrees("A mutual must pursue a public service mission and need not reinvest its profits.", passage)
    assert not polarity_agrees(
        "The reservation is limited to light-touch services and cannot apply to goods or works.",
        "The reservation is not limited to light-touch services and can apply to goods, services or works.",
    )


def test_a_limit_and_a_two_clause_duty_are_supported(checker):
    assert checker.supports("A reserved contract may last no more than three years [1].", ART77_3) is True
    assert checker.supports("A reserved contract may not last three years [1].", ART77_3) is False


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


PAIR_KINDS = {"verbatim", "paraphrase", "shortened", "wrong-number", "wrong-provision", "wrong-regime",
              "negation", "outside-knowledge", "unrelated", "other-passage", "joint"}


@pytest.mark.fast
def test_the_labelled_pairs_cover_every_kind_in_both_splits():
    pairs = load_pairs(ROOT / "evals" / "support_pairs.jsonl")
    assert len(pairs) >= 200 and 0.35 < sum(p.supported for p in pairs) / len(pairs) < 0.65
    assert {p.split for p in pairs} == {"dev", "heldout"}
    for split in ("dev", "heldout"):
        assert {p.kind for p in pairs if p.split == split} == PAIR_KINDS, split
    joint = [p for p in pairs if p.kind == "joint"]
    assert all(len(p.passages) == 2 and p.passage == "\n\n".join(p.passages) for p in joint)
    assert {p.supported for p in joint} == {True, False}
    assert 0.5 < sum(p.split == "dev" for p in pairs) / len(pairs) < 0.7


@pytest.mark.fast
def test_load_pairs_reads_one_passage_or_several_and_the_split(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        '{"sentence": "s1", "passage": "p1", "supported": true, "kind": "verbatim"}\n'
        '{"sentence": "s2", "passages": ["p2", "p3"], "supported": false, "kind": "joint", "split": "heldout"}\n'
    )
    old, joint = load_pairs(path)
    assert (old.passage, old.passages, old.split) == ("p1", (), "")
    assert (joint.passage, joint.passages, joint.split) == ("p2\n\np3", ("p2", "p3"), "heldout")
    assert load_pairs(path, "heldout") == [joint]
    with pytest.raises(ValueError, match="split 'dev'"):
        load_pairs(path, "dev")


@pytest.mark.fast
def test_measure_gives_accuracy_precision_and_recall_overall_and_per_kind():
    pairs = [LabelledPair("a", "p", True, "verbatim"), LabelledPair("b", "p", True, "paraphrase"),
             LabelledPair("c", "p", False, "negation"), LabelledPair("d", "p", False, "negation")]

    class SaysYesToAandC:
        def supports(self, sentence, passage, provisions=()):
            return sentence in ("a", "c")

    scores = measure(SaysYesToAandC(), pairs)
    assert (scores.n, scores.accuracy, scores.precision, scores.recall) == (4, 0.5, 0.5, 0.5)
    assert scores.by_kind["negation"].accuracy == 0.5 and scores.by_kind["negation"].recall is None
    assert scores.by_kind["paraphrase"].recall == 0.0
    assert scores.as_dict()["by_kind"]["verbatim"]["precision"] == 1.0


def test_the_support_threshold_is_calibrated_on_the_dev_pairs(checker):
    dev = load_pairs(ROOT / "evals" / "support_pairs.jsonl", "dev")
    _, best = calibrate_threshold(checker, dev)
    current = accuracy(checker, dev)
    assert current >= best - 0.03
    assert current >= 0.85


TUNED_ANSWER = AnswerRecord(
    id="t", answer="A contract reserved for a public service mutual may last at most five years [1].",
    citations=[cite(1, S33, "uk-pa-2023:s-33")], retrieved=[["uk-pa-2023:s-33"]],
)


def _scored_saved_run(tmp_path, records, *options, questions=(QUESTION, DECLINE, TUNED)):
    """`procguide eval --answers` with the shipped config (split: heldout)."""
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(q.model_dump_json() for q in questions) + "\n")
    write_answers(tmp_path / "answers.jsonl", [*records, TUNED_ANSWER])
    return CliRunner().invoke(app, [
        "eval", "--questions", str(path), "--answers", str(tmp_path / "answers.jsonl"),
        "--out", str(tmp_path / "out"), "--config", str(ROOT / "evals" / "config.yaml"), *options,
    ])


def test_eval_scores_saved_answers_and_writes_the_report(tmp_path):
    result = _scored_saved_run(tmp_path, [GOOD, DECLINED])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {"n", "k", "metrics", "per_question"} <= set(report)
    assert set(report["metrics"]) >= {"source_recall_at_k", "citation_support", "latency_p95_ms"}
    assert {"id", "answer", "citations", "retrieved", "scores"} <= set(report["per_question"][0])
    assert (tmp_path / "out" / "metrics.png").read_bytes()[:4] == b"\x89PNG"
    assert report["split"] == "heldout" and report["n"] == 2  # the config's split
    assert set(report["bootstrap"]) == set(RATE_METRICS)
    assert "padding_rate" in report["metrics"]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "2 questions (the heldout split)" in md
    # The style table first (in STYLE_TAGS order), then topics; split tags are in neither.
    style, topic = md.index("### How the question is asked"), md.index("### Topic")
    assert style < md.index("| colloquial |") < md.index("| terse |") < topic
    assert topic < md.index("| out-of-scope |") and "| heldout |" not in md
    assert "| fact_recall | 1.000 | 1.000–1.000 |" in md  # value and bootstrap interval


def test_eval_split_option_overrides_the_config(tmp_path):
    result = _scored_saved_run(tmp_path, [GOOD, DECLINED], "--split", "dev")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["split"] == "dev" and [q["id"] for q in report["per_question"]] == ["t"]
    result = _scored_saved_run(tmp_path, [GOOD, DECLINED], "--split", "all")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["split"] is None and report["n"] == 3


def test_eval_exits_2_on_a_split_no_question_carries(tmp_path):
    result = _scored_saved_run(tmp_path, [GOOD, DECLINED], "--split", "heldut")
    assert result.exit_code == 2
    output = " ".join(result.output.split())  # the console wraps long lines
    assert "no question is tagged with the split 'heldut'" in output and "dev, heldout" in output
    assert not (tmp_path / "out").exists()


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


class Supports:
    """A support checker that accepts every pair, for tests that are not about support."""

    name = "stub"

    def supports(self, sentence, passage, provisions=()):
        return True


def score_one(question, answer, *citations):
    rec = AnswerRecord(id=question.id, answer=answer, citations=list(citations),
                       retrieved=[c.provisions for c in citations])
    return score_run([question], [rec], Supports(), k=5)[0]


def test_select_split_keeps_only_the_questions_tagged_with_it():
    questions = [QUESTION, DECLINE, TUNED]
    assert select_split(questions, "heldout") == [QUESTION, DECLINE]
    assert select_split(questions, "dev") == [TUNED]
    assert select_split(questions, None) == questions
    with pytest.raises(QuestionFileError, match="no question is tagged with the split 'heldut'"):
        select_split(questions, "heldut")
    leaked = TUNED.model_copy(update={"tags": ["dev", "heldout"]})
    with pytest.raises(QuestionFileError, match="tagged both dev and heldout"):
        select_split([QUESTION, leaked], "heldout")


def test_a_fact_counts_only_in_a_sentence_citing_an_expected_source():
    art77 = cite(1, ART77_3, "eu-dir-2014-24:art-77(3)")
    s33 = cite(2, S33, "uk-pa-2023:s-33")
    uncited = score_one(QUESTION, "The limit is three years in all cases. "
                                  "A contract may be reserved for a mutual [1].", art77)
    assert uncited.scores()["fact_recall"] == 0.0
    assert uncited.facts_outside_cited == ["three years"]
    assert "fact 'three years' is not in a sentence citing an expected source" in uncited.problems
    assert not any(p.startswith("missing facts") for p in uncited.problems)
    other_source = score_one(QUESTION, "A reserved contract may last three years [2].", s33)
    assert other_source.scores()["fact_recall"] == 0.0
    cited = score_one(QUESTION, "A contract reserved for a mutual may last three years [1].", art77)
    assert cited.scores()["fact_recall"] == 1.0 and cited.problems == []
    absent = score_one(QUESTION, "A contract may be reserved for a mutual [1].", art77)
    assert "missing facts: three years" in absent.problems and not absent.facts_outside_cited


def test_without_expected_sources_a_fact_anywhere_in_the_answer_counts():
    q = QUESTION.model_copy(update={"sources": []})
    assert score_one(q, "The limit is three years in all cases.").scores()["fact_recall"] == 1.0


def test_a_heading_line_is_neither_a_sentence_nor_uncited():
    answer = ("For procurements started before 24 February 2025:\n"
              "A contract reserved for a mutual may last at most three years [1].")
    assert substantive_sentences(answer) == [
        "A contract reserved for a mutual may last at most three years [1]."]
    s = score_one(QUESTION, answer, cite(1, ART77_3, "eu-dir-2014-24:art-77(3)"))
    assert s.scores()["citation_coverage"] == 1.0 and s.scores()["padding_rate"] == 0.0
    assert s.problems == []


def test_padding_counts_sentences_with_no_expected_fact_and_no_expected_source():
    art77 = cite(1, ART77_3, "eu-dir-2014-24:art-77(3)")
    s33 = cite(2, S33, "uk-pa-2023:s-33")
    answer = ("A contract reserved for a mutual may last at most three years [1]. "  # fact, source
              "The organisation must have a public service mission [1]. "  # expected source
              "Reserved contracts are popular with staff in many councils [2]. "  # padding
              "Mutuals are run by their members.")  # padding, uncited
    s = score_one(QUESTION, answer, art77, s33)
    assert s.scores()["padding_rate"] == 0.5
    assert s.padded_sentences == ["Reserved contracts are popular with staff in many councils [2].",
                                  "Mutuals are run by their members."]
    # A fact without the expected source still keeps a sentence from being padding.
    no_source = score_one(QUESTION, "Such a contract lasts three years in all.")
    assert no_source.scores()["padding_rate"] == 0.0
    # Nothing to judge by (no facts, no sources), or declined: no contribution.
    bare = Question(id="q", question="?", tags=[])
    assert score_one(bare, "Mutuals are run by their members.").scores()["padding_rate"] is None
    declined = AnswerRecord(id="q", answer="I can't answer that from the knowledge base.", abstained=True)
    assert score_run([QUESTION], [declined], Supports(), k=5)[0].scores()["padding_rate"] is None
    # Pooled over the run: 2 padded of 4, plus 0 of 1.
    short = AnswerRecord(id="q2", answer="A mutual may hold it for three years.")
    run = score_run([QUESTION, QUESTION.model_copy(update={"id": "q2", "sources": []})],
                    [AnswerRecord(id="q", answer=answer, citations=[art77, s33]), short], Supports(), k=5)
    assert aggregate(run)["padding_rate"] == 0.4


def _varied_run(n=40):
    """A run whose questions succeed and fail in different ways, so every metric varies."""
    art77 = cite(1, ART77_3, "eu-dir-2014-24:art-77(3)")
    questions, records = [], []
    for i in range(n):
        q = QUESTION.model_copy(update={"id": f"q{i}", "abstain": i % 5 == 0,
                                        "facts": [] if i % 5 == 0 else ["three years", "mutual"]})
        if i % 5 == 0:
            rec = AnswerRecord(id=q.id, answer="I can't answer that.", abstained=i % 10 == 0)
        elif i % 3 == 0:
            rec = AnswerRecord(id=q.id, answer="I can't answer that.", abstained=True)
        else:
            extra = " Councils like them a lot as a model." if i % 2 else ""
            rec = AnswerRecord(
                id=q.id, answer=f"A reserved contract may last three years [1].{extra}",
                citations=[art77], retrieved=[["uk-pa-2023:s-33"], ["eu-dir-2014-24:art-77(3)"]][i % 4 == 0:],
            )
        questions.append(q)
        records.append(rec)
    return score_run(questions, records, Supports(), k=5)


def test_bootstrap_intervals_contain_the_point_value_and_are_deterministic():
    scores = _varied_run()
    point = aggregate(scores)
    intervals = bootstrap(scores)
    assert set(intervals) == set(RATE_METRICS)
    for name, (low, high) in intervals.items():
        assert low <= point[name] <= high, name
    for name in ("fact_recall", "false_abstention_rate", "abstention_accuracy", "padding_rate",
                 "source_mrr"):
        assert intervals[name][0] < intervals[name][1], name  # the metric varies, so does the interval
    assert bootstrap(scores) == intervals
    assert bootstrap(scores, seed=1) != intervals


def test_bootstrap_pools_each_resample_like_the_run():
    # One question with many facts, found; many with one fact, missed: the pooled share (10/19)
    # is far from the mean of per-question shares (0.1), and every resample is pooled too.
    many = Question(id="many", question="?", facts=[f"fact{i}" for i in range(10)])
    few = [Question(id=f"f{i}", question="?", facts=["absent"]) for i in range(9)]
    records = [AnswerRecord(id="many", answer=" ".join(f"fact{i}" for i in range(10)))]
    records += [AnswerRecord(id=q.id, answer="nothing") for q in few]
    scores = score_run([many, *few], records, Supports(), k=5)
    assert aggregate(scores)["fact_recall"] == round(10 / 19, 4)
    # A resample holding `many` j times pools to 10j / (10j + 10 - j): 0 for j = 0 (p = 0.35),
    # 0.81 for j = 3; averaging per-question shares would give j / 10 instead, 0.3.
    low, high = bootstrap(scores)["fact_recall"]
    assert low == 0.0 and high > 0.75


def test_bootstrap_of_200_questions_is_fast():
    scores = _varied_run(200)
    start = time.perf_counter()
    bootstrap(scores)
    assert time.perf_counter() - start < 2.0


class Recording:
    """A support checker that records what it is asked and accepts only the joined pair."""

    name = "recording"

    def __init__(self):
        self.asked = []

    def supports(self, sentence, passage, provisions=()):
        self.asked.append((sentence, passage, list(provisions)))
        return "\n\n" in passage


def test_a_sentence_citing_two_passages_is_judged_against_them_jointly(checker):
    both = "A reserved contract may last at most three years and the organisation must reinvest its profits [1][2]."
    rec = GOOD.model_copy(update={
        "answer": both,
        "citations": [cite(1, ART77_3, "eu-dir-2014-24:art-77(3)"), cite(2, ART77_2, "eu-dir-2014-24:art-77(2)")],
    })
    recording = Recording()
    qs = score_run([QUESTION], [rec], recording, k=5)[0]
    assert recording.asked == [(both, ART77_3 + "\n\n" + ART77_2,
                                ["eu-dir-2014-24:art-77(3)", "eu-dir-2014-24:art-77(2)"])]
    assert (qs.counts["pairs"], qs.counts["pairs_supported"]) == (1, 1)  # one pair per sentence
    # The real checker: neither passage alone holds the sentence, the two together do.
    assert not checker.supports(both, ART77_3) and not checker.supports(both, ART77_2)
    assert metrics_of(checker, [rec, DECLINED])["citation_support"] == 1.0
    one_wrong = rec.model_copy(update={"citations": [cite(1, ART77_3), cite(2, LOTS)]})
    scored = score_run([QUESTION], [one_wrong], checker, k=5)[0]
    assert scored.counts["pairs"] == 1 and not scored.counts.get("pairs_supported")
    assert any(p.startswith("[1][2] do not support") for p in scored.problems)


def test_dropped_markers_count_as_invalid_markers():
    rec = GOOD.model_copy(update={"dropped_markers": [7, 9], "answerer": "llm"})
    qs = score_run([QUESTION], [rec], Supports(), k=5)[0]
    assert (qs.counts["markers_valid"], qs.counts["markers"]) == (1, 3)
    assert aggregate([qs])["citation_validity"] == round(1 / 3, 4)
    assert any("dropped" in p for p in qs.problems)


def test_withheld_and_fallback_rates_count_llm_answers_only():
    from procguide.evaluation.records import WithheldRecord

    withheld = [WithheldRecord(sentence="It lasts five years [1].", reason="unsupported", markers=[1]),
                WithheldRecord(sentence="Also this.", reason="uncited"),
                WithheldRecord(sentence="One too many [1].", reason="over-limit", markers=[1])]
    llm = GOOD.model_copy(update={"answerer": "llm", "withheld": withheld})  # one sentence shown
    fallback = TUNED_ANSWER.model_copy(update={"answerer": "llm-fallback"})
    scores = score_run([QUESTION, TUNED], [llm, fallback], Supports(), k=5)
    m = aggregate(scores)
    assert m["withheld_rate"] == round(2 / 3, 4)  # two withheld for support, one shown; over-limit is not a failure
    assert m["fallback_rate"] == 0.5
    plain = aggregate(score_run([QUESTION], [GOOD], Supports(), k=5))
    assert "withheld_rate" not in plain and "fallback_rate" not in plain
    assert set(plain) == set(METRICS)  # the existing keys, exactly


def test_the_report_shows_the_answer_check_metrics_only_when_present(tmp_path):
    from procguide.evaluation.report import report_json, report_markdown

    llm = GOOD.model_copy(update={"answerer": "llm"})
    for records, shown in (([GOOD], False), ([llm], True)):
        scores = score_run([QUESTION], records, Supports(), k=5)
        report = report_json(5, aggregate(scores), scores, records, {}, [])
        report["support_checker_reason"] = "offline checker: no LLM configured"
        md = report_markdown(report, records)
        assert ("| withheld_rate (lower is better) | 0.000 |" in md) is shown
        assert ("fallback_rate" in md) is shown
        assert "Offline checker: no LLM configured." in md
