"""Hybrid retrieval over the starter knowledge base: fusion, provision look-up, filters, follow-ups."""

import pytest

from procguide import provisions as prov
from procguide.passage import Passage
from procguide.retrieve import Filters, contextual_query, fuse, hybrid_search, is_follow_up


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


def test_a_follow_up_is_searched_together_with_the_previous_question():
    history = [{"role": "user", "content": "Can we reserve a contract for a mutual?"},
               {"role": "assistant", "content": "Yes, under Article 77 [1]."}]
    assert is_follow_up("and how long can it last?")
    assert contextual_query("and how long can it last?", history).startswith("Can we reserve")
    standalone = "What is the threshold for the light-touch regime under the Directive?"
    assert contextual_query(standalone, history) == standalone


def test_a_follow_up_naming_another_instrument_replaces_the_earlier_one():
    history = [{"role": "user", "content": "What is the maximum term of a reserved contract under the Directive?"}]
    query = contextual_query("And under the Procurement Act 2023?", history)
    assert "Directive" not in query and "maximum term of a reserved contract" in query
    history = [{"role": "user", "content": "Under Article 20 of the Directive, what share of staff must be disabled?"}]
    query = contextual_query("Does the same apply under the Procurement Act?", history)
    assert "Article 20" not in query and "share of staff must be disabled" in query
