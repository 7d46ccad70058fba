"""The accessibility audit for the browser tests: axe-core (shipped inside the
axe-playwright-python wheel, so nothing is fetched) run against a Playwright page for WCAG 2.2 AA.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

# The WCAG levels we are held to (WCAG 2.2 AA, as UK public-sector services must meet), and
# axe's own best practices: both are reported, and critical or serious ones fail a test.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("critical", "serious")


@cache
def axe_source() -> str:
    """axe.min.js from the axe-playwright-python wheel (the dev extras install it)."""
    from importlib.resources import files

    pytest.importorskip("axe_playwright_python")
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def run_axe(page: Any) -> dict[str, Any]:
    """axe's full results for the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    return page.evaluate("options => window.axe.run(document, options)", options)


def audit(page: Any) -> list[dict[str, Any]]:
    """The critical and serious violations on the page, each as axe reports it (id, impact,
    help, helpUrl, nodes with their target selectors)."""
    return [v for v in run_axe(page)["violations"] if v.get("impact") in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and failing element: id, impact, target, help, and what axe saw."""
    lines = []
    for v in violations:
        for node in v.get("nodes", []):
            target = " ".join(str(t) for t in node.get("target", []))
            seen = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"{v['id']} ({v.get('impact')}): {target}: {v.get('help')}. {seen}")
    return "\n".join(lines)
