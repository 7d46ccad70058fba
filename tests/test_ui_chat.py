"""The chat as a commissioner uses it, in headless Chromium against the served page (fast tier):
the opening panel's example questions send at once and keep the chosen context; an answer's [n]
markers lead to source cards with the cited sentence marked and a link to the provision itself;
a decline offers questions to click; copying an answer copies its sources; the page switches to
Welsh and back; and the training tab and an answer pass the axe audit. Screenshots are kept in
test-artifacts/screenshots.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from procguide import provisions as prov
from procguide.assistant import Assistant
from procguide.ui.strings import t
from procguide.ui.theme import GRADIO_TEXT
from tests.a11y import audit, describe
from tests.browser import fast_assistant
from tests.browser import served as served_app

pytestmark = pytest.mark.fast

QUESTION = "How long can a contract reserved to a public service mutual last under the Procurement Act 2023?"
OUT_OF_SCOPE = "What is the best recipe for bara brith?"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return fast_assistant(tmp_path_factory.mktemp("ui-chat"))


@pytest.fixture(scope="module")
def served(assistant: Assistant) -> Iterator[str]:
    with served_app(assistant) as url:
        yield url


@pytest.fixture
def page(chromium_browser: Any, served: str) -> Iterator[Any]:
    context = chromium_browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 1000})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(served)
    page.get_by_role("button", name=t("a11y.send")).wait_for(timeout=30_000)
    page.requests = requests  # type: ignore[attr-defined]
    yield page
    context.close()


def answers(page: Any) -> Any:
    return page.locator("[data-testid='bot']")


def wait_for_answer(page: Any, count: int = 1) -> Any:
    """The count-th answer, once finished: its hidden copy text is the last thing an answer gets,
    and the question box opens again."""
    page.wait_for_function(
        "n => { const b = document.querySelectorAll(\"[data-testid='bot']\"); return b.length >= n &&"
        " b[n-1].querySelector('.pg-clip') !== null"
        " && !document.querySelector('#pg-question textarea').disabled; }", arg=count, timeout=60_000)
    return answers(page).nth(count - 1)


def send(page: Any, question: str) -> None:
    box = page.locator("#pg-question textarea")
    box.fill(question)
    box.press("Enter")


def choose(page: Any, control: str, option: str) -> None:
    page.locator(f"{control} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_an_answer_links_each_marker_to_a_source_card_with_its_provision(page, assistant, screenshots):
    send(page, QUESTION)
    answer = wait_for_answer(page)
    page.screenshot(path=str(screenshots / "answer-with-cards.png"), full_page=True)
    marker = answer.locator("a[href^='#pg-']", has_text="[1]").first
    card_id = marker.get_attribute("href")[1:]
    card = page.locator(f"[id='{card_id}']")
    assert card.count() == 1 and "pg-card" in card.get_attribute("class")
    # The card: its title, where it sits, its regime and jurisdiction, the cited sentence marked.
    assert card.locator("h4").inner_text().startswith("[1] ")
    assert card.locator(".pg-meta").inner_text().strip()
    assert card.locator("mark").count() >= 1
    # A link to the provision itself, named for it, opening in a new tab.
    link = card.locator("a.pg-link").first
    text, href = link.inner_text(), link.get_attribute("href")
    assert re.fullmatch(r".+, (s|reg|art|sch|recital|annex)\.? .+ \([a-z.\-]+\)", text), text
    cited = assistant.ask(QUESTION).citations[0].passage
    assert href in {prov.official_url(pid) for pid in cited.provisions}, (href, cited.provisions)
    assert href.startswith("https://") and link.get_attribute("target") == "_blank"
    # Following the marker moves focus to the card.
    marker.click()
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == card_id


def test_an_example_question_sends_at_once_and_keeps_the_chosen_nation(page, screenshots):
    choose(page, "#pg-nation", "Wales")
    example = t("example.4")
    page.get_by_role("button", name=re.compile(re.escape(example))).click()
    answer = wait_for_answer(page)
    assert page.locator("[data-testid='user']").first.inner_text().strip() == example
    page.locator("#pg-assumed").get_by_text("Wales", exact=False).wait_for(timeout=10_000)
    assert page.locator("#pg-nation input").input_value() == "Wales"
    del answer
    page.screenshot(path=str(screenshots / "example-sent.png"), full_page=True)


def test_a_decline_offers_questions_to_click(page, screenshots):
    send(page, OUT_OF_SCOPE)
    wait_for_answer(page)
    options = page.locator(".options .option")
    options.first.wait_for(timeout=10_000)
    suggestion = options.first.inner_text()
    page.screenshot(path=str(screenshots / "decline.png"), full_page=True)
    options.first.click()
    wait_for_answer(page, 2)
    assert page.locator("[data-testid='user']").nth(1).inner_text().strip() == suggestion


def test_copying_an_answer_copies_its_sources_as_plain_text(page):
    send(page, QUESTION)
    wait_for_answer(page)
    page.get_by_role("button", name=t("a11y.copy")).last.click()
    page.wait_for_timeout(300)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "[1]" in copied and "Sources" in copied and "https://" in copied
    assert "<" not in copied and "](" not in copied  # no HTML or Markdown


def test_the_page_switches_to_welsh_and_back(page, screenshots):
    page.get_by_label("Cymraeg").check()
    page.get_by_text(t("app.intro", "cy")[:40]).wait_for(timeout=10_000)
    assert page.evaluate("document.documentElement.lang") == "cy"
    assert page.get_by_role("tab", name=t("training.tab", "cy")).count() == 1
    page.get_by_role("button", name=t("a11y.send", "cy")).wait_for(timeout=5_000)
    page.get_by_label(t("question.label", "cy")).first.wait_for(timeout=5_000)
    send(page, QUESTION)
    answer = wait_for_answer(page)
    assert t("answer.sources", "cy") in answer.inner_text()
    page.screenshot(path=str(screenshots / "welsh.png"), full_page=True)
    violations = audit(page)
    assert not violations, describe(violations)
    page.get_by_role("button", name=t("a11y.clear", "cy")).wait_for(timeout=5_000)  # Gradio's own, named in Welsh
    page.get_by_role("tab", name=t("training.tab", "cy")).click()
    page.get_by_text(GRADIO_TEXT["Drop File Here"]["cy"]).wait_for(timeout=5_000)
    page.screenshot(path=str(screenshots / "welsh-training.png"), full_page=True)
    page.get_by_label("English").check()
    page.get_by_text(t("app.intro", "en")[:40]).wait_for(timeout=10_000)
    assert page.evaluate("document.documentElement.lang") == "en"


def test_the_training_tab_and_an_answer_pass_the_accessibility_audit(page, screenshots: Path):
    send(page, QUESTION)
    wait_for_answer(page)
    page.locator(".pg-card").first.scroll_into_view_if_needed()
    violations = audit(page)
    page.screenshot(path=str(screenshots / "answer.png"), full_page=True)
    assert not violations, describe(violations)
    page.get_by_role("tab", name=t("training.tab")).click()
    page.get_by_text(t("training.choose")).first.wait_for(timeout=10_000)
    page.screenshot(path=str(screenshots / "training.png"), full_page=True)
    violations = audit(page)
    assert not violations, describe(violations)


def test_markup_in_a_question_is_shown_as_text_and_fetches_nothing(page):
    send(page, 'Reserved contracts <img src="http://127.0.0.1:9/x.png"> <script>window.pwned=1</script>')
    wait_for_answer(page)
    user = page.locator("[data-testid='user']").first
    assert "<img" in user.inner_text() and user.locator("img").count() == 0
    assert page.evaluate("window.pwned === undefined")
    assert not [u for u in page.requests if "x.png" in u]


def test_a_browser_set_to_welsh_opens_in_welsh(chromium_browser, served):
    context = chromium_browser.new_context(locale="cy-GB")
    try:
        page = context.new_page()
        page.goto(served)
        page.get_by_text(t("app.intro", "cy")[:40]).wait_for(timeout=15_000)
        assert page.evaluate("document.documentElement.lang") == "cy"
    finally:
        context.close()
