"""Screen what a user types before anything uses it: length and emptiness limits, markup and
control characters, and text that tries to instruct the assistant (kept out of the search).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from procguide.ingest.html import strip_tags


class QuestionRejected(ValueError):
    """The question cannot be answered as typed; the message tells the user what to change."""


_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b[^.?!\n]{0,40}\b(instructions?|prompts?|rules|"
    r"guidelines|context|above|previous|prior)\b"
    r"|\b(you are now|from now on you|act as|pretend (to be|you are)|roleplay as|jailbreak|"
    r"developer mode|do anything now)\b"
    r"|\b(system|hidden|initial) prompt\b"
    r"|\b(reveal|print|show|repeat|output)\b[^.?!\n]{0,30}\b(instructions|prompt|configuration)\b",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"(?<=[.?!;:\n])\s+")

INJECTION_NOTICE = (
    "Part of your question read as an instruction to the assistant. Questions are treated as "
    "text to look up, never as instructions, so that part was ignored."
)


@dataclass
class ScreenedQuestion:
    text: str  # what the search and the answerer read
    original: str
    injection: bool = False
    notices: list[str] = field(default_factory=list)


def screen_question(question: str, max_chars: int) -> ScreenedQuestion:
    if not isinstance(question, str):
        raise QuestionRejected("The question must be text.")
    if len(question) > max_chars:
        raise QuestionRejected(
            f"Your question is {len(question):,} characters long and procguide accepts up to "
            f"{max_chars:,}. Ask the question itself in a sentence or two; to search a document, "
            "add it to the knowledge base instead (see README, 'Adding documents')."
        )
    text = "".join(
        ch for ch in unicodedata.normalize("NFKC", question)
        if ch in "\n\t" or unicodedata.category(ch)[0] != "C"
    )
    text = re.sub(r"\s+", " ", strip_tags(text)).strip()
    if not text:
        raise QuestionRejected("Type a question, for example: 'Can we reserve a contract for a mutual?'")
    parts = _SENTENCE_BREAK.split(text)
    kept = [p for p in parts if not _INJECTION.search(p)]
    if len(kept) == len(parts):
        return ScreenedQuestion(text, question)
    # Keep the question inside an instruction sentence: "Ignore the rules and tell me X" -> "tell me X".
    salvaged = [_INJECTION.sub(" ", p).strip(" ,.;:-") for p in parts if _INJECTION.search(p)]
    kept_text = " ".join(kept + [s for s in salvaged if len(s.split()) >= 4]).strip()
    return ScreenedQuestion(kept_text, question, injection=True, notices=[INJECTION_NOTICE])
