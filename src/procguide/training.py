"""Training mode's data and logic: the ready sessions (knowledge/training/sessions.yaml), a
trainer's own scenario file in the eval question format, each scenario run through the
Assistant, and the session pack (Markdown or Word, through ui/export.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from procguide import provisions as prov
from procguide.config import PROJECT_ROOT, Settings, get_settings
from procguide.evaluation.questions import Question, QuestionFileError

if TYPE_CHECKING:
    from procguide.answer.result import Answer
    from procguide.assistant import Assistant
    from procguide.context import ContextSettings
    from procguide.ui.export import ExportDoc

SESSIONS_FILE = Path("training") / "sessions.yaml"  # under the knowledge folder
# A session is a handful of scenarios; a file far larger is not a scenario file.
MAX_FILE_BYTES = 256 * 1024
MAX_SCENARIOS = 100
MAX_QUESTION_CHARS = 2000  # the default of PROCGUIDE_MAX_QUESTION_CHARS
TITLE_CHARS = 70
ERRORS_SHOWN = 3

TEAM_ANSWER = "Your team's answer:"
ANSWER_LINE = "…" * 45
NOT_ASKED = "The assistant was not asked this scenario in the session."
EXPECTED_LABEL = "Expected provisions"
DISCUSSION_LABEL = "Discussion points"
DECLINE_EXPECTED = (
    "None: this is outside what procguide's knowledge base covers, and the right answer is to "
    "say so and point elsewhere."
)
FORMAT_HINT = (
    "A scenario file is JSON Lines: one JSON object a line, such as "
    '{"id": "s1", "question": "...", "sources": ["uk-pa-2023:s-33"], "discussion": ["..."]} '
    "(see evals/README.md)."
)

# Markup a trainer's text must not carry: HTML or XML tags, Markdown links and images, script URLs.
_MARKUP = re.compile(
    r"<\s*/?\s*[a-z!?][^<>]*>|!?\[[^\]\n]*\]\([^)\n]*\)|\bjavascript\s*:|&#?[a-z0-9]+;",
    re.IGNORECASE,
)
# What a file starts with when it is something else dressed as a scenario file.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a Word document, spreadsheet or other zip archive"),
    (b"\xd0\xcf\x11\xe0", "an older Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
    (b"SQLite format 3", "a database"),
    (b"\x1f\x8b", "a compressed file"),
)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


# Sessions ------------------------------------------------------------------------------------

class _SessionEntry(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    title: str = Field(min_length=1)
    audience: str = ""
    duration: int = Field(gt=0, le=600)
    description: str = ""
    file: str

    @field_validator("file")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if Path(name).name != name or not name.endswith(".jsonl"):
            raise ValueError("must be the name of a .jsonl file in the same folder, such as my-session.jsonl")
        return name


@dataclass(frozen=True)
class SessionInfo:
    """A session as sessions.yaml lists it; a trainer's own file gets its name as the title."""

    id: str
    title: str
    audience: str
    duration: int | None  # minutes
    description: str
    file: Path


@dataclass(frozen=True)
class Scenario:
    """A question of the eval format seen as a training scenario."""

    id: str
    title: str  # its first sentence, shortened
    question: str
    history: tuple[dict[str, str], ...]
    sources: tuple[str, ...]  # provision ids
    expected: tuple[str, ...]  # the same, as people name them: "Procurement Act 2023, Section 33"
    discussion: tuple[str, ...]
    facts: tuple[str, ...]
    abstain: bool
    tags: tuple[str, ...]

    @classmethod
    def from_question(cls, q: Question) -> Scenario:
        return cls(
            id=q.id,
            title=scenario_title(q.question),
            question=q.question,
            history=tuple(q.history_messages()),
            sources=tuple(q.sources),
            expected=tuple(prov.describe(pid) for pid in q.sources),
            discussion=tuple(q.discussion),
            facts=tuple(q.facts),
            abstain=q.abstain,
            tags=tuple(q.tags),
        )


@dataclass(frozen=True)
class Session:
    info: SessionInfo
    scenarios: tuple[Scenario, ...]

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def title(self) -> str:
        return self.info.title


