"""One loader per format: Markdown with front matter, plain text, HTML and PDF, each to a SourceDocument.

Loaders read and clean text; they do not split it into passages (see split.py).
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import frontmatter
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from procguide import provisions as prov
from procguide import yamlfile
from procguide.ingest.document import DOC_TYPES, JURISDICTIONS, Block, IngestError, SourceDocument
from procguide.ingest.html import html_to_blocks, strip_tags
from procguide.ingest.provenance import LOCAL, OfficialSources, bytes_hash
from procguide.ingest.structure import starts_unit

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_PROVISIONS_TAG_RE = re.compile(r"<!--\s*provisions\s*:\s*(.*?)\s*-->", re.IGNORECASE | re.DOTALL)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)


def supported_suffixes() -> tuple[str, ...]:
    return tuple(LOADERS)


DEFAULT_MAX_FILE_MB = 20.0


def load_document(
    path: Path, official: OfficialSources | None = None, max_file_mb: float = DEFAULT_MAX_FILE_MB
) -> SourceDocument:
    """Load one file; raise IngestError with a message a user can act on. The document is
    official only when `official` (the allow-list) lists its path with its exact bytes."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise IngestError(
            f"{path}: procguide cannot read '{path.suffix}' files; "
            f"save it as one of {', '.join(LOADERS)}"
        )
    data = read_source(path, max_file_mb)
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise IngestError(f"{path}: the file is empty")
    doc = loader(path, data)
    # Whatever a loader or the front matter set, provenance comes from the allow-list alone.
    doc.provenance = official.provenance_of(path, bytes_hash(data)) if official else LOCAL
    doc.title = doc.title.replace("\x00", "")
    for block in doc.blocks:
        block.text = block.text.replace("\x00", "")
    doc.blocks = [b for b in doc.blocks if b.text.strip()]
    return doc


def read_source(path: Path, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> bytes:
    """The file's bytes, after checking its size from the file system (before reading it)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read ({exc.strerror})") from exc
    if size > max_file_mb * 1024 * 1024:
        raise IngestError(
            f"{path}: the file is {size / (1024 * 1024):.1f} MB, larger than the "
            f"{max_file_mb:g} MB limit (PROCGUIDE_MAX_FILE_MB); split it into smaller files "
            "or raise PROCGUIDE_MAX_FILE_MB"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read ({exc.strerror})") from exc


def sidecar_of(path: Path) -> Path:
    """The metadata file beside a PDF, HTML or text file: `guide.pdf.yaml`."""
    return path.with_name(path.name + ".yaml")


def document_fingerprint(path: Path, data: bytes) -> str:
    """The one hash of a document, stored as source_hash and compared on re-ingest: sha256 of
    the file's bytes, and of its sidecar metadata file's bytes when it has one."""
    digest = hashlib.sha256(data)
    sidecar = sidecar_of(path)
    if path.suffix.lower() not in (".md", ".markdown") and sidecar.is_file():
        digest.update(b"\0sidecar\0")
        try:
            digest.update(sidecar.read_bytes())
        except OSError as exc:
            raise IngestError(f"{sidecar}: cannot be read ({exc.strerror})") from exc
    return digest.hexdigest()


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode(path: Path, data: bytes) -> str:
    """Text from bytes: a byte-order mark decides, else UTF-16 recognised by its NUL bytes, else
    UTF-8, else Windows-1252. NUL characters never survive."""
    candidates = [enc for bom, enc in _BOMS if data.startswith(bom)][:1]
    if not candidates:
        candidates = [enc for enc in (_utf16_without_bom(data),) if enc]
    candidates += ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            return data.decode(encoding).replace("\x00", "")
        except UnicodeDecodeError:
            continue
    raise IngestError(f"{path}: the text is not UTF-8; save it as UTF-8 and ingest it again")


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when NUL bytes fall on one side of most byte pairs, as they
    do in UTF-16 text that is mostly Latin script."""
    sample = data[: 4096 - 4096 % 2] if len(data) >= 2 else b""
    sample = sample[: len(sample) - len(sample) % 2]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    odd = sample[1::2].count(0) / pairs
    even = sample[0::2].count(0) / pairs
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "document"


# --- Markdown ---------------------------------------------------------------------------------

def load_markdown(path: Path, data: bytes) -> SourceDocument:
    try:
        post = frontmatter.loads(_decode(path, data))
    except yaml.YAMLError as exc:
        raise IngestError(f"{path}: the front matter is not valid YAML ({exc})") from exc
    meta: dict[str, Any] = dict(post.metadata)
    front = _front_matter(path, meta)
    blocks = _markdown_blocks(path, _drop_hidden_html(post.content))
    title = front.title or next((b.text for b in blocks if b.level == 1), path.stem)
    doc = SourceDocument(
        path=path,
        source_hash=document_fingerprint(path, data),
        doc_id=front.doc_id or _slug(path.stem),
        title=title,
        blocks=blocks,
        doc_type=front.doc_type or "note",
    )
    _apply_front_matter(doc, meta)
    return doc


# Comments (other than `<!-- provisions: ... -->` tags) and scripts may span blank lines, which
# split a note into paragraphs: remove them from the whole text first, as a Markdown renderer
# would (an unclosed one runs to the end).
_HIDDEN_HTML_RE = re.compile(
    r"<!--(?!\s*provisions\s*:).*?(?:-->|\Z)"
    r"|<(script|style|noscript|template|iframe|object|embed|svg|canvas)\b.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)


def _drop_hidden_html(content: str) -> str:
    return _HIDDEN_HTML_RE.sub("", content)


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


def _web_address(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"'{value[:80]}' is not a web address; give an http:// or https:// one")
    return value.strip()


def _iso_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"'{value}' is not a date; write it as YYYY-MM-DD")


class SourceRef(BaseModel):
    """One entry of a note's `sources:` list."""

    model_config = ConfigDict(extra="ignore")
    title: str = Field(min_length=1)
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return _web_address(v)


class FrontMatter(BaseModel):
    """The metadata a note's front matter (or a sidecar `.yaml`) may set. Unknown keys are
    ignored; provenance is not among the fields: only the allow-list makes a document official."""

    model_config = ConfigDict(extra="ignore", strict=False)
    doc_id: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9._-]{0,199}$")
    title: str | None = Field(None, min_length=1, max_length=300)
    jurisdiction: str | None = None
    doc_type: str | None = None
    url: str | None = None
    provisions: list[str] = Field(default_factory=list)
    instrument: str | None = None
    in_force_from: date | None = None
    superseded_by: str | None = None
    superseded_from: date | None = None
    updated: date | None = None
    sources: list[SourceRef] = Field(default_factory=list)

    @field_validator("jurisdiction", "doc_type")
    @classmethod
    def _one_of(cls, v: str | None, info: ValidationInfo) -> str | None:
        allowed = {"jurisdiction": JURISDICTIONS, "doc_type": DOC_TYPES}[info.field_name]
        if v and v not in allowed:
            raise ValueError(f"'{v}' is not one of {', '.join(allowed)}")
        return v or None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return _web_address(v)

    @field_validator("provisions", mode="before")
    @classmethod
    def _provisions(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, str):  # "a, b" or "a b" as well as [a, b]
            return [item for item in re.split(r"[,\s]+", v) if item]
        return v

    @field_validator("in_force_from", "superseded_from", "updated", mode="before")
    @classmethod
    def _dates(cls, v: Any) -> date | None:
        return _iso_date(v)


