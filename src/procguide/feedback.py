"""The feedback store: a thumb up or down and an optional comment on each answer, kept in SQLite
under the home folder with the question, answer, citations, context, settings and time; its CSV
export and summary.

Nothing about the user is stored beyond what they typed: no address, account, session or history.
Every write is one short transaction on its own connection (WAL journal, busy timeout), so one
store may be shared by every UI worker, and several processes may write the same file. A file
that cannot be opened is reported and left exactly as it is, never replaced.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import sqlite3
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from procguide.answer.result import Answer
    from procguide.config import Settings

Rating = Literal["up", "down"]
RATINGS: tuple[Rating, ...] = ("up", "down")

SCHEMA_VERSION = 1
MAX_COMMENT_CHARS = 2000
# Bounds on the stored question and answer: ours are far shorter, so these only stop a caller's
# mistake from filling the disk.
MAX_TEXT_CHARS = 50_000
# The settings a row keeps: the UI's context choices and how the answer was made. Nothing else is
# copied, so a key, URL or password among the settings never reaches the file.
SNAPSHOT_KEYS = ("nation", "started", "answerer", "llm_model", "k")
CITATION_KEYS = ("n", "title", "locator", "url", "provisions")

CSV_COLUMNS = (
    "id", "time", "updated", "rating", "comment", "question", "answer", "abstained", "answerer",
    "context", "nation", "started", "governing", "citations", "provisions",
    *(f"setting_{key}" for key in SNAPSHOT_KEYS), "answer_id",
)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT UNIQUE,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL DEFAULT '[]',
    context TEXT NOT NULL DEFAULT '{}',
    answerer TEXT NOT NULL DEFAULT '',
    abstained INTEGER NOT NULL DEFAULT 0,
    settings TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX IF NOT EXISTS feedback_created ON feedback (created)",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)
_COLUMNS = ("id", "answer_id", "created", "updated", "rating", "comment", "question", "answer",
            "citations", "context", "answerer", "abstained", "settings")

# Control characters other than tab and newline, and the bidirectional overrides and isolates
# that can make a comment display differently from what it says.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A cell a spreadsheet would run as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class FeedbackUnavailable(RuntimeError):
    """The feedback file cannot be read or written; the message says what to do."""


def feedback_path(settings: Settings) -> Path:
    """PROCGUIDE_FEEDBACK_FILE, else feedback.sqlite3 in the home folder."""
    return Path(settings.feedback_file or Path(settings.home) / "feedback.sqlite3")


def rating_from_like(liked: object) -> Rating | None:
    """Gradio's `LikeData.liked` as a rating: True is up, False is down, anything else (a thumb
    taken back, another kind of reaction) is None."""
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    return None


def settings_snapshot(
    settings: Settings, nation: str | None = None, started: date | str | None = None
) -> dict[str, Any]:
    """The settings worth keeping with a rating: the UI's nation and start-date choices (None
    when the user left them to the question), the answerer, the LLM's model name and k."""
    return {
        "nation": nation,
        "started": started.isoformat() if isinstance(started, date) else started,
        "answerer": settings.answerer,
        "llm_model": settings.llm_model,
        "k": settings.k,
    }


def clean_comment(text: str | None) -> str:
    """A comment as stored: control characters removed, line ends as \\n, at most
    MAX_COMMENT_CHARS. Markup is kept as typed; it is only ever shown or exported as text."""
    text = _valid_text(text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    return text.strip()[:MAX_COMMENT_CHARS].strip()


def _valid_text(value: object, limit: int = MAX_TEXT_CHARS) -> str:
    """Text SQLite can store: a lone surrogate (which UTF-8 cannot encode) becomes '?'."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return text[:limit].encode("utf-8", "replace").decode("utf-8")


def _plain(value: Any) -> Any:
    """A JSON scalar, or None for anything else (a secret, an object)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str):
        return _valid_text(value, 200)
    return None


def _snapshot(settings: Settings | Mapping[str, Any] | None) -> dict[str, Any]:
    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        settings = settings_snapshot(settings)
    return {key: _plain(settings[key]) for key in SNAPSHOT_KEYS if key in settings}


def _citations(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each citation's number, title, locator, URL and provisions (not the passage's text)."""
    out = []
    for c in record.get("citations") or []:
        if isinstance(c, Mapping):
            out.append({
                key: [_valid_text(p, 200) for p in c.get(key) or []] if key == "provisions"
                else _plain(c.get(key))
                for key in CITATION_KEYS
            })
    return out


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _loads(text: str | None, empty: Any) -> Any:
    try:
        value = json.loads(text or "")
    except ValueError:
        return empty
    return value if isinstance(value, type(empty)) else empty


def _as_text(cell: Any) -> str:
    """A CSV cell that a spreadsheet shows as text rather than running as a formula."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass(frozen=True)
