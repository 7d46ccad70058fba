"""Bounded LLM waits, in the fast tier: a server that accepts and never answers, one that sends its
headers and stalls, and one that trickles forever each give the user a one-line notice and the
built-in answerer's answer, within the configured limits.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from procguide.answer.calibration import Calibration
from procguide.answer.llm import TIMEOUT_NOTICE
from procguide.assistant import Assistant
from procguide.config import Settings
from procguide.index import Index
from procguide.ingest import ingest_paths
from tests.test_answer_sources import POLICY

pytestmark = pytest.mark.fast

KB = Path(__file__).resolve().parent / "fixtures" / "kb"
QUESTION = "How long can a contract reserved to a public service mutual last under the Procurement Act 2023?"


class StallingServer:
    """A loopback TCP server whose connection handler is `behave(conn)`; it never closes first."""

    def __init__(self, behave: Callable[[socket.socket], None]):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.behave = behave
        self.connections = 0
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.behave, args=(conn,), daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def never_answers(conn: socket.socket) -> None:
    time.sleep(30)
    conn.close()


def headers_then_stall(conn: socket.socket) -> None:
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    time.sleep(30)
    conn.close()


def trickles_forever(conn: socket.socket) -> None:
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    base = {"id": "c", "created": 0, "model": "m", "object": "chat.completion.chunk"}
    try:
        for _ in range(200):
            chunk = {**base, "choices": [{"index": 0, "delta": {"content": "It lasts "}, "finish_reason": None}]}
            data = f"data: {json.dumps(chunk)}\n\n".encode()
            conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            time.sleep(0.3)
    except OSError:
        pass
    conn.close()


@pytest.fixture(scope="module")
def fast_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=tmp_path_factory.mktemp("llm") / "store", knowledge_dir=KB,
        vocabulary_file=KB / "vocabulary.yaml", calibration_file=KB / "no-calibration.json",
        embedding_model="hashing", chroma_url=None,
    )
    index = Index(settings)
    assert not ingest_paths([KB], index).failed
    return index


def _llm_assistant(index: Index, url: str) -> Assistant:
    settings = index.settings.model_copy(update={
        "answerer": "llm", "llm_model": "m", "llm_base_url": url,
        "llm_first_token_timeout_s": 1.0, "llm_answer_timeout_s": 2.5, "support_checker": "offline",
    })
    return Assistant(settings, index, calibration=Calibration(policy=POLICY), today=date(2026, 12, 1))


@pytest.fixture(params=[never_answers, headers_then_stall, trickles_forever])
def stalled(request: pytest.FixtureRequest) -> Iterator[StallingServer]:
    server = StallingServer(request.param)
    yield server
    server.close()


def test_a_stalled_llm_gives_a_one_line_notice_and_the_built_in_answer_in_bounded_time(fast_index, stalled):
    assistant = _llm_assistant(fast_index, stalled.url)
    started = time.monotonic()
    answer = assistant.ask(QUESTION)
    elapsed = time.monotonic() - started
    assert stalled.connections == 1  # asked once, not retried
    assert elapsed < 8, elapsed
    assert TIMEOUT_NOTICE in answer.notices and "\n" not in TIMEOUT_NOTICE
    assert "five years [1]" in answer.text and "It lasts It lasts" not in answer.text
    assert answer.citations and answer.citations[0].passage.doc_id == "mutuals-act"