def _front_matter(path: Path, meta: dict[str, Any]) -> FrontMatter:
    try:
        return FrontMatter.model_validate(meta)
    except ValidationError as exc:
        problems = "; ".join(
            f"'{'.'.join(str(p) for p in e['loc'])}': {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise IngestError(f"{path}: the metadata field {problems}; correct it and ingest again") from exc


def _apply_front_matter(doc: SourceDocument, meta: dict[str, Any]) -> None:
    path = doc.path
    front = _front_matter(path, meta)
    if doc.doc_type not in DOC_TYPES:
        raise IngestError(f"{path}: doc_type '{doc.doc_type}' is not one of {', '.join(DOC_TYPES)}")
    doc.jurisdiction = front.jurisdiction or ""
    doc.url = front.url or ""
    doc.provisions = tuple(_provision_list(path, front.provisions))
    doc.in_force_from = front.in_force_from.isoformat() if front.in_force_from else ""
    doc.superseded_by = front.superseded_by or ""
    doc.superseded_from = front.superseded_from.isoformat() if front.superseded_from else ""
    doc.instrument = front.instrument or None
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
    # The document keeps its own title and gets no address from the catalogue: naming an
    # instrument does not make a file that instrument's official text (see provenance.py).
    doc = SourceDocument(
        path=path,
        source_hash=document_fingerprint(path, data),
        doc_id=_slug(path.stem),
        title=title.strip()[:300] or path.name,
        blocks=blocks,
        doc_type="legislation" if known and known.part_kinds else "document",
        instrument=instrument,
    )
    sidecar = sidecar_of(path)
    meta: dict[str, Any] = {}
    if known:
        meta = {"jurisdiction": known.jurisdiction}
        if known.superseded_by:
            meta["superseded_by"] = known.superseded_by
            meta["superseded_from"] = known.superseded_from
    if sidecar.exists():
        try:
            extra = yamlfile.safe_load(sidecar.read_text("utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise IngestError(f"{sidecar}: not valid YAML ({exc})") from exc
        if not isinstance(extra, dict):
            raise IngestError(f"{sidecar}: must hold 'field: value' lines, like a note's front matter")
        meta.update(extra)
        front = _front_matter(sidecar, meta)
        doc.doc_id = front.doc_id or doc.doc_id
        doc.title = front.title or doc.title
        doc.doc_type = front.doc_type or doc.doc_type
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
