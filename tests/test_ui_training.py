"""The Training tab in a real browser (fast tier: synthetic notes, the shipped sessions): a
facilitator chooses a session, shows a scenario, reveals procguide's answer with the expected
provisions and discussion points, moves on, switches to the presenter view and exports the
session pack; a file that is not a scenario file is refused with a message.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from docx import Document

from procguide.assistant import Assistant
from procguide.training import list_sessions, load_session
from tests.browser import chromium, fast_assistant
from tests.browser import served as served_app

pytestmark = pytest.mark.fast


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant]]:
    assistant = fast_assistant(tmp_path_factory.mktemp("ui-training"))
    with served_app(assistant) as url:
        yield url, assistant


def test_a_facilitator_runs_a_scenario_and_exports_the_pack(served, screenshots):
    url, assistant = served
    info = list_sessions(assistant.settings)[0]
    session = load_session(info.id, assistant.settings)
    first, second = session.scenarios[:2]
    with chromium() as browser:
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("tab", name="Training").click()
        page.get_by_label("Choose a session").click()
        page.get_by_role("option", name=info.title, exact=False).first.click()
        page.get_by_role("button", name="Start the session").click()
        stage = page.locator("#training-scenario")
        stage.get_by_text(f"Scenario 1 of {len(session.scenarios)}").wait_for(timeout=10_000)
        assert first.question[:60] in stage.inner_text()
        assert page.locator("#training-reveal").inner_text().strip() == ""  # nothing revealed yet
        page.get_by_role("button", name="Reveal the answer").click()
        reveal = page.locator("#training-reveal")
        reveal.get_by_text("procguide's answer").wait_for(timeout=30_000)
        text = reveal.inner_text()
        assert first.expected[0] in text and first.discussion[0][:50] in text
        page.get_by_role("button", name="Next scenario").click()
        stage.get_by_text("Scenario 2 of").wait_for(timeout=10_000)
        assert second.question[:60] in stage.inner_text() and reveal.inner_text().strip() == ""
        page.get_by_label("Presenter view (large text)").check()
        page.wait_for_function("document.querySelector('#training-stage').classList.contains('presenter')")
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#training-scenario p')).fontSize)")
        assert size >= 24
        page.screenshot(path=str(screenshots / "training-presenter.png"), full_page=True)
        page.get_by_role("button", name="Export the session pack (Word)").click()
        link = page.locator("a[href*='gradio_api/file=']").last
        link.wait_for(timeout=60_000)
        pack = Document(io.BytesIO(httpx.get(link.get_attribute("href"), timeout=10).content))
    text = "\n".join(p.text for p in pack.paragraphs)
    assert f"Session pack: {session.title}" in text
    assert all(s.question[:60] in text for s in session.scenarios)


def test_a_file_that_is_not_a_scenario_file_is_refused_with_a_message(served, tmp_path):
    url, _ = served
    fake = tmp_path / "scenarios.jsonl"
    fake.write_bytes(b"%PDF-1.7\n" + b"\x00" * 200)
    with chromium() as browser:
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("tab", name="Training").click()
        page.locator("#training-stage").wait_for()
        page.locator("input[type=file]").set_input_files(str(fake))
        message = page.locator("#training-message")
        # (while it works, the box shows Gradio's progress: "queue: 1/1", "0.0s")
        page.wait_for_function("/[A-Za-z]{4,}/.test(document.querySelector('#training-message').innerText"
                               ".replace(/queue|processing/gi, ''))", timeout=15_000)
        said = message.inner_text()
    assert "scenarios.jsonl" in said or "PDF" in said, said
    assert "Traceback" not in said
