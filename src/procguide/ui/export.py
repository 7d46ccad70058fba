"""Exports: a conversation, or a trainer's session pack, as a Markdown file or a Word document.
One small document model and two writers; whatever came from a document, a model or a user is
written as text, and only official passages' http(s) URLs become links.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import RGBColor
from docx.text.paragraph import Paragraph

from procguide import provisions as prov
from procguide.answer.render import (
    DISCLAIMER,
    answer_markdown,
    escape_markdown,
    safe_url,
    source_line,
)
from procguide.answer.result import Answer, Citation

NOT_LAW = "Your organisation's own document, not law; it is not linked."
SUGGESTIONS_LABEL = "You could ask instead"


@dataclass(frozen=True)
class Turn:
    """A question as it was asked and the answer given to it."""

    question: str
    answer: Answer


@dataclass(frozen=True)
class ItemList:
    """A labelled bullet list: expected provisions, discussion points."""

    label: str
    items: Sequence[str]


@dataclass(frozen=True)
class Section:
    """A headed part of a document, written in this order: paragraphs (a scenario's narrative),
    question-and-answer turns, then labelled lists."""

    heading: str
    paragraphs: Sequence[str] = ()
    turns: Sequence[Turn] = ()
    lists: Sequence[ItemList] = ()


@dataclass(frozen=True)
class ExportDoc:
    title: str
    generated: datetime | date
    sections: Sequence[Section]
    context: Sequence[str] = ()  # whom and which rules the answers were given for
    disclaimer: str = DISCLAIMER


def conversation_doc(
    turns: Sequence[Turn],
    *,
    context: Sequence[str] = (),
    generated: datetime | date | None = None,
    title: str = "procguide conversation",
) -> ExportDoc:
    """A conversation, one section per question. The context is the one given (the UI's
    settings, say); without one, whom each answer was given for, once each."""
    if not context:
        summaries = (t.answer.context.get("summary") for t in turns)
        context = [f"Answered for: {s}" for s in dict.fromkeys(s for s in summaries if s)]
    sections = [Section(f"Question {i}", turns=[turn]) for i, turn in enumerate(turns, 1)]
    return ExportDoc(title, generated or datetime.now(), sections, tuple(context))


def answer_clipboard_text(answer: Answer) -> str:
    """One answer as plain text for "copy this answer": its text, whom it was for, its notices,
    every source with its official URL written out, and the disclaimer."""
    from procguide.ui.cards import clipboard_text

    return clipboard_text(answer, "en")


def file_name(doc: ExportDoc, extension: str) -> str:
    """'procguide-conversation-2026-03-03.md': the title as a slug, and the date."""
    slug = re.sub(r"[^a-z0-9]+", "-", doc.title.lower()).strip("-")[:60] or "procguide"
    day = doc.generated.date() if isinstance(doc.generated, datetime) else doc.generated
    return f"{slug}-{day.isoformat()}.{extension.lstrip('.')}"


def date_line(generated: datetime | date) -> str:
    day = f"{generated.day} {generated:%B %Y}"
    at = f" at {generated:%H:%M}" if isinstance(generated, datetime) else ""
    return f"Exported on {day}{at}"


def assumed_context(answer: Answer) -> str:
    """Whom the answer was given for, as a file keeps it (the UI's line also says how to change it)."""
    summary = _one_line(answer.context.get("summary") or "")
    return f"Answered for: {summary}." if summary else ""


def source_details(c: Citation) -> str:
    """What a source is beyond its line: the instrument and jurisdiction of an official passage,
    and what replaced it; for a local document, that it is not law."""
    p = c.passage
    if not p.official:
        return NOT_LAW
    ids = (prov.parse(pid).instrument for pid in p.provisions if prov.is_well_formed(pid))
    names = [prov.INSTRUMENTS[i].title for i in dict.fromkeys(ids) if i in prov.INSTRUMENTS]
    parts = [f"Instrument: {', '.join(names)}"] if names else []
    if p.jurisdiction:
        parts.append(f"Jurisdiction: {p.jurisdiction}")
    if p.superseded_by:
        new = prov.INSTRUMENTS.get(p.superseded_by.split(":")[0])
        when = f" from {p.superseded_from}" if p.superseded_from else ""
        parts.append(f"Superseded by {new.short if new else p.superseded_by}{when}")
    return " · ".join(parts)


def source_url(c: Citation) -> str:
    """The link of a source: a validated http(s) URL of an official passage, else ''."""
    return safe_url(c.passage.url) if c.passage.official else ""


# Markdown ------------------------------------------------------------------------------------

def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _md_line(text: str) -> str:
    return escape_markdown(_one_line(text))


def _md_quote(markdown: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in markdown.split("\n"))


def _md_bullets(label: str, items: Sequence[str]) -> str:
    return f"**{_md_line(label)}**\n\n" + "\n".join(f"- {_md_line(i)}" for i in items)


def _md_source(c: Citation) -> str:
    # Links are built here only, from validated http(s) URLs of official passages; the URL is
    # also the visible text, so a printed copy keeps it.
    lines = [answer_markdown(_one_line(source_line(c)))]
    if details := source_details(c):
        lines.append(_md_line(details))
    if url := source_url(c):
        lines.append(f"[{escape_markdown(url)}]({url})")
    return "- " + "  \n  ".join(lines)


def answer_markdown_block(answer: Answer) -> str:
    """One answer for a Markdown file: text with [n] markers, whom it was for, notices,
    suggestions, and its sources with their full URLs."""
    parts = [answer_markdown(answer.text.strip()).replace("\n", "\n\n")]
    if line := assumed_context(answer):
        parts.append(f"*{_md_line(line)}*")
    parts += [_md_quote(f"**Note:** {escape_markdown(n)}") for n in answer.notices]
    if answer.suggestions:
        parts.append(_md_bullets(SUGGESTIONS_LABEL, answer.suggestions))
    if answer.citations:
        parts.append("**Sources**\n\n" + "\n".join(_md_source(c) for c in answer.citations))
    return "\n\n".join(parts)


def to_markdown_file(doc: ExportDoc) -> str:
    out = [f"# {_md_line(doc.title)}", escape_markdown(date_line(doc.generated))]
    if doc.context:
        out.append(_md_bullets("Context", doc.context))
    out.append(f"*{_md_line(doc.disclaimer)}*")
    for section in doc.sections:
        out += ["---", f"## {_md_line(section.heading)}"]
        out += [escape_markdown(p.strip()).replace("\n", "  \n") for p in section.paragraphs]
        for turn in section.turns:
            out += ["**Question**", _md_quote(escape_markdown(turn.question.strip())),
                    "**Answer**", answer_markdown_block(turn.answer)]
        out += [_md_bullets(lst.label, lst.items) for lst in section.lists if lst.items]
    return "\n\n".join(out) + "\n"


# Word ----------------------------------------------------------------------------------------

# Characters XML 1.0 cannot hold (python-docx refuses them); tab, newline and return stay.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
LINK_COLOUR = RGBColor(0x05, 0x63, 0xC1)


def _xml(text: str) -> str:
    return _NOT_XML.sub("", str(text))


def add_hyperlink(paragraph: Paragraph, url: str) -> None:
    """A real hyperlink whose visible text is the URL itself. python-docx writes runs only, so
    an ordinary run is moved into a w:hyperlink pointing at an external relationship. `url`
    must already be one of `safe_url`'s."""
    r_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    run = paragraph.add_run(url)
    run.font.underline = True
    run.font.color.rgb = LINK_COLOUR
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run._r.addprevious(link)
    link.append(run._r)


def _label(d: DocxDocument, text: str) -> None:
    d.add_paragraph().add_run(_xml(text)).bold = True


def _bullets(d: DocxDocument, label: str, items: Sequence[str]) -> None:
    _label(d, label)
    for item in items:
        d.add_paragraph(_xml(_one_line(item)), style="List Bullet")


def _docx_source(d: DocxDocument, c: Citation) -> None:
    paragraph = d.add_paragraph(style="List Bullet")
    paragraph.add_run(_xml(_one_line(source_line(c))))
    if details := source_details(c):
        paragraph.add_run().add_break()
        paragraph.add_run(_xml(details))
    if url := source_url(c):
        paragraph.add_run().add_break()
        add_hyperlink(paragraph, url)


def _docx_answer(d: DocxDocument, answer: Answer) -> None:
    for line in answer.text.strip().split("\n"):
        if line.strip():
            d.add_paragraph(_xml(line))
    if line := assumed_context(answer):
        d.add_paragraph().add_run(_xml(line)).italic = True
    for notice in answer.notices:
        paragraph = d.add_paragraph()
        paragraph.add_run("Note: ").bold = True
        paragraph.add_run(_xml(notice))
    if answer.suggestions:
        _bullets(d, SUGGESTIONS_LABEL, answer.suggestions)
    if answer.citations:
        _label(d, "Sources")
        for c in answer.citations:
            _docx_source(d, c)


def to_docx(doc: ExportDoc, target: str | Path | IO[bytes]) -> None:
    """Write `doc` as a Word document to a path or a binary stream. Every text is a plain run:
    nothing in it is read as markup or as a field."""
    d = Document()
    props = d.core_properties
    props.title, props.author, props.comments = _xml(_one_line(doc.title)), "procguide", ""
    if isinstance(doc.generated, datetime):
        props.created = props.modified = doc.generated
    d.add_heading(_xml(_one_line(doc.title)), 0)
    d.add_paragraph(date_line(doc.generated))
    if doc.context:
        _bullets(d, "Context", doc.context)
    d.add_paragraph().add_run(_xml(doc.disclaimer)).italic = True
    for section in doc.sections:
        d.add_heading(_xml(_one_line(section.heading)), 1)
        for text in section.paragraphs:
            d.add_paragraph(_xml(text.strip()))
        for turn in section.turns:
            _label(d, "Question")
            d.add_paragraph(_xml(turn.question.strip()), style="Quote")
            _label(d, "Answer")
            _docx_answer(d, turn.answer)
        for lst in section.lists:
            if lst.items:
                _bullets(d, lst.label, lst.items)
    d.save(target)


def write(doc: ExportDoc, path: Path) -> Path:
    """Write the document as its file's suffix says: .md (Markdown) or .docx (Word)."""
    if path.suffix.lower() == ".md":
        path.write_text(to_markdown_file(doc), encoding="utf-8")
    else:
        to_docx(doc, path)
    return path


DOWNLOADS_KEPT_S = 3600


def download_file(doc: ExportDoc, kind: str, folder: Path | None = None) -> Path:
    """The document written for the web UI to offer as a download: each in a new temporary folder
    (two users never share a file) under one owner-only folder, where downloads older than an hour
    are removed (Gradio serves its own copy)."""
    import shutil
    import tempfile
    import time

    base = folder or Path(tempfile.gettempdir()) / "procguide-exports"
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    cutoff = time.time() - DOWNLOADS_KEPT_S
    for old in base.iterdir():
        try:
            if old.is_dir() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue
    return write(doc, Path(tempfile.mkdtemp(dir=base)) / file_name(doc, kind))
