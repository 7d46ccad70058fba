"""Declining to answer: the reply that says so plainly, says why, and offers the nearest topics
the knowledge base does cover as questions the user can ask next."""

from __future__ import annotations

import re
from collections.abc import Sequence

from procguide import provisions as prov
from procguide.corpus import Corpus
from procguide.retrieve import Hit
from procguide.vocabulary import Vocabulary

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
SCOTLAND = (
    "I can't answer that for Scotland: procguide does not hold Scotland's procurement rules "
    "(the Procurement Reform (Scotland) Act 2014 and the Public Contracts (Scotland) Regulations "
    "2015), which govern devolved Scottish bodies. It covers England, Wales and Northern Ireland."
)


def out_of_scope_reason(reasons: Sequence[str]) -> str:
    what = " and ".join(dict.fromkeys(reasons))
    return (
        f"I can't answer that from the knowledge base: it does not cover {what}. procguide covers "
        "the procurement rules for commissioning health and social care with social business models."
    )


def unheld_instruments(question: str, corpus: Corpus) -> list[str]:
    """Acts and regulations the question names that no passage mentions: the knowledge base does
    not hold them, so it cannot answer what they say."""
    names = {_LEADING.sub("", m.group(1)).strip() for m in _INSTRUMENT_NAME.finditer(question)}
    if not names:
        return []
    carried = corpus.instruments
    return sorted(
        n for n in names
        if prov.instrument_named_in(n) not in carried
        and not (prov.instruments_named(n) & set(prov.INSTRUMENTS))
        and not corpus.mentions(n)
    )


def unheld_provisions(references: Sequence[prov.Reference], corpus: Corpus) -> list[str]:
    """The provisions a question names ('Article 999', 'section 250 of the Procurement Act') when
    no passage carries any of them, described for the reader; empty if any one is held."""
    named = [r for r in references if r.part]
    if not named:
        return []
    # "Article 77(2)" is held when Article 77 is.
    whole = [prov.Reference(r.instrument, (r.part or "").split("(")[0]) for r in named]
    if any(r.matches(pid) for r in whole for pid, _ in corpus.carrying_part(r.instrument, r.part or "")):
        return []
    return [_provision_name(r) for r in named]


def _provision_name(ref: prov.Reference) -> str:
    kind, _, number = (ref.part or "").partition("-")
    word = {"art": "Article", "reg": "regulation", "s": "section", "sch": "Schedule",
            "recital": "recital", "annex": "Annex"}.get(kind, kind)
    where = prov.INSTRUMENTS[ref.instrument].short if ref.instrument in prov.INSTRUMENTS else ""
    if where and not where.startswith(("PCR", "Directive")):
        where = f"the {where}"
    return f"{word} {number}" + (f" of {where}" if where else "")


def provision_not_held_reason(names: Sequence[str]) -> str:
    return (f"The knowledge base holds no {' or '.join(names)}, so I can't say what it provides; "
            "check the provision number, or ask about the topic instead.")


def not_held_reason(names: Sequence[str]) -> str:
    named = " or ".join(n if n.lower().startswith("the ") else f"the {n}" for n in names)
    return f"The knowledge base does not hold {named}, so I can't say what it provides."


def suggestions(hits: Sequence[Hit], vocabulary: Vocabulary, limit: int = 3) -> list[str]:
    """Questions about the nearest topics covered: the vocabulary's question for each concept the
    nearest passages are about, else the passage's own topic."""
    out: list[str] = []
    for hit in hits:
        p = hit.passage
        ask = vocabulary.question_about(p.provisions)
        if ask:
            question = ask
        else:
            topic = p.heading or p.title
            question = f"What does the knowledge base say about {topic[:1].lower() + topic[1:]}?"
        if question not in out:
            out.append(question)
        if len(out) == limit:
            break
    return out


def decline_text(reason: str, offers: Sequence[str], filtered_out: bool = False) -> str:
    if filtered_out:
        return NOTHING_IN_SCOPE
    if not offers:
        return reason
    asked = " ".join(f"“{q}”" for q in offers)
    return f"{reason} You could ask instead: {asked}"
