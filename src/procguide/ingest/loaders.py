"""One loader per format: Markdown with front matter, plain text, HTML and PDF, each to a SourceDocument.

Loaders read and clean text; they do not split it into passages (see split.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from procguide import provisions as prov
from procguide.ingest.document import DOC_TYPES, JURISDICTIONS, Block, IngestError, SourceDocument
from procguide.ingest.html import html_to_blocks, strip_tags
from procguide.ingest.structure import starts_unit
from procguide.passage import content_hash

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_PROVISIONS_TAG_RE = re.compile(r"<!--\s*provisions\s*:\s*(.*?)\s*-->", re.IGNORECASE | re.DOTALL)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)


def supported_suffixes() -> tuple[str, ...]:
    return tuple(LOADERS)


def load_document(path: Path) -> SourceDocument:
    """Load one file; raise IngestError with a message a user can act on."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise IngestError(
            f"{path}: procguide cannot read '{path.suffix}' files; "
            f"save it as one of {', '.join(LOADERS)}"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read ({exc.strerror})") from exc
    if not data.strip():
        raise IngestError(f"{path}: the file is empty")
    return loader(path, data)


def _decode(path: Path, data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise IngestError(f"{path}: the text is not UTF-8; save it as UTF-8 and ingest it again")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "document"


# --- Markdown ---------------------------------------------------------------------------------

def load_markdown(path: Path, data: bytes) -> SourceDocument:
    try:
        post = frontmatter.loads(_decode(path, data))
    except yaml.YAMLError as exc:
        raise IngestError(f"{path}: the front matter is not valid YAML ({exc})") from exc
    meta: dict[str, Any] = dict(post.metadata)
    blocks = _markdown_blocks(path, post.content)
    title = str(meta.get("title") or next((b.text for b in blocks if b.level == 1), path.stem))
    doc = SourceDocument(
        path=path,
        source_hash=content_hash(data.decode("utf-8", "replace")),
        doc_id=str(meta.get("doc_id") or _slug(path.stem)),
        title=title,
        blocks=blocks,
        doc_type=str(meta.get("doc_type") or "note"),
    )
    _apply_front_matter(doc, meta)
    return doc


def _markdown_blocks(path: Path, content: str) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        text = strip_tags("\n".join(paragraph)).strip()
        if text:
            blocks.append(Block(text))
        paragraph.clear()

    for line in content.splitlines():
        tag = _PROVISIONS_TAG_RE.search(line)
        if tag:
            ids = _provision_list(path, tag.group(1))
            if blocks and blocks[-1].level is not None and not paragraph:
                blocks[-1].provisions = tuple(ids)
            else:
                raise IngestError(
                    f"{path}: a '<!-- provisions: ... -->' line must come right under a heading"
                )
            continue
        heading = _HEADING_RE.match(line)
        if heading:
            flush()
            blocks.append(Block(strip_tags(heading.group(2)), level=len(heading.group(1))))
        elif not line.strip():
            flush()
        else:
            paragraph.append(_COMMENT_RE.sub("", line))
    flush()
    return blocks


def _provision_list(path: Path, value: Any) -> list[str]:
    items = value if isinstance(value, list) else re.split(r"[,\s]+", str(value))
    ids = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        try:
            ids.append(str(prov.parse(item)))
        except ValueError as exc:
            raise IngestError(f"{path}: {exc}") from exc
    return ids


def _as_text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return "" if value is None else str(value)


def _apply_front_matter(doc: SourceDocument, meta: dict[str, Any]) -> None:
    path = doc.path
    jurisdiction = _as_text(meta.get("jurisdiction"))
    if jurisdiction and jurisdiction not in JURISDICTIONS:
        raise IngestError(
            f"{path}: jurisdiction '{jurisdiction}' is not one of {', '.join(JURISDICTIONS)}"
        )
    if doc.doc_type not in DOC_TYPES:
        raise IngestError(f"{path}: doc_type '{doc.doc_type}' is not one of {', '.join(DOC_TYPES)}")
    doc.jurisdiction = jurisdiction
    doc.url = _as_text(meta.get("url"))
    doc.provisions = tuple(_provision_list(path, meta.get("provisions") or []))
    doc.in_force_from = _as_text(meta.get("in_force_from"))
    doc.superseded_by = _as_text(meta.get("superseded_by"))
    doc.superseded_from = _as_text(meta.get("superseded_from"))
    instrument = _as_text(meta.get("instrument"))
    doc.instrument = instrument or None
    doc.extra = {k: v for k, v in meta.items() if k in ("sources", "updated")}


# --- plain text and PDF -----------------------------------------------------------------------

def load_text(path: Path, data: bytes) -> SourceDocument:
    text = _decode(path, data)
    blocks: list[Block] = []
    for para in re.split(r"\n\s*\n", text):
        blocks.extend(blocks_from_lines(para.splitlines(), page=0))
    return _plain_document(path, data, blocks, title=None)


def load_pdf(path: Path, data: bytes) -> SourceDocument:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise IngestError(f"{path}: the PDF is password-protected; save an unprotected copy")
        blocks: list[Block] = []
        first_line = ""
        for number, page in enumerate(reader.pages, start=1):
            lines = (page.extract_text() or "").splitlines()
            first_line = first_line or next((ln.strip() for ln in lines if ln.strip()), "")
            blocks.extend(blocks_from_lines(lines, page=number))
        title = (reader.metadata.title if reader.metadata else None) or first_line[:150] or None
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise IngestError(
            f"{path}: the PDF is damaged or not a PDF ({type(exc).__name__}); "
            "open it in a PDF reader, save a new copy and ingest that"
        ) from exc
    if not any(b.text.strip() for b in blocks):
        raise IngestError(
            f"{path}: the PDF has no text layer (it may be a scan); run OCR on it first"
        )
    return _plain_document(path, data, blocks, title=title)


def blocks_from_lines(lines: list[str], page: int) -> list[Block]:
    """Join wrapped lines into paragraphs, starting a new one at each heading or numbered paragraph."""
    blocks: list[Block] = []
    current: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if current and starts_unit(line):
            blocks.append(Block(_join_wrapped(current), page=page))
            current = []
        current.append(line)
    if current:
        blocks.append(Block(_join_wrapped(current), page=page))
    return blocks


def _join_wrapped(lines: list[str]) -> str:
    text = ""
    for line in lines:
        if text.endswith("-") and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return text


# --- HTML -------------------------------------------------------------------------------------

def load_html(path: Path, data: bytes) -> SourceDocument:
    title, blocks = html_to_blocks(_decode(path, data))
    if not blocks:
        raise IngestError(f"{path}: the page holds no readable text")
    return _plain_document(path, data, blocks, title=title)


def _plain_document(path: Path, data: bytes, blocks: list[Block], title: str | None) -> SourceDocument:
    """Metadata for a document without front matter: recognise the instrument from its opening text."""
    if not title:
        title = next((b.text for b in blocks if len(b.text) < 200), path.stem)
    opening = " ".join([title] + [b.text for b in blocks[:8]])[:3000]
    instrument = prov.instrument_named_in(title) or prov.instrument_named_in(opening)
    known = prov.INSTRUMENTS.get(instrument) if instrument else None
    doc = SourceDocument(
        path=path,
        source_hash=content_hash(data.decode("latin-1")),
        doc_id=_slug(path.stem),
        title=(known.title if known and known.part_kinds else title.strip())[:300],
        blocks=blocks,
        doc_type="legislation" if known and known.part_kinds else "document",
        instrument=instrument,
    )
    sidecar = path.with_name(path.name + ".yaml")
    meta: dict[str, Any] = {}
    if known:
        meta = {"jurisdiction": known.jurisdiction, "url": known.url}
        if known.superseded_by:
            meta["superseded_by"] = known.superseded_by
            meta["superseded_from"] = known.superseded_from
    if sidecar.exists():
        try:
            meta.update(yaml.safe_load(sidecar.read_text("utf-8")) or {})
        except yaml.YAMLError as exc:
            raise IngestError(f"{sidecar}: not valid YAML ({exc})") from exc
        doc.doc_id = str(meta.get("doc_id") or doc.doc_id)
        doc.title = str(meta.get("title") or doc.title)
        doc.doc_type = str(meta.get("doc_type") or doc.doc_type)
    _apply_front_matter(doc, meta)
    doc.instrument = doc.instrument or instrument
    return doc


LOADERS: dict[str, Callable[[Path, bytes], SourceDocument]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
}
