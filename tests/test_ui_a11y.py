"""The chat against WCAG 2.2 AA in a real browser (headless Chromium through Playwright), in the
fast tier: axe-core finds no critical or serious violation on the empty chat or after an answer;
focus stays in the question box after sending; a 390 px phone screen needs no sideways scrolling;
Gradio's developer footer is gone. Screenshots of each page audited are kept in test-artifacts/screenshots.

The page is served as `procguide serve` serves it (launch_options, with the theme).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from procguide.assistant import Assistant
from procguide.ui.strings import STRINGS
from tests.a11y import audit, describe
from tests.browser import ask, fast_assistant
from tests.browser import served as served_app

pytestmark = pytest.mark.fast

QUESTION = "How long can a contract reserved to a public service mutual last under the Procurement Act 2023?"
SEND = STRINGS["a11y.send"]["en"]
DEVELOPER_FOOTER = ("Use via API", "Built with Gradio", "Settings")
QUESTION_BOX = ".input-container:has(.submit-button) textarea"
FOCUS_IN_QUESTION_BOX = ("() => { const a = document.activeElement; return a !== null && !a.disabled"
                         f" && a.matches({QUESTION_BOX!r}); }}")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return fast_assistant(tmp_path_factory.mktemp("ui-a11y"))


@pytest.fixture(scope="module")
def served(assistant: Assistant) -> Iterator[str]:
    with served_app(assistant) as url:
        yield url


@pytest.fixture
def browser(chromium_browser: Any) -> Iterator[Any]:
    """A fresh browser context per test (its own storage), closed with its pages afterwards."""
    context = chromium_browser.new_context()
    yield context
    context.close()


def open_chat(browser: Any, url: str, width: int = 1280, height: int = 900) -> Any:
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.goto(url)
    page.get_by_role("button", name=SEND).wait_for(timeout=30_000)
    return page


def settled(page: Any) -> Any:
    """The page once the answer is finished: the question box usable again and no transition
    or fade half done (axe would read a colour half way)."""
    page.wait_for_function(
        f"() => {{ const box = document.querySelector({QUESTION_BOX!r}); return box !== null && !box.disabled"
        " && document.getAnimations().every(a => a.playState !== 'running'"
        " || a.effect.getComputedTiming().endTime === Infinity); }", timeout=10_000)
    return page


def assert_no_serious_violations(page: Any, screenshot: Path) -> None:
    settled(page)
    page.screenshot(path=str(screenshot), full_page=True)
    violations = audit(page)
    assert not violations, f"axe found (screenshot {screenshot}):\n{describe(violations)}"


def test_the_empty_chat_has_no_critical_or_serious_accessibility_violation(browser, served, screenshots):
    page = open_chat(browser, served)
    assert_no_serious_violations(page, screenshots / "empty-chat.png")


def test_an_answered_chat_has_no_critical_or_serious_accessibility_violation(browser, served, screenshots):
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    ask(page, served, QUESTION)
    assert_no_serious_violations(page, screenshots / "answered-chat.png")


def test_a_dark_colour_scheme_gets_the_same_accessible_page(browser, served, screenshots):
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="dark")
    ask(page, served, QUESTION)
    assert_no_serious_violations(page, screenshots / "answered-chat-dark.png")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"


def test_icon_buttons_are_named_in_welsh_on_a_welsh_page(browser, served):
    page = open_chat(browser, served)
    page.evaluate("document.documentElement.lang = 'cy'")
    page.get_by_role("button", name=STRINGS["a11y.send"]["cy"]).wait_for(timeout=5_000)
    page.evaluate("document.documentElement.lang = 'en'")
    page.get_by_role("button", name=SEND).wait_for(timeout=5_000)


def test_focus_stays_in_the_question_box_after_sending(browser, served):
    page = open_chat(browser, served)
    box = page.get_by_placeholder("Ask about reserved contracts")
    box.fill(QUESTION)
    box.press("Enter")
    page.get_by_text("Sources", exact=True).last.wait_for(timeout=60_000)
    # Gradio disables the box while it answers; once the answer is in, focus is back in it.
    page.wait_for_function(FOCUS_IN_QUESTION_BOX, timeout=10_000)
    # The same for someone who clicks the send button rather than pressing Enter.
    page.locator(QUESTION_BOX).fill(QUESTION)
    page.get_by_role("button", name=SEND).click()
    page.get_by_text("Sources", exact=True).nth(1).wait_for(timeout=60_000)
    page.wait_for_function(FOCUS_IN_QUESTION_BOX, timeout=10_000)


# Controls drawn past the screen's edges (Gradio's container hides its overflow, so these would
# be cut off rather than widen the page).
CONTROLS_OFF_SCREEN = """() => Array.from(document.querySelectorAll(
    "button, input, textarea, a[href], [role=tab], [role=combobox]"))
  .filter(e => e.checkVisibility() && e.getBoundingClientRect().width > 0)
  .filter(e => { const r = e.getBoundingClientRect(); return r.left < -0.5 || r.right > innerWidth + 0.5; })
  .map(e => e.outerHTML.slice(0, 120))"""
# The chat's label and toolbar drawn over its messages.
TOOLBAR_OVER_MESSAGES = """() => { const log = document.querySelector("[role=log]"); const m = log.getBoundingClientRect();
  return Array.from(log.parentElement.querySelectorAll(
      ":scope > label[data-testid=block-label], :scope > .icon-button-wrapper"))
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.bottom > m.top + 0.5
      && r.top < m.bottom && r.right > m.left && r.left < m.right; })
    .map(e => e.outerHTML.slice(0, 120)); }"""


def assert_fits_a_phone(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate(CONTROLS_OFF_SCREEN) == []
    assert page.evaluate(TOOLBAR_OVER_MESSAGES) == []
    send = page.get_by_role("button", name=SEND)
    assert send.is_visible()
    where = send.bounding_box()
    assert where is not None and 0 <= where["x"] and where["x"] + where["width"] <= 390


def test_a_390_px_wide_screen_needs_no_sideways_scrolling(browser, served, screenshots):
    page = open_chat(browser, served, width=390, height=844)
    page.screenshot(path=str(screenshots / "empty-chat-390px.png"), full_page=True)
    assert_fits_a_phone(page)
    ask(page, served, QUESTION)
    settled(page)
    page.screenshot(path=str(screenshots / "answered-chat-390px.png"), full_page=True)
    assert_fits_a_phone(page)


def test_no_developer_footer_is_shown(browser, served):
    page = open_chat(browser, served)
    for text in DEVELOPER_FOOTER:
        for found in (page.get_by_text(text, exact=True), page.get_by_role("button", name=text),
                      page.get_by_role("link", name=text)):
            assert not [i for i in range(found.count()) if found.nth(i).is_visible()], text
