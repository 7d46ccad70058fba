"""Saved answers (answers.jsonl): one record per question, in the answers format of evals/README.md.
Generation writes them; scoring reads them, so a run can be re-scored without re-generating.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError


class CitationRecord(BaseModel):
    n: int
    doc_id: str = ""
    title: str = ""
    locator: str = ""
    url: str = ""
    provisions: list[str] = Field(default_factory=list)
    text: str = ""


class WithheldRecord(BaseModel):
    sentence: str
    reason: str
    markers: list[int] = Field(default_factory=list)


class AnswerRecord(BaseModel):
    id: str
    question: str = ""
    answer: str
    citations: list[CitationRecord] = Field(default_factory=list)
    retrieved: list[list[str]] = Field(default_factory=list)
    abstained: bool = False
    latency_ms: float = 0.0
    notices: list[str] = Field(default_factory=list)
    confidence: float | None = None  # the evidence score abstention was judged on, if known
    # What procguide adds about how the answer was made (absent from other systems' answers).
    decision: str | None = None  # answer, caveat or decline
    reason: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    suggestions: list[str] = Field(default_factory=list)
    language: str | None = None
    features: dict[str, float] = Field(default_factory=dict)
    # How the text was made: "extractive", "llm", or "llm-fallback" (the model's answer could not
    # be used and the built-in answerer's was shown); and, for an LLM answer, what the sentence
    # check withheld: each sentence with why ("uncited", "unsupported", ...) and its markers, and
    # the markers dropped because they pointed to no passage sent to the model.
    answerer: str | None = None
    withheld: list[WithheldRecord] = Field(default_factory=list)
    dropped_markers: list[int] = Field(default_factory=list)


def write_answers(path: Path, records: list[AnswerRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(r.model_dump_json() + "\n")


def read_answers(path: Path) -> list[AnswerRecord]:
    records = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(AnswerRecord.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ValueError(f"{path}, line {number}: not an answer record ({exc})") from exc
    return records
