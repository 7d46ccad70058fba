"""The LLM judge replaces the offline support checker only when it earns it: measured on the
held-out labelled pairs against the offline checker, rejected when it is worse or degenerate,
measured once per model, and left out when the LLM cannot be reached. A fake OpenAI-compatible
server plays the model."""

from __future__ import annotations

import json
import re

import pytest

from procguide.answer.judge import CACHE_FILE, JUDGE_RULES, LLMJudge, select_checker
from procguide.answer.support import OfflineSupportChecker, offline_checker
from procguide.evaluation.pairs import load_pairs
from tests.conftest import ROOT, make_settings
from tests.fake_openai import FakeChatServer

PAIRS = load_pairs(ROOT / "evals" / "support_pairs.jsonl")
HELDOUT = [p for p in PAIRS if p.split == "heldout"]
LABELS = {(p.sentence, p.passage): p.supported for p in PAIRS}
ASKED = re.compile(r"CLAIM: (.*?)\n\nPASSAGE: (.*)\n\nYES or NO\?$", re.DOTALL)


def user_turn(messages) -> str:
    return [m["content"] for m in messages if m["role"] == "user"][-1]


def oracle(messages) -> str:
    """A judge that knows the labels: the right answer for every labelled pair."""
    claim, passage = ASKED.search(user_turn(messages)).groups()
    return "YES" if LABELS[(claim, passage)] else "NO"


@pytest.fixture(scope="module")
def shared_offline(tmp_path_factory) -> OfflineSupportChecker:
    """One offline checker for the module, so its embeddings are computed once."""
    return offline_checker(make_settings(tmp_path_factory.mktemp("offline")))


@pytest.fixture
def offline(shared_offline):
    return lambda settings: shared_offline


def configured(tmp_path, url, model="m"):
    return make_settings(tmp_path).model_copy(update={"llm_model": model, "llm_base_url": url, "home": tmp_path})


def test_a_judge_that_always_says_no_is_rejected(tmp_path, offline):
    with FakeChatServer(lambda m: "NO") as server:
        checker, reason = select_checker(configured(tmp_path, server.url), offline=offline)
    assert isinstance(checker, OfflineSupportChecker)
    assert f"said YES to 0 of {len(HELDOUT)} held-out labelled pairs" in reason
    assert len(server.requests) == len(HELDOUT)


def test_a_judge_that_always_says_yes_is_rejected(tmp_path, offline):
    with FakeChatServer(lambda m: "Yes.") as server:
        checker, reason = select_checker(configured(tmp_path, server.url), offline=offline)
    assert isinstance(checker, OfflineSupportChecker)
    assert f"said YES to {len(HELDOUT)} of {len(HELDOUT)}" in reason and "does not tell them apart" in reason


def test_a_judge_that_answers_correctly_is_used(tmp_path, offline):
    with FakeChatServer(oracle) as server:
        checker, reason = select_checker(configured(tmp_path, server.url), offline=offline)
    assert isinstance(checker, LLMJudge)
    assert reason.startswith(f"LLM judge (model m): it scored 1.00 on {len(HELDOUT)} held-out labelled pairs")
    # The instructions are in the user turn, where a template that drops system messages keeps them.
    assert JUDGE_RULES in user_turn(server.requests[0]["messages"])


def test_a_judge_worse_than_the_offline_checker_is_rejected(tmp_path, offline):
    def wrong_on_a_third(messages):
        claim, passage = ASKED.search(user_turn(messages)).groups()
        right = LABELS[(claim, passage)]
        return "YES" if right != (len(claim) % 3 == 0) else "NO"

    with FakeChatServer(wrong_on_a_third) as server:
        checker, reason = select_checker(configured(tmp_path, server.url), offline=offline)
    assert isinstance(checker, OfflineSupportChecker)
    assert re.search(r"scored 0\.\d\d on \d+ held-out labelled pairs, below the offline checker's 0\.\d\d", reason)


def test_the_measurement_is_cached_per_model(tmp_path, offline):
    with FakeChatServer(oracle) as server:
        settings = configured(tmp_path, server.url)
        select_checker(settings, offline=offline)
        asked = len(server.requests)
        again, reason = select_checker(settings, offline=offline)
        assert len(server.requests) == asked  # measured once
        assert isinstance(again, LLMJudge) and "scored 1.00" in reason
        select_checker(configured(tmp_path, server.url, model="other"), offline=offline)
        assert len(server.requests) == 2 * asked  # another model is measured afresh
    cache = json.loads((tmp_path / CACHE_FILE).read_text())
    judged = [v for k, v in cache.items() if not k.startswith("offline|")]
    assert sorted(v["model"] for v in judged) == ["m", "other"]


def test_an_unreachable_llm_leaves_the_offline_checker(tmp_path, offline):
    checker, reason = select_checker(configured(tmp_path, "http://127.0.0.1:9/v1"), offline=offline)
    assert isinstance(checker, OfflineSupportChecker)
    assert "could not be reached at http://127.0.0.1:9/v1" in reason
    assert not (tmp_path / CACHE_FILE).exists()  # a failure is not cached: the next start tries again


def test_configuration_decides_without_measuring(tmp_path, offline):
    no_llm = make_settings(tmp_path)
    assert select_checker(no_llm, "llm", offline=offline)[1] == "offline checker: no LLM configured"
    with FakeChatServer(oracle) as server:
        settings = configured(tmp_path, server.url)
        checker, reason = select_checker(settings, "offline", offline=offline)
        assert isinstance(checker, OfflineSupportChecker) and "'offline'" in reason
        checker, reason = select_checker(settings, "llm", offline=offline)
        assert isinstance(checker, LLMJudge) and "not measured" in reason
    assert server.requests == []


def test_the_judge_reads_a_reasoning_reply(tmp_path):
    with FakeChatServer(lambda m: "<think>The passage says three, not five. YES would be wrong.</think>NO") as server:
        judge = LLMJudge(configured(tmp_path, server.url))
        assert judge.supports("It lasts five years [1].", "The term is three years.") is False
    assert "CLAIM: It lasts five years." in user_turn(server.requests[0]["messages"])


def test_the_ui_does_not_wait_for_the_measurement(tmp_path, offline, monkeypatch):
    """At start-up (wait=False) the offline checker gates answers at once; the judge takes over
    when its measurement, in the background, has earned it."""
    import threading

    from procguide.answer import judge
    from procguide.answer.llm import LLMComposer

    measured = threading.Event()
    real_select = judge.select_checker

    def slow_select(settings, wanted="auto"):
        measured.wait(10)  # held until the test has seen the offline checker in place
        return real_select(settings, wanted, offline=offline)

    monkeypatch.setattr(judge, "select_checker", slow_select)
    with FakeChatServer(oracle) as server:
        composer = LLMComposer(configured(tmp_path, server.url))
        reason = composer.ready(wait=False)
        assert reason.startswith("offline checker, while the LLM judge is measured")
        assert isinstance(composer.checker, OfflineSupportChecker)
        measured.set()
        measuring = next(t for t in threading.enumerate() if t.name == "judge-measure")
        measuring.join(300)
        assert not measuring.is_alive()
    assert composer.ready().startswith("LLM judge (model m): it scored 1.00"), composer.ready()
    assert isinstance(composer.checker, LLMJudge)
