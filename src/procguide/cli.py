"""The `procguide` command: ingest, ask, serve and calibrate. Parsing and printing only; the work
happens in the modules it calls. Heavy libraries load inside the commands that need them.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

import procguide  # noqa: F401  (switches off network calls before any library loads)
from procguide.bench.command import bench as bench_command
from procguide.config import Settings, get_settings

app = typer.Typer(
    help="Cited guidance on procurement flexibilities for commissioning with social business models.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)


def progress_bar() -> Any:
    """The progress display of long commands: what is being done, a bar, done / total, time taken."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)


def failure(exc: Exception, code: int = 2) -> typer.Exit:
    """Print the error's message as one plain line (never as Rich markup) and return the exit to
    raise: `raise failure(exc) from exc`."""
    err.print(str(exc), style="red", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    """The settings, or a readable message and exit 2 when a PROCGUIDE_* value is invalid."""
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "PROCGUIDE_" + "_".join(str(p) for p in error["loc"]).upper()
            err.print(f"Configuration error: {name}: {error['msg']}", style="red", markup=False)
        raise typer.Exit(2) from exc


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
    replace: Annotated[
        bool, typer.Option(help="Let a document replace one with the same doc_id from another file")
    ] = False,
) -> None:
    """Bring the index in line with the documents: add new, replace changed, remove deleted."""
    from procguide.index import Index, IndexUnavailable
    from procguide.ingest import IngestError, discover, ingest_paths
    from procguide.ingest.pipeline import IngestProgress

    settings = settings_or_exit()
    targets = paths or [settings.knowledge_dir]
    try:
        files, _ = discover(targets)
    except IngestError as exc:
        raise failure(exc, 2) from exc
    index = Index(settings)
    with progress_bar() as progress:
        file_task = progress.add_task("Documents", total=len(files))
        embed_task = progress.add_task("Passages embedded", total=0)

        def on_file(path: Path, passages: int) -> None:
            progress.update(file_task, advance=1, description=f"Documents ({path.name[:40]})")
            if passages:
                total = progress.tasks[embed_task].total or 0
                progress.update(embed_task, total=total + passages)

        def on_embedded(n: int) -> None:
            progress.update(embed_task, advance=n)

        def on_wait(message: str) -> None:
            err.print(message, markup=False, highlight=False)

        try:
            report = ingest_paths(
                targets, index, settings.chunk_size, settings.chunk_overlap,
                IngestProgress(on_file=on_file, on_embedded=on_embedded), replace=replace,
                on_wait=on_wait,
            )
        except IndexUnavailable as exc:
            raise failure(exc, 2) from exc
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
        err.print(f"not ingested: {message}", style="red", markup=False, highlight=False)
    if report.failed and strict:
        raise typer.Exit(1)


@app.command()
def check() -> None:
    """Check the index: each document complete and from one version of its source, no leftovers of
    an interrupted ingest, no duplicates, provenance as labelled. Exit 1 if anything is wrong."""
    from procguide.index import Index, IndexUnavailable, check_store

    settings = settings_or_exit()
    try:
        result = check_store(Index(settings), settings.knowledge_dir)
    except IndexUnavailable as exc:
        raise failure(exc, 2) from exc
    table = Table("document", "passages", "official", "local", "status", box=None)
    for doc in result.documents:
        count = f"{doc.passages}" if doc.expected in (None, doc.passages) else f"{doc.passages}/{doc.expected}"
        table.add_row(doc.doc_id, count, str(doc.official), str(doc.local), "ok" if not doc.problems else "PROBLEM")
    console.print(table)
    where = settings.chroma_url or settings.home
    for problem in result.problems:
        err.print(problem, style="red", markup=False, highlight=False)
    if not result.healthy:
        err.print(f"{len(result.problems)} problems in the index at {where}; `procguide ingest` "
                  "repairs interrupted or partial documents", style="red", markup=False, highlight=False)
        raise typer.Exit(1)
    console.print(f"{len(result.documents)} documents, all consistent, in the index at {where}")


