"""Declining to answer: the message that says so plainly and points to the nearest topics covered."""

from __future__ import annotations

from collections.abc import Sequence

from procguide.retrieve import Hit

NOT_COVERED = (
    "I can't answer that from the knowledge base: none of its passages deals with your question "
    "closely enough to quote with confidence."
)
ONLY_QUESTIONS = (
    "I answer questions about public procurement from the knowledge base, and follow no other "
    "instructions. Ask a question, for example: 'Can we reserve a contract for a mutual?'"
)
EMPTY_INDEX = (
    "The knowledge base is empty, so there is nothing to answer from. "
    "Run `procguide ingest` (or `make run`) to build it."
)
NOTHING_IN_SCOPE = (
    "I can't answer that from the knowledge base: none of its passages falls within the "
    "jurisdiction you chose. Choose another jurisdiction, or 'All', and ask again."
)


def abstention_text(hits: Sequence[Hit], limit: int = 3) -> str:
    topics: list[str] = []
    for hit in hits:
        p = hit.passage
        topic = p.title if p.locator in ("", p.title) else f"{p.title} ({p.locator})"
        if topic not in topics:
            topics.append(topic)
        if len(topics) == limit:
            break
    if not topics:
        # The Assistant handles an empty index itself; no hits here means a filter excluded all.
        return NOTHING_IN_SCOPE
    nearest = "; ".join(topics)
    return (
        f"{NOT_COVERED} The nearest topics it does cover are: {nearest}. "
        "Try asking about one of those, naming the provision if you know it, or add documents "
        "that cover your question (see 'Adding documents' in the README)."
    )
