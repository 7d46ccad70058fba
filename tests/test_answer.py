"""The built-in answerer through the Assistant: cited sentences, abstention, follow-ups, notices."""

import re

import pytest

from procguide import provisions as prov
from procguide.answer.citations import invalid_markers, markers, renumber
from procguide.answer.extractive import with_marker
from procguide.answer.render import to_markdown, to_plain
from procguide.answer.sentences import answer_sentences, split_sentences
from procguide.assistant import Assistant
from procguide.passage import Passage

ANSWERABLE = [
    "How long can a contract reserved for a mutual last under the Directive?",
    "What conditions must an organisation meet to bid for a contract reserved under Article 77?",
    "What is a public service mutual under the Procurement Act 2023?",
]


def sentences_of(text: str) -> list[str]:
    """The answer's sentences, headings ("For procurements started before ...:") left out."""
    return answer_sentences(text)


@pytest.mark.parametrize("question", ANSWERABLE)
def test_every_sentence_of_an_answer_carries_a_marker_that_resolves(assistant, question):
    answer = assistant.ask(question)
    assert not answer.abstained
    assert all(re.search(r"\[\d+\]", s) for s in sentences_of(answer.text))
    assert invalid_markers(answer.text, answer.citations) == []
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


def test_each_cited_passage_contains_the_sentence_quoted_from_it(assistant):
    answer = assistant.ask(ANSWERABLE[0])
    for sentence in sentences_of(answer.text):
        n = int(re.search(r"\[(\d+)\]", sentence).group(1))
        quoted = re.sub(r"\s*\[\d+\]", "", sentence).rstrip(".")
        passage = answer.citations[n - 1].passage
        assert quoted[:60] in re.sub(r"\s+", " ", passage.text)


def test_the_answer_rests_on_the_provision_asked_about(assistant):
    answer = assistant.ask("How long can a contract reserved for a mutual last under the Directive?")
    cited = [pid for c in answer.citations for pid in c.passage.provisions]
    assert prov.any_matches(cited, "eu-dir-2014-24:art-77")
    assert re.search(r"three years|3 years", answer.text)


def test_sources_show_title_locator_and_official_link(assistant):
    answer = assistant.ask(ANSWERABLE[2])
    md, plain = to_markdown(answer), to_plain(answer)
    first = answer.citations[0].passage
    assert "**Sources**" in md and first.locator in md and f"({first.url})" in md
    assert "Sources" in plain and first.url in plain


@pytest.mark.parametrize("question", [
    "What is a good recipe for lasagne?",
    "Who won the football world cup in 2018?",
])
def test_out_of_scope_questions_are_declined_with_the_nearest_topics(assistant, question):
    answer = assistant.ask(question)
    assert answer.abstained and answer.citations == []
    assert "can't answer that from the knowledge base" in answer.text
    assert "You could ask instead" in answer.text and answer.suggestions


def test_a_follow_up_uses_the_chat_history(assistant):
    history = [
        {"role": "user", "content": "Can we reserve a contract for a public service mutual under the Procurement Act 2023?"},
        {"role": "assistant", "content": "Yes, under section 33 [1]."},
    ]
    answer = assistant.ask("and how long can it last?", history=history)
    assert not answer.abstained
    cited = [pid for c in answer.citations for pid in c.passage.provisions]
    assert prov.any_matches(cited, "uk-pa-2023:s-33")
    without = assistant.ask("and how long can it last?")
    assert without.abstained or without.text != answer.text


def test_an_answer_resting_on_superseded_law_says_so(assistant):
    answer = assistant.ask("What does regulation 77 of the Public Contracts Regulations 2015 allow?")
    assert any(c.passage.superseded_by for c in answer.citations)
    assert any("before 24 February 2025" in n for n in answer.notices)


