"""What a bench run measures: the options and their defaults, shared by the command's flags
(command.py) and the run (run.py). Imports nothing heavy, so `procguide --help` stays quick."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_SEED = 2024
# Passages per store: the shipped notes first, then synthetic notes up to the size.
DEFAULT_SIZES = (1_000, 10_000, 100_000)
DEFAULT_USERS = (1, 4, 16, 50)


@dataclass
class BenchOptions:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    queries: int = 120  # questions per size (cycling through run.QUESTIONS)
    large_queries: int = 30  # questions at sizes of `large_from` passages or more
    large_from: int = 50_000
    users: tuple[int, ...] = DEFAULT_USERS  # simultaneous users through the UI; () skips it
    questions_per_user: int = 3
    min_questions_per_level: int = 12  # so 1 user asks enough for a throughput
    cold_start: bool = True
    out: Path = Path("bench-out")
    seed: int = DEFAULT_SEED
    keep_work: bool = False
    command: str = ""


DEFAULTS = BenchOptions()
