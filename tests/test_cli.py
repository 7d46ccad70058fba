"""The `procguide` command, run in-process with Typer's CliRunner against a real Chroma store in a
temp folder and the real embedding model. Settings come from PROCGUIDE_* variables, as for a user.

The knowledge used here is two small notes written into a temp folder, so these tests do not
depend on the wording of the starter knowledge base.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from procguide.answer.citations import markers
from procguide.cli import app
from procguide.config import get_settings
from procguide.ingest.provenance import write_official

MUTUALS_NOTE = """\
---
doc_id: test-mutuals-note
title: Reserving contracts for public service mutuals (test note)
jurisdiction: UK
doc_type: note
url: https://www.legislation.gov.uk/ukpga/2023/54/section/33
provisions: [uk-pa-2023:s-33]
sources:
  - title: Procurement Act 2023, section 33
    url: https://www.legislation.gov.uk/ukpga/2023/54/section/33
in_force_from: 2025-02-24
updated: 2026-11-25
---

# Reserving contracts for public service mutuals

## Maximum term of a reserved contract
<!-- provisions: uk-pa-2023:s-33(4) -->

Under section 33 of the Procurement Act 2023, a public services contract reserved for a public service mutual may run for no more than five years.

A contracting authority cannot extend a contract reserved under section 33 of the Procurement Act 2023 beyond that five-year maximum.

## Organisations that may bid for a reserved contract
<!-- provisions: uk-pa-2023:s-33(2) -->

Section 33 of the Procurement Act 2023 lets an authority restrict a competition for certain health, social and cultural services to public service mutuals.

A public service mutual under section 33 of the Procurement Act 2023 must reinvest its profits and be run by its employees or with their participation.
"""

THRESHOLD_NOTE = """\
---
doc_id: test-threshold-note
title: Threshold for light touch contracts (test note)
jurisdiction: UK
doc_type: note
url: https://www.legislation.gov.uk/ukpga/2023/54/schedule/1
provisions: [uk-pa-2023:sch-1]
sources:
  - title: Procurement Act 2023, Schedule 1
    url: https://www.legislation.gov.uk/ukpga/2023/54/schedule/1
in_force_from: 2025-02-24
updated: 2026-11-25
---

# Threshold for light touch contracts

## The threshold amount
<!-- provisions: uk-pa-2023:sch-1 -->

Schedule 1 to the Procurement Act 2023 sets the threshold amount above which a light touch contract is a regulated contract.

A light touch contract below the Schedule 1 threshold of the Procurement Act 2023 is not a regulated contract under the Act.
"""

QUESTION = "How long can a contract reserved for a public service mutual run?"
RECORD_KEYS = {"question", "answer", "citations", "retrieved", "abstained", "latency_ms"}
CITATION_KEYS = {"n", "doc_id", "title", "locator", "url", "provisions", "text"}


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "mutuals.md").write_text(MUTUALS_NOTE, encoding="utf-8")
    (folder / "threshold.md").write_text(THRESHOLD_NOTE, encoding="utf-8")
    # The notes stand for shipped ones: their own allow-list makes them official, as for knowledge/.
    write_official(folder / "official.yaml")
    return folder


@pytest.fixture
def env(tmp_path: Path, notes: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """PROCGUIDE_HOME and PROCGUIDE_KNOWLEDGE_DIR pointing at temp paths, with fresh settings."""
    home = tmp_path / "store"
    monkeypatch.chdir(tmp_path)  # no developer .env is read
    for name in ("PROCGUIDE_CHROMA_URL", "PROCGUIDE_COLLECTION", "PROCGUIDE_CALIBRATION_FILE", "PROCGUIDE_STAGES",
                 "PROCGUIDE_MAX_QUESTION_CHARS", "PROCGUIDE_K", "PROCGUIDE_ANSWERER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROCGUIDE_HOME", str(home))
    monkeypatch.setenv("PROCGUIDE_KNOWLEDGE_DIR", str(notes))
    monkeypatch.setenv("PROCGUIDE_OFFICIAL_FILE", str(notes / "official.yaml"))
    monkeypatch.setenv("COLUMNS", "400")  # Rich wraps at 80 columns when not on a terminal
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def ingested(env: Path, runner: CliRunner) -> Path:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output
    return env


def _flat(text: str) -> str:
    return " ".join(text.split())


def _row(output: str, label: str) -> str:
    """The report table's row for `label` ("added", "unchanged", ...)."""
    for line in output.splitlines():
        if line.strip().startswith(label + " "):
            return line.strip()
    raise AssertionError(f"no '{label}' row in:\n{output}")


