"""Training mode (issue 10, item 4): ready sessions and a trainer's own scenario file in the eval
question format, each scenario seen as a title, a question, expected provisions by name and
discussion points; scenarios run through the Assistant; and the session pack as Markdown and Word.
Bad scenario files get one clear sentence, never a traceback. The last test (not in the fast tier)
runs every shipped scenario through the assistant over the real knowledge base.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from typer.testing import CliRunner

from procguide import provisions as prov
from procguide.answer.calibration import Calibration, Policy
from procguide.answer.result import Answer, Citation
from procguide.assistant import Assistant
from procguide.cli import app
from procguide.config import Settings, get_settings
from procguide.evaluation.questions import Question, QuestionFileError, load_questions
from procguide.index import Index
from procguide.ingest import discover, ingest_paths
from procguide.passage import Passage
from procguide.training import (
    DECLINE_EXPECTED,
    DISCUSSION_LABEL,
    EXPECTED_LABEL,
    MAX_FILE_BYTES,
    NOT_ASKED,
    TEAM_ANSWER,
    Scenario,
    Session,
    list_sessions,
    load_scenario_file,
    load_session,
    meets_expectation,
    resolve_session,
    run_scenario,
    scenario_title,
    session_pack,
)
from procguide.ui.export import to_docx, to_markdown_file
from tests.conftest import KNOWLEDGE, fast_kb_settings, make_settings

fast = pytest.mark.fast

SHIPPED = ("reserved-contracts", "light-touch-act", "wales-duties-psr")
WHEN = datetime(2026, 12, 2, 10, 30)
S33 = "https://www.legislation.gov.uk/ukpga/2023/54/section/33"
EVIL = "http://evil.example/phish"

SCENARIO = {
    "id": "mutual-term",
    "question": "I'm the commissioning manager for a Welsh county council and our day-care contract "
                "ends in March 2027. The staff want to spin out as a mutual. How long can a reserved "
                "contract for them last?",
    "sources": ["uk-pa-2023:s-33", "uk-pcr-2015:reg-77"],
    "facts": ["five years|5 years"],
    "abstain": False,
    "tags": ["my-session"],
    "discussion": ["Why five years rather than three?", "Who counts as a public service mutual?"],
}
FOLLOW_UP = {
    "id": "follow-up",
    "question": "And could the same mutual bid again next time?",
    "history": [{"role": "user", "content": "How long can a reserved contract last?"},
                {"role": "assistant", "content": "Up to five years under section 33 [1]."}],
    "sources": ["uk-pa-2023:s-33"],
    "discussion": ["The three-year rule."],
}
OUT_OF_SCOPE = {"id": "tupe", "question": "Do the TUPE regulations protect the staff?", "abstain": True,
                "discussion": ["Where would you get employment law advice?"]}


def write_jsonl(path: Path, *records: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def note_provisions() -> set[str]:
    """Every provision id the shipped notes carry, in front matter or under a heading."""
    found: set[str] = set()
    for note in KNOWLEDGE.glob("*.md"):
        text = note.read_text(encoding="utf-8")
        for group in re.findall(r"^provisions:\s*\[([^\]]*)\]", text, re.MULTILINE):
            found.update(p.strip() for p in group.split(",") if p.strip())
        for group in re.findall(r"<!--\s*provisions:\s*(.*?)\s*-->", text):
            found.update(p.strip() for p in group.split(",") if p.strip())
    return found


# The shipped sessions -------------------------------------------------------------------------

@fast
def test_the_shipped_sessions_are_listed_with_their_details(tmp_path: Path) -> None:
    sessions = list_sessions(make_settings(tmp_path))
    assert {s.id for s in sessions} >= set(SHIPPED)
    for info in sessions:
        assert info.title and info.audience and info.description
        assert info.duration and 30 <= info.duration <= 180
        assert info.file.parent == KNOWLEDGE / "training" and info.file.suffix == ".jsonl"
        assert 5 <= len(load_session(info.id, make_settings(tmp_path)).scenarios) <= 7


@fast
def test_every_shipped_scenario_is_tagged_with_its_session_and_has_two_to_four_discussion_points(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    for info in list_sessions(settings):
        scenarios = load_session(info.id, settings).scenarios
        assert sum(s.abstain for s in scenarios) <= 1, info.id
        for s in scenarios:
            assert info.id in s.tags, s.id
            assert 2 <= len(s.discussion) <= 4, s.id
            if s.abstain:
                assert not s.sources and not s.facts, s.id
            else:
                assert s.sources and s.facts, s.id


@fast
def test_every_expected_source_is_a_provision_the_notes_carry(tmp_path: Path) -> None:
    carried = note_provisions()
    settings = make_settings(tmp_path)
    for info in list_sessions(settings):
        for s in load_session(info.id, settings).scenarios:
            for pid in s.sources:
                assert prov.is_known(pid), (s.id, pid)
                assert any(prov.matches(c, pid) for c in carried), f"{s.id}: no note carries {pid}"


@fast
def test_the_shipped_sessions_are_eval_question_files_too() -> None:
    for name in SHIPPED:
        questions = load_questions(KNOWLEDGE / "training" / f"{name}.jsonl")
        assert all(q.discussion for q in questions)


@fast
def test_nothing_in_the_training_folder_is_ingested() -> None:
    files, _ = discover([KNOWLEDGE])
    assert files and not [f for f in files if "training" in f.parts]


# The eval format's new field ----------------------------------------------------------------

@fast
def test_a_question_without_discussion_points_dumps_exactly_as_before() -> None:
    plain = Question(id="a", question="How long?", sources=["uk-pa-2023:s-33"])
    assert "discussion" not in plain.model_dump_json() and "discussion" not in plain.model_dump()
    rich = Question(id="a", question="How long?", discussion=["Why?"])
    assert json.loads(rich.model_dump_json())["discussion"] == ["Why?"]
    assert Question.model_validate_json(rich.model_dump_json()) == rich


# A trainer's own file ---------------------------------------------------------------------------

@fast
def test_a_trainers_file_in_the_eval_format_loads_as_a_session(tmp_path: Path) -> None:
    session = load_scenario_file(write_jsonl(tmp_path / "my-session.jsonl", SCENARIO, FOLLOW_UP, OUT_OF_SCOPE))
    assert session.id == "my-session" and session.title == "Scenarios from my-session.jsonl"
    assert [s.id for s in session.scenarios] == ["mutual-term", "follow-up", "tupe"]
    assert session.scenarios[1].history[0] == {"role": "user", "content": "How long can a reserved contract last?"}
    assert session.scenarios[2].abstain and not session.scenarios[2].expected


@fast
def test_a_session_is_named_by_its_id_or_by_the_path_of_a_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert resolve_session("light-touch-act", settings).title == "Light touch and the Procurement Act"
    path = write_jsonl(tmp_path / "mine.jsonl", SCENARIO)
    assert resolve_session(str(path), settings).id == "mine"
    with pytest.raises(QuestionFileError, match="no training session 'lightouch'.*light-touch-act"):
        resolve_session("lightouch", settings)


BAD_FILES: list[tuple[str, bytes, str]] = [
    ("pdf.jsonl", b"%PDF-1.7\n1 0 obj\n", "looks like a PDF document"),
    ("word.jsonl", b"PK\x03\x04\x14\x00\x06\x00word/document.xml", "looks like a Word document"),
    ("old.jsonl", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "older Office document"),
    ("binary.jsonl", b'{"id": "a"}\x00\x00\x01', "binary data"),
    ("latin1.jsonl", '{"id": "a", "question": "Caerdydd café"}\n'.encode("latin-1"), "is not UTF-8 text"),
    ("page.jsonl", b"<!DOCTYPE html><html><body>hi</body></html>", "looks like HTML or XML"),
    ("array.json", b'[{"id": "a", "question": "q"}]', "is one JSON list"),
    ("yaml.jsonl", b"sessions:\n  - id: a\n", "line 1: is not a JSON object"),
    ("number.jsonl", b"42\n", "line 1: is a JSON int, not an object"),
    ("missing.jsonl", b'{"id": "a"}\n', "line 1: 'question' is missing"),
    ("badid.jsonl", b'{"id": "a", "question": "q", "sources": ["section 33"]}\n', "is not a provision id"),
    ("abstain.jsonl", b'{"id": "a", "question": "q", "abstain": "maybe"}\n', "'abstain'"),
    ("twice.jsonl", b'{"id": "a", "question": "q"}\n{"id": "a", "question": "r"}\n', "line 2: the id 'a' is used twice"),
    ("script.jsonl", b'{"id": "a", "question": "Can we <script>alert(1)</script> reserve it?"}\n',
     "the question contains markup (<script>)"),
    ("link.jsonl", json.dumps({"id": "a", "question": "q", "discussion": ["ok", f"[see]({EVIL})"]}).encode(),
     "the discussion point 2 contains markup"),
    ("history.jsonl", json.dumps({"id": "a", "question": "q", "history": [
        {"role": "assistant", "content": "<img src=x onerror=alert(1)>"}]}).encode(), "the history turn 1 contains markup"),
    ("fact.jsonl", b'{"id": "a", "question": "q", "facts": ["five (years"]}\n', "the fact 'five (years' is not a valid pattern"),
    ("long.jsonl", json.dumps({"id": "a", "question": "x " * 1500}).encode(), "the question is 3,000 characters long"),
    ("empty.jsonl", b"\n\n", "has no scenarios"),
]


@fast
@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_scenario_file_gets_a_clear_message(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(QuestionFileError) as caught:
        load_scenario_file(path)
    text = str(caught.value)
    assert message in text and str(path) in text
    assert "\n" not in text and "Traceback" not in text and "errors.pydantic.dev" not in text


@fast
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    line = json.dumps(SCENARIO) + "\n"
    path.write_text(line * (1024 * 1024 // len(line) + 1), encoding="utf-8")
    assert path.stat().st_size > 1024 * 1024 > MAX_FILE_BYTES
    with pytest.raises(QuestionFileError, match=r"is 1\.0 MB, and a scenario file may be at most 256 KB"):
        load_scenario_file(path)


@fast
def test_a_missing_file_or_a_folder_is_not_a_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match="no such file"):
        load_scenario_file(tmp_path / "nowhere.jsonl")
    with pytest.raises(QuestionFileError, match="is a folder"):
        load_scenario_file(tmp_path)
    with pytest.raises(QuestionFileError, match="is not a regular file"):
        load_scenario_file("/dev/null")


@pytest.fixture
def own_sessions(tmp_path: Path) -> tuple[Settings, Path]:
    folder = tmp_path / "kb" / "training"
    folder.mkdir(parents=True)
    return make_settings(tmp_path / "store", knowledge_dir=tmp_path / "kb"), folder


@fast
def test_a_knowledge_folder_can_bring_its_own_sessions(own_sessions: tuple[Settings, Path]) -> None:
    settings, folder = own_sessions
    write_jsonl(folder / "ours.jsonl", SCENARIO, OUT_OF_SCOPE)
    (folder / "sessions.yaml").write_text(
        "sessions:\n  - {id: ours, title: Our session, duration: 45, file: ours.jsonl}\n", encoding="utf-8")
    [info] = list_sessions(settings)
    assert (info.id, info.title, info.duration, info.audience) == ("ours", "Our session", 45, "")
    assert len(load_session("ours", settings).scenarios) == 2


@fast
@pytest.mark.parametrize(("yaml_text", "message"), [
    ("sessions:\n  - {id: x, title: X, duration: 45, file: ../../etc/passwd.jsonl}\n", "'file'"),
    (("sessions:\n  - {id: x, title: X, duration: 45, file: x.jsonl}\n"
      "  - {id: x, title: Y, duration: 45, file: x.jsonl}\n"), "the id 'x' is used twice"),
    ("sessions:\n  - {id: x, duration: 45, file: x.jsonl}\n", "'title' is missing"),
    ("sessions:\n  - {id: X Y, title: X, duration: 45, file: x.jsonl}\n", "'id'"),
    ("sessions: [\n", "is not valid YAML"),
    ("- just a list\n", "list the sessions under 'sessions:'"),
])
def test_a_bad_sessions_file_says_what_to_fix(own_sessions: tuple[Settings, Path], yaml_text: str,
                                               message: str) -> None:
    settings, folder = own_sessions
    (folder / "sessions.yaml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(QuestionFileError, match=re.escape(message)):
        list_sessions(settings)


# The Scenario view -----------------------------------------------------------------------------

@fast
def test_a_scenario_is_titled_by_its_first_sentence_shortened() -> None:
    assert scenario_title("We reserved it in 2024. What now?") == "We reserved it in 2024"
    assert scenario_title("Can we reserve it? We are a council.") == "Can we reserve it?"
    long = scenario_title(SCENARIO["question"])
    assert long.endswith("…") and len(long) <= 70
    assert long.startswith("I'm the commissioning manager for a Welsh county council")


@fast
def test_a_scenario_names_its_expected_provisions_as_people_do() -> None:
    s = Scenario.from_question(Question.model_validate(SCENARIO))
    assert s.expected == ("Procurement Act 2023, Section 33", "PCR 2015, Regulation 77")
    assert s.sources == ("uk-pa-2023:s-33", "uk-pcr-2015:reg-77")
    assert s.discussion == ("Why five years rather than three?", "Who counts as a public service mutual?")
    assert s.question == SCENARIO["question"] and not s.abstain


# Running scenarios ------------------------------------------------------------------------------

class RecordingAssistant:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def ask(self, question: str, history: Any = None, **kw: Any) -> Answer:
        self.calls.append((question, history))
        return Answer(question, "An answer [1].", [], False)


@fast
def test_a_scenario_is_asked_with_its_earlier_turns() -> None:
    recorder = RecordingAssistant()
    scenario = Scenario.from_question(Question.model_validate(FOLLOW_UP))
    answer = run_scenario(recorder, scenario)  # type: ignore[arg-type]
    assert answer.question == FOLLOW_UP["question"]
    assert recorder.calls == [(FOLLOW_UP["question"], FOLLOW_UP["history"])]


POLICY = Policy(
    coefficients={"intercept": -3.0, "similarity": 4.0, "coverage": 2.0, "unknown": -6.0, "concept": 2.0, "named": 2.0},
    answer_above=0.5,
    decline_below=0.2,
)


@pytest.fixture(scope="module")
def fast_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return fast_kb_settings(tmp_path_factory.mktemp("training"))


@pytest.fixture(scope="module")
def fast_assistant(fast_settings: Settings) -> Assistant:
    index = Index(fast_settings)
    assert not ingest_paths([fast_settings.knowledge_dir], index).failed
    return Assistant(fast_settings, index, calibration=Calibration(policy=POLICY), today=date(2026, 12, 1))


@fast
def test_a_scenario_run_through_the_assistant_cites_its_expected_provision(fast_assistant: Assistant) -> None:
    scenario = Scenario.from_question(Question(
        id="term", question="How long can a contract reserved for a public service mutual last?",
        sources=["uk-pa-2023:s-33"], facts=["five years"]))
    answer = run_scenario(fast_assistant, scenario)
    assert not answer.abstained and "five years" in answer.text
    assert meets_expectation(scenario, answer)


def _passage(pid: str, provisions: tuple[str, ...], **extra: Any) -> Passage:
    return Passage(id=pid, text="text", doc_id=pid, title="Procurement Act 2023", locator="Section 33",
                   provisions=provisions, url=S33, provenance="official", jurisdiction="UK", **extra)


CITED = Answer(
    SCENARIO["question"],
    "A contract reserved to a public service mutual may last up to five years [1]. <b>bold</b> [x](http://evil.example/phish)",
    [Citation(1, _passage("s33", ("uk-pa-2023:s-33(1)",)))], False,
    context={"summary": "Wales · council · social care → Procurement Act 2023"},
)
DECLINED = Answer(OUT_OF_SCOPE["question"], "procguide's knowledge base does not cover employment law.", [], True)


@fast
def test_meeting_the_expectation_means_citing_an_expected_provision_or_declining() -> None:
    answerable = Scenario.from_question(Question.model_validate(SCENARIO))
    out_of_scope = Scenario.from_question(Question.model_validate(OUT_OF_SCOPE))
    assert meets_expectation(answerable, CITED) and not meets_expectation(answerable, DECLINED)
    assert meets_expectation(out_of_scope, DECLINED) and not meets_expectation(out_of_scope, CITED)
    other = Answer("q", "Text [1].", [Citation(1, _passage("lots", ("uk-pa-2023:s-18",)))], False)
    assert not meets_expectation(answerable, other)


# The session pack -------------------------------------------------------------------------------

@pytest.fixture
def pack_session(tmp_path: Path) -> Session:
    return load_scenario_file(write_jsonl(tmp_path / "pack.jsonl", SCENARIO, FOLLOW_UP, OUT_OF_SCOPE))


def _pack(session: Session) -> Any:
    first, second, third = session.scenarios
    return session_pack(session, [(first, CITED), (second, None), (third, DECLINED)], generated=WHEN)


@fast
def test_the_pack_in_markdown_has_each_scenario_a_space_for_the_team_the_cited_answer_and_the_discussion(
    pack_session: Session,
) -> None:
    md = to_markdown_file(_pack(pack_session))
    assert md.startswith("# Session pack: Scenarios from pack.jsonl\n")
    assert "## Scenario 1: I'm the commissioning manager" in md
    assert "## Scenario 1: the assistant's answer and discussion" in md
    assert md.count(TEAM_ANSWER) == 3
    first = md[: md.index("## Scenario 2:")]
    assert first.index(TEAM_ANSWER) < first.index("**Answer**") < first.index(f"**{EXPECTED_LABEL}**")
    assert "may last up to five years [1]" in first and f"]({S33})" in first
    assert "- Procurement Act 2023, Section 33\n- PCR 2015, Regulation 77" in first
    assert f"**{DISCUSSION_LABEL}**\n\n- Why five years rather than three?" in first
    assert "<b>" not in md and f"]({EVIL})" not in md
    second = md[md.index("## Scenario 2:") : md.index("## Scenario 3:")]
    assert "Earlier in the conversation:" in second and "Commissioner: How long can a reserved" in second
    assert NOT_ASKED in second
    third = md[md.index("## Scenario 3:") :]
    assert "the right answer is to say so" in DECLINE_EXPECTED and "the right answer is to say so" in third
    assert "does not cover employment law" in third
    assert "Answered for: Wales · council · social care" in md


@fast
def test_the_pack_as_word_reopens_with_the_same_content(pack_session: Session) -> None:
    buffer = io.BytesIO()
    to_docx(_pack(pack_session), buffer)
    document = Document(io.BytesIO(buffer.getvalue()))
    texts = [p.text for p in document.paragraphs]
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:2] == ["Scenario 1: " + pack_session.scenarios[0].title,
                            "Scenario 1: the assistant's answer and discussion"]
    assert len(headings) == 6 and texts.count(TEAM_ANSWER) == 3
    assert "Why five years rather than three?" in texts and "Procurement Act 2023, Section 33" in texts
    assert NOT_ASKED in texts and any("may last up to five years [1]" in t for t in texts)
    links = {rel.target_ref for rel in document.part.rels.values() if rel.is_external}
    assert links == {S33}


# The command line -------------------------------------------------------------------------------

@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    for name in ("PROCGUIDE_ANSWERER", "PROCGUIDE_LLM_MODEL", "PROCGUIDE_STAGES", "PROCGUIDE_CHROMA_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROCGUIDE_HOME", str(tmp_path / "store"))
    monkeypatch.setenv("PROCGUIDE_KNOWLEDGE_DIR", str(KNOWLEDGE))
    monkeypatch.setenv("COLUMNS", "400")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@fast
def test_cli_training_list_shows_the_sessions(cli_env: Path) -> None:
    result = CliRunner().invoke(app, ["training", "list"])
    assert result.exit_code == 0, result.output
    for name in SHIPPED:
        assert name in result.stdout
    assert "Light touch and the Procurement Act" in result.stdout


@fast
@pytest.mark.parametrize(("args", "message"), [
    (["no-such-session", "--out", "pack.md"], "There is no training session 'no-such-session'"),
    (["bad.jsonl", "--out", "pack.md"], "looks like a PDF document"),
    (["reserved-contracts", "--out", "pack.pdf"], "--out must end in .md (Markdown) or .docx (Word)"),
])
def test_cli_training_pack_refuses_bad_input_in_one_line(cli_env: Path, args: list[str], message: str) -> None:
    (cli_env / "bad.jsonl").write_bytes(b"%PDF-1.4 [bold]x[/bold]")
    result = CliRunner().invoke(app, ["training", "pack", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert not (cli_env / "pack.md").exists()


@fast
def test_cli_training_pack_writes_the_pack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          fast_settings: Settings, fast_assistant: Assistant) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("PROCGUIDE_ANSWERER", "PROCGUIDE_LLM_MODEL", "PROCGUIDE_STAGES", "PROCGUIDE_CHROMA_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("home", "knowledge_dir", "official_file", "vocabulary_file", "calibration_file",
                 "embedding_model"):
        monkeypatch.setenv(f"PROCGUIDE_{name.upper()}", str(getattr(fast_settings, name)))
    monkeypatch.setenv("COLUMNS", "400")
    get_settings.cache_clear()
    try:
        scenarios = write_jsonl(tmp_path / "mine.jsonl", SCENARIO, OUT_OF_SCOPE)
        for out in (tmp_path / "pack.md", tmp_path / "pack.docx"):
            result = CliRunner().invoke(app, ["training", "pack", str(scenarios), "--out", str(out)])
            assert result.exit_code == 0, result.output
            assert "2 scenarios from 'Scenarios from mine.jsonl': 2 answered" in result.stdout
            assert f"Session pack written to {out}" in result.stdout
        assert "## Scenario 2: Do the TUPE regulations protect the staff?" in (tmp_path / "pack.md").read_text("utf-8")
        assert TEAM_ANSWER in [p.text for p in Document(str(tmp_path / "pack.docx")).paragraphs]
    finally:
        get_settings.cache_clear()


# Every shipped scenario over the real knowledge base (not in the fast tier) -------------------

def test_every_shipped_scenario_cites_an_expected_source_or_is_declined(assistant: Assistant) -> None:
    settings = assistant.settings
    failures: list[str] = []
    checked = 0
    for info in list_sessions(settings):
        for scenario in load_session(info.id, settings).scenarios:
            checked += 1
            answer = run_scenario(assistant, scenario)
            cited = [pid for c in answer.citations for pid in c.passage.provisions]
            where = f"{info.id} / {scenario.id}"
            if scenario.abstain:
                if not answer.abstained:
                    failures.append(f"{where}: should be declined, but was answered citing {cited}:\n"
                                    f"    {answer.text[:300]}")
            elif answer.abstained:
                failures.append(f"{where}: declined ({answer.reason}), expected an answer citing "
                                f"{', '.join(scenario.sources) or 'any source'}")
            elif not any(prov.any_matches(cited, pid) for pid in scenario.sources):
                retrieved = [list(h.passage.provisions) for h in answer.retrieved]
                failures.append(f"{where}: cites {cited or 'nothing'}, none of the expected "
                                f"{', '.join(scenario.sources)}; retrieved {retrieved}")
    assert checked >= 15
    assert not failures, "\n" + "\n".join(failures)
