"""Labelled sentence-passage pairs for the support checker (evals/support_pairs.jsonl): load them,
find the threshold that classifies them best, and measure a checker on them.

A pair has one passage (`"passage"`) or several judged together (`"passages"`, a claim that needs
two passages: their texts are joined with a blank line, as the eval and the answer gate join the
passages a sentence cites). Each pair is in the `dev` split (tuned on) or `heldout` (reported).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

from procguide.answer.support import OfflineSupportChecker, SupportVerdict

PAIR_SPLITS = ("dev", "heldout")
JOIN = "\n\n"


class Checker(Protocol):
    def supports(self, sentence: str, passage: str, provisions: Sequence[str] = ()) -> bool: ...


@dataclass
class LabelledPair:
    sentence: str
    passage: str  # the passage, or the passages of a joint pair joined with a blank line
    supported: bool
    kind: str = ""
    split: str = ""
    passages: tuple[str, ...] = ()  # a joint pair's passages, one by one
    provisions: tuple[str, ...] = ()


def load_pairs(path: Path, split: str | None = None) -> list[LabelledPair]:
    """The pairs of a file, or only those of `split` ("dev", "heldout"); None or "all": every pair.
    A split that no pair carries is a ValueError."""
    pairs = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        d = json.loads(line)
        if "passages" in d:
            passages = tuple(str(p) for p in d["passages"])
            passage = JOIN.join(passages)
        elif "passage" in d:
            passages, passage = (), str(d["passage"])
        else:
            raise ValueError(f"{path}, line {number}: a pair needs 'passage' or 'passages'")
        pairs.append(LabelledPair(
            d["sentence"], passage, bool(d["supported"]), d.get("kind", ""), d.get("split", ""),
            passages, tuple(d.get("provisions", ())),
        ))
    if split not in (None, "all"):
        chosen = [p for p in pairs if p.split == split]
        if not chosen:
            raise ValueError(f"no pair in {path} is in the split '{split}'")
        return chosen
    return pairs


@dataclass
class PairScores:
    """Confusion counts of a checker on labelled pairs, supported being the positive class."""

    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    by_kind: dict[str, PairScores] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def accuracy(self) -> float | None:
        return (self.tp + self.tn) / self.n if self.n else None

    @property
    def precision(self) -> float | None:
        """Of the pairs it called supported, the share that are; None when it called none."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """Of the supported pairs, the share it called supported; None when there are none."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def specificity(self) -> float | None:
        """Of the unsupported pairs, the share it called unsupported; None when there are none."""
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else None

    @property
    def said_yes(self) -> int:
        return self.tp + self.fp

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    def as_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        out: dict[str, Any] = {"n": self.n, "accuracy": r(self.accuracy), "precision": r(self.precision),
                               "recall": r(self.recall), "specificity": r(self.specificity)}
        if self.by_kind:
            out["by_kind"] = {k: v.as_dict() for k, v in sorted(self.by_kind.items())}
        return out


def score_predictions(predictions: Iterable[bool], pairs: Sequence[LabelledPair]) -> PairScores:
    """PairScores of given verdicts, overall and per kind."""
    scores = PairScores()
    for predicted, pair in zip(predictions, pairs, strict=True):
        scores.add(predicted, pair.supported)
        scores.by_kind.setdefault(pair.kind or "(none)", PairScores()).add(predicted, pair.supported)
    return scores


def measure(
    checker: Checker, pairs: Sequence[LabelledPair], map_: Callable[..., Iterable[bool]] = map
) -> PairScores:
    """Accuracy, precision and recall of a checker on the pairs, overall and per kind. `map_` may
    be a thread pool's map, for a checker that waits on a server."""
    verdicts = list(map_(lambda p: bool(checker.supports(p.sentence, p.passage, p.provisions)), pairs))
    return score_predictions(verdicts, pairs)


def verdicts(checker: OfflineSupportChecker, pairs: Sequence[LabelledPair]) -> list[SupportVerdict]:
    return [checker.verdict(p.sentence, p.passage, p.provisions) for p in pairs]


def scores_at(found: Sequence[SupportVerdict], pairs: Sequence[LabelledPair], threshold: float) -> PairScores:
    """The offline checker's scores at another threshold, from verdicts already computed."""
    return score_predictions((v.passes(threshold) for v in found), pairs)


def best_thresholds(found: Sequence[SupportVerdict], pairs: Sequence[LabelledPair]) -> tuple[list[float], float]:
    """Every threshold (midway between neighbouring scores) that classifies the pairs best, in
    order, and that best accuracy."""
    values = sorted({v.score for v in found})
    candidates = [0.0] + [(a + b) / 2 for a, b in pairwise(values)] + [1.0]

    def accuracy_at(t: float) -> float:
        return sum(v.passes(t) == p.supported for v, p in zip(found, pairs, strict=True)) / len(pairs)

    results = [(t, accuracy_at(t)) for t in candidates]
    best = max(a for _, a in results)
    return [t for t, a in results if a >= best - 1e-9], best


def calibrate_threshold(
    checker: OfflineSupportChecker, pairs: Sequence[LabelledPair], found: Sequence[SupportVerdict] | None = None
) -> tuple[float, float]:
    """(threshold, accuracy): the middle of the range of thresholds that classify the pairs best."""
    tied, best = best_thresholds(verdicts(checker, pairs) if found is None else found, pairs)
    return round(tied[len(tied) // 2], 3), best


def accuracy(checker: Checker, pairs: Sequence[LabelledPair]) -> float:
    return measure(checker, pairs).accuracy or 0.0
