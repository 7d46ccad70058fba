"""The Gradio chat, served for real on a loopback port and called through gradio_client, as a
browser or script would. The app answers from the session `assistant` (starter knowledge base,
real Chroma store, real embedding model).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gradio_client import Client

from procguide.assistant import Assistant
from procguide.ui.app import build_ui

MUTUALS_QUESTION = "How long can a contract reserved for a mutual last under the Procurement Act 2023?"
EU_MUTUALS_QUESTION = "Which organisations qualify for a reserved contract under Article 77?"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(assistant: Assistant) -> Iterator[str]:
    demo = build_ui(assistant)
    port = _free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        share=False,
        quiet=True,
    )
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(server_url: str) -> Client:
    return Client(server_url, verbose=False)


ANY_NATION, TODAY = "Work it out from my question", "Today (the default)"


def _respond(client: Client, question: str, nation: str = ANY_NATION, started: str = TODAY) -> str:
    reply = client.predict(question, nation, started, api_name="/respond")
    assert isinstance(reply, str)
    return reply


@pytest.fixture(scope="module")
def mutuals_reply(client: Client) -> str:
    return _respond(client, MUTUALS_QUESTION)


def test_respond_endpoint_is_published(client: Client) -> None:
    api: dict[str, Any] = client.view_api(return_format="dict", print_info=False)
    assert "/respond" in api["named_endpoints"]


def test_reply_cites_with_a_numbered_marker(mutuals_reply: str) -> None:
    answer = mutuals_reply.split("**Sources**")[0]
    assert "[1]" in answer


def test_reply_lists_sources_after_the_answer(mutuals_reply: str) -> None:
    assert "**Sources**" in mutuals_reply
    answer, sources = mutuals_reply.split("**Sources**", 1)
    assert answer.strip()
    assert re.search(r"^\[1\] ", sources, re.MULTILINE), sources


def test_reply_source_line_shows_the_locator_of_the_cited_passage(
    mutuals_reply: str, assistant: Assistant
) -> None:
    expected = assistant.ask(MUTUALS_QUESTION)
    assert expected.citations
    sources = mutuals_reply.split("**Sources**", 1)[1]
    first_line = next(line for line in sources.splitlines() if line.startswith("[1] "))
    assert expected.citations[0].passage.locator in first_line


def test_reply_source_line_links_to_an_https_source(mutuals_reply: str) -> None:
    sources = mutuals_reply.split("**Sources**", 1)[1]
    assert re.search(r"\]\(https://[^\s)]+\)", sources), sources


def test_reply_says_whom_it_answered_for_and_follows_the_chosen_nation(client: Client) -> None:
    reply = _respond(client, "How long can a contract reserved for a mutual last?", "An EU Member State")
    assert "Answered for: an EU Member State" in reply
    answer = reply.split("*Answered for")[0]
    assert "Directive 2014/24/EU" in answer.split("[1]")[0]  # the Directive leads for an EU asker
    uk = _respond(client, "How long can a contract reserved for a mutual last?", "Wales")
    assert "Answered for: Wales" in uk and "Procurement Act 2023" in uk.split("[1]")[0]


def test_reply_for_a_procurement_started_before_24_february_2025_leads_with_pcr_2015(client: Client) -> None:
    reply = _respond(client, "How long can a contract reserved for a mutual last?", "Wales", "Before 24 February 2025")
    first = reply.split("[1]")[0]
    assert "Public Contracts Regulations 2015" in first or "PCR 2015" in first
    assert "three years" in first


def test_reply_to_a_question_with_a_script_tag_contains_no_script(client: Client) -> None:
    reply = _respond(client, f"{MUTUALS_QUESTION} <script>alert(1)</script>")
    assert "<script>" not in reply.lower()
    assert "[1]" in reply  # the question itself was still answered


def test_reply_to_a_question_of_only_a_script_tag_explains_and_contains_no_script(
    client: Client,
) -> None:
    reply = _respond(client, "<script>alert(1)</script>")
    assert "<script>" not in reply.lower()
    assert "can't take that question" in reply


def test_reply_to_an_over_long_question_names_the_limit(client: Client) -> None:
    reply = _respond(client, "x" * 5000)
    assert "2,000" in reply


def test_page_shows_the_not_legal_advice_disclaimer(server_url: str) -> None:
    page = httpx.get(server_url, timeout=30).text
    assert "not legal advice" in page


def test_chat_round_trip_connects_to_nothing_but_loopback(
    client: Client, network_attempts: list[Any]
) -> None:
    reply = _respond(client, "What is the threshold for the light-touch regime?")
    assert network_attempts == []
    assert "**Sources**" in reply
