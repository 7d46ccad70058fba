"""A loaded document before splitting: its metadata and its text as a sequence of blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

JURISDICTIONS = ("EU", "UK", "England", "Wales")
DOC_TYPES = ("legislation", "guidance", "report", "note", "document")


class IngestError(Exception):
    """A document that cannot be ingested; the message says what is wrong and what to do."""


@dataclass
class Block:
    """A paragraph, list item, table row or heading, in reading order."""

    text: str
    level: int | None = None  # heading level for explicit headings (Markdown #, HTML <h2>)
    page: int = 0
    provisions: tuple[str, ...] = ()  # section-level tags (Markdown `<!-- provisions: ... -->`)


@dataclass
class SourceDocument:
    path: Path
    source_hash: str
    doc_id: str
    title: str
    blocks: list[Block]
    jurisdiction: str = ""
    doc_type: str = "document"
    url: str = ""
    provisions: tuple[str, ...] = ()
    instrument: str | None = None  # the instrument whose Articles/Regulations/Sections the text holds
    in_force_from: str = ""
    superseded_by: str = ""
    superseded_from: str = ""
    provenance: str = "local"  # "official" only when matched to the allow-list (see pipeline.py)
    extra: dict[str, object] = field(default_factory=dict)