class FeedbackRow:
    """One stored rating. `created` and `updated` are UTC ISO 8601 times."""

    id: int
    answer_id: str | None
    created: str
    updated: str
    rating: Rating
    comment: str
    question: str
    answer: str
    citations: list[dict[str, Any]]
    context: dict[str, Any]
    answerer: str
    abstained: bool
    settings: dict[str, Any]

    def csv_row(self) -> dict[str, str]:
        """The row as CSV_COLUMNS, every cell plain text."""
        provisions = dict.fromkeys(p for c in self.citations for p in c.get("provisions") or [])
        cells: dict[str, Any] = {
            "id": self.id,
            "time": self.created,
            "updated": self.updated,
            "rating": self.rating,
            "comment": self.comment,
            "question": self.question,
            "answer": self.answer,
            "abstained": "yes" if self.abstained else "no",
            "answerer": self.answerer,
            "context": self.context.get("summary", ""),
            "nation": self.context.get("nation") or "",
            "started": self.context.get("started") or "",
            "governing": " ".join(map(str, self.context.get("governing") or [])),
            "citations": _json(self.citations) if self.citations else "",
            "provisions": " ".join(map(str, provisions)),
            "answer_id": self.answer_id or "",
        }
        for key in SNAPSHOT_KEYS:
            value = self.settings.get(key)
            cells[f"setting_{key}"] = "" if value is None else value
        return {name: _as_text(cells[name]) for name in CSV_COLUMNS}


@dataclass(frozen=True)
class Tally:
    up: int = 0
    down: int = 0

    @property
    def total(self) -> int:
        return self.up + self.down

    @property
    def share_up(self) -> float | None:
        """Thumbs up as a share of all ratings; None when there are none."""
        return self.up / self.total if self.total else None


@dataclass(frozen=True)
class DownVote:
    time: str
    question: str
    comment: str
    answerer: str


@dataclass(frozen=True)
class FeedbackStats(Tally):
    """A summary of the ratings: counts, comments, by answerer, by (UTC) day, latest thumbs down."""

    with_comment: int = 0
    by_answerer: dict[str, Tally] = field(default_factory=dict)
    by_day: dict[str, Tally] = field(default_factory=dict)
    recent_down: list[DownVote] = field(default_factory=list)


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE (the write lock at once, so writers queue on the busy timeout rather than
    fail upgrading a read lock), COMMIT, or ROLLBACK on any failure."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise


