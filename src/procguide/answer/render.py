"""Render an Answer for people: Markdown for the web UI, Rich-friendly text for the terminal.
Quoted text is escaped, so markup inside a document cannot reach the screen as markup.
"""

from __future__ import annotations

import html
import re

from procguide import provisions as prov
from procguide.answer.result import Answer, Citation

DISCLAIMER = (
    "procguide gives guidance drawn from its knowledge base, not legal advice. "
    "Check the cited provisions, and take legal advice on decisions that depend on them."
)


def source_line(c: Citation) -> str:
    p = c.passage
    where = p.locator if p.locator and p.locator != p.title else ""
    page = f", p. {p.page}" if p.page and "page" not in where else ""
    label = f"{p.title}" + (f" — {where}" if where else "") + page
    ids = ", ".join(prov.describe(pid) for pid in p.provisions[:3] if prov.is_well_formed(pid))
    return f"[{c.n}] {label}" + (f" ({ids})" if ids and ids not in label else "")


def escape_markdown(text: str) -> str:
    return re.sub(r"([\\`*_{}<>#|])", r"\\\1", html.unescape(text))


def context_line(answer: Answer) -> str:
    """Whom the answer was given for, and how to change it."""
    summary = answer.context.get("summary")
    if not summary:
        return ""
    return f"Answered for: {summary}. If that is not your situation, say so or change the nation or start date."


def to_markdown(answer: Answer) -> str:
    parts = [escape_markdown(answer.text).replace("\n", "\n\n")]
    if answer.context.get("summary"):
        parts.append(f"*{escape_markdown(context_line(answer))}*")
    for notice in answer.notices:
        parts.append(f"> **Note:** {escape_markdown(notice)}")
    if answer.citations:
        lines = ["**Sources**"]
        for c in answer.citations:
            line = escape_markdown(source_line(c))
            url = c.passage.url
            lines.append(f"{line} · [{_link_text(url)}]({url})" if url else line)
        parts.append("\n\n".join(lines))
    return "\n\n".join(parts)


def _link_text(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url).split("/")[0]


def to_plain(answer: Answer) -> str:
    blocks = [answer.text, *([context_line(answer)] if answer.context.get("summary") else []),
              *(f"Note: {n}" for n in answer.notices)]
    if answer.citations:
        lines = ["Sources"] + [
            source_line(c) + (f"\n    {c.passage.url}" if c.passage.url else "")
            for c in answer.citations
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
