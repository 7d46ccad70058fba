"""What searches read, held in memory per revision of the store: the live passages in a fixed
order, their vectors, the BM25 keyword index and look-ups by instrument (`Corpus`), built once
from Chroma and kept on disk (`save` / `load`), so a new process starts by reading one file
instead of every row of the store and re-indexing every passage.

The file sits in the procguide home folder (owner-only, as the store is), named for the store's
content: its revision and the live generation of every document, the embedding model and this
module's format. A
file for other content is never read; a file that cannot be read is rebuilt from the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from procguide.atomic import replacing
from procguide.passage import Passage
from procguide.tokens import tokenize

log = logging.getLogger(__name__)

# Bumped whenever what a Corpus holds, or how it is built, changes: older files are then ignored.
FORMAT = 3
KEEP = 2  # files kept per store: the current one and the one before


class SentenceCache:
    """The sentences and sentence vectors of the passages questions read lately, up to `size`
    passages (about 5 sentences, 8 KB of vectors each), the least recently read dropped first.
    Safe to share between threads."""

    def __init__(self, size: int = 20_000):
        self.size = size
        self._items: OrderedDict[str, tuple[list[str], np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, passage_id: str) -> tuple[list[str], np.ndarray] | None:
        with self._lock:
            found = self._items.get(passage_id)
            if found is not None:
                self._items.move_to_end(passage_id)
            return found

    def put(self, passage_id: str, value: tuple[list[str], np.ndarray]) -> tuple[list[str], np.ndarray]:
        with self._lock:
            self._items[passage_id] = value
            self._items.move_to_end(passage_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


@dataclass
class Corpus:
    """What searches read, for one revision of the store: the live passages in a fixed order, their
    vectors, the BM25 index, and look-ups built once (by instrument and by part). Replaced whole
    when the revision changes, so a question holding one sees one revision."""

    revision: int | None
    passages: list[Passage]
    vectors: np.ndarray
    rows: dict[str, str]  # passage id -> its row id in the store (id@generation)
    keyword: KeywordIndex
    by_instrument: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # A part without its paragraphs ("s-33" for "uk-pa-2023:s-33(2)") -> (provision id, passage
    # index) for every instrument's provision of that part, in passage order.
    by_part: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # The same split by instrument: (instrument, part) -> (provision id, passage index).
    by_instrument_part: dict[tuple[str, str], list[tuple[str, int]]] = field(default_factory=dict)
    # Passage id -> its sentences and their vectors, filled as questions read them.
    sentences: SentenceCache = field(default_factory=SentenceCache)

    def __post_init__(self) -> None:
        for i, p in enumerate(self.passages):
            for pid in p.provisions:
                instrument, _, part = pid.partition(":")
                self.by_instrument.setdefault(instrument, []).append((pid, i))
                if part:
                    key = part.lower().split("(", 1)[0]
                    self.by_part.setdefault(key, []).append((pid, i))
                    self.by_instrument_part.setdefault((instrument, key), []).append((pid, i))

    def __getstate__(self) -> dict[str, Any]:
        """Saved without what questions have added (the sentences read)."""
        state = dict(self.__dict__)
        state.pop("sentences", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.sentences = SentenceCache()

    @classmethod
    def empty(cls) -> Corpus:
        return cls(None, [], np.zeros((0, 0), dtype=np.float32), {}, KeywordIndex([]))

    @property
    def instruments(self) -> frozenset[str]:
        """The instruments some passage carries a provision of."""
        return frozenset(self.by_instrument)

    def mentions(self, phrase: str) -> bool:
        """Does some passage's title or text hold the phrase (case and spacing aside)? Only the
        passages holding every word of it (from the keyword index) are read."""
        wanted = " ".join(phrase.lower().split())
        if not wanted:
            return False
        candidates = self.keyword.holding(tokenize(phrase))
        passages = self.passages if candidates is None else (self.passages[i] for i in candidates)
        return any(wanted in " ".join(f"{p.title} {p.text}".split()).lower() for p in passages)

    def carrying_part(self, instrument: str | None, part: str) -> list[tuple[str, int]]:
        """(provision id, passage index) for the provisions of `part` (paragraphs left out) in
        `instrument` (None: in any), in passage order: the candidates a reference to it can match."""
        key = part.lower().split("(", 1)[0]
        if instrument is None:
            return self.by_part.get(key, [])
        return self.by_instrument_part.get((instrument, key), [])


def ranked(scores: np.ndarray, n: int, passages: Sequence[Passage],
           allow: Callable[[Passage], bool] | None = None, floor: float | None = None) -> list[tuple[Passage, float]]:
    """The n best-scoring passages `allow` lets through (above `floor`, when given), best first,
    ties to the earlier passage. A partial sort (argpartition) finds the best few; only when the
    filter refuses too many of them are ten times as many taken, and so on up to the whole corpus."""
    hits: list[tuple[Passage, float]] = []
    take = min(len(scores), max(4 * n, 50))
    while True:
        hits = []
        for i in _top(scores, take):
            if floor is not None and scores[i] <= floor:
                return hits
            passage = passages[int(i)]
            if allow is None or allow(passage):
                hits.append((passage, float(scores[i])))
                if len(hits) == n:
                    return hits
        if take == len(scores):
            return hits
        take = min(len(scores), take * 10)


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores, highest first, ties to the lower index, as a stable sort
    of the whole array would give them."""
    if n >= len(scores):
        return np.argsort(-scores, kind="stable")
    cut = np.partition(scores, len(scores) - n)[len(scores) - n]
    above = np.flatnonzero(scores > cut)
    ties = np.flatnonzero(scores == cut)[: n - len(above)]
    chosen = np.concatenate([above, ties])
    return chosen[np.argsort(-scores[chosen], kind="stable")]


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
        return ranked(self.scores(tokens), n, self.passages, allow, floor=0.0)

    def holding(self, tokens: list[str]) -> np.ndarray | None:
        """The indices of the passages whose search text holds every one of the tokens (None
        for no tokens: any passage may)."""
        if not tokens:
            return None
        if any(t not in self._idf for t in tokens):
            return np.zeros(0, dtype=np.int64)
        index = self._bm25.scores
        indices, indptr = index["indices"], index["indptr"]
        found: np.ndarray | None = None
        for token_id in self._bm25.get_tokens_ids(tokens):
            postings = indices[indptr[token_id]: indptr[token_id + 1]]
            found = postings if found is None else np.intersect1d(found, postings, assume_unique=True)
        return found

    def scores(self, tokens: list[str]) -> np.ndarray:
        """Every passage's BM25 score for the tokens, from bm25s's precomputed index. bm25s sums
        each token's postings with numpy's `add.at` (23 ms at 100,000 passages); a token's postings
        name each passage once, so a plain indexed add gives the same sums, about ten times faster."""
        index = self._bm25.scores
        if self._bm25.nonoccurrence_array is not None:  # variants that score absent tokens too
            return np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        data, indices, indptr = index["data"], index["indices"], index["indptr"]
        total = np.zeros(index["num_docs"], dtype=data.dtype)
        for token_id in self._bm25.get_tokens_ids(tokens):
            start, end = indptr[token_id], indptr[token_id + 1]
            total[indices[start:end]] += data[start:end]
        return total.astype(np.float64)


