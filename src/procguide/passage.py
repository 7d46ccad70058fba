"""The passage: a piece of a document with the metadata it carries from ingest to the screen.

Also how a passage is stored as Chroma metadata (scalars and lists only, no None).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Passage:
    id: str
    text: str
    doc_id: str
    title: str
    locator: str
    provisions: tuple[str, ...] = ()
    jurisdiction: str = ""
    doc_type: str = ""
    url: str = ""
    heading: str = ""
    in_force_from: str = ""
    superseded_by: str = ""
    superseded_from: str = ""
    page: int = 0
    position: int = 0
    source: str = ""
    source_hash: str = ""
    chunk_hash: str = field(default="")
    # "official": from the shipped knowledge/ folder and matched to its allow-list (path and
    # content hash). "local": everything else, whatever its title or front matter says.
    provenance: str = "local"

    @property
    def official(self) -> bool:
        return self.provenance == "official"

    def search_text(self) -> str:
        """What is embedded and keyword-indexed: the passage with its title and heading for context."""
        context = " · ".join(x for x in (self.title, self.locator, self.heading) if x)
        return f"{context}\n{self.text}"

    def to_metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("id", "text"):
                continue
            value = getattr(self, f.name)
            if f.name == "provisions":
                if value:
                    meta[f.name] = list(value)
            elif value not in ("", None):
                meta[f.name] = value
        return meta

    @classmethod
    def from_metadata(cls, passage_id: str, text: str, meta: dict[str, Any]) -> Passage:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in meta.items() if k in known}
        values["provisions"] = tuple(values.get("provisions") or ())
        return cls(id=passage_id, text=text, **values)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["provisions"] = list(self.provisions)
        return d


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
