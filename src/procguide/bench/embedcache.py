"""Vectors of passages kept across bench runs: a wrapper around the real embedding model with the
same interface (`embed_documents`, `embed_query`) that looks each text up in a SQLite file by
sha256(model id, text), embeds only the misses with the model, and stores them.

Only passages are cached (what ingest embeds). Questions are embedded by the model every time
(`embed_query` passes straight through), so query latencies are real. The bench puts this wrapper
on the Index it ingests with and gives the Index it asks with the bare model.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from procguide.bench.probes import versions


def model_description(name: str, model: Any) -> dict[str, Any]:
    """How the vectors are made: model, package and library versions, dimensions, normalisation."""
    info: dict[str, Any] = {"model": name}
    if name == "hashing":
        info |= {"library": "procguide.index.HashingEmbeddings (a test stand-in, not a model)",
                 "normalised": True, "dimensions": 384}
        return info
    info |= versions(name, "onnxruntime", "sentence-transformers", "langchain-huggingface", "torch")
    info["library"] = f"{type(model).__module__}.{type(model).__name__}"
    info["model_path"] = str(getattr(model, "model_name", ""))
    encoder = getattr(model, "encoder", None)
    if encoder is not None:  # procguide.encoder.Embedder
        engines = model.engines()
        info["engines"] = (
            f"questions and batches of up to {model.SMALL_BATCH}: {engines['questions'] or 'not used yet'} "
            "(ONNX Runtime on one thread when the model's export is on the machine, else NumPy); "
            f"larger batches (ingest): {engines['batches'] or 'not used yet'} (ONNX Runtime on every "
            "core, else sentence-transformers on torch); the same vectors to 1e-5 (procguide.encoder)")
        info |= {"normalised": encoder.normalise, "device": "cpu", "dimensions": encoder.dimensions,
                 "max_seq_length": encoder.max_length}
        return info
    encode = getattr(model, "encode_kwargs", {}) or {}
    info["normalised"] = bool(encode.get("normalize_embeddings", False))
    info["device"] = (getattr(model, "model_kwargs", {}) or {}).get("device", "")
    client = getattr(model, "_client", None)
    dimension = getattr(client, "get_embedding_dimension", None) or getattr(
        client, "get_sentence_embedding_dimension", None)
    if dimension is not None:
        info["dimensions"] = int(dimension())
    if client is not None:
        info["max_seq_length"] = int(getattr(client, "max_seq_length", 0) or 0)
    return info


def model_id(name: str) -> str:
    """The name and, for an installed package, its version: a new version gets new keys."""
    try:
        return f"{name}=={metadata.version(name)}"
    except (metadata.PackageNotFoundError, ValueError):
        return name


class CachedEmbeddings:
    """`embed_documents` through a cache file; `embed_query` straight to the model."""

    def __init__(self, model: Any, name: str, path: Path):
        self.model = model
        self.model_id = model_id(name)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._db.commit()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.model_seconds = 0.0  # time spent in the model on misses

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\0{text}".encode()).hexdigest()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [self.key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, blob in self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk
                ):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            started = time.perf_counter()
            vectors = self.model.embed_documents([by_key[k] for k in missing])
            self.model_seconds += time.perf_counter() - started
            rows = []
            for key, vector in zip(missing, vectors, strict=True):
                array = np.asarray(vector, dtype=np.float32)
                found[key] = array
                rows.append((key, array.tobytes()))
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
                self._db.commit()
        self.misses += len(missing)
        self.hits += len(keys) - len(missing)
        return [found[k].tolist() for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def embed_rate(model: Any, texts: Sequence[str], batch: int = 32) -> float:
    """Passages per second the bare model embeds, in batches as ingest sends them."""
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        model.embed_documents(list(texts[start : start + batch]))
    seconds = time.perf_counter() - started
    return len(texts) / seconds if seconds else float("inf")
