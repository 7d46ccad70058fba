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