class FeedbackStore:
    """Ratings of answers in one SQLite file (owner-only, created on the first rating).

    One store can be shared by every worker of the UI; it holds no open connection. From a Gradio
    `Chatbot.like()` handler, keeping each answer's `Answer` (or `as_record()`) and an id of your
    choosing for the message:

        store = FeedbackStore.for_settings(settings)           # once, at start-up
        rating = rating_from_like(like_data.liked)             # "up", "down" or None (taken back)
        if rating:
            try:
                row_id = store.record(
                    answer, rating, settings=settings_snapshot(settings, nation, started),
                    answer_id=message_id,   # a second click on the same answer updates its row
                )
            except FeedbackUnavailable as exc:
                gr.Warning(str(exc))

    A comment typed later goes to the same row: `store.update(row_id, comment=text)` (or
    `record(..., comment=text, answer_id=message_id)` again). Comments are cleaned and capped by
    `clean_comment`; markup is stored as typed and must be shown as text.
    """

    def __init__(
        self, path: Path | str, *, busy_timeout_s: float = 10.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._clock = clock or (lambda: datetime.now(UTC))
        self._ready = False
        self._ready_lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> FeedbackStore:
        return cls(feedback_path(settings))

    # Writing

    def record(
        self,
        answer: Answer | Mapping[str, Any],
        rating: Rating,
        comment: str | None = None,
        *,
        settings: Settings | Mapping[str, Any] | None = None,
        answer_id: str | None = None,
    ) -> int:
        """Store a rating of an answer (an `Answer` or its `as_record()`) and return its row id.

        With an `answer_id` already stored, that row's rating (and comment, when one is given) is
        changed instead, so changing a thumb never adds a second row. `settings` is a Settings
        object or a `settings_snapshot`; only the keys in SNAPSHOT_KEYS are kept."""
        _check_rating(rating)
        record = answer.as_record() if hasattr(answer, "as_record") else answer
        if not isinstance(record, Mapping):
            raise TypeError("record() takes an Answer or the dict of Answer.as_record()")
        now = self._now()
        cleaned = None if comment is None else clean_comment(comment)
        with self._write() as db:
            if answer_id is not None:
                found = db.execute("SELECT id FROM feedback WHERE answer_id = ?", (answer_id,)).fetchone()
                if found:
                    self._change(db, found[0], rating, cleaned, now)
                    return int(found[0])
            cursor = db.execute(
                "INSERT INTO feedback (answer_id, created, updated, rating, comment, question, answer,"
                " citations, context, answerer, abstained, settings)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    None if answer_id is None else _valid_text(answer_id, 200), now, now, rating,
                    cleaned or "", _valid_text(record.get("question")), _valid_text(record.get("answer")),
                    _json(_citations(record)), _json(record.get("context") or {}),
                    _valid_text(record.get("answerer"), 50), int(bool(record.get("abstained"))),
                    _json(_snapshot(settings)),
                ),
            )
            return int(cursor.lastrowid or 0)

    def update(self, row_id: int, rating: Rating | None = None, comment: str | None = None) -> bool:
        """Change a stored rating, its comment, or both (None leaves it as it is; "" clears the
        comment). False when there is no such row."""
        if rating is not None:
            _check_rating(rating)
        cleaned = None if comment is None else clean_comment(comment)
        with self._write() as db:
            return self._change(db, row_id, rating, cleaned, self._now())

    @staticmethod
    def _change(
        db: sqlite3.Connection, row_id: int, rating: Rating | None, comment: str | None, now: str
    ) -> bool:
        cursor = db.execute(
            "UPDATE feedback SET rating = coalesce(?, rating), comment = coalesce(?, comment),"
            " updated = ? WHERE id = ?",
            (rating, comment, now, row_id),
        )
        return cursor.rowcount > 0

    # Reading

    def rows(self, since: date | None = None) -> list[FeedbackRow]:
        """Every rating, oldest first; with `since`, those made on or after that (UTC) day."""
        query = f"SELECT {', '.join(_COLUMNS)} FROM feedback"
        with self._read() as db:
            if db is None:
                return []
            found = db.execute(query + " WHERE created >= ? ORDER BY created, id", (_day(since),))
            return [_row(values) for values in found.fetchall()]

    def get(self, row_id: int) -> FeedbackRow | None:
        with self._read() as db:
            if db is None:
                return None
            values = db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM feedback WHERE id = ?", (row_id,)
            ).fetchone()
            return _row(values) if values else None

    def export_csv(self, target: Path | str | IO[str] | None = None, since: date | None = None) -> int:
        """Write the ratings as CSV (CSV_COLUMNS, UTF-8) to a file (created owner-only) or an open
        text stream (default: standard output), and return how many rows were written. Cells a
        spreadsheet would run as a formula start with an apostrophe."""
        rows = self.rows(since)
        if target is None:
            target = sys.stdout
        if isinstance(target, str | Path):
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with open(fd, "w", encoding="utf-8", newline="") as stream:
                    _write_csv(stream, rows)
            except OSError as exc:
                raise FeedbackUnavailable(f"Cannot write the export to {target}: {exc.strerror or exc}") from exc
        else:
            _write_csv(target, rows)
        return len(rows)

    def stats(self, since: date | None = None, recent: int = 5) -> FeedbackStats:
        """Counts of thumbs up and down, overall, by answerer and by day, the number with a
        comment, and the `recent` latest thumbs-down questions."""
        day = _day(since)
        with self._read() as db:
            if db is None:
                return FeedbackStats()

            def tallies(key: str) -> dict[str, Tally]:
                counts: dict[str, dict[str, int]] = {}
                for name, rating, n in db.execute(
                    f"SELECT {key} AS k, rating, count(*) FROM feedback WHERE created >= ?"
                    " GROUP BY k, rating ORDER BY k", (day,)
                ):
                    counts.setdefault(str(name or "unknown"), {})[rating] = n
                return {k: Tally(v.get("up", 0), v.get("down", 0)) for k, v in counts.items()}

            by_answerer = tallies("answerer")
            with_comment = db.execute(
                "SELECT count(*) FROM feedback WHERE created >= ? AND comment != ''", (day,)
            ).fetchone()[0]
            down = db.execute(
                "SELECT created, question, comment, answerer FROM feedback"
                " WHERE created >= ? AND rating = 'down' ORDER BY created DESC, id DESC LIMIT ?",
                (day, recent),
            ).fetchall()
            return FeedbackStats(
                up=sum(t.up for t in by_answerer.values()),
                down=sum(t.down for t in by_answerer.values()), with_comment=with_comment,
                by_answerer=by_answerer, by_day=tallies("substr(created, 1, 10)"),
                recent_down=[DownVote(*map(str, values)) for values in down],
            )

    # The file

    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat(timespec="seconds")

    def _connect(self) -> sqlite3.Connection:
        """A connection to the existing file: SQLite's `mode=rw` never creates one, so a file
        that went missing or will not open is never replaced by an empty store."""
        uri = self.path.absolute().as_uri() + "?mode=rw"
        db = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout_s, isolation_level=None,
                             check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
        except BaseException:
            db.close()
            raise
        return db

    def _create(self) -> None:
        """The file, owner-only, if it is not there yet (exclusive create: of two workers racing,
        one creates it and the other opens it). SQLite gives its -wal and -shm files the same
        permissions as the database."""
        folder = self.path.parent
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            # A file from before, or copied in: readable by its owner only, as the store is.
            with contextlib.suppress(OSError):
                mode = self.path.stat().st_mode
                if mode & 0o077:
                    self.path.chmod(mode & 0o700)
            return
        os.close(fd)

    def _prepare(self) -> None:
        with self._ready_lock:
            # A file moved aside while the UI runs (as an error message may advise) is started anew.
            if self._ready and self.path.exists():
                return
            with self._errors():
                self._create()
                db = self._connect()
                try:
                    version = db.execute("PRAGMA user_version").fetchone()[0]
                    if version > SCHEMA_VERSION:
                        raise FeedbackUnavailable(
                            f"The feedback file {self.path} was written by a newer procguide "
                            f"(schema {version}); upgrade procguide, or set PROCGUIDE_FEEDBACK_FILE "
                            "to another file."
                        )
                    db.execute("PRAGMA journal_mode = WAL")
                    with _transaction(db):
                        for statement in _SCHEMA:
                            db.execute(statement)
                finally:
                    db.close()
            self._ready = True

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short transaction, taking the write lock at once (BEGIN IMMEDIATE) so that two
        writers queue on the busy timeout rather than fail on upgrading a read lock."""
        self._prepare()
        with self._errors():
            db = self._connect()
            try:
                db.execute("PRAGMA synchronous = NORMAL")
                with _transaction(db):
                    yield db
            finally:
                db.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection | None]:
        """A connection for reading, or None when there is no feedback yet (no file, or a file
        without the table). Reading never creates or changes the file."""
        if not self.path.exists():
            yield None
            return
        with self._errors():
            db = self._connect()
            try:
                has_table = db.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'feedback'"
                ).fetchone()
                yield db if has_table else None
            finally:
                db.close()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite's and the file system's errors as one sentence that says what to do."""
        try:
            yield
        except sqlite3.Error as exc:
            raise FeedbackUnavailable(_explain(self.path, str(exc), self.busy_timeout_s)) from exc
        except OSError as exc:
            raise FeedbackUnavailable(
                f"procguide cannot use the feedback file {self.path}: {exc.strerror or exc}. Check "
                "the folder's permissions, or set PROCGUIDE_FEEDBACK_FILE to a writable place."
            ) from exc


