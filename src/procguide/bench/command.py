"""The `procguide bench` command (registered in cli.py). Parsing and printing only; the work is in
run.py. Nothing heavy is imported until the command runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from procguide.bench.options import DEFAULTS, BenchOptions


def _numbers(value: str, option: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(part.replace("_", "").replace("k", "000")) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise typer.BadParameter(f"{option} takes numbers separated by commas, e.g. 1000,10000") from exc
    if any(n < 1 for n in numbers):
        raise typer.BadParameter(f"{option}: every number must be 1 or more")
    return numbers


def bench(
    sizes: Annotated[str, typer.Option(help="Corpus sizes in passages, comma-separated (1k = 1000)")] = ",".join(map(str, DEFAULTS.sizes)),
    queries: Annotated[int, typer.Option(min=1, help="Questions asked per size")] = DEFAULTS.queries,
    large_queries: Annotated[int, typer.Option(
        min=1, help=f"Questions asked at sizes of {DEFAULTS.large_from:,} passages or more")] = DEFAULTS.large_queries,
    users: Annotated[str, typer.Option(
        help="Simultaneous users through the served UI, comma-separated; '' skips it")] = ",".join(map(str, DEFAULTS.users)),
    questions_per_user: Annotated[int, typer.Option(min=1, help="Questions each user asks")] = DEFAULTS.questions_per_user,
    cold: Annotated[bool, typer.Option(help="Time a cold `procguide ask` process per size")] = DEFAULTS.cold_start,
    out: Annotated[Path, typer.Option(help="Folder for bench.json, bench.md, bench.png and the vector cache")] = DEFAULTS.out,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic corpus")] = DEFAULTS.seed,
    keep_work: Annotated[bool, typer.Option(help="Keep each size's store and notes under OUT/work")] = DEFAULTS.keep_work,
    quick: Annotated[bool, typer.Option(
        help="A short run: 1,000 passages, 20 questions, 1 and 4 users asking 2 each")] = False,
) -> None:
    """Measure latency (raw Chroma query, retrieval, full ask), ingest rate, memory and cold start
    at each corpus size, and users at once through the UI; write OUT/bench.json, bench.md, bench.png."""
    from rich.table import Table

    from procguide.bench.report import (
        SIZE_COLUMNS,
        USER_COLUMNS,
        machine_line,
        size_rows,
        user_rows,
    )
    from procguide.bench.run import run_bench
    from procguide.cli import console, failure, progress_bar, settings_or_exit

    options = BenchOptions(
        sizes=_numbers(sizes, "--sizes"), queries=queries, large_queries=large_queries,
        users=_numbers(users, "--users"), questions_per_user=questions_per_user, cold_start=cold,
        out=out, seed=seed, keep_work=keep_work,
        command="procguide " + " ".join(sys.argv[1:]),
    )
    if quick:
        options.sizes, options.queries, options.users = (1000,), 20, (1, 4)
        options.questions_per_user, options.min_questions_per_level = 2, 4
    settings = settings_or_exit()
    with progress_bar() as progress:

        def start(description: str, total: int | None):
            task = progress.add_task(description, total=total)
            return lambda n: progress.advance(task, n)

        try:
            result = run_bench(settings, options, start, lambda line: progress.console.print(line, markup=False))
        except (RuntimeError, ValueError, OSError) as exc:
            raise failure(exc, 1) from exc
    console.print(machine_line(result), markup=False, highlight=False)
    table = Table(*SIZE_COLUMNS, title="Per corpus size")
    for row in size_rows(result):
        table.add_row(*row)
    console.print(table)
    if result.get("concurrency"):
        users_table = Table(*USER_COLUMNS, title="Users at once (shipped knowledge base, via the UI)")
        for row in user_rows(result):
            users_table.add_row(*row)
        console.print(users_table)
        console.print(f"Throughput at 4 users / 1 user: {result['concurrency']['throughput_4_over_1']}")
    for note in result.get("notes", []):
        console.print(note, markup=False)
    console.print(f"Written: {out / 'bench.json'}, {out / 'bench.md'}, {out / 'bench.png'} "
                  f"({result['seconds']:.0f} s)", markup=False, highlight=False)
