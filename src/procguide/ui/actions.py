"""What the chat's buttons do, apart from the page's layout: rate an answer (thumbs and a comment,
into the feedback store) and download the conversation (Markdown or Word). The UI keeps one
`Conversation` per browser session (a gr.State); every answer shown is added to it, with the
choices it was given for, so a rating or an export uses the answer itself, not the text on screen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from procguide.answer.result import Answer
from procguide.config import Settings
from procguide.feedback import (
    FeedbackStore,
    FeedbackUnavailable,
    rating_from_like,
    settings_snapshot,
)
from procguide.ui.export import Turn, conversation_doc, download_file
from procguide.ui.strings import t

# In English; each function gives its message in the language it is asked for.
FEEDBACK_SAVED = t("feedback.thanks")
COMMENT_FIRST = t("feedback.rate_first")
NOTHING_TO_EXPORT = t("export.nothing")


@dataclass
class Shown:
    """One answer as shown: the answer, the choices it was given for, and its rating's row."""

    answer: Answer
    nation: str | None
    started: str | None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    row: int | None = None


@dataclass
class Conversation:
    """The answers shown in one browser session, in order, and the last one rated."""

    shown: list[Shown] = field(default_factory=list)
    rated: Shown | None = None
    # Positions, among the chat's assistant messages, of those that are no answer (an error).
    skipped: set[int] = field(default_factory=set)

    def add(self, answer: Answer, nation: str | None, started: str | None) -> Conversation:
        """Record an answer shown as the next assistant message."""
        self.shown.append(Shown(answer, nation, started))
        return self

    def skip(self) -> None:
        """The next assistant message is no answer (an error message): nothing to rate or export."""
        self.skipped.add(len(self.shown) + len(self.skipped))

    def history(self) -> list[dict[str, str]]:
        """The answered turns so far as role/content pairs, for reading a follow-up."""
        turns: list[dict[str, str]] = []
        for s in self.shown:
            turns += [{"role": "user", "content": s.answer.question}, {"role": "assistant", "content": s.answer.text}]
        return turns

    def at(self, messages: list[dict[str, Any]], index: int | tuple[int, int] | list[int]) -> Shown | None:
        """The answer behind the chat message at `index`: the n-th assistant message is the n-th
        answer shown (a message the conversation did not record, such as an error, is None)."""
        i = index[0] if isinstance(index, tuple | list) else index
        if not 0 <= i < len(messages) or messages[i].get("role") != "assistant":
            return None
        n = sum(1 for m in messages[:i] if m.get("role") == "assistant")
        if n in self.skipped:
            return None
        n -= sum(1 for s in self.skipped if s < n)
        return self.shown[n] if n < len(self.shown) else None


def rate(store: FeedbackStore, settings: Settings, conversation: Conversation,
         messages: list[dict[str, Any]], index: Any, liked: Any, lang: str = "en") -> str:
    """A thumb on the message at `index`: stored (a second thumb on the same answer replaces the
    first); the message to show the user."""
    shown = conversation.at(messages, index)
    rating = rating_from_like(liked)
    if shown is None or rating is None:
        return ""
    try:
        shown.row = store.record(shown.answer, rating, answer_id=shown.id,
                                 settings=settings_snapshot(settings, shown.nation, shown.started))
    except FeedbackUnavailable as exc:
        return str(exc)
    conversation.rated = shown
    return t("feedback.thanks", lang)


def comment(store: FeedbackStore, conversation: Conversation, text: str, lang: str = "en") -> str:
    """A comment on the answer last rated."""
    shown = conversation.rated
    if shown is None or shown.row is None:
        return t("feedback.rate_first", lang)
    if not text.strip():
        return ""
    try:
        store.update(shown.row, comment=text)
    except FeedbackUnavailable as exc:
        return str(exc)
    return t("feedback.thanks", lang)


def export(conversation: Conversation, kind: Literal["md", "docx"], folder: Path | None = None) -> Path | None:
    """The conversation as a file to download (None when nothing has been answered yet). Each
    export goes to a new temporary folder, so two users never share a file."""
    if not conversation.shown:
        return None
    doc = conversation_doc([Turn(s.answer.question, s.answer) for s in conversation.shown],
                           generated=datetime.now(UTC))
    return download_file(doc, kind, folder)
