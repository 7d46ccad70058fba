"""The feedback store: thumbs up or down and a comment on each answer, in SQLite under the home
folder; its CSV export and summary, and `procguide feedback export|stats`.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from procguide.cli import app
from procguide.config import get_settings
from procguide.feedback import (
    CSV_COLUMNS,
    MAX_COMMENT_CHARS,
    FeedbackStore,
    FeedbackUnavailable,
    clean_comment,
    feedback_path,
    rating_from_like,
    settings_snapshot,
)
from tests.conftest import make_settings

pytestmark = pytest.mark.fast

SECRET = "sk-do-not-store-0123456789"


def answer_record(question: str = "How long can a contract reserved for a mutual run?",
                  answerer: str = "extractive", abstained: bool = False) -> dict[str, Any]:
    """The shape of Answer.as_record(), as the UI holds it."""
    return {
        "question": question,
        "answer": "No more than five years [1].",
        "citations": [{
            "n": 1, "doc_id": "test-mutuals-note", "title": "Reserving contracts for mutuals",
            "locator": "Section 33(4)", "url": "https://www.legislation.gov.uk/ukpga/2023/54/section/33",
            "provisions": ["uk-pa-2023:s-33(4)"], "text": "The passage's own words, not stored.",
        }],
        "retrieved": [["uk-pa-2023:s-33(4)"]],
        "abstained": abstained,
        "answerer": answerer,
        "context": {
            "summary": "Answered for Wales, a procurement started on 2026-01-15 (Procurement Act 2023)",
            "nation": "Wales", "started": "2026-01-15", "governing": ["uk-pa-2023"],
        },
    }


class Clock:
    """A settable clock, so rows fall on known days."""

    def __init__(self, when: datetime) -> None:
        self.when = when

    def __call__(self) -> datetime:
        return self.when


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "home" / "feedback.sqlite3")


def test_a_rating_is_stored_with_its_question_answer_citations_context_and_time(store: FeedbackStore) -> None:
    row_id = store.record(answer_record(), "up", "Clear, thanks", settings={"nation": "Wales", "k": 5})
    row = store.get(row_id)
    assert row is not None
    assert (row.rating, row.comment, row.answerer, row.abstained) == ("up", "Clear, thanks", "extractive", False)
    assert row.question == "How long can a contract reserved for a mutual run?"
    assert row.answer == "No more than five years [1]."
    assert row.citations == [{
        "n": 1, "title": "Reserving contracts for mutuals", "locator": "Section 33(4)",
        "url": "https://www.legislation.gov.uk/ukpga/2023/54/section/33", "provisions": ["uk-pa-2023:s-33(4)"],
    }]
    assert row.context["nation"] == "Wales" and row.context["governing"] == ["uk-pa-2023"]
    assert row.settings == {"nation": "Wales", "k": 5}
    assert datetime.fromisoformat(row.created).utcoffset() is not None
    assert row.created == row.updated


def test_an_answer_object_is_accepted_as_well_as_its_record(store: FeedbackStore) -> None:
    class FakeAnswer:
        def as_record(self) -> dict[str, Any]:
            return answer_record(answerer="llm")

    row = store.get(store.record(FakeAnswer(), "down"))  # type: ignore[arg-type]
    assert row is not None and row.answerer == "llm" and row.rating == "down"


def test_the_store_file_is_created_owner_only_in_the_home_folder(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    assert feedback_path(settings) == tmp_path / "home" / "feedback.sqlite3"
    store = FeedbackStore.for_settings(settings)
    assert not store.path.exists()  # nothing is written until someone rates an answer
    store.record(answer_record(), "up")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    other = make_settings(tmp_path / "home", feedback_file=tmp_path / "elsewhere" / "ratings.db")
    assert feedback_path(other) == tmp_path / "elsewhere" / "ratings.db"


def test_the_journal_is_wal_and_its_files_are_owner_only(store: FeedbackStore) -> None:
    store.record(answer_record(), "up")
    holder = sqlite3.connect(store.path)  # keeps the -wal and -shm files in being
    try:
        assert holder.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        store.record(answer_record(), "down")
        wal = store.path.with_name(store.path.name + "-wal")
        assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    finally:
        holder.close()


def test_changing_a_thumb_updates_the_same_row(store: FeedbackStore) -> None:
    clock = Clock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    store = FeedbackStore(store.path, clock=clock)
    first = store.record(answer_record(), "up", answer_id="msg-7")
    clock.when = datetime(2026, 3, 1, 9, 5, tzinfo=UTC)
    again = store.record(answer_record(), "down", answer_id="msg-7")
    assert again == first
    assert store.update(first, comment="It missed the Welsh rules") is True
    rows = store.rows()
    assert len(rows) == 1
    assert (rows[0].rating, rows[0].comment) == ("down", "It missed the Welsh rules")
    assert rows[0].created == "2026-03-01T09:00:00+00:00"
    assert rows[0].updated == "2026-03-01T09:05:00+00:00"
    # A click without a comment keeps the one already given; update(comment="") clears it.
    store.record(answer_record(), "up", answer_id="msg-7")
    assert store.rows()[0].comment == "It missed the Welsh rules"
    store.update(first, comment="")
    assert store.rows()[0].comment == "" and store.rows()[0].rating == "up"
    assert store.update(999, rating="up") is False


def test_a_rating_other_than_up_or_down_is_refused(store: FeedbackStore) -> None:
    with pytest.raises(ValueError, match="'up' or 'down'"):
        store.record(answer_record(), "meh")  # type: ignore[arg-type]
    assert not store.path.exists()


def test_gradio_like_values_map_to_ratings() -> None:
    assert rating_from_like(True) == "up"
    assert rating_from_like(False) == "down"
    assert rating_from_like(None) is None
    assert rating_from_like("laugh") is None


def test_comments_are_capped_and_stripped_of_control_characters_but_markup_is_kept() -> None:
    assert clean_comment("  bad\x00 answer\x1b[31m\r\nsee\u202e below \t ") == "bad answer[31m\nsee below"
    assert clean_comment("<script>alert(1)</script> **bold**") == "<script>alert(1)</script> **bold**"
    assert len(clean_comment("x" * 5000)) == MAX_COMMENT_CHARS
    assert clean_comment(None) == ""


def test_secret_settings_are_never_stored(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", answerer="llm", llm_model="qwen2.5-3b", k=7,
                             llm_api_key=SecretStr(SECRET),
                             llm_base_url=f"https://user:{SECRET}@llm.example/v1")
    store = FeedbackStore.for_settings(settings)
    snapshot = settings_snapshot(settings, nation="Wales", started=date(2025, 2, 23))
    assert snapshot == {"nation": "Wales", "started": "2025-02-23", "answerer": "llm",
                        "llm_model": "qwen2.5-3b", "k": 7}
    store.record(answer_record(), "up", settings=snapshot)
    store.record(answer_record(), "up", settings=settings)  # the whole Settings object
    # A careless caller's dict: only the known keys are kept, and a secret value is dropped.
    store.record(answer_record(), "down", settings={
        "llm_api_key": SECRET, "llm_base_url": f"https://x:{SECRET}@h", "k": 5,
        "llm_model": SecretStr(SECRET),
    })
    assert store.rows()[2].settings == {"k": 5, "llm_model": None}
    raw = store.path.read_bytes() + b"".join(
        p.read_bytes() for p in store.path.parent.iterdir() if p != store.path)
    assert SECRET.encode() not in raw
    out = io.StringIO()
    store.export_csv(out)
    assert SECRET not in out.getvalue()


def test_export_is_csv_with_the_expected_columns(store: FeedbackStore) -> None:
    store.record(answer_record(), "up", "Helpful", settings={"nation": "Wales", "k": 5}, answer_id="a1")
    store.record(answer_record("Can we talk to suppliers first?", abstained=True), "down",
                 '=HYPERLINK("http://evil.example","click") <b>not bold</b>')
    out = io.StringIO()
    assert store.export_csv(out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS
    first, second = rows
    assert (first["rating"], first["comment"], first["abstained"]) == ("up", "Helpful", "no")
    assert first["question"] == "How long can a contract reserved for a mutual run?"
    assert first["nation"] == "Wales" and first["governing"] == "uk-pa-2023"
    assert first["provisions"] == "uk-pa-2023:s-33(4)"
    assert "Section 33(4)" in first["citations"] and "not stored" not in first["citations"]
    assert (first["setting_nation"], first["setting_k"], first["answer_id"]) == ("Wales", "5", "a1")
    assert second["abstained"] == "yes"
    # Exported as text: a spreadsheet formula is defused, markup is left as typed characters.
    assert second["comment"] == '\'=HYPERLINK("http://evil.example","click") <b>not bold</b>'


def test_export_to_a_file_is_owner_only_and_since_filters_by_day(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 1, 10, 23, 59, tzinfo=UTC))
    store = FeedbackStore(tmp_path / "feedback.sqlite3", clock=clock)
    store.record(answer_record("old question"), "up")
    clock.when = datetime(2026, 1, 11, 0, 1, tzinfo=UTC)
    store.record(answer_record("new question"), "down")
    target = tmp_path / "out.csv"
    assert store.export_csv(target, since=date(2026, 1, 11)) == 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with target.open(encoding="utf-8", newline="") as f:
        assert [r["question"] for r in csv.DictReader(f)] == ["new question"]


def test_stats_count_ratings_comments_answerers_days_and_recent_downs(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 2, 1, 10, tzinfo=UTC))
    store = FeedbackStore(tmp_path / "feedback.sqlite3", clock=clock)
    store.record(answer_record("q1"), "up", "good")
    store.record(answer_record("q2", answerer="llm"), "down", "wrong regime")
    clock.when = datetime(2026, 2, 2, 10, tzinfo=UTC)
    store.record(answer_record("q3", answerer="llm"), "up")
    store.record(answer_record("q4"), "down")
    stats = store.stats()
    assert (stats.total, stats.up, stats.down, stats.with_comment) == (4, 2, 2, 2)
    assert stats.share_up == 0.5
    assert {k: (t.up, t.down) for k, t in stats.by_answerer.items()} == {"extractive": (1, 1), "llm": (1, 1)}
    assert {k: (t.up, t.down) for k, t in stats.by_day.items()} == {"2026-02-01": (1, 1), "2026-02-02": (1, 1)}
    assert [(d.question, d.comment) for d in stats.recent_down] == [("q4", ""), ("q2", "wrong regime")]
    later = store.stats(since=date(2026, 2, 2))
    assert (later.total, later.up, later.down) == (2, 1, 1)


def test_no_file_means_no_feedback_and_reading_creates_nothing(store: FeedbackStore) -> None:
    assert store.rows() == [] and store.stats().total == 0 and store.stats().share_up is None
    assert store.export_csv(io.StringIO()) == 0
    assert not store.path.parent.exists()


def test_concurrent_writes_from_threads_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    # What is tested is that no write is lost, not how fast they queue: a busy wait long enough for
    # a loaded machine (SQLite's busy handler can pass one writer over many times; at 10 s this
    # once failed while a browser trial ran beside the suite). The busy message has its own test.
    patient = 300.0
    shared = FeedbackStore(path, busy_timeout_s=patient)
    workers, each = 8, 25
    errors: list[FeedbackUnavailable] = []
    start = threading.Barrier(workers)

    def work(n: int) -> None:
        # Half share one store (as UI workers do), half open their own (as other processes would).
        store = shared if n % 2 else FeedbackStore(path, busy_timeout_s=patient)
        start.wait()
        try:
            for i in range(each):
                row_id = store.record(answer_record(f"q{n}-{i}"), "up", answer_id=f"{n}-{i}")
                store.update(row_id, rating="down", comment=f"c{n}-{i}")
        except FeedbackUnavailable as exc:  # "busy": reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = shared.rows()
    assert len(rows) == workers * each
    assert {r.question for r in rows} == {f"q{n}-{i}" for n in range(workers) for i in range(each)}
    assert all(r.rating == "down" and r.comment == "c" + r.question[1:] for r in rows)


def test_a_file_locked_by_another_writer_is_reported_as_busy_and_nothing_is_lost(
        tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(path, busy_timeout_s=0.2)
    first = store.record(answer_record("kept"), "up")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write, still open
    try:
        with pytest.raises(FeedbackUnavailable, match=r"busy for more than 0.2 seconds.*try again"):
            store.record(answer_record("waits"), "down")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [r.question for r in store.rows()] == ["kept"]
    assert store.get(first).rating == "up"
    store.record(answer_record("later"), "down")
    assert [r.question for r in store.rows()] == ["kept", "later"]


def test_a_corrupt_file_is_reported_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    garbage = b"this is not a database, but it may be someone's only copy\n" * 200
    path.write_bytes(garbage)
    store = FeedbackStore(path)
    for attempt in (lambda: store.record(answer_record(), "up"), store.stats, store.rows,
                    lambda: store.export_csv(io.StringIO())):
        with pytest.raises(FeedbackUnavailable, match="left as it is: move it aside"):
            attempt()
    assert path.read_bytes() == garbage
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feedback.sqlite3"]
    # Moved aside, as the message says: the same store starts a new file.
    path.rename(tmp_path / "feedback.sqlite3.damaged")
    store.record(answer_record(), "up")
    assert len(store.rows()) == 1
    assert (tmp_path / "feedback.sqlite3.damaged").read_bytes() == garbage


def test_a_store_in_use_starts_a_new_file_when_its_file_is_moved_aside(store: FeedbackStore) -> None:
    store.record(answer_record(), "up")
    store.path.rename(store.path.with_name("kept.sqlite3"))
    store.record(answer_record(), "down")
    assert [r.rating for r in store.rows()] == ["down"]


def test_a_damaged_store_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path).record(answer_record(), "up")
    original = path.read_bytes()
    path.write_bytes(original[:100] + b"\xff" * 20 + original[120:])  # a damaged header
    with pytest.raises(FeedbackUnavailable):
        FeedbackStore(path).record(answer_record(), "down")
    assert len(path.read_bytes()) == len(original)  # not replaced by a fresh, empty store
    path.write_bytes(original)
    assert len(FeedbackStore(path).rows()) == 1


def _make_unwritable(path: Path) -> Callable[[], None]:
    """Make the file unwritable even for root (the immutable flag) or, for other users, read-only;
    returns the undo."""
    if os.geteuid() != 0:
        path.chmod(0o400)
        return lambda: path.chmod(0o600)
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(path)], check=False, capture_output=True).returncode:
        pytest.skip("running as root on a filesystem without the immutable flag: root writes any file")
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)


def test_an_unwritable_file_is_reported_in_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path).record(answer_record(), "up")
    undo = _make_unwritable(path)
    try:
        with pytest.raises(FeedbackUnavailable, match="cannot write to the feedback file"):
            FeedbackStore(path).record(answer_record(), "down")
        assert len(FeedbackStore(path).rows()) == 1  # still readable
    finally:
        undo()


def test_a_folder_that_cannot_hold_the_file_is_reported_in_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("a file where the home folder should be", encoding="utf-8")
    with pytest.raises(FeedbackUnavailable, match="set PROCGUIDE_FEEDBACK_FILE to a writable place"):
        FeedbackStore(tmp_path / "home" / "feedback.sqlite3").record(answer_record(), "up")


def test_a_file_from_a_newer_procguide_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(FeedbackUnavailable, match="newer procguide"):
        FeedbackStore(path).record(answer_record(), "up")


# The command line


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """PROCGUIDE_HOME in a temp folder, with fresh settings and no developer .env."""
    home = tmp_path / "store"
    monkeypatch.chdir(tmp_path)
    for name in ("PROCGUIDE_FEEDBACK_FILE", "PROCGUIDE_ANSWERER", "PROCGUIDE_K"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROCGUIDE_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "400")  # Rich wraps at 80 columns when not on a terminal
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def seed(home: Path) -> FeedbackStore:
    clock = Clock(datetime(2026, 4, 1, 12, tzinfo=UTC))
    store = FeedbackStore(home / "feedback.sqlite3", clock=clock)
    store.record(answer_record("Can we reserve it for a mutual?"), "up", "Spot on")
    clock.when = datetime(2026, 4, 2, 12, tzinfo=UTC)
    store.record(answer_record("[bold red]Which rules[/] apply in Wales?", answerer="llm"), "down",
                 "[link=http://evil.example]missed the PSR[/link]")
    return store


def test_cli_export_writes_csv_to_stdout_or_a_file(home: Path, tmp_path: Path) -> None:
    seed(home)
    runner = CliRunner()
    result = runner.invoke(app, ["feedback", "export"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["rating"] for r in rows] == ["up", "down"]
    assert "2 rows of feedback written" in result.stderr
    out = tmp_path / "feedback.csv"
    result = runner.invoke(app, ["feedback", "export", "--out", str(out), "--since", "2026-04-02"])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["question"] for r in rows] == ["[bold red]Which rules[/] apply in Wales?"]


def test_cli_export_refuses_a_bad_date(home: Path) -> None:
    result = CliRunner().invoke(app, ["feedback", "export", "--since", "last week"])
    assert result.exit_code == 2
    assert "--since takes a date as YYYY-MM-DD" in result.stderr


def test_cli_stats_summarises_and_shows_typed_text_as_text(home: Path) -> None:
    seed(home)
    result = CliRunner().invoke(app, ["feedback", "stats"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "answerer: llm" in out and "answerer: extractive" in out and "50%" in out
    assert "2026-04-01" in out and "2026-04-02" in out
    assert "2 with a comment" in out
    assert "[bold red]Which rules[/] apply in Wales?" in out
    assert "[link=http://evil.example]missed the PSR[/link]" in out


def test_cli_stats_with_no_feedback_says_so(home: Path) -> None:
    result = CliRunner().invoke(app, ["feedback", "stats"])
    assert result.exit_code == 0
    assert "No feedback yet" in result.stdout
    assert not (home / "feedback.sqlite3").exists()


def test_cli_reports_a_corrupt_file_in_one_line_without_a_traceback(home: Path) -> None:
    home.mkdir()
    (home / "feedback.sqlite3").write_bytes(b"not sqlite" * 100)
    for command in (["feedback", "stats"], ["feedback", "export"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2
        assert "is damaged or is not a procguide feedback file" in result.stderr
        assert "Traceback" not in result.output
        assert not isinstance(result.exception, FeedbackUnavailable)
    assert (home / "feedback.sqlite3").read_bytes() == b"not sqlite" * 100