def cache_key(state: dict[str, Any], collection: str, model: str) -> str:
    """A name for the corpus of this content: the store's revision (bumped by every write, even to
    a store from before documents had live generations) and every document's live generation and
    count, the collection, the embedding model and the format."""
    live = {k: v for k, v in state.items() if k.startswith(("live:", "count:"))}
    record = json.dumps([FORMAT, collection, model, state.get("revision", 0), live], sort_keys=True)
    return hashlib.sha256(record.encode()).hexdigest()[:20]


def load(folder: Path, key: str) -> Corpus | None:
    """The corpus saved under `key`, or None (none saved, or not readable: rebuilt by the caller)."""
    path = folder / f"corpus-{key}.pickle"
    try:
        with path.open("rb") as f:
            corpus = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001  (any damage means: build it again)
        log.warning("The corpus file %s could not be read (%s); rebuilding it from the store", path, exc)
        return None
    return corpus if isinstance(corpus, Corpus) else None


def save(corpus: Corpus, folder: Path, key: str) -> None:
    """Write the corpus under `key` (atomically: a reader sees the whole file or none), and remove
    all but the newest KEEP files. A folder that cannot be written costs the cache, not the answer."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with replacing(folder / f"corpus-{key}.pickle") as scratch, scratch.open("wb") as f:
            pickle.dump(corpus, f, protocol=pickle.HIGHEST_PROTOCOL)
        saved = sorted(folder.glob("corpus-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in saved[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("The corpus could not be saved in %s (%s); the next process will rebuild it", folder, exc)
