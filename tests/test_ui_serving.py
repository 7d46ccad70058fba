"""The Gradio app as served (fast tier: synthetic notes, hashing embeddings): the upload route is
limited, a question stalled on the LLM does not hold up another user's, and a document's markup
reaches a real browser (headless Chromium through Playwright) only as text.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from procguide.answer.calibration import Calibration
from procguide.assistant import Assistant
from procguide.index import Index
from procguide.ingest import ingest_paths
from procguide.ui.app import build_ui, launch_options
from tests.browser import ask, chromium
from tests.conftest import fast_kb_settings
from tests.test_answer_sources import POLICY
from tests.test_llm_timeouts import StallingServer, headers_then_stall

pytestmark = pytest.mark.fast

KB = Path(__file__).resolve().parent / "fixtures" / "kb"
ANY_NATION, TODAY = "Work it out from my question", "Today (the default)"
LLM_QUESTION = "How long can a contract reserved to a public service mutual last under the Procurement Act 2023?"
NO_LLM_QUESTION = "What does Article 999 say?"  # declined by the decide stage: the LLM is not asked
TEMPLATE_QUESTION = "Where is the template for reserving contracts to public service mutuals in our policy?"


class ImageServer:
    """Records every request: the page must fetch nothing from here."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def image_server() -> Iterator[ImageServer]:
    server = ImageServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def llm_server() -> Iterator[StallingServer]:
    server = StallingServer(headers_then_stall)
    yield server
    server.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, image_server: ImageServer,
           llm_server: StallingServer) -> Iterator[tuple[str, Assistant]]:
    settings = fast_kb_settings(
        tmp_path_factory.mktemp("served"), answerer="llm", llm_model="m", llm_base_url=llm_server.url,
        llm_first_token_timeout_s=8.0, llm_answer_timeout_s=10.0,
    )
    notes = settings.knowledge_dir
    ours = settings.home.parent / "ours"
    ours.mkdir()
    (ours / "council-policy.md").write_text(
        "---\ntitle: Council commissioning policy\n---\n\n"
        "# Reserving contracts to public service mutuals\n\n"
        "The template for reserving contracts to public service mutuals in our policy is at "
        f"[x](https://evil.example) and ![](http://127.0.0.1:{image_server.port}/img.png) here.\n",
        encoding="utf-8",
    )
    index = Index(settings)
    assert not ingest_paths([notes, ours], index).failed
    assistant = Assistant(settings, index, calibration=Calibration(policy=POLICY), today=date(2026, 12, 1))
    demo = build_ui(assistant)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_options(settings))
    try:
        yield f"http://127.0.0.1:{port}/", assistant
    finally:
        demo.close()


def test_the_upload_route_refuses_a_5_mb_file(served):
    url, _ = served
    reply = httpx.post(f"{url}gradio_api/upload", files={"files": ("big.bin", b"\0" * 5_000_000)}, timeout=60)
    assert reply.status_code == 413, reply.text[:200]
    small = httpx.post(f"{url}gradio_api/upload", files={"files": ("small.txt", b"hi")}, timeout=60)
    assert small.status_code == 200  # the limit is what refused it, not a broken route


def test_a_question_stalled_on_the_llm_does_not_hold_up_another_user(served, llm_server):
    url, _ = served
    finished: dict[str, float] = {}

    def ask(name: str, question: str) -> None:
        Client(url, verbose=False).predict(question, ANY_NATION, TODAY, api_name="/respond")
        finished[name] = time.monotonic()

    before = llm_server.connections
    slow = threading.Thread(target=ask, args=("slow", LLM_QUESTION), daemon=True)
    slow.start()
    deadline = time.monotonic() + 30
    while llm_server.connections == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert llm_server.connections > before, "the first question never reached the LLM"
    ask("fast", NO_LLM_QUESTION)
    slow.join(timeout=60)
    assert "slow" in finished and finished["fast"] < finished["slow"]


def test_a_document_s_link_and_image_reach_the_browser_only_as_text(served, image_server):
    url, assistant = served
    answer = assistant.ask(TEMPLATE_QUESTION)
    assert "evil.example" in answer.text  # the sentence with the markup is quoted
    with chromium() as browser:
        page = browser.new_page()
        ask(page, url, TEMPLATE_QUESTION)
        page.wait_for_timeout(1000)
        assert page.locator("a[href*='evil.example']").count() == 0
        assert page.locator(f"img[src*='{image_server.port}']").count() == 0
        assert "evil.example" in page.inner_text("body")  # shown, as text
    assert image_server.requests == []
