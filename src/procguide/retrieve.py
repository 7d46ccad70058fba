"""The retrieve stage. Hybrid search: dense and keyword (BM25) results fused by reciprocal rank
fusion with the passages of any provision the question names or its concepts point to, the
asker's own law ranked first, within an optional jurisdiction filter. Also the baselines the eval
report compares it with.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from procguide import provisions as prov
from procguide.context import Ranking
from procguide.corpus import Corpus
from procguide.index import Index
from procguide.passage import Passage

RRF_K = 60
# Each list of the passages of named (or concept) provisions contributes its first LIST_DEPTH: a
# whole instrument can be thousands of passages in a large library. (The shipped knowledge base's
# longest such list, over every eval question, is 81.)
LIST_DEPTH = 100
# Weights of the ranked lists fused. A passage of a provision the question names counts as much
# as first place in both searches; `concept` lists the passages of the provisions the question's
# words point to (through the vocabulary), `regime` the candidates under the asker's own law.
# Tuned on the dev split; the calibration file (`procguide calibrate`) holds the values in use.
WEIGHTS = {"dense": 1.0, "keyword": 1.0, "provision": 2.0, "concept": 1.0, "regime": 1.0}

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
    """A retrieval strategy. The Assistant passes the optional parts by keyword; a strategy that
    does not use them takes them as **_unused."""

    def __call__(
        self,
        index: Index,
        query: str,
        k: int,
        *,
        filters: Filters | None = None,
        references: Sequence[prov.Reference] | None = None,
        query_vector: np.ndarray | None = None,
        concept_provisions: Sequence[str] = (),
        ranking: Ranking | None = None,
        weights: dict[str, float] | None = None,
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
    concept_provisions: Sequence[str] = (),
    ranking: Ranking | None = None,
    weights: dict[str, float] | None = None,
) -> list[Hit]:
    """Dense and keyword search fused with the passages of named provisions, of the provisions
    the question's concepts point to, and (given a ranking) the candidates under the asker's
    own law."""
    filters = filters or Filters()
    weights = {**WEIGHTS, **(weights or {})}
    depth = max(4 * k, 20)
    vector = index.embed_query(query) if query_vector is None else query_vector
    scores = index.dense_scores(vector)
    dense = index.dense_search(vector, depth, filters.allows, scores)
    keyword = index.keyword.search(query, depth, filters.allows)
    refs = list(prov.find_references(query) if references is None else references)
    corpus = index.corpus()
    found = _by_best_rank(dense, keyword)
    named = provision_passages(corpus, refs, filters.allows, found, LIST_DEPTH)
    concept_refs = [_as_reference(pid) for pid in concept_provisions]
    if ranking is not None:
        # Background law (the Directive for a UK asker) is not fetched by concept alone.
        concept_refs = [r for r in concept_refs if ranking.rank(r.instrument or "") < 3]
    concept = provision_passages(corpus, concept_refs, filters.allows, found, LIST_DEPTH)
    ranked = {
        "dense": [p for p, _ in dense],
        "keyword": [p for p, _ in keyword],
        "provision": named,
        "concept": concept,
    }
    if ranking is not None:
        # The nearest passages under the law the question names or that governs the asker.
        def own_law(p: Passage) -> bool:
            return filters.allows(p) and ranking.of_passage(p.provisions)[0] <= 1

        ranked["regime"] = [p for p, _ in index.dense_search(vector, k, own_law, scores)]
    return fuse(ranked, {p.id: s for p, s in dense}, weights)[:k]


def _as_reference(provision_id: str) -> prov.Reference:
    pid = prov.parse(provision_id)
    return prov.Reference(pid.instrument, pid.part)


def fuse(
    ranked: dict[str, list[Passage]],
    similarities: dict[str, float],
    weights: dict[str, float] | None = None,
) -> list[Hit]:
    """Weighted reciprocal rank fusion: each list adds weight / (60 + rank) to a passage's score."""
    weights = {**WEIGHTS, **(weights or {})}
    hits: dict[str, Hit] = {}
    for name, passages in ranked.items():
        for rank, passage in enumerate(passages, start=1):
            hit = hits.setdefault(
                passage.id, Hit(passage, 0.0, similarities.get(passage.id))
            )
            hit.score += weights[name] / (RRF_K + rank)
            hit.via = hit.via + (name,)
    return sorted(hits.values(), key=lambda h: -h.score)


def provision_passages(
    corpus: Corpus,
    references: Sequence[prov.Reference],
    allow: Callable[[Passage], bool],
    found: Sequence[Passage] = (),
    limit: int | None = None,
) -> list[Passage]:
    """The passages carrying a provision the references name: first those among `found` (what
    the other searches found, best first), in that order, then the others in passage order, at
    most `limit` in all. Looked up by part, or by instrument for a whole instrument, not by
    scanning every passage; a whole instrument's thousands of passages are read only as far as
    the limit."""
    if not references:
        return []

    def carries(p: Passage) -> bool:
        return any(r.matches(pid) for r in references for pid in p.provisions)

    out = [p for p in found if carries(p) and allow(p)][:limit]
    taken = {p.id for p in out}
    lists = []
    for ref in references:
        if ref.part is None:  # a whole instrument, or (no instrument) every one
            groups = ([corpus.by_instrument.get(ref.instrument, [])] if ref.instrument
                      else list(corpus.by_instrument.values()))
        else:
            groups = [corpus.carrying_part(ref.instrument, ref.part)]
        lists.extend(_in_passage_order(pairs, ref) for pairs in groups)
    for i, pid, ref in heapq.merge(*lists, key=lambda item: item[0]):
        if limit is not None and len(out) >= limit:
            break
        passage = corpus.passages[i]
        if passage.id in taken or not ref.matches(pid) or not allow(passage):
            continue
        taken.add(passage.id)
        out.append(passage)
    return out


def _in_passage_order(pairs: Sequence[tuple[str, int]], ref: prov.Reference) -> Iterator[tuple[int, str, prov.Reference]]:
    """(passage index, provision id, the reference) for each pair, read only as far as needed."""
    return ((i, pid, ref) for pid, i in pairs)


def _by_best_rank(dense: list[tuple[Passage, float]], keyword: list[tuple[Passage, float]]) -> list[Passage]:
    """The passages either search found, by the better of their two ranks, ties in text order."""
    best: dict[str, tuple[int, Passage]] = {}
    for results in (dense, keyword):
        for rank, (p, _) in enumerate(results):
            if p.id not in best or rank < best[p.id][0]:
                best[p.id] = (rank, p)
    return [p for _, p in sorted(best.values(), key=lambda rp: (rp[0], rp[1].doc_id, rp[1].position))]


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
