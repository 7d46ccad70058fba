"""The decide stage: answer, answer with a caveat, or decline.

Declines outright what the knowledge base cannot cover (a nation or instrument it does not hold,
a topic the vocabulary marks out of scope, a question that was only instructions). Otherwise a
calibrated policy weighs the evidence (answer/evidence.py): above one threshold it answers; below
another it declines; between, it gives the closest provisions with a plain caveat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from procguide.answer.abstain import (
    NOT_COVERED,
    SCOTLAND,
    decline_text,
    not_held_reason,
    out_of_scope_reason,
    provision_not_held_reason,
    suggestions,
    unheld_instruments,
    unheld_provisions,
)
from procguide.answer.calibration import Policy
from procguide.answer.evidence import Evidence
from procguide.context import Regime
from procguide.index import Index
from procguide.retrieve import Hit
from procguide.rewrite import Query
from procguide.vocabulary import Vocabulary

ANSWER, CAVEAT, DECLINE = "answer", "caveat", "decline"


@dataclass
class Decision:
    kind: str  # answer, caveat or decline
    reason: str = ""  # why: evidence, out-of-scope, not-held, nation-not-held, no-question, ...
    probability: float = 0.0  # the policy's estimate that the knowledge base answers this
    text: str = ""  # the reply, when declining
    suggestions: list[str] = field(default_factory=list)

    @property
    def declined(self) -> bool:
        return self.kind == DECLINE


class Decider:
    def __init__(self, index: Index, vocabulary: Vocabulary, policy: Policy):
        self.index = index
        self.vocabulary = vocabulary
        self.policy = policy

    def decide(self, query: Query, regime: Regime, hits: Sequence[Hit], evidence: Evidence) -> Decision:
        probability = self.policy.probability(evidence.features)
        offers = suggestions(hits, self.vocabulary)

        def decline(reason: str, text: str) -> Decision:
            return Decision(DECLINE, reason, probability, decline_text(text, offers), offers)

        if not hits:
            return Decision(DECLINE, "nothing-in-scope", 0.0, decline_text("", [], filtered_out=True))
        if regime.not_held and not query.named_instruments:
            return decline("nation-not-held", SCOTLAND)
        # Instruments the question itself names (a follow-up's earlier question was checked then).
        missing = unheld_instruments(query.own or query.focus, self.index.corpus())
        if missing:
            return decline("not-held", not_held_reason(missing))
        # A provision the question names that no passage carries ("Article 999", "section 250 of
        # the Procurement Act"): said plainly, not answered from whatever lies nearest.
        unheld = unheld_provisions(query.references, self.index.corpus())
        if unheld:
            return decline("provision-not-held", provision_not_held_reason(unheld))
        # Out of scope: the legal question is about something not covered, or leans on a story
        # that is ("A bidder sent an FOI request. Must we release it?").
        outside = query.out_of_scope or (
            [] if query.topics or any(r.part for r in query.references) else query.out_of_scope_mentioned
        )
        if outside:
            return decline("out-of-scope", out_of_scope_reason([c.reason or c.label for c in outside]))
        # A provision the question names and the knowledge base holds is always answered.
        named = evidence.features.get("named", 0.0) >= 1.0
        if probability < self.policy.decline_below and not named:
            return decline("evidence", NOT_COVERED)
        if probability < self.policy.answer_above and not named:
            return Decision(CAVEAT, "evidence", probability, suggestions=offers)
        return Decision(ANSWER, "evidence", probability, suggestions=offers)
