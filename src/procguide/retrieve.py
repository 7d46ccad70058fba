"""Hybrid search: dense (Chroma) and keyword (BM25) results fused by reciprocal rank fusion, plus
the passages of any provision a question names, within an optional jurisdiction filter. Also reads
a follow-up question together with the question before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from procguide import provisions as prov
from procguide.index import Index
from procguide.passage import Passage
from procguide.tokens import tokenize

RRF_K = 60
# A passage of a provision the question names counts as much as first place in both other lists.
WEIGHTS = {"dense": 1.0, "keyword": 1.0, "provision": 2.0}

# UK-wide law applies in England and in Wales, so a Welsh filter keeps UK passages too.
JURISDICTION_SCOPES: dict[str, tuple[str, ...]] = {
    "EU": ("EU",),
    "UK": ("UK", "England", "Wales"),
    "England": ("England", "UK"),
    "Wales": ("Wales", "UK"),
}


@dataclass(frozen=True)
class Filters:
    jurisdictions: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: Filters | dict[str, Any] | None) -> Filters:
        """Accept {"jurisdiction": "Wales"} or {"jurisdiction": ["EU", "UK"]}; unknown values fail."""
        if value is None or isinstance(value, Filters):
            return value or cls()
        chosen = value.get("jurisdiction") or ()
        names = [chosen] if isinstance(chosen, str) else list(chosen)
        scopes: list[str] = []
        for name in names:
            if name in ("", "All", "all"):
                return cls()
            if name not in JURISDICTION_SCOPES:
                raise ValueError(
                    f"Unknown jurisdiction '{name}': choose one of {', '.join(JURISDICTION_SCOPES)}"
                )
            scopes.extend(JURISDICTION_SCOPES[name])
        return cls(tuple(dict.fromkeys(scopes)))

    def allows(self, passage: Passage) -> bool:
        return not self.jurisdictions or passage.jurisdiction in self.jurisdictions


class Retriever(Protocol):
    """A retrieval strategy. The Assistant passes filters, references and query_vector by
    keyword; a strategy that does not use them takes them as **_unused."""

    def __call__(
        self,
        index: Index,
        query: str,
        k: int,
        *,
        filters: Filters | None = None,
        references: Sequence[prov.Reference] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]: ...


@dataclass
class Hit:
    passage: Passage
    score: float
    similarity: float | None = None  # cosine similarity to the question, when dense search saw it
    via: tuple[str, ...] = field(default_factory=tuple)


def hybrid_search(
    index: Index,
    query: str,
    k: int,
    filters: Filters | None = None,
    references: Sequence[prov.Reference] | None = None,
    query_vector: np.ndarray | None = None,
) -> list[Hit]:
    filters = filters or Filters()
    depth = max(4 * k, 20)
    vector = index.embed_query(query) if query_vector is None else query_vector
    dense = index.dense_search(vector, depth, filters.allows)
    keyword = index.keyword.search(query, depth, filters.allows)
    refs = list(prov.find_references(query) if references is None else references)
    named = provision_passages(index.passages(), refs, filters.allows)
    named = _order_named(named, dense, keyword)
    ranked = {
        "dense": [p for p, _ in dense],
        "keyword": [p for p, _ in keyword],
        "provision": named,
    }
    return fuse(ranked, {p.id: s for p, s in dense})[:k]


def fuse(ranked: dict[str, list[Passage]], similarities: dict[str, float]) -> list[Hit]:
    """Weighted reciprocal rank fusion: each list adds weight / (60 + rank) to a passage's score."""
    hits: dict[str, Hit] = {}
    for name, passages in ranked.items():
        for rank, passage in enumerate(passages, start=1):
            hit = hits.setdefault(
                passage.id, Hit(passage, 0.0, similarities.get(passage.id))
            )
            hit.score += WEIGHTS[name] / (RRF_K + rank)
            hit.via = hit.via + (name,)
    return sorted(hits.values(), key=lambda h: -h.score)


def provision_passages(
    passages: Sequence[Passage],
    references: Sequence[prov.Reference],
    allow: Callable[[Passage], bool],
) -> list[Passage]:
    if not references:
        return []
    return [
        p for p in passages
        if allow(p) and any(ref.matches(pid) for ref in references for pid in p.provisions)
    ]


def _order_named(
    named: list[Passage], dense: list[tuple[Passage, float]], keyword: list[tuple[Passage, float]]
) -> list[Passage]:
    """Named passages in the order the other searches ranked them; unseen ones after, in text order."""
    best: dict[str, int] = {}
    for results in (dense, keyword):
        for rank, (p, _) in enumerate(results):
            best[p.id] = min(best.get(p.id, rank), rank)
    return sorted(named, key=lambda p: (best.get(p.id, 10_000), p.doc_id, p.position))


# --- follow-up questions -----------------------------------------------------------------------

_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|so|then|ok|okay|what about|how about|what if|and if|same)\b"
    r"|\b(it|its|they|them|their|this|that|these|those|such|there|one|ones|same|too|also)\b",
    re.IGNORECASE,
)
_MAX_FOLLOW_UP_TOKENS = 8


def is_follow_up(question: str) -> bool:
    """Short questions that lean on an earlier one: "and how long can it last?", "what about Wales?"."""
    tokens = tokenize(question)
    return len(tokens) <= _MAX_FOLLOW_UP_TOKENS and (
        bool(_FOLLOW_UP.search(question)) or len(tokens) <= 2
    )


def contextual_query(question: str, history: Sequence[dict[str, str]] | None) -> str:
    """The text to search with: a follow-up is read together with the user's previous question.

    A follow-up that moves to another instrument ("And under the Procurement Act 2023?") replaces
    the instruments and provisions the previous question named, rather than adding to them.
    """
    if not history or not is_follow_up(question):
        return question
    earlier = [m.get("content", "") for m in history if m.get("role") == "user"]
    if not earlier:
        return question
    previous = earlier[-1]
    named = prov.instruments_named(question)
    if named:
        previous = prov.without_other_instruments(previous, named)
    return f"{previous} {question}"


# --- baselines, for the eval report -------------------------------------------------------------

def keyword_only_search(
    index: Index, query: str, k: int, *, filters: Filters | None = None, **_unused: object
) -> list[Hit]:
    """BM25 alone: no dense search, no fusion, no provision look-up."""
    filters = filters or Filters()
    return [Hit(p, s, None, ("keyword",)) for p, s in index.keyword.search(query, k, filters.allows)]


class NaiveRecipeSearch:
    """The naive LangChain recipe: dense top-4 from its own Chroma collection, nothing else."""

    K = 4

    def __init__(self, store: Any):
        self.store = store

    def __call__(self, index: Index, query: str, k: int, **_unused: object) -> list[Hit]:
        return [Hit(p, s, s, ("dense",)) for p, s in self.store.search(query, self.K)]