def test_the_answer_record_has_the_answers_format(assistant):
    record = assistant.ask(ANSWERABLE[0]).as_record("q1")
    assert {"id", "question", "answer", "citations", "retrieved", "abstained", "latency_ms"} <= set(record)
    assert set(record["citations"][0]) >= {"n", "doc_id", "title", "locator", "url", "provisions", "text"}
    assert all(isinstance(r, list) for r in record["retrieved"])


def test_an_empty_index_says_how_to_build_it(index):
    answer = Assistant(index.settings, index).ask("Can we reserve a contract for a mutual?")
    assert answer.abstained and "procguide ingest" in answer.text


# --- pieces ------------------------------------------------------------------------------------

def _passage(n: int) -> Passage:
    return Passage(id=f"p{n}", text=f"text {n}", doc_id="d", title="t", locator=f"l{n}")


def test_citations_are_numbered_by_first_use_and_broken_markers_dropped():
    text, citations = renumber("B first [2]. A second [1]. Nowhere [7]. Both [2, 1].", [_passage(1), _passage(2)])
    assert text == "B first [1]. A second [2]. Nowhere. Both [1][2]."
    assert [(c.n, c.passage.id) for c in citations] == [(1, "p2"), (2, "p1")]
    assert markers(text) == [1, 2, 1, 2]


def test_sentences_are_not_cut_at_legal_abbreviations():
    text = "Under Art. 77(3) the term is three years. Under s. 33 it is five years; see reg. 77 too."
    assert split_sentences(text) == [
        "Under Art. 77(3) the term is three years.",
        "Under s. 33 it is five years; see reg. 77 too.",
    ]


def test_the_marker_goes_before_the_final_full_stop():
    assert with_marker("It lasts three years.", 2) == "It lasts three years [2]."
    assert with_marker("The conditions are:", 1) == "The conditions are [1]."


def test_a_sentence_ending_in_an_acronym_still_ends_there():
    text = "Regulation 77 mirrors Directive 2014/24/EU. Regulation 77 needs four conditions."
    assert len(split_sentences(text)) == 2


def test_a_question_about_an_instrument_the_knowledge_base_lacks_is_declined_by_name(assistant):
    answer = assistant.ask("Under the Care Act 2014, can a council make direct payments for support?")
    assert answer.abstained and answer.citations == []
    assert answer.text.startswith("The knowledge base does not hold the Care Act 2014")
    assert answer.reason == "not-held"


def test_an_instrument_named_by_its_short_name_counts_as_held(assistant):
    answer = assistant.ask("What does the Social Value Act 2012 require an English council to consider?")
    assert not answer.abstained


def test_a_follow_up_that_switches_regime_answers_for_the_new_regime(assistant):
    history = [
        {"role": "user", "content": "What is the maximum term of a contract reserved to a mutual under the Directive?"},
        {"role": "assistant", "content": "At most three years [1]."},
    ]
    answer = assistant.ask("And under the Procurement Act 2023?", history=history)
    cited = [pid for c in answer.citations for pid in c.passage.provisions]
    assert prov.any_matches(cited, "uk-pa-2023:s-33")
    assert re.search(r"five years|5 years", answer.text)


def test_sentences_that_follow_the_best_one_in_its_passage_are_quoted_in_order(assistant):
    answer = assistant.ask("What were the PPIW's key recommendations for social business models in Wales?")
    assert re.search("consortia", answer.text, re.IGNORECASE)
    first = answer.citations[0].passage
    quoted = [s for s in sentences_of(answer.text) if s.endswith("[1].")]
    body = re.sub(r"\s+", " ", first.text)
    positions = [body.find(re.sub(r"\s*\[\d+\]\.$", "", s)) for s in quoted]
    assert positions == sorted(positions) and -1 not in positions


def test_the_superseded_law_notice_is_shown_in_the_cli_and_ui_renderings(assistant):
    answer = assistant.ask("What does regulation 77 of the Public Contracts Regulations 2015 allow?")
    notice = "PCR 2015 governs only procurements started before 24 February 2025"
    assert f"Note: {notice}" in to_plain(answer)
    assert notice in to_markdown(answer) and "**Note:**" in to_markdown(answer)
