"""The sentence gate alone (answer/gate.py), in the fast tier: what a model writes is released a
sentence at a time, only once its cited passages support it; everything else is withheld, with why.
The support checker here is the real offline one on a stand-in embedding, so "supported" means the
same tests the evals apply (numbers, provisions, polarity, overlap)."""

from __future__ import annotations

import numpy as np
import pytest

from procguide.answer.gate import SentenceGate, normalise_markers
from procguide.answer.support import OfflineSupportChecker
from procguide.index import HashingEmbeddings
from procguide.passage import Passage

pytestmark = pytest.mark.fast

TERM = Passage(
    id="pa-1", doc_id="pa", title="Procurement Act 2023", locator="Section 33", text=(
        "A contract reserved under section 33 of the Procurement Act 2023 for a public service mutual "
        "may last no more than five years. The mutual must not have been awarded a reserved contract "
        "for the same services in the previous five years."),
    provisions=("uk-pa-2023:s-33",),
)
MISSION = Passage(
    id="pa-2", doc_id="pa-mission", title="Procurement Act 2023", locator="Section 33(6)", text=(
        "A public service mutual must pursue a public service mission and reinvest its profits to "
        "achieve that mission."),
    provisions=("uk-pa-2023:s-33(6)",),
)


def checker() -> OfflineSupportChecker:
    model = HashingEmbeddings()
    return OfflineSupportChecker(lambda texts: np.asarray(model.embed_documents(list(texts))), 0.45)


def gate(**kw) -> SentenceGate:
    return SentenceGate(checker(), [TERM, MISSION], **kw)


def run(g: SentenceGate, reply: str, size: int = 5) -> list[str]:
    released = []
    for i in range(0, len(reply), size):
        released += g.feed(reply[i : i + size])
    return released + g.close()


GOOD = "A reserved contract for a public service mutual may last no more than five years [1]."


def test_a_supported_sentence_is_released_only_once_it_is_complete():
    g = gate()
    assert g.feed(GOOD[:40]) == []
    assert g.feed(GOOD[40:]) == []  # the sentence might still go on
    assert g.feed(" The") == [GOOD]
    assert g.close() == []  # "The" alone is not cited
    assert [w.reason for w in g.withheld] == ["uncited"]


def test_a_wrong_number_a_flipped_polarity_and_an_uncited_claim_are_withheld():
    reply = (f"{GOOD} It may last ten years [1]. A public service mutual need not reinvest its profits [2]. "
             "Mutuals can also receive unlimited direct awards without any notice.")
    g = gate()
    assert run(g, reply) == [GOOD]
    assert [w.reason for w in g.withheld] == ["unsupported", "unsupported", "uncited"]
    assert [c.n for c in g.citations] == [1]


def test_a_sentence_citing_two_passages_is_judged_against_both_together():
    claim = ("A public service mutual must pursue a public service mission and its reserved contract "
             "may last no more than five years [1][2].")
    g = gate()
    assert run(g, claim) == [claim]
    assert [c.passage.doc_id for c in g.citations] == ["pa", "pa-mission"]


def test_invented_markers_are_dropped_and_recorded_and_a_sentence_left_uncited_is_withheld():
    g = gate()
    released = run(g, "A reserved contract may last no more than five years [1][9]. It is a rule of law [7].")
    assert released == ["A reserved contract may last no more than five years [1]."]
    assert g.dropped_markers == [9, 7]
    assert [w.reason for w in g.withheld] == ["invalid-marker"]


@pytest.mark.parametrize("written, normal", [
    ("five years [1-2].", "five years [1][2]."),
    ("five years [1–2].", "five years [1][2]."),
    ("five years [1, 2].", "five years [1][2]."),
    ("five years [source: 1].", "five years [1]."),
    ("five years [Source 2].", "five years [2]."),
    ("five years [Passage 1, 2].", "five years [1][2]."),
    ("five years (source 1).", "five years [1]."),
    ("five years 【1】.", "five years [1]."),
    ("five years [^1].", "five years [1]."),
    ("five years. [1]", "five years [1]."),
    ("five years (3).", "five years (3)."),  # ambiguous with a subsection: left as text, so uncited
    ("five years [1-99].", "five years ."),  # a range past ten passages is no citation
])
def test_marker_formats_are_normalised_or_left_as_text(written, normal):
    assert normalise_markers(written) == normal


def test_a_parenthesised_number_is_not_a_citation():
    g = gate()
    assert run(g, "A reserved contract may last no more than five years (1).") == []
    assert [w.reason for w in g.withheld] == ["uncited"]


@pytest.mark.parametrize("reply", [
    "NOT_COVERED",
    f"{GOOD} NOT_COVERED",
    f"{GOOD} But this is not_covered by the passages.",
    "I'm sorry, but I cannot help with that.",
    "As an AI, I cannot give legal advice.",
    "   ",
    "",
])
def test_not_covered_anywhere_an_opening_refusal_or_an_empty_reply_is_a_decline(reply):
    g = gate()
    run(g, reply)
    assert g.declined in {"not-covered", "refusal", "empty"}


def test_after_the_sentence_limit_the_gate_stops():
    g = gate(max_sentences=2)
    released = g.feed(f"{GOOD} {GOOD} {GOOD} And more")
    assert len(released) == 2 and g.stopped
    assert g.feed(" text.") == []


def test_markup_a_model_writes_is_kept_as_text_and_judged_like_any_claim():
    g = gate()
    released = run(g, f"{GOOD} See [the guidance](https://evil.example/x) <img src=x> for more [1].")
    assert released == [GOOD]
    assert g.withheld[0].reason == "unsupported" and "evil.example" in g.withheld[0].sentence


def test_a_copied_passage_heading_states_nothing_and_is_withheld_without_blame():
    # A weak model copies the prompt's "[1] Title — locator" lines; they cite, and share every word
    # with the source, but say nothing.
    g = gate()
    assert run(g, f"[1] Procurement Act 2023 — Section 33. {GOOD}") == [GOOD]
    assert [(w.sentence, w.reason) for w in g.withheld] == [("[1] Procurement Act 2023 — Section 33.", "heading")]
    g = gate()  # nearly the heading ("the", one word added) is still only the heading
    assert run(g, "The Procurement Act 2023 — Section 33 [1].") == []
    assert [w.reason for w in g.withheld] == ["heading"]
    g = gate()  # a statement about the provision is judged as one (and this one is supported)
    assert run(g, "Section 33 of the Procurement Act 2023 applies [1].") == [
        "Section 33 of the Procurement Act 2023 applies [1]."]
    assert g.withheld == []
