"""Shared fixtures: real components throughout (a real Chroma store in a temp folder, the real
packaged embedding model). The knowledge base is ingested once per test session.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import procguide  # noqa: F401  (offline environment before any library loads)
from procguide.assistant import Assistant
from procguide.config import Settings
from procguide.index import Index
from procguide.ingest import ingest_paths

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
KNOWLEDGE = ROOT / "knowledge"
FAST_KB = FIXTURES / "kb"


def make_settings(home: Path, **overrides: object) -> Settings:
    """Settings that ignore the developer's own .env and environment."""
    values: dict[str, object] = {"home": home, "knowledge_dir": KNOWLEDGE, "chroma_url": None}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def fast_kb_settings(root: Path, **overrides: object) -> Settings:
    """The fast tier's settings: a copy of the synthetic notes in tests/fixtures/kb under `root`,
    made official by their own allow-list (as knowledge/ is), and the deterministic stand-in model."""
    import shutil

    from procguide.ingest.provenance import write_official

    notes = root / "kb"
    shutil.copytree(FAST_KB, notes)
    write_official(notes / "official.yaml")
    return make_settings(
        root / "store", knowledge_dir=notes, official_file=notes / "official.yaml",
        vocabulary_file=FAST_KB / "vocabulary.yaml", calibration_file=FAST_KB / "no-calibration.json",
        embedding_model="hashing", **overrides,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "store")


@pytest.fixture
def index(settings: Settings) -> Index:
    return Index(settings)


def is_loopback(address: Any) -> bool:
    """127.0.0.0/8, ::1, localhost, or a unix socket path."""
    if isinstance(address, str | bytes):
        return True
    try:
        return ipaddress.ip_address(address[0]).is_loopback
    except ValueError:
        return address[0] == "localhost"


@pytest.fixture
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Record, and refuse, every socket connection to an address that is not loopback."""
    attempts: list[Any] = []

    def guarded(real: Callable[..., Any]) -> Callable[..., Any]:
        def connect(self: socket.socket, address: Any) -> Any:
            if not is_loopback(address):
                attempts.append(address)
                raise OSError(f"test: network access to {address!r} is not allowed")
            return real(self, address)

        return connect

    monkeypatch.setattr(socket.socket, "connect", guarded(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(socket.socket.connect_ex))
    yield attempts


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("kb") / "store")


@pytest.fixture(scope="session")
def kb_index(kb_settings: Settings) -> Index:
    index = Index(kb_settings)
    report = ingest_paths([KNOWLEDGE], index, kb_settings.chunk_size, kb_settings.chunk_overlap)
    assert not report.failed, report.failed
    return index


@pytest.fixture(scope="session")
def assistant(kb_settings: Settings, kb_index: Index) -> Assistant:
    return Assistant(kb_settings, kb_index)


# Browser tests keep their screenshots here (PROCGUIDE_TEST_ARTIFACTS moves it), one folder per
# test, replaced on each run: CI can keep the folder as the run's artifacts.
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Path:
    root = Path(os.environ.get("PROCGUIDE_TEST_ARTIFACTS") or ARTIFACTS) / "screenshots"
    folder = root / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:120]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- markers applied here -------------------------------------------------------------------------
# `browser`: every test that drives headless Chromium (tests/browser.py's `chromium`, directly or
# through a `chromium_browser` fixture). `slow`: the fast-tier tests named in SLOW, which take
# many seconds by design (a timeout waited out, a whole benchmark run). Both keep `fast`
# (synthetic notes, no model), but cost seconds each, so `make test-fast` leaves them out
# (`-m "fast and not browser and not slow"`); `make test` runs them with everything else.
# tests/test_markers.py fails when a name in SLOW no longer names a test.
BROWSER_FIXTURES = frozenset({"chromium_browser"})
SLOW = frozenset({
    # A second user's question is answered while the first waits out the 8-second first-token
    # timeout of a stalled LLM: about 10 s, 16 s on a loaded machine.
    "tests/test_ui_serving.py::test_a_question_stalled_on_the_llm_does_not_hold_up_another_user",
    # The whole benchmark end to end (ingest of 200 passages, timed questions, two concurrency
    # levels, chart): 14-20 s here.
    "tests/test_bench.py::test_a_run_writes_its_numbers_table_and_chart_and_reuses_vectors",
})


def uses_chromium(item: pytest.Item) -> bool:
    if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    function = getattr(item, "function", None)
    code = getattr(function, "__code__", None)
    return code is not None and "chromium" in code.co_names


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before `-m` selects: mark the browser and the slow tests (see above)."""
    for item in items:
        if uses_chromium(item):
            item.add_marker(pytest.mark.browser)
        if item.nodeid.split("[")[0] in SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Any]:
    """One headless Chromium per test module (each test opens its own context); closed when the
    module ends, as Playwright's sync API allows one running instance at a time."""
    from tests.browser import chromium

    with chromium() as browser:
        yield browser