def scenario_title(question: str, limit: int = TITLE_CHARS) -> str:
    """The first sentence, cut at a word to at most `limit` characters."""
    text = " ".join(question.split())
    first = _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(".")
    if len(first) <= limit:
        return first
    cut = first[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return f"{cut}…"


def sessions_file(settings: Settings | None = None) -> Path:
    """sessions.yaml in the knowledge folder's training/, else the one shipped with procguide."""
    settings = settings or get_settings()
    here = Path(settings.knowledge_dir) / SESSIONS_FILE
    return here if here.is_file() else PROJECT_ROOT / "knowledge" / SESSIONS_FILE


def list_sessions(settings: Settings | None = None) -> list[SessionInfo]:
    """The ready sessions, in the order sessions.yaml lists them."""
    import yaml

    from procguide import yamlfile

    path = sessions_file(settings)
    try:
        data = yamlfile.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise QuestionFileError(f"{path}: the list of training sessions cannot be read ({exc.strerror})") from exc
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise QuestionFileError(f"{path}: the list of training sessions is not valid YAML ({' '.join(str(exc).split())})") from exc
    entries = data.get("sessions") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise QuestionFileError(f"{path}: list the sessions under 'sessions:' (see the comment at its top)")
    out: list[SessionInfo] = []
    for number, entry in enumerate(entries, start=1):
        try:
            e = _SessionEntry.model_validate(entry)
        except ValidationError as exc:
            raise QuestionFileError(f"{path}, session {number}: {_problems(exc)}") from exc
        if any(s.id == e.id for s in out):
            raise QuestionFileError(f"{path}, session {number}: the id '{e.id}' is used twice")
        out.append(SessionInfo(e.id, e.title, e.audience, e.duration, " ".join(e.description.split()),
                               path.parent / e.file))
    return out


def load_session(session_id: str, settings: Settings | None = None) -> Session:
    """A ready session by its id, with its scenarios."""
    sessions = list_sessions(settings)
    for info in sessions:
        if info.id == session_id:
            return Session(info, tuple(_load_scenarios(info.file, _max_chars(settings))))
    raise QuestionFileError(
        f"There is no training session '{session_id}'. The sessions are: "
        f"{', '.join(s.id for s in sessions)} (procguide training list)."
    )


def load_scenario_file(path: str | Path, settings: Settings | None = None) -> Session:
    """A trainer's own scenario file (the eval question format) as a session named after it."""
    path = Path(path)
    scenarios = _load_scenarios(path, _max_chars(settings))
    info = SessionInfo(path.stem, f"Scenarios from {path.name}", "", None, "", path)
    return Session(info, tuple(scenarios))


def resolve_session(value: str, settings: Settings | None = None) -> Session:
    """A ready session's id, or the path of a scenario file."""
    as_path = Path(value)
    if as_path.suffix or as_path.name != value:
        return load_scenario_file(as_path, settings)
    if as_path.exists() and value not in {s.id for s in list_sessions(settings)}:
        return load_scenario_file(as_path, settings)
    return load_session(value, settings)


def _max_chars(settings: Settings | None) -> int:
    return settings.max_question_chars if settings is not None else MAX_QUESTION_CHARS


def _load_scenarios(path: Path, max_chars: int) -> list[Scenario]:
    """Read and check a scenario file; every problem is a QuestionFileError saying what to fix."""
    too_big = (
        f"a scenario file may be at most {_size(MAX_FILE_BYTES)} (up to {MAX_SCENARIOS} scenarios). "
        "Split it into sessions, one file each."
    )
    try:
        if path.is_dir():
            raise QuestionFileError(f"{path}: is a folder, not a scenario file. {FORMAT_HINT}")
        if not path.is_file():
            what = "no such file" if not path.exists() else "is not a regular file"
            raise QuestionFileError(f"{path}: {what}. {FORMAT_HINT}")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise QuestionFileError(f"{path}: is {_size(size)}, and {too_big}")
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # it may have grown since
    except OSError as exc:
        raise QuestionFileError(f"{path}: cannot be read ({exc.strerror})") from exc
    if len(data) > MAX_FILE_BYTES:
        raise QuestionFileError(f"{path}: is over {_size(MAX_FILE_BYTES)}, and {too_big}")
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            raise QuestionFileError(f"{path}: looks like {kind}, not a scenario file. {FORMAT_HINT}")
    if b"\x00" in data:
        raise QuestionFileError(f"{path}: holds binary data, not text. {FORMAT_HINT}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuestionFileError(
            f"{path}: is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8. {FORMAT_HINT}"
        ) from exc
    start = text.lstrip()[:1]
    if start == "<":
        raise QuestionFileError(f"{path}: looks like HTML or XML, not a scenario file. {FORMAT_HINT}")
    if start == "[":
        raise QuestionFileError(
            f"{path}: is one JSON list; write one JSON object a line instead. {FORMAT_HINT}"
        )
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            record: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"{where}: is not a JSON object ({exc.msg}). {FORMAT_HINT}") from exc
        if not isinstance(record, dict):
            raise QuestionFileError(f"{where}: is a JSON {type(record).__name__}, not an object. {FORMAT_HINT}")
        try:
            q = Question.model_validate(record)
        except ValidationError as exc:
            raise QuestionFileError(f"{where}: {_problems(exc)}") from exc
        _check_text(q, where, max_chars)
        if q.id in seen:
            raise QuestionFileError(f"{where}: the id '{q.id}' is used twice")
        seen.add(q.id)
        scenarios.append(Scenario.from_question(q))
        if len(scenarios) > MAX_SCENARIOS:
            raise QuestionFileError(
                f"{path}: has more than {MAX_SCENARIOS} scenarios; split it into sessions, one file each."
            )
    if not scenarios:
        raise QuestionFileError(f"{path}: has no scenarios. {FORMAT_HINT}")
    return scenarios


