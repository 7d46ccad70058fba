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


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]
    abstained: bool
    retrieved: list[Hit] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    confidence: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

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
        )
        return record
