"""Unexpected failures: the traceback goes to the log, the user sees one line (CLI and UI)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

import procguide.assistant
from procguide.cli import app
from procguide.config import get_settings
from procguide.ui.app import INTERNAL_ERROR, make_respond

pytestmark = pytest.mark.fast


class Broken:
    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def ask(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire\nsecond line of detail")

    def stream(self, *args: object, **kwargs: object):
        raise RuntimeError("disk on fire")
        yield  # pragma: no cover


def test_procguide_ask_prints_one_line_and_logs_the_traceback(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(procguide.assistant, "Assistant", Broken)
    get_settings.cache_clear()  # settings another test cached would not see PROCGUIDE_LOG_FILE
    log_file = tmp_path / "procguide.log"
    result = CliRunner().invoke(app, ["ask", "How long can a reserved contract last?"],
                                env={"PROCGUIDE_LOG_FILE": str(log_file)})
    get_settings.cache_clear()  # nor should a later test see this one's
    assert result.exit_code == 1
    shown = result.output.strip()
    assert "Traceback" not in shown and len(shown.splitlines()) <= 2  # one line, soft-wrapped at most
    assert "disk on fire" in shown and "second line" not in shown
    logged = log_file.read_text()
    assert "Traceback" in logged and "RuntimeError: disk on fire" in logged


def test_the_ui_shows_one_line_and_logs_the_traceback(caplog):
    respond = make_respond(Broken())  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="procguide.ui.app"):
        replies = [text for text, _conversation in respond("How long can a reserved contract last?", [])]
    assert len(replies) == 1 and "\n" not in replies[0]
    assert "disk on fire" not in replies[0] and "server log" in replies[0]
    assert INTERNAL_ERROR.split(";")[0] in replies[0]
    assert any(r.exc_info and "disk on fire" in str(r.exc_info[1]) for r in caplog.records)


def test_an_error_reply_is_told_from_an_answer():
    """What the bench counts as a failed answer: each kind of error line, and no answer."""
    from procguide.answer.llm import LLMUnavailable
    from procguide.answer.result import Answer
    from procguide.guard import QuestionRejected
    from procguide.ui.chat import _error_text, is_error_reply, to_markdown

    for exc in (QuestionRejected("too long"), LLMUnavailable("down"), RuntimeError("boom")):
        assert is_error_reply(_error_text(exc, "en"))
    answer = Answer("q", "Under section 33 of the Procurement Act 2023, a contract may be reserved [1].", [], False)
    assert not is_error_reply(to_markdown(answer))
