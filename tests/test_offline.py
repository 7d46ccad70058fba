"""procguide runs without the network: importing it switches off every call home, and a whole
ingest-then-ask cycle makes no connection beyond the loopback interface.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import procguide
from procguide import index as index_module
from procguide.assistant import Assistant
from procguide.index import Index
from procguide.ingest import ingest_paths
from tests.conftest import make_settings

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}

NOTE = """\
---
doc_id: offline-test-note
title: Reserved contracts for mutuals (offline test note)
jurisdiction: UK
doc_type: note
url: https://www.legislation.gov.uk/ukpga/2023/54/section/33
provisions: [uk-pa-2023:s-33]
updated: 2026-11-25
---

# Reserved contracts for mutuals

## How long a reserved contract may last
<!-- provisions: uk-pa-2023:s-33 -->

Under section 33 of the Procurement Act 2023, a contract reserved for a public service mutual may last for no more than five years.
"""


# --- (a) the environment ---------------------------------------------------------------------------

_TRUE = {"1", "TRUE", "YES", "ON"}
_FALSE = {"0", "FALSE", "NO", "OFF"}


@pytest.mark.parametrize(("name", "value"), sorted(OFFLINE_ENV.items()))
def test_importing_procguide_leaves_offline_variable_set_in_this_process(name: str, value: str) -> None:
    # Read by meaning, not spelling: Gradio rewrites HF_HUB_DISABLE_TELEMETRY=1 as "True" when it
    # launches, which this session's UI tests may have done before this test runs.
    assert procguide  # imported at the top of this module
    current = os.environ.get(name, "").upper()
    assert current in (_TRUE if value.upper() in _TRUE else _FALSE), f"{name}={current!r}"


def test_importing_procguide_in_a_clean_process_sets_every_offline_variable() -> None:
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
    code = (
        "import json, os; import procguide; "
        f"print(json.dumps({{k: os.environ.get(k) for k in {sorted(OFFLINE_ENV)!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == OFFLINE_ENV


def test_importing_procguide_leaves_a_variable_the_user_set() -> None:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "false-by-user"}
    code = "import os; import procguide; print(os.environ['ANONYMIZED_TELEMETRY'])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "false-by-user"


# --- (b) no connection beyond loopback -------------------------------------------------------------

def test_network_guard_records_and_refuses_a_non_loopback_connection(
    network_attempts: list[Any],
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(OSError):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1, never routed
    assert network_attempts == [("192.0.2.1", 443)]


@pytest.fixture
def note_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "note.md").write_text(NOTE, encoding="utf-8")
    return folder


@pytest.fixture
def fresh_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the embedding model load again from disk, under the network guard."""
    monkeypatch.setattr(index_module, "_MODELS", {})


def test_ingest_and_ask_make_no_non_loopback_connection(
    tmp_path: Path, note_folder: Path, fresh_model: None, network_attempts: list[Any]
) -> None:
    settings = make_settings(tmp_path / "store", knowledge_dir=note_folder)
    index = Index(settings)
    report = ingest_paths([note_folder], index, settings.chunk_size, settings.chunk_overlap)
    answer = Assistant(settings, index).ask("How long may a contract reserved for a mutual last?")

    assert network_attempts == []
    assert report.added == ["offline-test-note"] and not report.failed
    assert not answer.abstained and answer.citations, answer.text
