"""Bring the index in line with files on disk: add new documents, replace changed ones, remove
deleted ones and skip unchanged ones, judged by content hash. A file that fails is reported and
leaves what is already indexed untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from procguide.index import Index
from procguide.ingest.document import IngestError
from procguide.ingest.loaders import load_document, supported_suffixes
from procguide.ingest.split import split_document
from procguide.passage import content_hash


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    passages: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)


@dataclass
class IngestProgress:
    """Callbacks for a progress display: a file started, and passages embedded."""

    on_file: Callable[[Path, int], None] = lambda path, passages: None
    on_embedded: Callable[[int], None] = lambda n: None


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(files to ingest, folders they came from). README files document a folder and are skipped."""
    files: list[Path] = []
    roots: list[Path] = []
    suffixes = supported_suffixes()
    for path in paths:
        path = Path(path).expanduser()
        if not path.exists():
            raise IngestError(f"{path}: no such file or folder")
        if path.is_dir():
            roots.append(path.resolve())
            files.extend(
                f for f in sorted(path.rglob("*"))
                if f.is_file() and f.suffix.lower() in suffixes and f.name.lower() != "readme.md"
                and not any(part.startswith(".") for part in f.relative_to(path).parts)
            )
        else:
            files.append(path)
    return [f.resolve() for f in files], roots


def ingest_paths(
    paths: Iterable[Path],
    index: Index,
    chunk_size: int = 1200,
    overlap: int = 150,
    progress: IngestProgress | None = None,
) -> IngestReport:
    progress = progress or IngestProgress()
    files, roots = discover(paths)
    report = IngestReport()
    manifest = index.documents()
    by_source = {rec.source: rec for rec in manifest.values()}
    seen: dict[str, Path] = {}

    for path in files:
        try:
            digest = content_hash(path.read_bytes().decode("latin-1"))
        except OSError as exc:
            report.failed.append((str(path), f"{path}: cannot be read ({exc.strerror})"))
            progress.on_file(path, 0)
            continue
        known = by_source.get(str(path))
        if known and known.consistent and digest in known.source_hashes:
            report.unchanged.append(known.doc_id)
            seen[known.doc_id] = path
            progress.on_file(path, 0)
            continue
        try:
            doc = load_document(path)
            if doc.doc_id in seen:
                raise IngestError(
                    f"{path}: doc_id '{doc.doc_id}' is already used by {seen[doc.doc_id]}; "
                    "give one of them another doc_id"
                )
            passages = split_document(doc, chunk_size, overlap)
            if not passages:
                raise IngestError(f"{path}: no text to index")
            progress.on_file(path, len(passages))
            index.replace_document(doc.doc_id, passages, progress.on_embedded)
        except IngestError as exc:
            report.failed.append((str(path), str(exc)))
            progress.on_file(path, 0)
            continue
        seen[doc.doc_id] = path
        report.passages += len(passages)
        (report.replaced if doc.doc_id in manifest else report.added).append(doc.doc_id)
        # The same file used to carry another doc_id: drop the old one.
        if known and known.doc_id != doc.doc_id and known.doc_id not in seen:
            index.delete_document(known.doc_id)
            report.removed.append(known.doc_id)

    for rec in manifest.values():
        if rec.doc_id in seen or rec.doc_id in report.removed:
            continue
        source = Path(rec.source)
        under_root = any(source == r or r in source.parents for r in roots)
        if (under_root or source in files) and not source.exists():
            index.delete_document(rec.doc_id)
            report.removed.append(rec.doc_id)
    return report