# --- help ----------------------------------------------------------------------------------------

def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("ingest", "ask", "serve", "calibrate"):
        assert command in result.output


def test_ask_help_documents_the_json_option(runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", "--help"])
    assert result.exit_code == 0
    assert "--json" in result.output


# --- ingest --------------------------------------------------------------------------------------

def test_ingest_reports_both_notes_as_added(env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output
    row = _row(result.stdout, "added")
    assert re.match(r"added\s+2\b", row), row
    assert "test-mutuals-note" in row and "test-threshold-note" in row


def test_ingest_builds_the_index_in_procguide_home(env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output
    assert env.is_dir() and any(env.iterdir())
    match = re.search(r"(\d+) passages in the index at (\S+)", _flat(result.stdout))
    assert match, result.stdout
    assert int(match.group(1)) >= 2
    assert Path(match.group(2)) == env


def test_second_ingest_reports_both_notes_unchanged(ingested: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output
    assert re.match(r"unchanged\s+2\b", _row(result.stdout, "unchanged"))
    assert re.match(r"added\s+0\b", _row(result.stdout, "added"))
    assert re.match(r"replaced\s+0\b", _row(result.stdout, "replaced"))


def test_ingest_of_a_missing_folder_exits_2_naming_it(env: Path, tmp_path: Path, runner: CliRunner) -> None:
    missing = tmp_path / "no-such-folder"
    result = runner.invoke(app, ["ingest", str(missing)])
    assert result.exit_code == 2
    assert "no such file or folder" in _flat(result.stderr)
    assert "no-such-folder" in result.stderr


@pytest.fixture
def notes_with_corrupt_pdf(notes: Path) -> Path:
    (notes / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    return notes


def test_ingest_reports_a_corrupt_pdf_as_not_ingested(
    env: Path, notes_with_corrupt_pdf: Path, runner: CliRunner
) -> None:
    result = runner.invoke(app, ["ingest"])
    errors = _flat(result.stderr)
    assert "not ingested" in errors
    assert "broken.pdf" in errors
    assert "damaged or not a PDF" in errors


def test_ingest_with_a_corrupt_pdf_still_adds_the_good_notes(
    env: Path, notes_with_corrupt_pdf: Path, runner: CliRunner
) -> None:
    result = runner.invoke(app, ["ingest"])
    row = _row(result.stdout, "added")
    assert re.match(r"added\s+2\b", row), row
    assert "broken" not in row


def test_ingest_with_a_corrupt_pdf_exits_0(
    env: Path, notes_with_corrupt_pdf: Path, runner: CliRunner
) -> None:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output


def test_strict_ingest_with_a_corrupt_pdf_exits_1(
    env: Path, notes_with_corrupt_pdf: Path, runner: CliRunner
) -> None:
    result = runner.invoke(app, ["ingest", "--strict"])
    assert result.exit_code == 1
    assert "broken.pdf" in _flat(result.stderr)


def test_strict_ingest_of_good_notes_exits_0(env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["ingest", "--strict"])
    assert result.exit_code == 0, result.output


# --- ask --json ----------------------------------------------------------------------------------

@pytest.fixture
def json_record(ingested: Path, runner: CliRunner) -> dict:
    result = runner.invoke(app, ["ask", QUESTION, "--json"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def test_ask_json_prints_one_answers_record(ingested: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", QUESTION, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)  # fails on anything but exactly one JSON value
    assert isinstance(record, dict)
    assert len([line for line in result.stdout.splitlines() if line.strip()]) == 1


def test_ask_json_record_has_the_answers_format_keys(json_record: dict) -> None:
    assert RECORD_KEYS <= set(json_record)


def test_ask_json_record_field_types_follow_the_answers_format(json_record: dict) -> None:
    assert json_record["question"] == QUESTION
    assert isinstance(json_record["answer"], str) and json_record["answer"]
    assert isinstance(json_record["citations"], list)
    assert isinstance(json_record["abstained"], bool)
    assert isinstance(json_record["latency_ms"], int | float) and json_record["latency_ms"] >= 0


def test_ask_json_citations_have_the_answers_format_keys(json_record: dict) -> None:
    assert json_record["citations"], json_record
    for citation in json_record["citations"]:
        assert set(citation) == CITATION_KEYS
        assert isinstance(citation["n"], int)
        assert isinstance(citation["provisions"], list)
        assert all(isinstance(p, str) for p in citation["provisions"])


def test_ask_json_retrieved_is_a_list_of_provision_lists(json_record: dict) -> None:
    retrieved = json_record["retrieved"]
    assert isinstance(retrieved, list) and retrieved
    for ids in retrieved:
        assert isinstance(ids, list)
        assert all(isinstance(pid, str) for pid in ids)


def test_ask_json_answers_from_the_ingested_notes(json_record: dict) -> None:
    assert json_record["abstained"] is False
    assert "five years" in json_record["answer"]
    assert {c["doc_id"] for c in json_record["citations"]} <= {"test-mutuals-note", "test-threshold-note"}


def test_ask_json_every_marker_resolves_to_a_citation(json_record: dict) -> None:
    used = markers(json_record["answer"])
    assert used, json_record["answer"]
    listed = {c["n"] for c in json_record["citations"]}
    assert set(used) <= listed


def test_ask_json_citations_are_numbered_from_one_in_order(json_record: dict) -> None:
    numbers = [c["n"] for c in json_record["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))


def test_ask_json_citation_carries_locator_and_url_of_its_note(json_record: dict) -> None:
    first = json_record["citations"][0]
    assert first["locator"] == "Maximum term of a reserved contract"
    assert first["url"] == "https://www.legislation.gov.uk/ukpga/2023/54/section/33"
    assert first["provisions"] == ["uk-pa-2023:s-33(4)"]


# --- ask (plain) ---------------------------------------------------------------------------------

def test_ask_prints_the_answer_then_sources_with_locator_and_url(
    ingested: Path, runner: CliRunner
) -> None:
    result = runner.invoke(app, ["ask", QUESTION])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Sources" in out
    answer_part, sources_part = out.split("Sources", 1)
    assert "five years [1]" in answer_part
    assert "[1] " in sources_part
    assert "Maximum term of a reserved contract" in sources_part
    assert "https://www.legislation.gov.uk/ukpga/2023/54/section/33" in sources_part


def test_ask_with_a_jurisdiction_outside_the_notes_declines(ingested: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", QUESTION, "--json", "--jurisdiction", "EU"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["abstained"] is True
    assert record["citations"] == []
    assert record["retrieved"] == []


def test_ask_with_a_jurisdiction_outside_the_notes_names_the_jurisdiction_not_an_empty_index(
    ingested: Path, runner: CliRunner
) -> None:
    result = runner.invoke(app, ["ask", QUESTION, "--json", "--jurisdiction", "EU"])
    record = json.loads(result.stdout)
    assert "jurisdiction" in record["answer"]
    assert "knowledge base is empty" not in record["answer"]


def test_ask_with_an_unknown_jurisdiction_exits_2(ingested: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", QUESTION, "--jurisdiction", "Narnia"])
    assert result.exit_code == 2
    assert "Narnia" in result.stderr


def test_ask_with_a_1mb_question_exits_2_naming_the_limit(env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", "x" * 1_000_000])
    assert result.exit_code == 2
    errors = _flat(result.stderr)
    assert "accepts up to 2,000" in errors
    assert "1,000,000 characters" in errors


def test_ask_before_ingest_says_the_knowledge_base_is_empty(env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", QUESTION, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["abstained"] is True
    assert "procguide ingest" in record["answer"]


def test_an_invalid_setting_is_reported_by_name_not_as_a_traceback(monkeypatch):
    from procguide.config import get_settings

    monkeypatch.setenv("PROCGUIDE_CHROMA_URL", "localhost-8000")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["ask", "Can we reserve a contract for a mutual?"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "PROCGUIDE_CHROMA_URL" in result.output and "Traceback" not in result.output
