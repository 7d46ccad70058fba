"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright's
Python package (never `playwright install`; `make test` installs chromium with apt-get). A test
that needs it is skipped, with the reason, only when it cannot be had."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def chromium() -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.skip("Chromium is not installed (make test installs it with apt-get)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def ask(page: Any, url: str, question: str) -> None:
    """Open the chat, ask, and wait for the answer's sources."""
    page.goto(url)
    box = page.get_by_placeholder("Ask about reserved contracts")
    box.fill(question)
    box.press("Enter")
    page.get_by_text("Sources", exact=True).last.wait_for(timeout=60_000)


def fast_assistant(root: Path, **settings: Any) -> Any:
    """The fast tier's assistant (synthetic notes, the stand-in embedding) for a served page."""
    from datetime import date

    from procguide.answer.calibration import Calibration
    from procguide.assistant import Assistant
    from procguide.index import Index
    from procguide.ingest import ingest_paths
    from tests.conftest import fast_kb_settings
    from tests.test_answer_sources import POLICY

    configured = fast_kb_settings(root, **settings)
    index = Index(configured)
    assert not ingest_paths([configured.knowledge_dir], index).failed
    return Assistant(configured, index, calibration=Calibration(policy=POLICY), today=date(2026, 12, 1))


@contextmanager
def served(assistant: Any) -> Iterator[str]:
    """The app as `procguide serve` runs it (launch_options: theme, limits), on a free loopback
    port; yields its URL."""
    import socket

    from procguide.ui.app import build_ui, launch_options

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    demo = build_ui(assistant)
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_options(assistant.settings))
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
