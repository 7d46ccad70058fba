"""The fast tier: each stage of the answer pipeline alone, and the Assistant that composes them,
on a few synthetic notes (tests/fixtures/kb) with a deterministic stand-in for the embedding
model. Runs in seconds: `make test-fast`.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from procguide.answer.abstain import suggestions
from procguide.answer.calibration import Calibration, Policy
from procguide.answer.decide import ANSWER, CAVEAT, DECLINE, Decider
from procguide.answer.evidence import Evidence
from procguide.answer.extractive import CAVEAT_HEADING, ExtractiveComposer
from procguide.answer.sentences import answer_sentences, is_heading
from procguide.assistant import Assistant
from procguide.config import Settings
from procguide.context import ContextSettings, Ranking, governing_regime, infer_context
from procguide.index import Index
from procguide.ingest import ingest_paths
from procguide.retrieve import hybrid_search, provision_passages
from procguide.rewrite import rewrite
from procguide.vocabulary import load_vocabulary
from procguide.welsh import WELSH_NOTICE
from tests.conftest import fast_kb_settings

pytestmark = pytest.mark.fast

KB = Path(__file__).resolve().parent / "fixtures" / "kb"
TODAY = date(2026, 12, 1)
VOCABULARY = load_vocabulary(KB / "vocabulary.yaml")


@pytest.fixture(scope="module")
def fast_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # The synthetic notes stand for the shipped ones: a copy with its own allow-list, so ingest
    # labels them official as it does knowledge/.
    return fast_kb_settings(tmp_path_factory.mktemp("fast"))


@pytest.fixture(scope="module")
def fast_index(fast_settings: Settings) -> Index:
    index = Index(fast_settings)
    report = ingest_paths([fast_settings.knowledge_dir], index)
    assert not report.failed and len(report.added) == 5
    return index


POLICY = Policy(
    coefficients={"intercept": -3.0, "similarity": 4.0, "coverage": 2.0, "unknown": -6.0, "concept": 2.0, "named": 2.0},
    answer_above=0.5,
    decline_below=0.2,
)


@pytest.fixture(scope="module")
def fast_assistant(fast_settings: Settings, fast_index: Index) -> Assistant:
    return Assistant(fast_settings, fast_index, calibration=Calibration(policy=POLICY), today=TODAY)


def context_of(question: str, history=None, **settings):
    return infer_context(question, history, VOCABULARY, ContextSettings(**settings), TODAY)


# --- context --------------------------------------------------------------------------------

def test_a_welsh_council_buying_home_care_today_is_under_the_procurement_act():
    ctx = context_of("We're a council in Powys re-tendering home care this year. Can we reserve it?")
    assert (ctx.nation, ctx.sector) == ("Wales", "social")
    assert governing_regime(ctx).governing == ("uk-pa-2023",)


def test_the_nation_comes_from_welsh_places_and_bodies_not_from_english_lookalikes():
    # "went" is the soft mutation of Gwent; an English question using it is not about Wales.
    shipped = load_vocabulary(Path(__file__).resolve().parents[1] / "knowledge" / "vocabulary.yaml")

    def nation(question: str) -> str | None:
        return infer_context(question, None, shipped, ContextSettings(), TODAY).nation

    assert nation("Our tender went out in November 2024. How long can a reserved contract last?") is None
    assert nation("We're commissioning in Blaenau Gwent. Can we reserve it?") == "Wales"
    assert nation("Rydyn ni'n gyngor yng Ngwent. Allwn ni gadw contract?") == "Wales"
    assert nation("I'm the commissioning manager for a Welsh county council. Can we reserve it?") == "Wales"
    assert nation("We're a Welsh city and county council buying day care.") == "Wales"


def test_a_welsh_question_gives_its_start_date_with_comisiynu():
    ctx = context_of("Rydyn ni'n ail-gomisiynu podiatreg o fis Ebrill 2026: pa reolau sy'n berthnasol?")
    assert ctx.started == date(2026, 4, 1) and ctx.origin["started"] == "question"


def test_a_tender_advertised_before_24_february_2025_is_under_pcr_2015():
    ctx = context_of("Our tender was advertised in November 2024. How long can a reserved contract last?")
    assert ctx.started == date(2024, 11, 1) and ctx.origin["started"] == "question"
    regime = governing_regime(ctx)
    assert regime.governing == ("uk-pcr-2015",)
    assert regime.relation("uk-pa-2023") == "later"


def test_a_season_a_part_of_a_year_or_a_quarter_starts_at_its_first_month():
    cases = {
        "Our home care tender went out in winter 2024. Which rules apply?": date(2024, 12, 1),
        "We go out to tender in spring 2027 for day opportunities. Can we reserve it?": date(2027, 3, 1),
        "We tendered in late summer 2024: can we reserve it for a mutual?": date(2024, 8, 1),
        "Went out to tender late 2024 for supported living. What's the max term?": date(2024, 10, 1),
        "Reablement tender went live Q3 2024 - which regs?": date(2024, 7, 1),
        "We started commissioning podiatry in mid-2025. Which rules?": date(2025, 7, 1),
        "Rydym yn mynd allan i dendr yng ngwanwyn 2027. Am ba hyd?": date(2027, 3, 1),
    }
    for question, started in cases.items():
        ctx = context_of(question)
        assert (ctx.started, ctx.origin["started"]) == (started, "question"), question
    assert governing_regime(context_of("Our tender went out in winter 2024.")).governing == ("uk-pcr-2015",)
    # A season that is not when the procurement started is not taken for it.
    ctx = context_of("Our home care contract ends in spring 2025 and we will re-tender. Can we reserve it?")
    assert ctx.origin["started"] == "default"


def test_a_contract_end_date_is_not_taken_for_the_start_of_the_procurement():
    ctx = context_of("Our home care contract ends in June 2024 and we will re-tender. Can we reserve it?")
    assert ctx.started == TODAY and not ctx.started_given


def test_a_short_follow_up_that_gives_only_a_date_moves_the_start_to_that_date():
    history = [{"role": "user", "content": "Our reserved tender goes out in March 2026. How long can it run?"}]
    for follow_up in ("what if we'd gone out in jan 2025 instead?", "and if it was nov 2024?",
                      "what if we'd been doing this in nov 2024?"):
        ctx = context_of(follow_up, history)
        assert ctx.origin["started"] == "question", follow_up
        assert governing_regime(ctx).governing == ("uk-pcr-2015",), follow_up
    # Without a follow-up's brevity a date needs a word that makes it the start ...
    ctx = context_of("Is regulation 77 of PCR 2015 something we could still have used in nov 2024 "
                     "for a contract like ours, or had the new Act already replaced it by then?")
    assert ctx.origin["started"] == "default"
    # ... and a follow-up's date said to be something else is not taken for the start.
    for other in ("and if the contract ends in nov 2024?", "what if the old one ended in nov 2024?"):
        ctx = context_of(other, history)
        assert ctx.started == date(2026, 3, 1) and ctx.origin["started"] == "conversation", other


def test_an_icb_buying_podiatry_is_under_the_england_psr_first():
    ctx = context_of("As an ICB re-commissioning community podiatry, which rules apply?")
    assert (ctx.nation, ctx.body, ctx.sector) == ("England", "icb", "health")
    assert governing_regime(ctx).governing == ("uk-psr-2023", "uk-pa-2023")


def test_scotland_is_not_held():
    regime = governing_regime(context_of("We are a Scottish council. Can we reserve a contract for a mutual?"))
    assert regime.not_held == "Scotland" and regime.governing == ()


def test_an_asker_in_an_eu_member_state_is_under_the_directive():
    ctx = context_of("I commission home care in an EU member state. How long can a reserved contract last?")
    regime = governing_regime(ctx)
    assert regime.governing == ("eu-dir-2014-24",)
    assert regime.relation("uk-pa-2023") == "other-nation"


def test_the_question_overrides_the_settings_and_the_settings_override_the_conversation():
    history = [{"role": "user", "content": "We are a council in England."}]
    assert context_of("Can we reserve it?", history).nation == "England"
    assert context_of("Can we reserve it?", history, nation="Wales").nation == "Wales"
    assert context_of("In Powys, can we reserve it?", history, nation="England").nation == "Wales"
    started = context_of("Can we reserve it?", started=date(2025, 1, 10))
    assert governing_regime(started).governing == ("uk-pcr-2015",)


# --- rewrite --------------------------------------------------------------------------------

def test_a_follow_up_carries_the_topic_and_the_instrument_named_before():
    history = [{"role": "user", "content": "Can we ring-fence a contract for a staff mutual under the Procurement Act?"}]
    query = rewrite("and how long can it last?", history, VOCABULARY)
    assert query.follow_up and query.instruments == ("uk-pa-2023",)
    assert "reserved-mutual" in {c.id for c in query.concepts}
    assert query.focus == "and how long can it last?" and query.qtype == "duration"


def test_a_follow_up_that_only_changes_a_fact_is_the_previous_question_again():
    history = [{"role": "user", "content": "How long can a contract reserved for a staff mutual last?"}]
    for follow_up in ("what if we'd gone out in jan 2025 instead?", "same in Wales?",
                      "and for a CIC rather than a mutual?"):
        query = rewrite(follow_up, history, VOCABULARY)
        assert query.follow_up and query.focus.startswith(history[0]["content"]), follow_up
        assert query.focus.endswith(follow_up), follow_up


def test_words_that_only_say_when_the_procurement_started_name_no_topic():
    history = [{"role": "user", "content": "Can we ring-fence our day services contract for a staff mutual?"}]
    query = rewrite("and if we'd gone out to tender in jan 2025?", history, VOCABULARY)
    assert query.topics == [] and query.focus.startswith(history[0]["content"])
    # A topic beside the start date is still the question's own.
    query = rewrite("We started in March 2025: can we split the contract into lots?", None, VOCABULARY)
    assert [c.id for c in query.topics] == ["lots"]


def test_a_follow_up_that_only_gives_a_sum_of_money_asks_about_the_threshold():
    history = [{"role": "user", "content": "Can we reserve our day services contract for a public service mutual?"}]
    query = rewrite("what about if it's worth £700k?", history, VOCABULARY)
    threshold = VOCABULARY.by_id["light-touch-threshold"]
    assert threshold.money and threshold in query.concepts
    assert "reserved-mutual" in {c.id for c in query.concepts}
    assert threshold.search in query.focus and threshold.search in query.text
    # A follow-up with a topic of its own keeps it: the money is a fact of its story.
    query = rewrite("and could we use lots for a £2m contract?", history, VOCABULARY)
    assert threshold not in query.concepts


def test_a_self_contained_question_after_an_unrelated_one_is_not_merged():
    history = [{"role": "user", "content": "Under the Directive, do we have to split a contract into lots?"}]
    query = rewrite("What is a reserved contract?", history, VOCABULARY)
    assert not query.follow_up and query.instruments == ()
    assert "lots" not in query.text.lower()


def test_a_follow_up_naming_another_instrument_replaces_the_earlier_one():
    history = [{"role": "user", "content": "Under PCR 2015, how long could a reserved contract last?"}]
    query = rewrite("And under the new Act?", history, VOCABULARY)
    assert query.follow_up and query.instruments == ("uk-pa-2023",)
    assert "PCR" not in query.text


def test_a_scenario_is_reduced_to_its_legal_question():
    question = ("I'm the commissioning lead at Powys. Our home care contract is worth £1.2m and ends in "
                "June 2027. Can we ring-fence the re-tender for the staff co-op?")
    query = rewrite(question, None, VOCABULARY)
    assert query.focus == "Can we ring-fence the re-tender for the staff co-op?"
    assert "1.2m" not in query.text and "commissioning lead" not in query.text
    assert "uk-pa-2023:s-33" in query.provisions


def test_a_question_in_welsh_is_searched_in_english_words():
    query = rewrite("Am faint o flynyddoedd y gall contract a gedwir bara?", None, VOCABULARY)
    assert query.language == "cy" and query.qtype == "duration"
    assert "reserved contract" in query.text and "gedwir" not in query.text


# --- retrieve -------------------------------------------------------------------------------

def ranked_ids(index: Index, question: str, ctx=None) -> list[str]:
    query = rewrite(question, None, VOCABULARY)
    ranking = Ranking(governing_regime(ctx or context_of(question)), query.instruments)
    hits = hybrid_search(index, query.text, 5, references=query.references,
                         concept_provisions=query.provisions, ranking=ranking)
    return [h.passage.doc_id for h in hits]


def test_the_asker_s_own_law_ranks_first(fast_index):
    assert ranked_ids(fast_index, "How long can a reserved contract for a mutual last?")[0] == "mutuals-act"
    before = context_of("Our tender went out in October 2024.")
    assert ranked_ids(fast_index, "How long can a reserved contract for a mutual last?", before)[0] == "mutuals-pcr"


def test_section_3_is_not_section_33(fast_index):
    def looked_up(question: str) -> set[str]:
        refs = rewrite(question, None, VOCABULARY).references
        return {p.doc_id for p in provision_passages(fast_index.corpus(), refs, lambda p: True)}

    assert looked_up("What does section 3 of the Procurement Act say?") == set()
    assert looked_up("What does section 33 of the Procurement Act say?") == {"mutuals-act"}
    assert looked_up("s.18?") == {"lots-act"}


# --- decide ---------------------------------------------------------------------------------

def decision_for(fast_assistant: Assistant, features: dict[str, float]):
    decider = Decider(fast_assistant.index, VOCABULARY, POLICY)
    query = rewrite("How long can a reserved contract last?", None, VOCABULARY)
    hits = hybrid_search(fast_assistant.index, query.text, 3)
    regime = governing_regime(context_of(query.question))
    return decider.decide(query, regime, hits, Evidence([], features))


def test_the_policy_answers_strong_evidence_caveats_middling_and_declines_weak(fast_assistant):
    strong = {"similarity": 0.9, "coverage": 1.0, "concept": 1.0}
    middling = {"similarity": 0.4, "coverage": 0.3, "concept": 0.0}
    weak = {"similarity": 0.1, "coverage": 0.0, "unknown": 0.6}
    assert decision_for(fast_assistant, strong).kind == ANSWER
    assert decision_for(fast_assistant, middling).kind == CAVEAT
    assert decision_for(fast_assistant, weak).kind == DECLINE


def test_an_out_of_scope_topic_is_declined_however_strong_the_evidence(fast_assistant):
    answer = fast_assistant.ask("Does TUPE apply when staff move to a mutual?")
    assert answer.abstained and answer.reason == "out-of-scope"
    assert "TUPE" in answer.text and answer.suggestions


def test_a_scottish_asker_is_told_scotland_is_not_held(fast_assistant):
    answer = fast_assistant.ask("We are a Scottish council: can we reserve a contract for a mutual?")
    assert answer.abstained and answer.reason == "nation-not-held" and "Scotland" in answer.text


def test_a_decline_offers_the_nearest_topics_as_questions(fast_assistant, fast_index):
    hits = hybrid_search(fast_index, "reserved contract mutual", 3)
    offers = suggestions(hits, VOCABULARY)
    assert offers[0] == "How long can a contract reserved for a public service mutual last?"


# --- compose, check, annotate -----------------------------------------------------------------

def test_the_direct_answer_comes_first_and_earlier_law_follows_under_a_heading(fast_assistant):
    answer = fast_assistant.ask("How long can a reserved contract for a mutual last?")
    first = answer_sentences(answer.text)[0]
    assert "five years" in first and "section 33" in first
    lines = answer.text.split("\n")
    heading = next(line for line in lines if is_heading(line))
    assert heading.startswith("For procurements started before 24 February 2025")
    assert answer.text.index("five years") < answer.text.index("three years")


def test_every_sentence_is_cited_and_every_marker_resolves(fast_assistant):
    answer = fast_assistant.ask("How long can a reserved contract for a mutual last?")
    for sentence in answer_sentences(answer.text):
        assert re.search(r"\[\d+\]", sentence)
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == {c.n for c in answer.citations}


def test_a_caveat_is_said_plainly_above_the_closest_provisions(fast_assistant):
    composer = ExtractiveComposer(Calibration().compose)
    query = rewrite("How long can a reserved contract last?", None, VOCABULARY)
    hits = hybrid_search(fast_assistant.index, query.text, 3)
    from procguide.answer.decide import Decision
    from procguide.answer.evidence import QueryVectors

    vectors = QueryVectors(fast_assistant.index.embed_query(query.text), fast_assistant.index.embed_query(query.focus))
    ranking = Ranking(governing_regime(context_of(query.question)))
    evidence = fast_assistant.evidence.gather(query, vectors, hits, ranking)
    draft = composer.compose(query, context_of(query.question), ranking, evidence, Decision(CAVEAT), hits)
    assert draft.parts[0] == (CAVEAT_HEADING, None)


def test_a_question_in_welsh_is_answered_from_the_same_sources_with_a_notice_in_welsh(fast_assistant):
    english = fast_assistant.ask("How long can a reserved contract for a mutual last?")
    welsh = fast_assistant.ask("Am faint o flynyddoedd y gall contract a gedwir bara?")
    assert not welsh.abstained and WELSH_NOTICE in welsh.notices
    assert welsh.citations[0].passage.id == english.citations[0].passage.id


def test_the_answer_says_whom_it_is_for(fast_assistant):
    answer = fast_assistant.ask("We're a council in Powys: how long can a reserved contract last?")
    assert answer.context["nation"] == "Wales"
    assert answer.context["governing"] == ["uk-pa-2023"]
    assert "Procurement Act 2023" in answer.context["summary"]


# --- stages replaced by configuration ------------------------------------------------------------

def test_a_stage_can_be_replaced_by_configuration(fast_settings, fast_index):
    always = Assistant(fast_settings.model_copy(update={"stages": {"decide": "always-answer", "rewrite": "literal"}}),
                       fast_index, today=TODAY)
    answer = always.ask("Does TUPE apply when staff move to a mutual?")
    assert not answer.abstained and answer.reason == "always"


def test_an_unknown_stage_is_a_clear_error(fast_settings, fast_index):
    with pytest.raises(ValueError, match="not a decide stage"):
        Assistant(fast_settings.model_copy(update={"stages": {"decide": "coin-toss"}}), fast_index)


def test_a_question_about_an_instrument_itself_is_not_read_as_a_follow_up():
    history = [{"role": "user", "content": "How long can a reserved contract for a mutual last?"}]
    assert not rewrite("When did the Procurement Act come in?", history, VOCABULARY).follow_up
    assert rewrite("And under the Procurement Act?", history, VOCABULARY).follow_up


def test_figures_in_a_question_are_the_asker_s_facts_not_unknown_words(fast_assistant):
    plain = fast_assistant.ask("How long can a contract reserved for a mutual last?")
    with_figures = fast_assistant.ask("How long can a contract reserved for a mutual last? It is worth £700k, 2.5m over 3 years.")
    assert with_figures.features["unknown"] <= plain.features["unknown"] + 1e-9
