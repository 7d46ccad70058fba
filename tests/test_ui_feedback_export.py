"""Feedback and export in the chat (ui/actions.py), in the fast tier: a thumb and a comment on an
answer land in the feedback store with that answer; the conversation downloads as Markdown and
Word. Then the same in a real browser (headless Chromium through Playwright): rate, comment,
download, and find it all in the store and the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import httpx
import pytest
from docx import Document

from procguide.assistant import Assistant
from procguide.feedback import FeedbackStore
from procguide.ui import actions
from procguide.ui.actions import Conversation
from tests.browser import ask, chromium, fast_assistant
from tests.browser import served as served_app

pytestmark = pytest.mark.fast

QUESTION = "How long can a contract reserved to a public service mutual last under the Procurement Act 2023?"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return fast_assistant(tmp_path_factory.mktemp("ui-feedback"))


def messages_for(conversation: Conversation) -> list[dict[str, str]]:
    out = []
    for shown in conversation.shown:
        out += [{"role": "user", "content": shown.answer.question}, {"role": "assistant", "content": "..."}]
    return out


def test_a_thumb_and_a_comment_are_stored_with_the_answer_they_rate(assistant, tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    conversation = Conversation()
    first = assistant.ask(QUESTION)
    second = assistant.ask("Can a mutual bid again for the same services?")
    conversation.add(first, "Wales", None).add(second, None, None)
    messages = messages_for(conversation)

    assert actions.comment(store, conversation, "too early") == actions.COMMENT_FIRST
    assert actions.rate(store, assistant.settings, conversation, messages, 1, False) == actions.FEEDBACK_SAVED
    assert actions.rate(store, assistant.settings, conversation, messages, 0, True) == ""  # a question
    assert actions.comment(store, conversation, "It should say <b>five</b> years.") == actions.FEEDBACK_SAVED
    assert actions.rate(store, assistant.settings, conversation, messages, 1, True) == actions.FEEDBACK_SAVED
    rows = store.rows()
    assert len(rows) == 1  # the second thumb on the same answer replaced the first
    row = rows[0]
    assert (row.rating, row.comment, row.question) == ("up", "It should say <b>five</b> years.", QUESTION)
    assert row.settings["nation"] == "Wales"
    assert actions.rate(store, assistant.settings, conversation, messages, 3, False) == actions.FEEDBACK_SAVED
    assert [r.question for r in store.rows()] == [QUESTION, second.question]


def test_a_feedback_file_that_cannot_be_used_is_reported_and_kept(assistant, tmp_path):
    broken = tmp_path / "feedback.sqlite3"
    broken.write_bytes(b"not a database" * 100)
    conversation = Conversation().add(assistant.ask(QUESTION), None, None)
    said = actions.rate(FeedbackStore(broken), assistant.settings, conversation,
                        messages_for(conversation), 1, True)
    assert said and said != actions.FEEDBACK_SAVED and "\n" not in said
    assert broken.read_bytes() == b"not a database" * 100


def test_the_conversation_downloads_as_markdown_and_word(assistant, tmp_path):
    assert actions.export(Conversation(), "md", tmp_path) is None
    answer = assistant.ask(QUESTION)
    conversation = Conversation().add(answer, None, None)
    markdown = actions.export(conversation, "md", tmp_path).read_text(encoding="utf-8")
    assert QUESTION in markdown and "procguide gives guidance" in markdown
    assert all(c.passage.url in markdown for c in answer.citations if c.passage.url)
    word = Document(str(actions.export(conversation, "docx", tmp_path)))
    text = "\n".join(p.text for p in word.paragraphs)
    assert QUESTION in text and "[1]" in text


# --- in a real browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(assistant: Assistant) -> Iterator[str]:
    with served_app(assistant) as url:
        yield url


def test_in_the_browser_a_rating_a_comment_and_a_download(served, assistant, screenshots):
    with chromium() as browser:
        page = browser.new_page()
        ask(page, served, QUESTION)
        page.get_by_role("button", name="Dislike").last.click()
        status = page.locator("#feedback-status")
        status.get_by_text(actions.FEEDBACK_SAVED).wait_for(timeout=10_000)
        page.get_by_label("Comment on the answer you rated (optional)").fill("Say <img src=x> when it starts.")
        page.get_by_role("button", name="Send comment").click()
        page.wait_for_function("document.querySelector('#feedback-status').innerText.includes('saved') && "
                               "!document.querySelector('#pg-comment textarea').value",
                               timeout=10_000)
        page.get_by_role("button", name="Download the conversation (Markdown)").click()
        link = page.locator("a[href*='gradio_api/file=']").last
        link.wait_for(timeout=10_000)
        downloaded = httpx.get(link.get_attribute("href"), timeout=10).text
        page.screenshot(path=str(screenshots / "feedback-and-export.png"), full_page=True)
    store = FeedbackStore.for_settings(assistant.settings)
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT rating, comment, question FROM feedback").fetchall() == [
        ("down", "Say <img src=x> when it starts.", QUESTION)]
    assert QUESTION in downloaded and "**Sources**" in downloaded
