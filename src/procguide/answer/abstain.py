"""Declining to answer: the message that says so plainly and points to the nearest topics covered."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from procguide import provisions as prov
from procguide.passage import Passage
from procguide.retrieve import Hit

# "the Care Act 2014", "the Public Contracts (Scotland) Regulations 2015": a named instrument.
_INSTRUMENT_NAME = re.compile(
    r"\b((?:[A-Z][\w'’-]*\s+|\([A-Z][\w ]*\)\s+|and\s+|of\s+|for\s+)*?"
    r"[A-Z][\w'’-]*\s+(?:\([A-Z][\w ]*\)\s+)?(?:Act|Regulations|Order|Rules|Measure)"
    r"(?:\s+\([A-Z][\w ]*\))?\s+(?:19|20)\d\d)\b"
)
_LEADING = re.compile(r"^(?:(?:Under|Does|Do|Did|Is|Are|Can|What|Which|How|When|In|The|And|Our|We|A|An)\s+)+")

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


def unheld_instruments(question: str, passages: Iterable[Passage]) -> list[str]:
    """Acts and regulations the question names that no passage mentions: the knowledge base does
    not hold them, so it cannot answer what they say."""
    names = {_LEADING.sub("", m.group(1)).strip() for m in _INSTRUMENT_NAME.finditer(question)}
    if not names:
        return []
    passages = list(passages)
    carried = {pid.split(":", 1)[0] for p in passages for pid in p.provisions}
    corpus = " ".join(re.sub(r"\s+", " ", f"{p.title} {p.text}") for p in passages).lower()
    return sorted(
        n for n in names
        if prov.instrument_named_in(n) not in carried and n.lower() not in corpus
    )


def not_held_text(names: Sequence[str], hits: Sequence[Hit]) -> str:
    named = " or ".join(n if n.lower().startswith("the ") else f"the {n}" for n in names)
    return abstention_text(hits, reason=f"The knowledge base does not hold {named}, so I can't say what it provides.")


def abstention_text(hits: Sequence[Hit], limit: int = 3, reason: str = NOT_COVERED) -> str:
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
        f"{reason} The nearest topics it does cover are: {nearest}. "
        "Try asking about one of those, naming the provision if you know it, or add documents "
        "that cover your question (see 'Adding documents' in the README)."
    )
