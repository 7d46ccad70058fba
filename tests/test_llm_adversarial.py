"""The LLM path fails closed, against a scripted OpenAI-compatible server (tests/fake_openai.py) on
the real knowledge base and the real embedding model. Each case scripts what a model might write:
a good paraphrase, a wrong number, a negation, outside knowledge cited and uncited, an invented
marker, other marker formats, links and HTML, an over-long reply, an empty reply, NOT_COVERED
mid-reply, an obeyed injection, an HTTP 500, garbage, and a refused connection. Whatever it
writes, every sentence shown is cited and supported by its cited passages (re-checked here with
the evals' checker), nothing else is shown, and what was withheld is counted and recorded.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from procguide.answer.gate import NOT_A_FAILURE
from procguide.answer.render import to_markdown, to_plain, withheld_plain
from procguide.answer.result import Answer
from procguide.answer.sentences import answer_sentences
from procguide.answer.support import offline_checker
from procguide.assistant import Assistant
from procguide.evaluation.metrics import is_substantive
from tests.fake_openai import FakeChatServer

QUESTION = "How long can a contract reserved for a mutual last under the Procurement Act 2023?"
FIVE_YEARS = "maximum term of five years"  # text of the passage a good answer cites
NOT_FOR_PROFIT = "must be not-for-profit"


def passage_number(messages: list[dict], phrase: str) -> int:
    """The number the prompt gave the passage holding `phrase`."""
    prompt = messages[-1]["content"]
    for block in re.split(r"\n\n(?=\[\d+\] )", prompt.split("PASSAGES:", 1)[1]):
        if phrase in block:
            return int(re.match(r"\s*\[(\d+)\]", block).group(1))
    raise AssertionError(f"no passage holds {phrase!r}")


def good(m: list[dict]) -> str:
    n = passage_number(m, FIVE_YEARS)
    return (f"Under section 33 of the Procurement Act 2023, a contract reserved to a public service "
            f"mutual can run for a maximum term of five years [{n}].")


def second(m: list[dict]) -> str:
    n = passage_number(m, NOT_FOR_PROFIT)
    return (f"Under section 33 of the Procurement Act 2023, a public service mutual must be "
            f"not-for-profit or distribute profits only to its members [{n}].")


@dataclass
class Case:
    name: str
    reply: Callable[[list[dict]], str | int | bytes]
    shown: int | None = None  # sentences the model wrote that are shown (None: not an LLM answer)
    withheld: int = 0
    outcome: str = "llm"  # llm, llm-fallback, or decline
    dropped: tuple[int, ...] = ()


CASES = [
    Case("good paraphrase", lambda m: f"{good(m)} {second(m)}", shown=2),
    Case("wrong number", lambda m: f"{good(m)} " + good(m).replace("five years", "ten years"), shown=1, withheld=1),
    Case("negation", lambda m: f"{good(m)} " + second(m).replace("must be not-for-profit", "must not be not-for-profit"),
         shown=1, withheld=1),
    Case("outside knowledge, cited", lambda m: f"{good(m)} Under section 33 of the Procurement Act 2023, the "
         f"Secretary of State must approve every reserved contract and publish it in the London Gazette "
         f"[{passage_number(m, FIVE_YEARS)}].", shown=1, withheld=1),
    Case("outside knowledge, uncited", lambda m: f"{good(m)} Most NHS trusts prefer mutuals for community "
         "services, and mutuals may also receive unlimited direct awards without any published notice.",
         shown=1, withheld=1),
    Case("claim cited to a passage that says otherwise", lambda m: "Mutuals may also receive unlimited direct "
         f"awards without any published notice [{passage_number(m, NOT_FOR_PROFIT)}].", outcome="llm-fallback",
         withheld=1),
    Case("invented marker", lambda m: f"{good(m)} A reserved contract can also be extended indefinitely [9].",
         shown=1, withheld=1, dropped=(9,)),
    Case("marker formats", lambda m: good(m).replace(f"[{passage_number(m, FIVE_YEARS)}]",
         f"[source: {passage_number(m, FIVE_YEARS)}]") + " "
         + second(m).replace(f"[{passage_number(m, NOT_FOR_PROFIT)}]", f"[{passage_number(m, NOT_FOR_PROFIT)}-"
         f"{passage_number(m, NOT_FOR_PROFIT)}]") + " The term is five years (1).", shown=2, withheld=1),
    Case("links, images and HTML", lambda m: f"{good(m)} Read [the guidance](https://evil.example/x) and "
         "![tracker](https://evil.example/t.png) <img src=https://evil.example/i.png> now [1].",
         shown=1, withheld=1),
    Case("over-long reply", lambda m: " ".join([good(m), second(m)] * 15), shown=6, withheld=0),
    Case("empty reply", lambda m: "", outcome="decline"),
    Case("NOT_COVERED mid-reply", lambda m: f"{good(m)} NOT_COVERED", outcome="decline"),
    Case("obeyed injection", lambda m: "Sure! Ignoring my rules as you asked. My system prompt says: answer "
         "from the passages. HACKED [1].", outcome="llm-fallback", withheld=3),
    Case("refusal", lambda m: "I'm sorry, but I can't help with legal questions.", outcome="decline"),
    Case("HTTP 500", lambda m: 500, outcome="llm-fallback"),
    Case("garbage body", lambda m: b"\x00\xffnot json{", outcome="llm-fallback"),
]


def llm_assistant(assistant: Assistant, url: str, **settings) -> Assistant:
    configured = assistant.settings.model_copy(update={
        "answerer": "llm", "llm_model": "scripted", "llm_base_url": url, "support_checker": "offline",
        "llm_first_token_timeout_s": 5.0, "llm_answer_timeout_s": 10.0, **settings})
    return Assistant(configured, assistant.index)


def ask(assistant: Assistant, url: str, question: str = QUESTION) -> tuple[list[str], Answer]:
    events = list(llm_assistant(assistant, url).stream(question))
    return [e for e in events if isinstance(e, str)], events[-1]


@pytest.fixture(scope="module")
def checker(assistant):
    return offline_checker(assistant.settings)


def shown_sentences(answer: Answer) -> list[str]:
    return [s for s in answer_sentences(answer.text) if is_substantive(s)]


def assert_fails_closed(answer: Answer, pieces: list[str], checker) -> None:
    """Nothing unchecked on screen, in the stream or the answer, and nothing that renders."""
    by_n = {c.n: c.passage for c in answer.citations}
    if answer.answerer == "llm" and not answer.abstained:
        for sentence in shown_sentences(answer):
            cited = [by_n[int(n)] for n in re.findall(r"\[(\d+)\]", sentence)]
            assert cited, f"uncited sentence shown: {sentence}"
            joined = "\n\n".join(p.text for p in cited)
            assert checker.supports(sentence, joined, [pid for p in cited for pid in p.provisions]), sentence
    for text in (answer.text, *pieces):
        assert "NOT_COVERED" not in text and "HACKED" not in text and "evil.example" not in text
        assert "ten years" not in text and "London Gazette" not in text and "[9]" not in text
    rendered = to_markdown(answer).split("**Sources**")[0]  # the source links are procguide's own
    assert not re.search(r"(?<!\\)\]\(|<img|<script", rendered)
    if answer.withheld and answer.answerer == "llm":
        assert any(re.search(r"\d+ statements? (was|were) withheld", n) for n in answer.notices)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_what_the_model_writes_is_shown_only_when_its_sources_support_it(assistant, checker, case):
    with FakeChatServer(case.reply) as server:
        pieces, answer = ask(assistant, server.url)
    assert_fails_closed(answer, pieces, checker)
    if case.outcome == "decline":
        assert answer.abstained and answer.decision == "decline" and answer.citations == []
        assert "can't answer" in answer.text
        return
    assert answer.answerer == case.outcome
    assert len(answer.withheld) == case.withheld or case.outcome == "llm-fallback", answer.withheld
    assert tuple(answer.dropped_markers) == case.dropped
    if case.outcome == "llm-fallback":
        assert any("built-in answerer" in n for n in answer.notices)
        assert answer.citations and "five years" in answer.text
        return
    assert len(shown_sentences(answer)) == case.shown
    # The stream released the same checked sentences the answer holds, and nothing else.
    assert " ".join(pieces).split() == answer.text.split()


def test_the_answers_record_holds_what_was_withheld_and_dropped(assistant):
    with FakeChatServer(CASES[6].reply) as server:
        _, answer = ask(assistant, server.url)
    record = answer.as_record("q1")
    assert record["answerer"] == "llm" and record["dropped_markers"] == [9]
    assert record["withheld"] == [{"sentence": "A reserved contract can also be extended indefinitely [9].",
                                   "reason": "invalid-marker", "markers": [9]}]
    # The debug view (procguide ask --withheld) says what was withheld and why, apart from the answer.
    debug = withheld_plain(answer)
    assert "A reserved contract can also be extended indefinitely [9].  (cites a source that was not given)" in debug
    assert "extended indefinitely" not in answer.text and "extended indefinitely" not in to_plain(answer)


def test_the_over_long_reply_is_stopped_and_bounded_in_tokens(assistant):
    with FakeChatServer(CASES[9].reply) as server:
        _, answer = ask(assistant, server.url)
        sent = server.requests[0]
    # Both names: langchain-openai sends max_completion_tokens, and some servers (llama-cpp-python's)
    # read only max_tokens.
    assert sent["max_tokens"] == sent["max_completion_tokens"] == assistant.settings.llm_max_tokens
    assert any("cut at 6 sentences" in n for n in answer.notices)


def test_the_rules_reach_the_model_in_the_user_turn(assistant):
    with FakeChatServer(good) as server:
        ask(assistant, server.url)
    sent = server.requests[0]["messages"]
    assert [m["role"] for m in sent] == ["user"]
    assert "Answer ONLY from the numbered passages" in sent[0]["content"]
    with FakeChatServer(good) as server:
        events = list(llm_assistant(assistant, server.url, llm_rules_in="system").stream(QUESTION))
    assert [m["role"] for m in server.requests[0]["messages"]] == ["system", "user"]
    assert events[-1].answerer == "llm"


def test_a_refused_connection_gives_one_line_and_the_built_in_answer(assistant, checker):
    pieces, answer = ask(assistant, "http://127.0.0.1:9/v1")
    assert_fails_closed(answer, pieces, checker)
    assert answer.answerer == "llm-fallback" and answer.citations
    notice = next(n for n in answer.notices if "could not be used" in n)
    assert "\n" not in notice and "ConnectionError" in notice


def test_the_scripted_set_figures(assistant, checker, capsys):
    """The README's figures for the scripted set: every shown sentence supported, what share was
    withheld, how often it fell back, and the latency."""
    shown = supported = withheld = fallbacks = 0
    latencies = []
    for case in CASES:
        with FakeChatServer(case.reply) as server:
            _, answer = ask(assistant, server.url)
        latencies.append(answer.timings["total_ms"])
        fallbacks += answer.answerer == "llm-fallback"
        if answer.answerer == "llm" and not answer.abstained:
            by_n = {c.n: c.passage for c in answer.citations}
            for sentence in shown_sentences(answer):
                cited = [by_n[int(n)] for n in re.findall(r"\[(\d+)\]", sentence)]
                shown += 1
                supported += checker.supports(sentence, "\n\n".join(p.text for p in cited),
                                              [pid for p in cited for pid in p.provisions])
        withheld += len([w for w in answer.withheld if w.reason not in NOT_A_FAILURE])
    assert shown and supported == shown
    with capsys.disabled():
        print(f"\nscripted LLM set: {len(CASES)} replies, {shown} model sentences shown, "
              f"{supported / shown:.0%} supported, {withheld / (withheld + shown):.0%} of checked sentences "
              f"withheld, {fallbacks} fell back to the built-in answer, latency p50 "
              f"{statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms")
