"""Eval questions: JSON Lines, one object a line, in the format documented in evals/README.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
)

from procguide import provisions as prov


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Question(BaseModel):
    id: str
    question: str
    history: list[Turn] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    abstain: bool = False
    tags: list[str] = Field(default_factory=list)
    # Points for a facilitator to raise once the answer is revealed (training sessions); the
    # harness ignores them.
    discussion: list[str] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _without_empty_discussion(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A question without discussion points dumps exactly as before the field existed, so
        # hashes of question sets (evals/calibration.json's made_on) do not change.
        data = handler(self)
        if not self.discussion:
            data.pop("discussion", None)
        return data

    @field_validator("sources")
    @classmethod
    def _well_formed(cls, ids: list[str]) -> list[str]:
        for pid in ids:
            prov.parse(pid)
        return [prov.normalise(pid) for pid in ids]

    def history_messages(self) -> list[dict[str, str]]:
        return [t.model_dump() for t in self.history]


class QuestionFileError(ValueError):
    pass


def load_questions(path: Path) -> list[Question]:
    questions: list[Question] = []
    seen: set[str] = set()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QuestionFileError(f"{path}: cannot be read ({exc.strerror})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            q = Question.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise QuestionFileError(f"{path}, line {number}: {exc}") from exc
        if q.id in seen:
            raise QuestionFileError(f"{path}, line {number}: the id '{q.id}' is used twice")
        seen.add(q.id)
        questions.append(q)
    return questions


# Every shipped question carries exactly one split tag: "dev" (tuned on) or "heldout" (reported).
SPLITS = ("dev", "heldout")


def select_split(questions: list[Question], split: str | None) -> list[Question]:
    """The questions tagged `split`, or all of them when `split` is None. A split no question
    carries is an error (a typo, or a file without split tags), as is a question tagged both
    dev and heldout (it would be tuned on and reported)."""
    if split is None:
        return list(questions)
    chosen = [q for q in questions if split in q.tags]
    if not chosen:
        known = sorted({t for q in questions for t in q.tags if t in SPLITS})
        raise QuestionFileError(
            f"no question is tagged with the split '{split}' "
            f"(split tags in this file: {', '.join(known) or 'none'}; --split all scores every question)"
        )
    both = [q.id for q in questions if set(SPLITS) <= set(q.tags)]
    if both:
        raise QuestionFileError(
            f"{len(both)} questions are tagged both {' and '.join(SPLITS)} (first: {both[0]})"
        )
    return chosen
