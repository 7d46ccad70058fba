"""The `procguide` command: ingest, ask, serve and calibrate. Parsing and printing only; the work
happens in the modules it calls. Heavy libraries load inside the commands that need them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import procguide  # noqa: F401  (switches off network calls before any library loads)
from procguide.config import get_settings

app = typer.Typer(
    help="Cited guidance on procurement flexibilities for commissioning with social business models.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)

JurisdictionOption = Annotated[
    str | None,
    typer.Option("--jurisdiction", "-j", help="Only passages for EU, UK, England or Wales"),
]


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to ingest (default: the knowledge folder)"),
    ] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 if any file fails")] = False,
) -> None:
    """Bring the index in line with the documents: add new, replace changed, remove deleted."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from procguide.index import Index
    from procguide.ingest import IngestError, discover, ingest_paths
    from procguide.ingest.pipeline import IngestProgress

    settings = get_settings()
    targets = paths or [settings.knowledge_dir]
    try:
        files, _ = discover(targets)
    except IngestError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    index = Index(settings)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        file_task = progress.add_task("Documents", total=len(files))
        embed_task = progress.add_task("Passages embedded", total=0)

        def on_file(path: Path, passages: int) -> None:
            progress.update(file_task, advance=1, description=f"Documents ({path.name[:40]})")
            if passages:
                total = progress.tasks[embed_task].total or 0
                progress.update(embed_task, total=total + passages)

        def on_embedded(n: int) -> None:
            progress.update(embed_task, advance=n)

        report = ingest_paths(
            targets, index, settings.chunk_size, settings.chunk_overlap,
            IngestProgress(on_file=on_file, on_embedded=on_embedded),
        )
        progress.update(file_task, description="Documents")
    table = Table(show_header=False, box=None)
    for label, items in (
        ("added", report.added), ("replaced", report.replaced),
        ("removed", report.removed), ("unchanged", report.unchanged),
    ):
        table.add_row(label, str(len(items)), ", ".join(items[:6]) + (" ..." if len(items) > 6 else ""))
    console.print(table)
    console.print(f"{index.count()} passages in the index at {settings.chroma_url or settings.home}")
    for _path, message in report.failed:
        err.print(f"[red]not ingested:[/red] {message}")
    if report.failed and strict:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (answers format)")] = False,
    jurisdiction: JurisdictionOption = None,
    k: Annotated[int | None, typer.Option(help="Passages to retrieve")] = None,
) -> None:
    """Answer one question, with its sources."""
    from procguide.answer.render import to_plain
    from procguide.assistant import Assistant

    filters = {"jurisdiction": jurisdiction} if jurisdiction else None
    try:
        answer = Assistant(get_settings()).ask(question, filters=filters, k=k)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(answer.as_record(), ensure_ascii=False))
    else:
        console.print(to_plain(answer), markup=False, highlight=False)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: PROCGUIDE_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="Default: PROCGUIDE_PORT or 7860")] = None,
) -> None:
    """Serve the chat UI."""
    from procguide.ui.app import launch

    launch(host=host, port=port)


@app.command()
def calibrate(
    questions: Annotated[Path, typer.Option(help="Questions with abstain true/false")] = Path(
        "evals/questions.jsonl"
    ),
) -> None:
    """Find the abstention threshold that best separates answerable from unanswerable questions."""
    from procguide.assistant import Assistant
    from procguide.evaluation.calibrate import best_threshold, confidences
    from procguide.evaluation.questions import QuestionFileError, load_questions

    try:
        items = load_questions(questions)
    except QuestionFileError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    settings = get_settings().model_copy(update={"abstain_threshold": -1.0})
    assistant = Assistant(settings)
    answerable, unanswerable = confidences(
        items,
        lambda q: assistant.ask(q.question, history=q.history_messages()).confidence,
    )
    result = best_threshold(answerable, unanswerable)
    console.print(
        f"{len(answerable)} answerable, {len(unanswerable)} to decline\n"
        f"threshold {result.threshold:.3f}: balanced accuracy {result.accuracy:.3f}, "
        f"abstention accuracy {result.abstention_accuracy:.3f}, "
        f"false abstention rate {result.false_abstention_rate:.3f}\n"
        f"lowest score of an answerable question {min(answerable, default=0):.3f}, "
        f"highest of one to decline {max(unanswerable, default=0):.3f}\n"
        f"current setting PROCGUIDE_ABSTAIN_THRESHOLD={get_settings().abstain_threshold}"
    )


if __name__ == "__main__":
    app()
