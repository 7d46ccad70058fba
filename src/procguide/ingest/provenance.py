"""Which documents are official: the notes shipped in the knowledge folder, unchanged. The
allow-list (knowledge/official.yaml) maps each note's path, relative to the allow-list's own
folder, to the sha256 of its bytes; any other file, or an edited copy, is local.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from procguide import yamlfile
from procguide.ingest.document import IngestError

OFFICIAL = "official"
LOCAL = "local"

_HEADER = (
    "# The official notes: path (relative to this folder) -> sha256 of the file's bytes.\n"
    "# Only these files, byte for byte, are labelled official; everything else is local.\n"
    "# Made by `procguide official --write`; remake it after editing a shipped note.\n"
)


def bytes_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class OfficialSources:
    """The allow-list: `root` is the knowledge folder, `hashes` maps relative path -> sha256."""

    root: Path
    hashes: dict[str, str] = field(default_factory=dict)

    def provenance_of(self, path: Path, digest: str) -> str:
        """'official' for a file at an allow-listed path under the root with the listed hash."""
        try:
            relative = Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return LOCAL
        return OFFICIAL if self.hashes.get(relative) == digest else LOCAL


def load_official(path: Path) -> OfficialSources:
    """The allow-list at `path`; a missing file means nothing is official."""
    path = Path(path)
    if not path.exists():
        return OfficialSources(path.parent)
    try:
        data = yamlfile.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise IngestError(f"{path}: the list of official notes cannot be read ({exc})") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise IngestError(
            f"{path}: the list of official notes must map each path to a sha256; "
            "remake it with `procguide official --write`"
        )
    return OfficialSources(path.parent, dict(data))


def official_entries(knowledge_dir: Path) -> dict[str, str]:
    """What the allow-list for `knowledge_dir` should hold: every note ingest reads there."""
    from procguide.ingest.pipeline import discover

    root = Path(knowledge_dir).resolve()
    files, _ = discover([root])
    return {f.relative_to(root).as_posix(): bytes_hash(f.read_bytes()) for f in sorted(files)}


def write_official(out: Path) -> dict[str, str]:
    """Remake the allow-list at `out` from the notes in its folder, as they are now."""
    entries = official_entries(Path(out).parent)
    out.write_text(_HEADER + yaml.safe_dump(entries, sort_keys=True), encoding="utf-8")
    return entries
