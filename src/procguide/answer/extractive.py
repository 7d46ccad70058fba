"""The built-in answerer, which needs no LLM (the compose stage's default): it quotes the sentences
of the retrieved passages that best answer the question, each followed by the [n] marker of its
passage.

The first sentence is the direct answer: the best sentence under the law closest to the asker
that gives the kind of answer asked for (a term, a figure, yes or no with its condition). The
rest are grouped by regime, the asker's own law first; each later group is introduced by a
heading saying which law it is and when it applies ("For procurements started before 24 February
2025, under PCR 2015:"). Sentences that only restate a title, or stray off the question's topic,
are not quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from procguide import provisions as prov
from procguide.answer.citations import strip_markers
from procguide.answer.decide import CAVEAT, Decision
from procguide.answer.evidence import Evidence, ScoredSentence
from procguide.answer.result import Citation, Withheld
from procguide.context import AskerContext, Ranking, Regime
from procguide.retrieve import Hit
from procguide.rewrite import Query

REDUNDANT = 0.88  # cosine above which two sentences say the same thing

LOCAL = "local"
LOCAL_HEADING = "From your organisation's own documents (not law; check them against the law above):"
LOCAL_ONLY_HEADING = "From your organisation's own documents, not from the law:"
CAVEAT_HEADING = "I'm not certain the knowledge base answers this exactly; the closest provisions it holds are:"


@dataclass
class Draft:
    """The composed answer before citations are numbered and notices added."""

    decision: Decision
    parts: list[tuple[str, int | None]] = field(default_factory=list)  # (sentence, hit) or (heading, None)
    prompt: list[tuple[str, str]] | None = None  # for an LLM answerer: the messages to send
    hits: list[Hit] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # for the annotate stage
    final_text: str | None = None  # replaces the streamed text (a composer that fell back)
    fallback: Draft | None = None  # the built-in answerer's draft, for an LLM that times out
    # Set by a composer whose text was checked sentence by sentence (answer/gate.py): the citations
    # as numbered there, and what it withheld.
    citations: list[Citation] | None = None
    answerer: str = "extractive"
    withheld: list[Withheld] = field(default_factory=list)
    dropped_markers: list[int] = field(default_factory=list)

    @property
    def abstained(self) -> bool:
        return self.decision.declined


def _long_date(day: date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else ""


def group_heading(instrument: str, relation: str, regime: Regime) -> str:
    """The heading over sentences from one instrument, saying how it relates to the asker."""
    inst = prov.INSTRUMENTS.get(instrument)
    if inst is None:
        return "Also relevant:"
    name = inst.short
    if relation == "earlier":
        return f"For procurements started before {_long_date(inst.applies_before)}, under {name}:"
    if relation == "later":
        return f"For procurements started on or after {_long_date(inst.applies_from)}, under the {name}:"
    if relation == "background":
        return f"Background: {name}, which binds EU Member States but no longer binds UK bodies:"
    if relation == "health":
        return f"For health care services in {' and '.join(inst.nations)}, under the {name}:"
    if relation == "duty":
        return f"Also relevant in {' and '.join(inst.nations)}, under the {name}:"
    if relation == "other-nation":
        return f"Elsewhere ({', '.join(inst.nations)}), under the {name}:"
    if inst.role in ("report", "article"):
        return f"From {name}:"
    return f"Under the {name}:" if not name.startswith(("PCR", "Directive")) else f"Under {name}:"


def governing_missing_heading(regime: Regime) -> str:
    names = " and ".join(prov.INSTRUMENTS[i].short for i in regime.governing if i in prov.INSTRUMENTS)
    return (
        f"The knowledge base holds nothing on this under the {names}, which governs this "
        "procurement; for reference, other law it holds says:"
    )


class ExtractiveComposer:
    def __init__(self, weights: dict[str, float], max_sentences: int | None = None):
        self.weights = weights
        self.max_sentences = max_sentences or int(weights.get("sentences", 5))

    def compose(
        self,
        query: Query,
        ctx: AskerContext,
        ranking: Ranking,
        evidence: Evidence,
        decision: Decision,
        hits: Sequence[Hit],
    ) -> Draft:
        draft = Draft(decision, hits=list(hits))
        if decision.declined or not evidence.sentences:
            return draft
        local = {i for i, h in enumerate(hits) if not h.passage.official}
        chosen = self._choose(evidence.sentences, local)
        if not chosen:
            return draft
        if decision.kind == CAVEAT:
            draft.parts.append((CAVEAT_HEADING, None))
        lead_rank = chosen[0].rank
        if lead_rank >= 2 and ranking.regime.governing and not query.instruments and query.concepts:
            draft.parts.append((governing_missing_heading(ranking.regime), None))
        groups: dict[str, list[ScoredSentence]] = {}
        for s in chosen:
            # An organisation's own documents are never presented as law: a group of their own.
            key = LOCAL if s.hit_rank in local else s.instrument if s.rank != chosen[0].rank else ""
            groups.setdefault(key, []).append(s)
        if LOCAL in groups:
            groups[LOCAL] = groups.pop(LOCAL)  # after the law, whatever its score
        for i, (instrument, sentences) in enumerate(groups.items()):
            if instrument == LOCAL:
                draft.parts.append((LOCAL_HEADING if len(groups) > 1 else LOCAL_ONLY_HEADING, None))
            elif i > 0:
                draft.parts.append((group_heading(instrument, ranking.relation(instrument), ranking.regime), None))
            first = sentences[0]
            rest = sorted(sentences[1:], key=lambda s: (s.hit_rank != first.hit_rank, s.hit_rank, s.position))
            for s in [first, *rest]:
                draft.parts.append((s.text, s.hit_rank))
        return draft

    def _choose(self, scored: Sequence[ScoredSentence], local: set[int] = frozenset()) -> list[ScoredSentence]:  # type: ignore[assignment]
        """The direct answer first, then greedily the best of the rest: a sentence right after a
        quoted one, or from a passage already quoted, gains a bonus (notes put one fact a
        sentence under one heading); near-duplicates, fillers and off-topic sentences are
        skipped; each regime contributes a bounded number."""
        w = self.weights
        candidates = [s for s in scored if not s.filler]
        if not candidates:
            return []
        best = candidates[0]
        floor = best.score - (1 - w["keep_ratio"]) * abs(best.score)
        lead_rank = min(s.rank for s in candidates if s.score >= floor)
        first = next(s for s in candidates if s.rank == lead_rank and s.score >= floor)
        # Official law leads: a local document's sentence is never quoted first while an official
        # sentence on the question's topic is there to quote.
        official = [s for s in candidates if s.hit_rank not in local and s.on_topic]
        if first.hit_rank in local and official:
            first = official[0]
        chosen = [first]
        pool = [s for s in candidates if s is not first and s.on_topic]
        per_group: dict[str, int] = {}
        while pool and len(chosen) < self.max_sentences:
            follows = {(c.hit_rank, c.position + 1) for c in chosen}
            passages = {c.hit_rank for c in chosen}

            def effective(
                s: ScoredSentence, follows: set[tuple[int, int]] = follows, passages: set[int] = passages
            ) -> float:
                bonus = w["follow"] if (s.hit_rank, s.position) in follows else 0.0
                return s.score + bonus + (w["same_passage"] if s.hit_rank in passages else 0.0)

            candidate = max(pool, key=effective)
            pool.remove(candidate)
            if effective(candidate) < floor:
                break
            if any(float(candidate.vector @ c.vector) > REDUNDANT for c in chosen):
                continue
            group = "" if candidate.rank == lead_rank else candidate.instrument
            cap = int(w["lead_group"] if group == "" else w["other_group"])
            if per_group.get(group, 1 if group == "" else 0) >= cap:
                continue
            per_group[group] = per_group.get(group, 1 if group == "" else 0) + 1
            chosen.append(candidate)
        # The direct answer stays first; the others follow by regime rank.
        return [first, *sorted(chosen[1:], key=lambda s: s.rank)]

    def stream_text(self, draft: Draft) -> Iterator[str]:
        """The answer text: sentences with a [k] marker (k = 1 + the passage's hit index), a
        heading on its own line before each later group."""
        if draft.abstained:
            yield draft.decision.text
            return
        previous_heading = True
        for i, (text, hit) in enumerate(draft.parts):
            if hit is None:
                yield ("" if i == 0 else "\n\n") + text + "\n"
                previous_heading = True
            else:
                yield ("" if previous_heading else " ") + with_marker(text, hit + 1)
                previous_heading = False


def with_marker(sentence: str, n: int) -> str:
    """'It lasts three years.' -> 'It lasts three years [1].' Markers already in the quoted text
    are removed first, so the sentence cannot borrow one."""
    body = strip_markers(sentence).rstrip()
    m = re.search(r"[.!?;:,]+$", body)
    end = "."
    if m:
        body, end = body[: m.start()], m.group(0)
        end = "." if end[-1] in ";:," else end
    return f"{body} [{n}]{end}"
