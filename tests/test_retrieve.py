"""Hybrid retrieval over the starter knowledge base: fusion, provision look-up, filters, follow-ups."""

import pytest

from procguide import provisions as prov
from procguide.passage import Passage
from procguide.retrieve import Filters, fuse, hybrid_search
from procguide.rewrite import rewrite
from procguide.vocabulary import load_vocabulary


def _p(pid: str) -> Passage:
    return Passage(id=pid, text=pid, doc_id="d", title="t", locator=pid)


def test_fusion_ranks_a_passage_found_by_both_searches_above_one_found_by_either():
    a, b, c = _p("a"), _p("b"), _p("c")
    hits = fuse({"dense": [a, b], "keyword": [c, b], "provision": []}, {})
    assert hits[0].passage.id == "b"
    assert set(hits[0].via) == {"dense", "keyword"}


def test_a_named_provision_brings_its_passages_to_the_top(kb_index):
    hits = hybrid_search(kb_index, "What does section 33 of the Procurement Act 2023 require?", k=5)
    assert prov.any_matches(hits[0].passage.provisions, "uk-pa-2023:s-33")
    assert "provision" in hits[0].via


def test_a_provision_named_without_its_instrument_is_still_found(kb_index):
    hits = hybrid_search(kb_index, "Explain regulation 77", k=5)
    assert any(prov.any_matches(h.passage.provisions, "uk-pcr-2015:reg-77") for h in hits[:3])


def test_a_question_in_other_words_finds_the_passage_by_meaning(kb_index):
    hits = hybrid_search(kb_index, "Can we keep a care contract just for employee-owned organisations?", k=5)
    assert any(
        prov.any_matches(h.passage.provisions, e)
        for h in hits for e in ("eu-dir-2014-24:art-77", "uk-pcr-2015:reg-77", "uk-pa-2023:s-33")
    )


def test_k_sets_how_many_passages_come_back(kb_index):
    assert len(hybrid_search(kb_index, "light-touch regime threshold", k=3)) == 3
    assert len(hybrid_search(kb_index, "light-touch regime threshold", k=7)) == 7


@pytest.mark.parametrize("choice, allowed", [("EU", {"EU"}), ("Wales", {"Wales", "UK"})])
def test_the_jurisdiction_filter_keeps_only_that_jurisdiction(kb_index, choice, allowed):
    hits = hybrid_search(kb_index, "reserved contracts for mutuals", k=8,
                         filters=Filters.parse({"jurisdiction": choice}))
    assert hits and {h.passage.jurisdiction for h in hits} <= allowed


def test_an_unknown_jurisdiction_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="EU, UK, England, Wales"):
        Filters.parse({"jurisdiction": "Narnia"})


def test_a_follow_up_is_searched_together_with_the_previous_question(kb_settings):
    vocabulary = load_vocabulary(kb_settings.vocabulary_file)
    history = [{"role": "user", "content": "Can we reserve a contract for a mutual?"},
               {"role": "assistant", "content": "Yes, under Article 77 [1]."}]
    query = rewrite("and how long can it last?", history, vocabulary)
    assert query.follow_up and query.text.startswith("Can we reserve")
    standalone = "What is the threshold for the light-touch regime under the Directive?"
    query = rewrite(standalone, history, vocabulary)
    assert not query.follow_up and query.text.startswith(standalone)


def test_a_follow_up_naming_another_instrument_replaces_the_earlier_one(kb_settings):
    vocabulary = load_vocabulary(kb_settings.vocabulary_file)
    history = [{"role": "user", "content": "What is the maximum term of a reserved contract under the Directive?"}]
    query = rewrite("And under the Procurement Act 2023?", history, vocabulary)
    assert "Directive" not in query.text and "maximum term of a reserved contract" in query.text
    assert query.instruments == ("uk-pa-2023",)
    history = [{"role": "user", "content": "Under Article 20 of the Directive, what share of staff must be disabled?"}]
    query = rewrite("Does the same apply under the Procurement Act?", history, vocabulary)
    assert "Article 20" not in query.text and "share of staff must be disabled" in query.text
