"""The markers tests/conftest.py sets, which decide what `make test-fast` leaves out: every test
that drives Chromium is marked `browser`, and every name in SLOW is a test that exists."""

from __future__ import annotations

import re

import pytest

from tests.browser import chromium
from tests.conftest import ROOT, SLOW, uses_chromium

pytestmark = pytest.mark.fast


def test_every_slow_name_is_a_test_that_exists():
    for nodeid in SLOW:
        path, name = nodeid.split("::")
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {re.escape(name)}\(", source, re.MULTILINE), nodeid


class Item:
    def __init__(self, function, fixturenames=()):
        self.function, self.fixturenames = function, list(fixturenames)


def starts_chromium():
    with chromium():
        pass


def names_it_only_in_a_string():
    return "chromium"


def test_a_test_that_starts_chromium_or_uses_a_chromium_fixture_is_a_browser_test():
    assert uses_chromium(Item(starts_chromium))
    assert uses_chromium(Item(names_it_only_in_a_string, ["page", "chromium_browser", "served"]))
    assert not uses_chromium(Item(names_it_only_in_a_string, ["served", "tmp_path"]))


def test_the_shipped_browser_tests_are_marked(request):
    marked = {item.nodeid for item in request.session.items if item.get_closest_marker("browser")}
    here = {item.nodeid for item in request.session.items}
    # Only what this run collected can be looked at (`-m`, `-k` or a path narrow it).
    for nodeid in ("tests/test_ui_chat.py::test_the_page_switches_to_welsh_and_back",
                   "tests/test_ui_training.py::test_a_facilitator_runs_a_scenario_and_exports_the_pack"):
        if nodeid in here:
            assert nodeid in marked, nodeid
    assert not any(n.startswith("tests/test_markers.py") for n in marked)
