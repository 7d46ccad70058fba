"""An answer as data: text with [n] markers, the passage each marker points to, and how it was made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from procguide.passage import Passage
from procguide.retrieve import Hit


@dataclass(frozen=True)
class Citation:
    n: int
    passage: Passage

    def as_record(self) -> dict[str, Any]:
        p = self.passage
        return {
            "n": self.n,
            "doc_id": p.doc_id,
            "title": p.title,
            "locator": p.locator,
            "url": p.url,
            "provisions": list(p.provisions),
            "text": p.text,
        }


@dataclass(frozen=True)
class Withheld:
    """A sentence an LLM wrote that was not shown: why, and the markers it carried."""

    sentence: str
    reason: str  # uncited, unsupported, invalid-marker, heading, over-limit
    markers: tuple[int, ...] = ()

    def as_record(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "reason": self.reason, "markers": list(self.markers)}


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]
    abstained: bool
    retrieved: list[Hit] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    confidence: float = 0.0  # the decide stage's estimate that the knowledge base answers this
    timings: dict[str, float] = field(default_factory=dict)
    decision: str = ""  # answer, caveat or decline
    reason: str = ""  # why it declined, or what the decision rested on
    context: dict[str, Any] = field(default_factory=dict)  # whom the answer is for (context stage)
    suggestions: list[str] = field(default_factory=list)  # questions to ask next, when declining
    language: str = "en"
    features: dict[str, float] = field(default_factory=dict)  # the evidence the decision weighed
    answerer: str = "extractive"  # extractive, llm, or llm-fallback (the built-in answer shown)
    withheld: list[Withheld] = field(default_factory=list)  # LLM sentences the check held back
    dropped_markers: list[int] = field(default_factory=list)  # LLM markers pointing to no passage

    def as_record(self, question_id: str | None = None) -> dict[str, Any]:
        """The answers format of evals/README.md (one line of answers.jsonl)."""
        record: dict[str, Any] = {"id": question_id} if question_id is not None else {}
        record.update(
            question=self.question,
            answer=self.text,
            citations=[c.as_record() for c in self.citations],
            retrieved=[list(h.passage.provisions) for h in self.retrieved],
            abstained=self.abstained,
            latency_ms=round(self.timings.get("total_ms", 0.0), 1),
            notices=self.notices,
            confidence=round(self.confidence, 4),
            decision=self.decision,
            reason=self.reason,
            context=self.context,
            suggestions=self.suggestions,
            language=self.language,
            features={k: round(v, 4) for k, v in self.features.items()},
            answerer=self.answerer,
            withheld=[w.as_record() for w in self.withheld],
            dropped_markers=self.dropped_markers,
        )
        return record