def _check_text(q: Question, where: str, max_chars: int) -> None:
    """Scenarios are plain text: no markup, a question the assistant will take, valid patterns."""
    if not q.question.strip():
        raise QuestionFileError(f"{where}: the question is empty")
    if len(q.question) > max_chars:
        raise QuestionFileError(
            f"{where}: the question is {len(q.question):,} characters long, and the assistant takes "
            f"up to {max_chars:,}; shorten it"
        )
    fields = [("id", q.id), ("question", q.question)]
    fields += [(f"history turn {i}", t.content) for i, t in enumerate(q.history, 1)]
    fields += [(f"discussion point {i}", d) for i, d in enumerate(q.discussion, 1)]
    fields += [(f"tag '{t}'", t) for t in q.tags]
    for name, value in fields:
        if m := _MARKUP.search(value):
            raise QuestionFileError(
                f"{where}: the {name} contains markup ({m.group(0)[:40]}); write scenarios as plain text"
            )
    for fact in q.facts:
        try:
            re.compile(fact)
        except re.error as exc:
            raise QuestionFileError(f"{where}: the fact '{fact}' is not a valid pattern ({exc})") from exc


def _problems(exc: ValidationError) -> str:
    """A pydantic error as short sentences: "'question' is missing; 'abstain' must be true or false"."""
    parts = []
    for error in exc.errors()[:ERRORS_SHOWN]:
        field = ".".join(str(p) for p in error["loc"]) or "the entry"
        message = str(error["msg"])
        if error["type"] == "missing":
            parts.append(f"'{field}' is missing")
        else:
            parts.append(f"'{field}': {message[0].lower()}{message[1:]}")
    more = len(exc.errors()) - ERRORS_SHOWN
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


# Running and exporting -------------------------------------------------------------------------

def run_scenario(
    assistant: Assistant, scenario: Scenario, context: ContextSettings | dict[str, Any] | None = None,
) -> Answer:
    """The assistant's answer to a scenario, asked with the scenario's earlier turns. Raises
    ValueError (QuestionRejected) if the assistant cannot take the question as written."""
    return assistant.ask(scenario.question, history=[dict(t) for t in scenario.history], context=context)


def meets_expectation(scenario: Scenario, answer: Answer) -> bool:
    """An answerable scenario's answer cites an expected provision; an out-of-scope one is declined."""
    if scenario.abstain:
        return answer.abstained
    if answer.abstained:
        return False
    cited = [pid for c in answer.citations for pid in c.passage.provisions]
    return not scenario.sources or any(prov.any_matches(cited, pid) for pid in scenario.sources)


def session_pack(
    session: Session,
    answered: Sequence[tuple[Scenario, Answer | None]],
    generated: datetime | date | None = None,
) -> ExportDoc:
    """The facilitator's pack: for each scenario, the scenario with a space for the team's answer,
    then the assistant's cited answer, the expected provisions and the discussion points."""
    from procguide.ui.export import ExportDoc, ItemList, Section, Turn

    info = session.info
    context: list[str] = []
    if info.audience:
        context.append(f"Audience: {info.audience}")
    if info.duration:
        context.append(f"Duration: {info.duration} minutes")
    if info.description:
        context.append(info.description)
    context.append(f"Scenarios: {len(answered)}")
    summaries = (a.context.get("summary") for _, a in answered if a is not None)
    context += [f"Answered for: {s}" for s in dict.fromkeys(s for s in summaries if s)]
    sections = []
    for number, (scenario, answer) in enumerate(answered, start=1):
        earlier = [f"{'Commissioner' if t['role'] == 'user' else 'procguide'}: {t['content']}"
                   for t in scenario.history]
        if earlier:
            earlier.insert(0, "Earlier in the conversation:")
        sections.append(Section(
            f"Scenario {number}: {scenario.title}",
            paragraphs=[*earlier, scenario.question, TEAM_ANSWER, ANSWER_LINE, ANSWER_LINE],
        ))
        sections.append(Section(
            f"Scenario {number}: the assistant's answer and discussion",
            paragraphs=[] if answer is not None else [NOT_ASKED],
            turns=[Turn(scenario.question, answer)] if answer is not None else [],
            lists=[ItemList(EXPECTED_LABEL, list(scenario.expected) or [DECLINE_EXPECTED]),
                   ItemList(DISCUSSION_LABEL, list(scenario.discussion))],
        ))
    return ExportDoc(f"Session pack: {info.title}", generated or datetime.now(), sections, tuple(context))
