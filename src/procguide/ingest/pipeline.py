"""Bring the index in line with files on disk: add new documents, replace changed ones, remove
deleted ones and skip unchanged ones, judged by content hash. A file that fails is reported and
leaves what is already indexed untouched.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from procguide.index import Index
from procguide.ingest.document import IngestError
from procguide.ingest.loaders import (
    document_fingerprint,
    load_document,
    read_source,
    supported_suffixes,
)
from procguide.ingest.provenance import bytes_hash, load_official
from procguide.ingest.split import split_document


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0  # passages embedded now (less than `passages` when a crashed run resumed)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)


@dataclass
class IngestProgress:
    """Callbacks for a progress display: a file started, and passages embedded."""

    on_file: Callable[[Path, int], None] = lambda path, passages: None
    on_embedded: Callable[[int], None] = lambda n: None


@dataclass
class Discovery:
    files: list[Path]  # resolved, each once
    roots: list[Path]  # the folders they came from
    problems: list[tuple[Path, str]]  # (path, "path: reason") for what cannot be ingested


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(files to ingest, folders they came from). README files document a folder and are skipped;
    see `scan` for what could not be looked at."""
    found = scan(paths)
    return found.files, found.roots


def scan(paths: Iterable[Path]) -> Discovery:
    """Files to ingest under `paths`, following symbolic links to folders once each; a symbolic
    link loop, a broken link or an unreadable folder or file is reported and the rest go on.
    A path given that does not exist raises IngestError."""
    files: list[Path] = []
    roots: list[Path] = []
    problems: list[tuple[Path, str]] = []
    suffixes = supported_suffixes()

    def problem(path: Path, reason: str) -> None:
        problems.append((path, f"{path}: {reason}"))

    for path in paths:
        path = Path(path).expanduser()
        if not path.exists():
            if path.is_symlink():
                raise IngestError(f"{path}: a broken symbolic link (to {os.readlink(path)})")
            raise IngestError(f"{path}: no such file or folder")
        if not path.is_dir():
            files.append(path)
            continue
        roots.append(path.resolve())
        visited = {path.resolve()}
        found: list[Path] = []

        def on_error(exc: OSError, top: Path = path) -> None:
            problem(Path(exc.filename or top), f"cannot be read ({exc.strerror})")

        for folder, dirnames, filenames in os.walk(path, onerror=on_error, followlinks=True):
            here = Path(folder)
            kept = []
            for name in sorted(dirnames):
                sub = here / name
                if name.startswith("."):
                    continue
                real = sub.resolve()
                if real in visited:
                    problem(sub, f"a symbolic link loop or a second way into {real}; skipped")
                    continue
                visited.add(real)
                kept.append(name)
            dirnames[:] = kept
            for name in filenames:
                file = here / name
                if name.startswith(".") or name.lower() == "readme.md":
                    continue
                if file.suffix.lower() not in suffixes and not file.is_symlink():
                    continue
                try:
                    target = file.resolve(strict=True)
                except FileNotFoundError:
                    problem(file, f"a broken symbolic link (to {os.readlink(file)})")
                    continue
                except (OSError, RuntimeError) as exc:
                    problem(file, f"a symbolic link loop ({getattr(exc, 'strerror', None) or exc})")
                    continue
                if target.is_dir() or file.suffix.lower() not in suffixes:
                    continue
                if not os.access(target, os.R_OK):
                    problem(file, "cannot be read (permission denied)")
                    continue
                found.append(file)
        files.extend(sorted(found))
    unique = list(dict.fromkeys(f.resolve() for f in files))
    return Discovery(unique, roots, problems)


def ingest_paths(
    paths: Iterable[Path],
    index: Index,
    chunk_size: int = 1200,
    overlap: int = 150,
    progress: IngestProgress | None = None,
    replace: bool = False,
    on_wait: Callable[[str], None] | None = None,
) -> IngestReport:
    """Bring the index in line with the files, holding the store's writer lock throughout (a second
    ingest waits). A document whose doc_id is indexed from another file that still exists is
    refused unless `replace` is set."""
    with index.write_lock(on_wait):
        return _ingest_locked(paths, index, chunk_size, overlap, progress, replace)


def _ingest_locked(
    paths: Iterable[Path],
    index: Index,
    chunk_size: int,
    overlap: int,
    progress: IngestProgress | None,
    replace: bool,
) -> IngestReport:
    progress = progress or IngestProgress()
    found = scan(paths)
    files, roots = found.files, found.roots
    report = IngestReport()
    report.failed.extend((str(p), message) for p, message in found.problems)
    official = load_official(index.settings.official_file)
    stored_provenance = {p.doc_id: p.provenance for p in index.passages()}
    max_file_mb = index.settings.max_file_mb
    manifest = index.documents()
    by_source = {rec.source: rec for rec in manifest.values()}
    seen: dict[str, Path] = {}

    for path in files:
        try:
            data = read_source(path, max_file_mb)
            digest = document_fingerprint(path, data)
            provenance = official.provenance_of(path, bytes_hash(data))
        except IngestError as exc:
            report.failed.append((str(path), str(exc)))
            progress.on_file(path, 0)
            continue
        known = by_source.get(str(path))
        if (known and known.consistent and digest in known.source_hashes
                and stored_provenance.get(known.doc_id) == provenance):  # allow-list unchanged too
            report.unchanged.append(known.doc_id)
            seen[known.doc_id] = path
            progress.on_file(path, 0)
            continue
        try:
            doc = load_document(path, official, max_file_mb)
            if doc.doc_id in seen:
                raise IngestError(
                    f"{path}: doc_id '{doc.doc_id}' is already used by {seen[doc.doc_id]}; "
                    "give one of them another doc_id"
                )
            owner = manifest.get(doc.doc_id)
            if (owner and owner.source and owner.source != str(path)
                    and Path(owner.source).exists() and not replace):
                raise IngestError(
                    f"{path}: doc_id '{doc.doc_id}' is already indexed from {owner.source}; "
                    "give this document another doc_id (or file name), or run "
                    "`procguide ingest --replace` to replace that one with it"
                )
            passages = split_document(doc, chunk_size, overlap)
            if not passages:
                raise IngestError(f"{path}: no text to index")
            progress.on_file(path, len(passages))
            report.embedded += index.replace_document(doc.doc_id, passages, progress.on_embedded)
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
    # Passages an interrupted ingest staged for a version no longer on disk.
    index.drop_leftovers(set(seen))
    # Documents indexed before their sentences were stored get them now.
    index.backfill_sentences()
    # Built (and saved) now, so the first question after an ingest does not wait for it.
    index.corpus()
    return report
