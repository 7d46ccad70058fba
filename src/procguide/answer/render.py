"""Render an Answer for people: Markdown for the web UI, Rich-friendly text for the terminal.
Quoted text is escaped, so markup inside a document cannot reach the screen as markup.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from procguide import provisions as prov
from procguide.answer.result import Answer, Citation

# The English of these lines; ui/strings.py holds them in Welsh too, and takes its English from here.
DISCLAIMER = (
    "procguide gives guidance drawn from its knowledge base, not legal advice. "
    "Check the cited provisions, and take legal advice on decisions that depend on them."
)
ANSWERED_FOR = "Answered for: {summary}."
HOW_TO_CHANGE = "If that is not your situation, say so or change the nation or start date."


LOCAL_LABEL = "your organisation's document"


def source_line(c: Citation) -> str:
    p = c.passage
    if not p.official:
        # Not law, whatever its title says: its own file name first (a title can imitate the law),
        # then its title, and no official link.
        file_name = Path(p.source).name or p.doc_id
        title = p.title if len(p.title) <= 80 else p.title[:79].rstrip() + "…"
        name = f"{file_name}: {title}" if title and title not in (file_name, Path(file_name).stem) else file_name
        where = p.locator if p.locator and p.locator not in (p.title, name) else ""
        return f"[{c.n}] {name}" + (f" — {where}" if where else "") + f" ({LOCAL_LABEL})"
    where = p.locator if p.locator and p.locator != p.title else ""
    page = f", p. {p.page}" if p.page and "page" not in where else ""
    label = f"{p.title}" + (f" — {where}" if where else "") + page
    ids = ", ".join(prov.describe(pid) for pid in p.provisions[:3] if prov.is_well_formed(pid))
    return f"[{c.n}] {label}" + (f" ({ids})" if ids and ids not in label else "")


# With [ and ] escaped no link or image can open, so ( ) and ! may stay as they are (locators
# such as "Section 33(1)" read as written).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&@$])")


def escape_markdown(text: str) -> str:
    """Text shown as text: every character Markdown or HTML could read as markup (links, images,
    tags, entities, emphasis, autolinks) is escaped; line starts cannot open a list or quote."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", html.unescape(text))
    text = re.sub(r"(?i)\b(www)\.", r"\1\\.", text)  # no autolinks: "www\.", "https\://"
    text = text.replace("://", "\\://")
    return re.sub(r"(?m)^(\s*(?:\d+)?)([-+=.)])", r"\1\\\2", text)


def answer_markdown(text: str) -> str:
    """Answer text escaped, with procguide's own [n] markers (the only ones left after the
    compose stage strips quoted ones) kept readable."""
    return re.sub(r"\\\[(\d{1,3})\\\](?![(:])", r"[\1]", escape_markdown(text))


def safe_url(url: str) -> str:
    """An http(s) URL, percent-encoded where needed, or '' for anything else."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "\\" in url:
        return ""
    if not parts.netloc.isascii() or re.search(r"[\s<>\"'`@]", parts.netloc):
        return ""
    return urlunsplit((
        parts.scheme.lower(), parts.netloc,
        quote(parts.path, safe="/%:@!$&'*+,;=-._~"), quote(parts.query, safe="=&%+-._~/"),
        quote(parts.fragment, safe="%-._~/"),
    )).replace("(", "%28").replace(")", "%29")


def context_line(answer: Answer) -> str:
    """Whom the answer was given for, and how to change it."""
    summary = answer.context.get("summary")
    if not summary:
        return ""
    return f"{ANSWERED_FOR.format(summary=summary)} {HOW_TO_CHANGE}"


def to_markdown(answer: Answer) -> str:
    parts = [answer_markdown(answer.text).replace("\n", "\n\n")]
    if answer.context.get("summary"):
        parts.append(f"*{escape_markdown(context_line(answer))}*")
    for notice in answer.notices:
        parts.append(f"> **Note:** {escape_markdown(notice)}")
    if answer.citations:
        lines = ["**Sources**"]
        for c in answer.citations:
            line = answer_markdown(source_line(c))
            # Links are built here only, from validated http(s) URLs of official passages.
            url = safe_url(c.passage.url) if c.passage.official else ""
            lines.append(f"{line} · [{escape_markdown(_link_text(url))}]({url})" if url else line)
        parts.append("\n\n".join(lines))
    return "\n\n".join(parts)


def _link_text(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url).split("/")[0]


def to_plain(answer: Answer) -> str:
    blocks = [answer.text, *([context_line(answer)] if answer.context.get("summary") else []),
              *(f"Note: {n}" for n in answer.notices)]
    if answer.citations:
        lines = ["Sources"] + [
            source_line(c) + (f"\n    {safe_url(c.passage.url)}" if c.passage.official and safe_url(c.passage.url) else "")
            for c in answer.citations
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


WITHHELD_REASONS = {
    "uncited": "cites no source",
    "invalid-marker": "cites a source that was not given",
    "unsupported": "its cited source does not say this",
    "over-limit": "past the sentence limit",
    "heading": "only repeats a source's heading",
}


def withheld_plain(answer: Answer) -> str:
    """The debug view: what the model wrote that was not shown, and why. Never guidance."""
    if not answer.withheld:
        return "Nothing the language model wrote was withheld."
    lines = [f"Withheld from the answer ({len(answer.withheld)}), not guidance:"]
    lines += [f"- {w.sentence}  ({WITHHELD_REASONS.get(w.reason, w.reason)})" for w in answer.withheld]
    if answer.dropped_markers:
        lines.append("Markers that pointed to no source: " + ", ".join(f"[{n}]" for n in answer.dropped_markers))
    return "\n".join(lines)