def _explain(path: Path, message: str, timeout: float) -> str:
    lower = message.lower()
    if "locked" in lower or "busy" in lower:
        return (f"The feedback file {path} was busy for more than {timeout:g} seconds "
                "(another procguide is writing to it); try again.")
    if "readonly" in lower or "read-only" in lower or "unable to open" in lower:
        return (f"procguide cannot write to the feedback file {path} ({message}). Check its "
                "permissions and its folder's, or set PROCGUIDE_FEEDBACK_FILE to a writable place.")
    if "not a database" in lower or "malformed" in lower or "corrupt" in lower:
        return (f"The feedback file {path} is damaged or is not a procguide feedback file "
                f"({message}). It has been left as it is: move it aside to start a new one (or "
                "set PROCGUIDE_FEEDBACK_FILE to another file), and keep it to recover its rows.")
    return (f"procguide cannot use the feedback file {path} ({message}). It has been left as it "
            "is; move it aside to start a new one, or set PROCGUIDE_FEEDBACK_FILE to another file.")


def _check_rating(rating: object) -> None:
    if rating not in RATINGS:
        raise ValueError(f"A rating is 'up' or 'down', not {rating!r}")


def _day(since: date | None) -> str:
    """The lower bound on `created` for a day (ISO times compare as text); '' for no bound."""
    return since.isoformat() if since else ""


def _row(values: tuple[Any, ...]) -> FeedbackRow:
    v = dict(zip(_COLUMNS, values, strict=True))
    return FeedbackRow(
        id=int(v["id"]), answer_id=v["answer_id"], created=v["created"], updated=v["updated"],
        rating=v["rating"], comment=v["comment"] or "", question=v["question"] or "",
        answer=v["answer"] or "", citations=_loads(v["citations"], []),
        context=_loads(v["context"], {}), answerer=v["answerer"] or "",
        abstained=bool(v["abstained"]), settings=_loads(v["settings"], {}),
    )


def _write_csv(stream: IO[str], rows: list[FeedbackRow]) -> None:
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(row.csv_row())