NationOption = Annotated[
    str | None,
    typer.Option(help="Your nation: England, Wales, Northern Ireland, Scotland or EU (default: from the question)"),
]
StartedOption = Annotated[
    str | None,
    typer.Option(help="When the procurement started, YYYY-MM-DD (default: from the question, else today)"),
]


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (answers format)")] = False,
    jurisdiction: JurisdictionOption = None,
    nation: NationOption = None,
    started: StartedOption = None,
    k: Annotated[int | None, typer.Option(help="Passages to retrieve")] = None,
    withheld: Annotated[bool, typer.Option(
        "--withheld", help="Also show what the language model wrote that was withheld, and why")] = False,
) -> None:
    """Answer one question, with its sources."""
    from datetime import date

    from procguide.answer.render import to_plain, withheld_plain
    from procguide.context import ContextSettings
    from procguide.index import IndexUnavailable

    filters = {"jurisdiction": jurisdiction} if jurisdiction else None
    try:
        try:
            start = date.fromisoformat(started) if started else None
        except ValueError as exc:
            raise ValueError(f"--started takes a date as YYYY-MM-DD, for example 2025-01-15; got '{started}'") from exc
        context = ContextSettings(nation=nation, started=start)
        assistant = _assistant(settings_or_exit())
        answer = assistant.ask(question, filters=filters, k=k, context=context)
    except ValueError as exc:
        raise failure(exc, 2) from exc
    except IndexUnavailable as exc:
        raise failure(exc, 2) from exc
    except typer.Exit:
        raise
    except Exception as exc:  # the traceback goes to the log, the user gets one line
        _log_failure("ask", exc)
        raise typer.Exit(1) from exc
    if as_json:
        print(json.dumps(answer.as_record(), ensure_ascii=False))
    else:
        console.print(to_plain(answer), markup=False, highlight=False)
        if withheld:
            console.print("\n" + withheld_plain(answer), markup=False, highlight=False, style="dim")


def _assistant(settings: Settings):  # -> Assistant (imported lazily: heavy)
    """The Assistant for a command; with an LLM, its support checker chosen first, with a status."""
    from procguide.assistant import Assistant

    assistant = Assistant(settings)
    if settings.answerer == "llm":
        with err.status("Choosing the support checker for the LLM's answers "
                        "(measured once per model, then cached)..."):
            assistant.warm_up()
    return assistant


def _log_failure(command: str, exc: Exception) -> None:
    """Write the traceback to the log (PROCGUIDE_LOG_FILE, else procguide.log in the home folder)
    and print one line saying what failed."""
    import logging

    log = logging.getLogger("procguide")
    try:
        settings = get_settings()
        target = settings.log_file or Path(settings.home) / "procguide.log"
    except ValidationError:  # the failure may be the settings themselves
        target = Path(".procguide") / "procguide.log"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(target, encoding="utf-8")
    except OSError:
        handler, target = logging.NullHandler(), Path("")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.error("procguide %s failed", command, exc_info=exc)
    log.removeHandler(handler)
    handler.close()
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = f" (details in {target})" if str(target) else ""
    prefix = "" if type(exc).__name__ == "LLMUnavailable" else f"procguide {command} failed: "
    err.print(f"{prefix}{first}{where}", style="red", markup=False, highlight=False, soft_wrap=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: PROCGUIDE_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="Default: PROCGUIDE_PORT or 7860")] = None,
) -> None:
    """Serve the chat UI."""
    from procguide.ui.app import launch
    from procguide.ui.auth import AuthError

    try:
        launch(host=host, port=port)
    except AuthError as exc:
        raise failure(exc, 2) from exc


