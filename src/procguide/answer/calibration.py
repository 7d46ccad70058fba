"""The calibration: every number the answer pipeline was tuned with, in one artifact.

`procguide calibrate` fits the decision policy by k-fold cross-validation on the dev split and
writes evals/calibration.json with the weights it used, the policy it fitted, the figures the
cross-validation gave, and the hashes of the question set and the knowledge base it was made on,
so a test can tell when either has changed since.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from procguide.retrieve import WEIGHTS

# How a sentence is scored (see answer/evidence.py); set by sweeps on the dev split.
COMPOSE_WEIGHTS = {
    "semantic": 0.6,  # embedding similarity to the question
    "retrieval": 0.2,  # how the retrieve stage ranked its passage: weight / (1 + its rank)
    "keyword": 0.4,  # share of the question's rarer words the sentence holds
    "focus": 0.5,  # extra weight of a follow-up's own words
    "qtype": 0.15,  # the sentence gives the kind of answer asked for (a term, a figure, a date)
    "opener": 0.05,  # the sentence opens its section, where notes state the rule
    "concept": 0.1,  # the passage carries a provision the question's words point to
    "context": 0.3,  # the sentence is about the asker's nation or kind of body (or another nation)
    "rank": 0.12,  # per step away from the asker's own law
    "follow": 0.3,  # the sentence right after one already quoted
    "same_passage": 0.15,  # any sentence of a passage already quoted
    "keep_ratio": 0.75,  # later sentences must score at least this share of the first
    "sentences": 6,  # longest answer, in quoted sentences
    "lead_group": 5,  # sentences under the asker's own law (or the law asked about)
    "other_group": 2,  # sentences from each other regime
}
FEATURES = ("similarity", "coverage", "unknown", "concept", "named")


@dataclass
class Policy:
    """When to answer: a logistic model of 'the knowledge base answers this' over the evidence
    features, and two thresholds on its probability."""

    coefficients: dict[str, float] = field(
        default_factory=lambda: {"intercept": -4.0, "similarity": 6.0, "coverage": 3.0,
                                 "unknown": -4.0, "concept": 1.0, "named": 1.5}
    )
    answer_above: float = 0.5  # at or above: answer
    decline_below: float = 0.2  # below: decline; between: answer with a caveat

    def probability(self, features: dict[str, float]) -> float:
        import math

        z = self.coefficients.get("intercept", 0.0) + sum(
            self.coefficients.get(name, 0.0) * features.get(name, 0.0) for name in FEATURES
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass
class Calibration:
    fusion: dict[str, float] = field(default_factory=lambda: dict(WEIGHTS))
    compose: dict[str, float] = field(default_factory=lambda: dict(COMPOSE_WEIGHTS))
    policy: Policy = field(default_factory=Policy)
    made_on: dict[str, str] = field(default_factory=dict)  # split, question and knowledge hashes
    cross_validated: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        policy = Policy(**data.get("policy", {}))
        return cls(
            fusion={**WEIGHTS, **data.get("fusion", {})},
            compose={**COMPOSE_WEIGHTS, **data.get("compose", {})},
            policy=policy,
            made_on=dict(data.get("made_on", {})),
            cross_validated=dict(data.get("cross_validated", {})),
        )


class CalibrationError(ValueError):
    """The calibration file cannot be used; the message says what to do."""


def load_calibration(path: Path) -> Calibration:
    """The calibration in `path`; the untuned defaults when there is no such file."""
    path = Path(path)
    if not path.exists():
        return Calibration()
    try:
        return Calibration.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise CalibrationError(
            f"{path}: not a calibration file ({exc}); run `procguide calibrate` to write it again"
        ) from exc


def save_calibration(calibration: Calibration, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(calibration.to_json(), encoding="utf-8")


def files_hash(paths: list[Path]) -> str:
    """One hash over files' names and bytes, in name order."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def knowledge_hash(knowledge_dir: Path, data_files: list[Path]) -> str:
    """The hash of the knowledge base: every document ingest reads from the folder, and the
    data files the pipeline reads (catalogue, vocabulary)."""
    from procguide.ingest import discover

    files, _ = discover([knowledge_dir])
    return files_hash([*files, *[p for p in data_files if Path(p).exists()]])


def questions_hash(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()