@app.command()
def calibrate(
    questions: Annotated[Path, typer.Option(help="Questions with abstain true/false")] = Path(
        "evals/questions.jsonl"
    ),
    folds: Annotated[int, typer.Option(help="Folds for cross-validation")] = 5,
    write: Annotated[bool, typer.Option(help="Write the calibration file (PROCGUIDE_CALIBRATION_FILE)")] = True,
) -> None:
    """Fit the decide stage's policy on the dev split (k-fold cross-validated) and write it, with the
    weights in use and the hashes of the questions and knowledge base, to evals/calibration.json."""
    from dataclasses import asdict

    from procguide.answer.calibration import Calibration, load_calibration, save_calibration
    from procguide.assistant import Assistant
    from procguide.evaluation.calibrate import calibration_set, cross_validate, made_on, observe
    from procguide.evaluation.questions import QuestionFileError, load_questions

    settings = settings_or_exit()
    try:
        items = calibration_set(load_questions(questions))
    except QuestionFileError as exc:
        raise failure(exc, 2) from exc
    current = load_calibration(settings.calibration_file)
    styled = sum(1 for q in items if {"scenario", "colloquial"} & set(q.tags))
    console.print(f"{len(items)} dev questions ({styled} scenario-style or colloquial, "
                  f"{sum(q.abstain for q in items)} to decline)")
    assistant = Assistant(settings, calibration=current)
    with progress_bar() as progress:
        task = progress.add_task("Gathering evidence", total=len(items))
        observations = observe(assistant, items, lambda: progress.advance(task))
    result = cross_validate(observations, folds)
    summary = result.summary()
    calibration = Calibration(
        fusion=current.fusion, compose=current.compose, policy=result.policy,
        made_on=made_on(settings, items), cross_validated=summary,
    )
    table = Table("cross-validated (held-out folds)", "value")
    for name, value in summary.items():
        table.add_row(name, f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print("policy: " + json.dumps(asdict(result.policy)))
    if write:
        save_calibration(calibration, settings.calibration_file)
        console.print(f"Written to {settings.calibration_file}")


@app.command()
def official(
    write: Annotated[bool, typer.Option(help="Remake the list from the notes as they are now")] = False,
) -> None:
    """Check the list of official notes (PROCGUIDE_OFFICIAL_FILE, knowledge/official.yaml)
    against the notes in its folder; with --write, remake it after editing a shipped note."""
    from procguide.ingest import IngestError
    from procguide.ingest.provenance import load_official, official_entries, write_official

    path = settings_or_exit().official_file
    if write:
        entries = write_official(path)
        console.print(f"{len(entries)} official notes listed in {path}")
        return
    try:
        listed = load_official(path).hashes
    except IngestError as exc:
        raise failure(exc, 2) from exc
    current = official_entries(path.parent)
    stale = sorted(n for n in current.keys() | listed.keys() if current.get(n) != listed.get(n))
    for name in stale:
        why = "not listed" if name not in listed else "no longer there" if name not in current else "edited"
        err.print(f"{name}: {why}", markup=False, highlight=False)
    if stale:
        err.print(f"{path} is out of date: run `procguide official --write`", style="red", markup=False)
        raise typer.Exit(1)
    console.print(f"{len(current)} official notes, all as listed in {path}")


@app.command()
def tune(
    variants: Annotated[Path, typer.Argument(help="YAML: variants of fusion and compose weights")],
    questions: Annotated[Path, typer.Option(help="Questions (JSON Lines)")] = Path("evals/questions.jsonl"),
    split: Annotated[str, typer.Option(help="The split to tune on: never the held-out one")] = "dev",
) -> None:
    """Score variants of the weights on the dev split, each question read and embedded once."""
    import yaml

    from procguide import yamlfile
    from procguide.assistant import Assistant
    from procguide.evaluation.config import EvalConfig
    from procguide.evaluation.questions import QuestionFileError, load_questions, select_split
    from procguide.evaluation.run import support_checker
    from procguide.evaluation.tune import Variant, sweep

    if split == "heldout":
        err.print("The held-out split is for reporting, not tuning: tune on dev.", style="red")
        raise typer.Exit(2)
    try:
        items = select_split(load_questions(questions), split)
        spec = yamlfile.safe_load(variants.read_text(encoding="utf-8")) or {}
        chosen = [Variant(v["name"], v.get("fusion") or {}, v.get("compose") or {}) for v in spec["variants"]]
    except (QuestionFileError, ValueError, OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        err.print(f"Cannot tune: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    settings = settings_or_exit()
    config = EvalConfig.load(Path("evals/config.yaml"))
    with progress_bar() as progress:
        task = progress.add_task("Variants", total=len(chosen))
        results = sweep(Assistant(settings), items, chosen, support_checker(settings, config), config.k,
                        lambda name: progress.advance(task))
    names = ("fact_recall", "cited_source_recall", "false_abstention_rate", "abstention_accuracy",
             "padding_rate", "source_recall_at_k")
    table = Table("variant", *names)
    for name, metrics in results.items():
        table.add_row(name, *(f"{metrics.get(m) or 0:.3f}" for m in names))
    console.print(table)


@app.command()
def glossary(
    term: Annotated[str | None, typer.Argument(help="Show only entries matching this word")] = None,
) -> None:
    """The words procguide understands (knowledge/vocabulary.yaml): terms, acronyms and Welsh
    equivalents, and the provisions each points to."""
    from procguide.vocabulary import VocabularyError, load_vocabulary

    try:
        vocabulary = load_vocabulary(settings_or_exit().vocabulary_file)
    except VocabularyError as exc:
        raise failure(exc, 2) from exc
    table = Table("concept", "kind", "you can say", "Cymraeg", "points to")
    for c in vocabulary.concepts:
        said = ", ".join([*c.terms, *c.acronyms])
        if term and term.lower() not in f"{c.label} {said} {' '.join(c.cy)}".lower():
            continue
        points = ", ".join(c.provisions) or c.nation or c.sector or c.body or c.qtype or c.reason
        table.add_row(c.label, c.kind, said, ", ".join(c.cy), points)
    console.print(table)


@app.command("eval")
def eval_(
    questions: Annotated[Path, typer.Option(help="Questions, JSON Lines (evals/README.md)")] = Path(
        "evals/questions.jsonl"
    ),
    out: Annotated[Path, typer.Option(help="Folder for answers.jsonl and the report")] = Path("eval-out"),
    answers: Annotated[
        Path | None, typer.Option(help="Score these saved answers instead of running the assistant")
    ] = None,
    k: Annotated[int | None, typer.Option(help="Passages retrieved (default: from the config)")] = None,
    minimum: Annotated[
        list[str] | None, typer.Option("--min", help="METRIC=VALUE; exit 1 if the metric is lower")
    ] = None,
    maximum: Annotated[
        list[str] | None, typer.Option("--max", help="METRIC=VALUE; exit 1 if the metric is higher")
    ] = None,
    config: Annotated[Path, typer.Option(help="k, bounds, support threshold, baselines")] = Path(
        "evals/config.yaml"
    ),
    baselines: Annotated[bool, typer.Option(help="Also run the baselines named in the config")] = True,
    split: Annotated[
        str | None,
        typer.Option(help="Only questions tagged NAME (dev, heldout); 'all' for every question "
                     "(default: from the config)"),
    ] = None,
) -> None:
    """Run the eval suite (or score saved answers) and write report.json, report.md, metrics.png."""
    from procguide.evaluation.config import Bounds, EvalConfig, parse_bound_options
    from procguide.evaluation.questions import QuestionFileError, load_questions, select_split
    from procguide.evaluation.run import run_eval

    try:
        cfg = EvalConfig.load(config)
        chosen = cfg.split if split is None else (None if split == "all" else split)
        items = select_split(load_questions(questions), chosen)
        bounds = Bounds(
            min={**cfg.bounds.min, **parse_bound_options(minimum or [], "min")},
            max={**cfg.bounds.max, **parse_bound_options(maximum or [], "max")},
        )
    except (QuestionFileError, ValueError) as exc:
        raise failure(exc, 2) from exc
    if k is not None:
        cfg.k = k
    systems = ["procguide"] + (cfg.baselines if baselines and answers is None else [])
    with progress_bar() as progress:
        tasks = {name: progress.add_task(f"Answering ({name})", total=len(items)) for name in systems}
        if answers is not None:
            progress.update(tasks["procguide"], description="Scoring saved answers", completed=len(items))
        try:
            run = run_eval(
                items, out, settings_or_exit(), cfg, bounds, answers,
                systems[1:], lambda name: progress.advance(tasks[name]), split=chosen,
            )
        except ValueError as exc:
            raise failure(exc, 2) from exc
    results = {"procguide": run.metrics, **run.baselines}
    table = Table("metric", *results)
    for name in run.metrics:
        table.add_row(name, *(f"{m.get(name, 0):.3f}" for m in results.values()))
    console.print(table)
    which = f"the {chosen} split" if chosen else "all questions"
    console.print(f"{len(items)} questions ({which})")
    console.print(f"Report: {out / 'report.md'}, {out / 'report.json'}, {out / 'metrics.png'}")
    if run.failures:
        for line in run.failures:
            err.print(f"bound missed: {line}", style="red", markup=False, highlight=False)
        raise typer.Exit(1)


@app.command("calibrate-support")
def calibrate_support(
    pairs: Annotated[Path | None, typer.Option(help="Labelled sentence-passage pairs")] = None,
    split: Annotated[
        str, typer.Option(help="The split the threshold is calibrated on (dev, heldout or all)")
    ] = "dev",
    by_kind: Annotated[bool, typer.Option(help="Also show each kind of pair")] = True,
) -> None:
    """Find the support checker's threshold that best classifies labelled pairs (on the dev split),
    and report accuracy, precision and recall (supported = positive) on every split."""
    from procguide.answer.support import offline_checker
    from procguide.evaluation.pairs import (
        PAIR_SPLITS,
        best_thresholds,
        calibrate_threshold,
        load_pairs,
        scores_at,
        verdicts,
    )

    settings = settings_or_exit()
    path = pairs or settings.support_pairs_file
    try:
        labelled = load_pairs(path)
        load_pairs(path, split)  # a split no pair carries is an error
    except (OSError, ValueError) as exc:
        raise failure(exc) from exc
    checker = offline_checker(settings)
    found = dict(zip(map(id, labelled), verdicts(checker, labelled), strict=True))
    tuned_on = [p for p in labelled if split == "all" or p.split == split]
    tied, _ = best_thresholds([found[id(p)] for p in tuned_on], tuned_on)
    threshold, best = calibrate_threshold(checker, tuned_on, [found[id(p)] for p in tuned_on])
    current = settings.support_threshold
    splits = [s for s in PAIR_SPLITS if any(p.split == s for p in labelled)] + ["all"]
    console.print(
        f"{len(labelled)} pairs ({sum(p.supported for p in labelled)} supported): "
        + ", ".join(f"{s} {sum(p.split == s for p in labelled)}" for s in splits[:-1])
    )
    console.print(f"best threshold on {split}: {threshold:.3f} (accuracy {best:.3f}, the same from "
                  f"{tied[0]:.3f} to {tied[-1]:.3f}); current threshold {current} (PROCGUIDE_SUPPORT_THRESHOLD)")

    def fmt(v: float | None) -> str:
        return "–" if v is None else f"{v:.3f}"

    table = Table("split", "threshold", "n", "accuracy", "precision", "recall")
    chosen: dict[str, object] = {}
    for name in splits:
        subset = labelled if name == "all" else [p for p in labelled if p.split == name]
        for t in dict.fromkeys([current, threshold]):
            scores = scores_at([found[id(p)] for p in subset], subset, t)
            chosen[name] = chosen.get(name) or scores
            table.add_row(name, f"{t:.3f}", str(scores.n), fmt(scores.accuracy), fmt(scores.precision),
                          fmt(scores.recall))
    console.print(table)
    if by_kind:
        kinds = Table("kind", *[f"{s} n / acc / prec / rec" for s in splits],
                      title=f"by kind, at the current threshold {current}")
        names = sorted({p.kind for p in labelled})
        for kind in names:
            row = []
            for name in splits:
                k = chosen[name].by_kind.get(kind)  # type: ignore[attr-defined]
                row.append("–" if k is None else
                           f"{k.n} / {fmt(k.accuracy)} / {fmt(k.precision)} / {fmt(k.recall)}")
            kinds.add_row(kind, *row)
        console.print(kinds)


app.command("bench")(bench_command)


feedback_app = typer.Typer(
    help="The users' thumbs up and down on answers: export them as CSV, or summarise them.",
    no_args_is_help=True,
)
app.add_typer(feedback_app, name="feedback")

DAYS_SHOWN = 14
SinceOption = Annotated[
    str | None, typer.Option(help="Only feedback given on or after this day (UTC), YYYY-MM-DD")
]


def _since(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError as exc:
        raise failure(ValueError(
            f"--since takes a date as YYYY-MM-DD, for example 2026-01-15; got '{value}'")) from exc


@feedback_app.command("export")
def feedback_export(
    out: Annotated[Path | None, typer.Option(help="The CSV file to write (default: standard output)")] = None,
    since: SinceOption = None,
) -> None:
    """Write the feedback as CSV: time, rating, comment, question, answer, citations, context and
    settings, one row per rated answer."""
    import sys

    from procguide.feedback import FeedbackStore, FeedbackUnavailable

    day = _since(since)
    store = FeedbackStore.for_settings(settings_or_exit())
    try:
        written = store.export_csv(out or sys.stdout, since=day)
    except FeedbackUnavailable as exc:
        raise failure(exc, 2) from exc
    where = f" to {out}" if out else ""
    err.print(f"{written} rows of feedback written{where} (from {store.path})", markup=False,
              highlight=False)


@feedback_app.command("stats")
def feedback_stats(
    since: SinceOption = None,
    recent: Annotated[int, typer.Option(min=0, help="Latest thumbs-down questions shown")] = 5,
) -> None:
    """Summarise the feedback: thumbs up and down, the share up, comments, by answerer and by day,
    and the latest questions whose answers got a thumbs down."""
    from rich.text import Text

    from procguide.feedback import FeedbackStore, FeedbackUnavailable

    day = _since(since)
    store = FeedbackStore.for_settings(settings_or_exit())
    try:
        stats = store.stats(since=day, recent=recent)
    except FeedbackUnavailable as exc:
        raise failure(exc, 2) from exc
    if not stats.total:
        console.print(f"No feedback yet{f' since {day}' if day else ''} in {store.path}",
                      markup=False, highlight=False)
        return

    def share(up: int, total: int) -> str:
        return f"{up / total:.0%}" if total else "–"

    table = Table("", "ratings", "up", "down", "share up", title=Text(f"Feedback in {store.path}"))
    table.add_row("all", str(stats.total), str(stats.up), str(stats.down), share(stats.up, stats.total))
    for name, tally in stats.by_answerer.items():
        table.add_row(Text(f"answerer: {name}"), str(tally.total), str(tally.up), str(tally.down),
                      share(tally.up, tally.total))
    days = list(stats.by_day.items())
    for name, tally in days[-DAYS_SHOWN:]:
        table.add_row(name, str(tally.total), str(tally.up), str(tally.down), share(tally.up, tally.total))
    console.print(table)
    if len(days) > DAYS_SHOWN:
        console.print(f"(the latest {DAYS_SHOWN} of {len(days)} days with feedback; --since narrows)",
                      markup=False, highlight=False)
    console.print(f"{stats.with_comment} with a comment", markup=False, highlight=False)
    if stats.recent_down:
        # Questions and comments are what users typed: shown as text, never as markup.
        down = Table("time (UTC)", "question", "comment", "answerer", title="Latest thumbs down")
        for vote in stats.recent_down:
            down.add_row(vote.time, Text(vote.question), Text(vote.comment), Text(vote.answerer))
        console.print(down)


training_app = typer.Typer(
    help="Training mode: ready sessions of scenarios for a facilitator, and session packs.",
    no_args_is_help=True,
)
app.add_typer(training_app, name="training")


@training_app.command("list")
def training_list() -> None:
    """The ready training sessions (knowledge/training/sessions.yaml): id, title, audience,
    length and how many scenarios each has."""
    from rich.text import Text

    from procguide.evaluation.questions import QuestionFileError
    from procguide.training import list_sessions, load_session

    settings = settings_or_exit()
    try:
        sessions = list_sessions(settings)
    except QuestionFileError as exc:
        raise failure(exc, 2) from exc
    table = Table("id", "session", "audience", "minutes", "scenarios", title="Training sessions",
                  show_lines=True)
    broken = []
    for info in sessions:
        try:
            count = str(len(load_session(info.id, settings).scenarios))
        except QuestionFileError as exc:
            count = "unreadable"
            broken.append(exc)
        about = Text(info.title, style="bold")
        if info.description:
            about.append("\n" + info.description, style="dim")
        table.add_row(Text(info.id), about, Text(info.audience), str(info.duration or ""), count)
    console.print(table)
    console.print("procguide training pack SESSION --out pack.docx (or pack.md) writes a session pack; "
                  "SESSION may also be your own scenario file (evals/README.md)",
                  markup=False, highlight=False)
    for exc in broken:
        err.print(str(exc), style="red", markup=False, highlight=False, soft_wrap=True)
    if broken:
        raise typer.Exit(1)


@training_app.command("pack")
def training_pack(
    session: Annotated[str, typer.Argument(
        metavar="SESSION_OR_FILE", help="A session id (procguide training list) or your own scenario file")],
    out: Annotated[Path, typer.Option(help="The pack to write: FILE.md (Markdown) or FILE.docx (Word)")],
) -> None:
    """Run every scenario of a session through the assistant and write the session pack: each
    scenario with a space for the team's answer, the assistant's cited answer and sources, the
    expected provisions and the discussion points."""
    from procguide.evaluation.questions import QuestionFileError
    from procguide.index import IndexUnavailable
    from procguide.training import meets_expectation, resolve_session, run_scenario, session_pack
    from procguide.ui.export import write

    suffix = out.suffix.lower()
    if suffix not in (".md", ".docx"):
        raise failure(ValueError(f"--out must end in .md (Markdown) or .docx (Word); got '{out.name}'"))
    settings = settings_or_exit()
    try:
        chosen = resolve_session(session, settings)
    except QuestionFileError as exc:
        raise failure(exc, 2) from exc
    answered = []
    try:
        assistant = _assistant(settings)
        if not assistant.index.count():
            raise failure(ValueError("The index is empty: run `procguide ingest` first."))
        with progress_bar() as progress:
            task = progress.add_task("Scenarios", total=len(chosen.scenarios))
            for scenario in chosen.scenarios:
                try:
                    answer = run_scenario(assistant, scenario)
                except ValueError as exc:  # a question the assistant cannot take as written
                    err.print(f"{scenario.id}: not asked: {exc}", style="red", markup=False, highlight=False)
                    answer = None
                answered.append((scenario, answer))
                progress.advance(task)
    except IndexUnavailable as exc:
        raise failure(exc, 2) from exc
    except typer.Exit:
        raise
    except Exception as exc:  # the traceback goes to the log, the user gets one line
        _log_failure("training pack", exc)
        raise typer.Exit(1) from exc
    doc = session_pack(chosen, answered)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write(doc, out)
    except OSError as exc:
        raise failure(ValueError(f"{out}: cannot be written ({exc.strerror or exc})")) from exc
    asked = [(s, a) for s, a in answered if a is not None]
    declined = sum(a.abstained for _, a in asked)
    as_expected = sum(meets_expectation(s, a) for s, a in asked)
    console.print(
        f"{len(chosen.scenarios)} scenarios from '{chosen.title}': {len(asked)} answered ({declined} declined); "
        f"{as_expected} as expected (an expected provision cited, or declined when out of scope)",
        markup=False, highlight=False,
    )
    console.print(f"Session pack written to {out}", markup=False, highlight=False)


auth_app = typer.Typer(help="Login for the web UI (PROCGUIDE_AUTH).", no_args_is_help=True)
app.add_typer(auth_app, name="auth")


@auth_app.command("hash")
def auth_hash(name: Annotated[str, typer.Argument(help="The user's sign-in name")]) -> None:
    """Ask for a password (twice, not shown) and print the 'name:hash' line for the users file or
    PROCGUIDE_AUTH_USERS. The password itself is stored nowhere."""
    from procguide.ui.auth import _NAME, AuthError, hash_password

    if not _NAME.match(name):
        raise failure(ValueError("A name is 1 to 64 letters, digits or . _ @ + -"), 2)
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    try:
        print(f"{name}:{hash_password(password)}")
    except AuthError as exc:
        raise failure(exc, 2) from exc


if __name__ == "__main__":
    app()
