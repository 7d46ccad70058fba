"""The bench itself: per corpus size, a fresh store ingested through `ingest_paths` (the shipped
notes plus synthetic council notes up to the size), then the same questions through a raw Chroma
query, the retrieve stage and a full ask; memory; a cold `procguide ask` in its own process; and,
on the shipped knowledge base, many users at once through the served UI and gradio_client.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import math
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from procguide import provisions as prov
from procguide.answer.sentences import passage_sentences
from procguide.bench import corpus
from procguide.bench.embedcache import CachedEmbeddings, embed_rate, model_description
from procguide.bench.options import BenchOptions
from procguide.bench.probes import (
    ChromaCalls,
    cpu_seconds,
    load_average,
    machine,
    peak_rss_mb,
    rss_mb,
    summary,
)
from procguide.config import Settings, child_environment

# Questions a commissioner asks, in scope and varied (named provisions, regimes, nations, plain
# words); the bench cycles through them.
QUESTIONS: tuple[str, ...] = (
    "What is the longest contract term we can reserve to a public service mutual under the Procurement Act 2023?",
    "What makes an organisation a public service mutual for section 33 of the Procurement Act?",
    "Can we reserve a home care contract for a staff mutual under the light touch rules?",
    "What counts as a light touch contract under the Procurement Act 2023?",
    "Where is the light touch threshold set now that the Procurement Act 2023 is in force?",
    "Under regulation 77 of PCR 2015, what was the maximum length of a reserved contract?",
    "What conditions must an organisation meet to bid for a contract reserved under Article 77 of the Directive?",
    "Can a council weigh continuity of care and user involvement when it awards a care contract?",
    "Under the Procurement Act 2023, do we have to consider lots before we tender a large community support contract?",
    "Is there a duty in the Procurement Act to think about barriers that small providers like social enterprises face?",
    "What proportion of a supported employment provider's workforce must be disabled or disadvantaged under section 32?",
    "Can we reserve a contract for catering supplies to a supported employment provider under the Procurement Act 2023?",
    "What is the maximum annual turnover an authority can ask bidders for under the EU Directive?",
    "Under regulation 58 of PCR 2015, how high could a minimum turnover requirement be set?",
    "Can social aspects be part of the best price-quality ratio under Article 67?",
    "What replaced the most economically advantageous tender test for procurements started after February 2025?",
    "Can contract performance conditions include social or employment considerations?",
    "Could we add employment-related conditions to a care contract under regulation 70 of PCR 2015?",
    "Can a group of small social enterprises bid jointly without forming a company first?",
    "How should we engage the market before tendering a supported living service under the Procurement Act?",
    "Does the Provider Selection Regime cover social care contracts?",
    "Can a Welsh health board use the English Provider Selection Regime to buy community health services?",
    "We plan to start a procurement in March 2025. Does PCR 2015 or the Procurement Act apply?",
    "Is Directive 2014/24/EU still binding on UK councils?",
    "What does the Social Value Act 2012 require us to consider before we procure services?",
    "What duties does the Social Partnership and Public Procurement (Wales) Act put on Welsh councils?",
    "Do Welsh local authorities have to promote social enterprises and co-operatives in care and support?",
    "Can we award a contract for health services to an in-house provider without competition?",
    "When can two public bodies cooperate to deliver a service without a procurement?",
    "What must a conditions of participation test look like for a small care provider?",
    "Must we publish how much weight each award criterion carries?",
    "How long is the standstill period before we sign a contract under the Procurement Act 2023?",
    "Can we modify a reablement contract mid-term to add more hours?",
    "What key performance indicators must we publish for a contract over £5 million?",
    "How do we assess a supplier's performance against the contract's KPIs?",
    "What did the King's Fund report say about social enterprise in health care?",
    "What did the PPIW review recommend to increase social business models in Welsh social care?",
    "Which rules apply to a domiciliary care tender advertised in November 2024?",
    "Can we limit how many lots a single bidder can win?",
    "Can a contract be reserved for a co-operative under the Procurement Act 2023?",
)
COLD_QUESTION = QUESTIONS[0]
ProgressStart = Callable[[str, int | None], Callable[[int], None]]


def _no_progress(description: str, total: int | None) -> Callable[[int], None]:
    return lambda n: None


@dataclass(frozen=True)
class ModelRates:
    """What the bare model embeds per second here, in ingest's batches: synthetic passages, and
    their sentences (which ingest stores too)."""

    passages_per_s: float
    sentences_per_s: float


def size_settings(settings: Settings, home: Path, label: str) -> Settings:
    """The settings of one measured store: its own home (embedded), or its own collection on the
    Chroma server PROCGUIDE_CHROMA_URL names."""
    update: dict[str, Any] = {"home": home}
    if settings.chroma_url:
        update["collection"] = f"{settings.collection}-bench-{label}"
    return settings.model_copy(update=update)


def _fresh_store(settings: Settings) -> None:
    """An empty store: any client this process holds on it is dropped first."""
    _release(settings)
    shutil.rmtree(settings.home, ignore_errors=True)
    if settings.chroma_url:
        from procguide.index import chroma_client

        with contextlib.suppress(Exception):  # absent on the first run
            chroma_client(settings).delete_collection(settings.collection)


def _release(settings: Settings) -> None:
    from procguide.index import reopen_client

    reopen_client(settings)
    gc.collect()


def _folder_mb(path: Path) -> float:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(folder) / name).stat().st_size
    return round(total / (1024 * 1024), 1)


def _ingest(index: Any, paths: Sequence[Path], settings: Settings,
            advance: Callable[[int], None]) -> tuple[int, float]:
    """Ingest through the project's own pipeline; (passages written, seconds)."""
    from procguide.ingest import ingest_paths
    from procguide.ingest.pipeline import IngestProgress

    started = time.perf_counter()
    report = ingest_paths(paths, index, settings.chunk_size, settings.chunk_overlap,
                          IngestProgress(on_embedded=advance))
    seconds = time.perf_counter() - started
    if report.failed:
        raise RuntimeError(f"bench ingest failed: {report.failed[:3]}")
    return report.passages, seconds


def measure_size(n: int, settings: Settings, options: BenchOptions, cache: CachedEmbeddings,
                 catalogue: dict[str, prov.Instrument], rates: ModelRates,
                 progress: ProgressStart) -> dict[str, Any]:
    """Everything measured at one corpus size."""
    from procguide.assistant import Assistant
    from procguide.index import Index, chroma_client
    from procguide.retrieve import hybrid_search

    began = time.perf_counter()
    load_before = load_average()
    work = options.out / "work" / str(n)
    s = size_settings(settings, work / "store", str(n))
    _fresh_store(s)  # any client on it released before its folder goes
    shutil.rmtree(work, ignore_errors=True)

    # 1. Ingest: the shipped notes, then synthetic notes up to n passages, each through
    # ingest_paths, with passage vectors from the cache.
    writer = Index(s, embeddings=cache)  # this Index embeds through the cache
    hits, misses, model_s = cache.hits, cache.misses, cache.model_seconds
    advance = progress(f"{n:,}: ingesting", n)
    shipped, shipped_s = _ingest(writer, [s.knowledge_dir], s, advance)
    synthetic = max(0, n - shipped)
    files = corpus.write_corpus(work / "corpus", synthetic, options.seed, catalogue)
    written, synthetic_s = _ingest(writer, [files.folder], s, advance) if synthetic else (0, 0.0)
    ingest_s = shipped_s + synthetic_s
    passages = shipped + written
    vectors = (cache.hits - hits) + (cache.misses - misses)  # passages and, if stored, sentences
    model_now = cache.model_seconds - model_s
    ingest = {
        "seconds": round(ingest_s, 2),
        "passages_per_s": round(passages / ingest_s, 1),
        "vectors_written": vectors,
        "vectors_from_cache": cache.hits - hits,
        "vectors_embedded_now": cache.misses - misses,
        "model_seconds_now": round(model_now, 2),
        # A council's first ingest, every vector made by the model: this run's time outside the
        # model, plus each passage and each sentence at the model's rates measured in this run.
        "passages_per_s_uncached": round(passages / (
            max(ingest_s - model_now, 0.0) + passages / rates.passages_per_s
            + max(vectors - passages, 0) / rates.sentences_per_s), 1),
        "store_mb": _folder_mb(s.home) if not s.chroma_url else None,
        "corpus_mb": round(files.bytes / (1024 * 1024), 1),
    }
    del writer
    _release(s)

    # 2. A fresh Index and Assistant with the bare model, as `procguide serve` would hold them.
    index = Index(s)
    started = time.perf_counter()
    stored = len(index.passages())
    load_s = time.perf_counter() - started
    assistant = Assistant(s, index)
    assistant.warm_up()
    calls = ChromaCalls(chroma_client(s))
    collection = index.collection
    k = s.k
    warm = index.embed_query("warm up").tolist()
    collection.query(query_embeddings=[warm], n_results=k)  # loads Chroma's vector index
    hybrid_search(index, "warm up", k)

    count = options.large_queries if n >= options.large_from else options.queries
    times: dict[str, list[float]] = {"embed_query": [], "raw_chroma": [], "exact_dense": [],
                                     "retrieval": [], "ask": []}
    overlap: list[float] = []  # the share of the exact dense top k that Chroma's HNSW query found
    rows = index.corpus().rows
    stages: dict[str, list[float]] = {}
    per_ask: list[int] = []
    per_retrieval: list[int] = []
    methods: Counter[str] = Counter()
    answered = 0
    advance = progress(f"{n:,}: asking", count)
    for j in range(count):
        question = QUESTIONS[j % len(QUESTIONS)]
        t0 = time.perf_counter()
        vector = index.embed_query(question).tolist()
        t1 = time.perf_counter()
        raw = collection.query(query_embeddings=[vector], n_results=k, include=[])
        t2 = time.perf_counter()
        exact = index.dense_search(np.asarray(vector, dtype=np.float32), k)
        t_exact = time.perf_counter()
        wanted = {rows[p.id] for p, _ in exact}
        overlap.append(len(wanted & set(raw["ids"][0])) / max(len(wanted), 1))
        t2b = time.perf_counter()
        with calls.counting() as retrieval_calls:  # given the vector, as the raw query is
            hybrid_search(index, question, k, query_vector=np.asarray(vector, dtype=np.float32))
        t3 = time.perf_counter()
        with calls.counting() as ask_calls:
            answer = assistant.ask(question)
        t4 = time.perf_counter()
        for name, a, b in (("embed_query", t0, t1), ("raw_chroma", t1, t2), ("exact_dense", t2, t_exact),
                           ("retrieval", t2b, t3), ("ask", t3, t4)):
            times[name].append((b - a) * 1000)
        for stage, ms in answer.timings.items():
            stages.setdefault(stage.removesuffix("_ms"), []).append(ms)
        per_ask.append(sum(ask_calls.values()))
        per_retrieval.append(sum(retrieval_calls.values()))
        methods.update(ask_calls)
        answered += not answer.abstained
        advance(1)
    calls.remove()
    latency = {name: summary(values) for name, values in times.items()}
    # Per question, then the percentiles: the p95 of a sum is not the sum of the p95s.
    raw_embed = summary([a + b for a, b in zip(times["raw_chroma"], times["embed_query"], strict=True)])
    ratios = {
        # Both are given the question's vector.
        "retrieval_over_raw": _ratio(latency["retrieval"], latency["raw_chroma"]),
        # A full ask embeds the question itself (twice when its focus differs from its text).
        "ask_over_raw_plus_embed": _ratio(latency["ask"], raw_embed),
    }
    memory = {"rss_mb": rss_mb(), "peak_rss_mb_process": peak_rss_mb()}
    del assistant, index, collection
    _release(s)

    cold = cold_start(s) if options.cold_start else None
    result = {
        "passages": stored,
        "shipped_passages": shipped,
        "synthetic_passages": written,
        "synthetic_documents": files.documents,
        "ingest": ingest,
        "index_load_s": round(load_s, 2),
        "questions": count,
        "answered_share": round(answered / count, 3) if count else 0.0,
        "latency_ms": latency,
        "ask_stages_ms": {stage: summary(values) for stage, values in stages.items()},
        "ratios": ratios,
        # Chroma's approximate (HNSW) nearest neighbours against the exact search procguide runs
        # on the corpus in memory (exact_dense in latency_ms), for the same question vectors.
        "hnsw_recall_at_k": round(float(np.mean(overlap)), 4) if overlap else None,
        "chroma_round_trips": {
            "per_ask": summary(per_ask),
            "per_retrieval": summary(per_retrieval),
            "raw_query": 1,
            "ask_by_method_mean": {m: round(c / max(count, 1), 2) for m, c in sorted(methods.items())},
        },
        "memory": memory,
        "cold_start": cold,
        "load_average": {"before": load_before, "after": load_average()},
        "seconds": round(time.perf_counter() - began, 1),
    }
    if not options.keep_work:
        _fresh_store(s)
        shutil.rmtree(work, ignore_errors=True)
    return result


def _ratio(top: dict[str, float], bottom: dict[str, float]) -> dict[str, float | None]:
    return {p: round(top[p] / bottom[p], 2) if bottom[p] else None for p in ("p50", "p95")}


# `procguide ask` as its console script runs it, writing its own peak resident memory (VmHWM:
# this process's memory only; ru_maxrss of a child also counts the parent it was forked from).
_COLD_RUNNER = """
import atexit, os, sys
def _peak():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                open(os.environ["PROCGUIDE_BENCH_PEAK_FILE"], "w").write(line.split()[1])
    except OSError:
        pass
atexit.register(_peak)
sys.argv[0] = "procguide"
from procguide.cli import app
sys.exit(app())
"""


def cold_start(settings: Settings, question: str = COLD_QUESTION) -> dict[str, Any]:
    """`procguide ask` in a new Python process on the store: seconds to the first byte of its
    answer and to its exit, and its peak resident memory (the file cache is warm: the store was
    just used)."""
    command = [sys.executable, "-c", _COLD_RUNNER, "ask", question, "--json"]
    with tempfile.TemporaryDirectory() as scratch:
        peak_file = Path(scratch) / "peak"
        env = child_environment(settings) | {"PROCGUIDE_BENCH_PEAK_FILE": str(peak_file)}
        with open(Path(scratch) / "stderr", "w+b") as errors:
            started = time.perf_counter()
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env, cwd=scratch)
            assert proc.stdout is not None
            first = proc.stdout.read(1)
            first_s = time.perf_counter() - started
            rest = proc.stdout.read()
            proc.wait()
            exit_s = time.perf_counter() - started
            proc.stdout.close()
            errors.seek(0)
            stderr = errors.read().decode("utf-8", "replace")
        peak_kb = int(peak_file.read_text() or 0) if peak_file.exists() else 0
    result: dict[str, Any] = {
        "command": "procguide ask QUESTION --json",
        "question": question,
        "exit_code": proc.returncode,
        "first_answer_s": round(first_s, 2),
        "exit_s": round(exit_s, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1) if peak_kb else None,
    }
    try:
        record = json.loads((first + rest).decode("utf-8"))
        result["abstained"] = bool(record.get("abstained"))
    except ValueError:
        result["error"] = (stderr.strip().splitlines() or ["no answer"])[-1]
    return result


def code_state() -> dict[str, Any]:
    """The commit measured, and the files changed from it (the numbers are for that code)."""
    from procguide.config import PROJECT_ROOT

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], check=False, cwd=PROJECT_ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    status = git("status", "--porcelain", "--untracked-files=no")
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    return {"commit": git("rev-parse", "HEAD"), "changed_files": changed}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServedUI:
    """`procguide serve` in its own process on the settings' store, as a deployment runs it: the
    users' clients (in the bench's process) do not share its interpreter or its GIL."""

    def __init__(self, settings: Settings, timeout_s: float = 180.0):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._scratch = tempfile.TemporaryDirectory()
        self._errors = open(Path(self._scratch.name) / "stderr", "w+b")  # noqa: SIM115
        env = child_environment(settings) | {"PROCGUIDE_HOST": "127.0.0.1", "PROCGUIDE_PORT": str(self.port)}
        started = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, "-m", "procguide", "serve"], env=env,
                                        cwd=self._scratch.name, stdout=subprocess.DEVNULL,
                                        stderr=self._errors)
        while not self._answers():
            if self.process.poll() is not None or time.perf_counter() - started > timeout_s:
                reason = self.stderr_tail()
                self.close()
                raise RuntimeError(f"procguide serve did not start: {reason}")
            time.sleep(0.2)
        self.ready_s = round(time.perf_counter() - started, 2)

    def _answers(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(self.url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def cpu_s(self) -> float:
        return cpu_seconds(self.process.pid)

    def stderr_tail(self) -> str:
        self._errors.seek(0)
        lines = self._errors.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {self.process.returncode}"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._errors.close()
        self._scratch.cleanup()


def measure_users(settings: Settings, options: BenchOptions, cache: CachedEmbeddings,
                  progress: ProgressStart) -> dict[str, Any]:
    """Simultaneous users on the shipped knowledge base: `procguide serve` in its own process on a
    loopback port, each user a gradio_client Client in its own thread (in the bench's process)
    calling `/respond`; the CPU each side spent per answer."""
    from procguide.index import Index
    from procguide.ui.chat import is_error_reply  # imported before any CPU is counted

    work = options.out / "work" / "kb"
    shutil.rmtree(work, ignore_errors=True)
    s = size_settings(settings, work / "store", "kb").model_copy(update={"auth": None})
    _fresh_store(s)
    writer = Index(s, embeddings=cache)
    _ingest(writer, [s.knowledge_dir], s, lambda n: None)
    kb_passages = writer.count()
    del writer
    _release(s)
    served = ServedUI(s)
    levels = []
    try:
        # Every question once first, so each level meets the same warm caches.
        advance = progress("users: warming up", len(QUESTIONS))
        client = user_client(served.url)
        for question in QUESTIONS:
            client.predict(question, "auto", "today", api_name="/respond")
            advance(1)
        client.close()
        for users in options.users:
            per_user = max(options.questions_per_user, math.ceil(options.min_questions_per_level / users))
            advance = progress(f"users: {users} at once", users * per_user)
            levels.append(_one_level(served.url, users, per_user, advance, is_error_reply,
                                     lambda: (served.cpu_s(), cpu_seconds())))
    finally:
        served.close()
        if options.keep_work:
            _release(s)
        else:
            _fresh_store(s)
            shutil.rmtree(work, ignore_errors=True)
    by_users = {level["users"]: level for level in levels}
    ratio = None
    if 1 in by_users and 4 in by_users and by_users[1]["answers_per_s"]:
        ratio = round(by_users[4]["answers_per_s"] / by_users[1]["answers_per_s"], 2)
    return {
        "knowledge_base": str(s.knowledge_dir),
        "passages": kb_passages,
        "via": "gradio_client Client.predict(question, 'auto', 'today', api_name='/respond'), "
               "one Client and thread per user, started together, in the bench's process, the "
               "clients sharing one TLS context and skipping the proxy lookup (user_client); the UI "
               "served by `procguide serve` in its own process on the same machine",
        "serve_ready_s": served.ready_s,
        "ui_concurrency": s.ui_concurrency,
        "ui_queue_size": s.ui_queue_size,
        "cpu": "CPU seconds per answer, all threads: the server's process, and the clients' "
               "(the bench's process, which shares the machine's cores with the server)",
        "levels": levels,
        "throughput_4_over_1": ratio,
    }


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The context httpx would build for each request (the system's default, certifi's roots)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def user_client(url: str) -> Any:
    """A gradio_client Client for one simulated user. gradio_client opens a new httpx client for
    every request, and each builds a TLS context from certifi's bundle (measured: about 55 ms of
    CPU per question, more than the server spends answering it), and reads the proxy settings
    from the environment. A browser does neither per question, and here that CPU would be taken
    from the server on the same cores, so all the bench's clients share one context and the
    loopback requests skip the proxy lookup: measured, 72 -> 6 ms of client CPU per question."""
    from gradio_client import Client

    return Client(url, verbose=False, ssl_verify=_tls_context(),  # type: ignore[arg-type]
                  httpx_kwargs={"trust_env": False})


def _one_level(url: str, users: int, per_user: int, advance: Callable[[int], None],
               is_error: Callable[[str], bool], cpu: Callable[[], tuple[float, float]]) -> dict[str, Any]:
    """`users` users asking `per_user` questions each, all starting together; `cpu()` gives the
    (server, clients) CPU seconds so far, read once the clients are made (making one fetches the
    page's config, which is not answering) and again when the last answer is in."""
    with ThreadPoolExecutor(min(users, 16)) as pool:
        clients = list(pool.map(lambda _: user_client(url), range(users)))
    barrier = threading.Barrier(users)
    records: list[tuple[float, float, bool]] = []
    lock = threading.Lock()

    def user(u: int) -> None:
        barrier.wait()
        for j in range(per_user):
            question = QUESTIONS[(u * per_user + j) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                reply = clients[u].predict(question, "auto", "today", api_name="/respond")
                ok = bool(reply) and not is_error(reply)
            except Exception:  # noqa: BLE001  (counted as an error, the run goes on)
                ok = False
            with lock:
                records.append((started, time.perf_counter(), ok))
            advance(1)

    threads = [threading.Thread(target=user, args=(u,), daemon=True) for u in range(users)]
    server_before, clients_before = cpu()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server_after, clients_after = cpu()
    for client in clients:
        with contextlib.suppress(Exception):
            client.close()
    wall = max(end for _, end, _ in records) - min(start for start, _, _ in records)
    done = [(end - start) * 1000 for start, end, ok in records if ok]
    lat = summary(done)
    return {
        "users": users,
        "questions_per_user": per_user,
        "answers": len(done),
        "errors": len(records) - len(done),
        "wall_s": round(wall, 2),
        "p50_ms": lat["p50"],
        "p95_ms": lat["p95"],
        "max_ms": lat["max"],
        "answers_per_s": round(len(done) / wall, 3) if wall else 0.0,
        **({"server_cpu_ms_per_answer": round((server_after - server_before) * 1000 / len(done), 1),
            "client_cpu_ms_per_answer": round((clients_after - clients_before) * 1000 / len(done), 1)}
           if done else {}),
    }


def run_bench(settings: Settings, options: BenchOptions,
              progress: ProgressStart | None = None,
              say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run every measurement; write bench.json, bench.md and bench.png into options.out and
    return the result."""
    from procguide.bench.report import write_outputs
    from procguide.index import load_embeddings

    progress = progress or _no_progress
    say = say or (lambda message: None)
    began = time.perf_counter()
    options.out.mkdir(parents=True, exist_ok=True)
    model = load_embeddings(settings.embedding_model)
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in settings.embedding_model)
    cache = CachedEmbeddings(model, settings.embedding_model, options.out / "cache" / f"{safe}.sqlite3")
    catalogue = prov.load_catalogue(settings.instruments_file)
    say(f"Embedding cache: {cache.path} ({len(cache):,} vectors)")

    passages = list(corpus.passages(128, options.seed + 1, catalogue))
    sample = [f"{p.heading}\n{p.text}" for p in passages]
    model.embed_documents(sample[:16])  # loads the model (a batch this size goes to the bulk engine)
    sentences = [s for p in passages for s in passage_sentences(p.text)]
    rates = ModelRates(embed_rate(model, sample, settings.embedding_batch_size),
                       embed_rate(model, sentences[:512], settings.embedding_batch_size))
    say(f"The model embeds {rates.passages_per_s:,.0f} passages/s and {rates.sentences_per_s:,.0f} "
        "sentences/s here")

    result: dict[str, Any] = {
        "schema": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": options.command,
        "machine": machine(),
        "code": code_state(),
        "settings": {
            "k": settings.k,
            "store": str(settings.chroma_url) if settings.chroma_url else "embedded (PersistentClient)",
            "embedding_batch_size": settings.embedding_batch_size,
            "ingest_batch_size": settings.ingest_batch_size,
            "answerer": settings.answerer,
        },
        "embeddings": {
            **model_description(settings.embedding_model, model),
            "cache_file": str(cache.path),
            "cache_key": f"sha256('{cache.model_id}' NUL passage search text)",
            "cached": "every vector ingest writes (passages and, where the index stores them, "
                      "their sentences); questions, and anything embedded while answering, go "
                      "to the model every time",
            "model_passages_per_s": round(rates.passages_per_s, 1),
            "model_sentences_per_s": round(rates.sentences_per_s, 1),
        },
        "corpus": {
            "generator": "procguide.bench.corpus (Markdown notes with front matter, one passage "
                         "per ## section, ingested with ingest_paths)",
            "seed": options.seed,
            "passages_per_document": corpus.PASSAGES_PER_DOCUMENT,
            "each_size": "the shipped knowledge/ notes plus synthetic council notes up to the size",
        },
        "sizes": [],
        "concurrency": None,
        "notes": [],
    }
    for n in options.sizes:
        say(f"Size {n:,} passages")
        if n >= options.large_from:
            result["notes"].append(
                f"At {n:,} passages only {options.large_queries} questions were asked (full asks are slow)."
            )
        result["sizes"].append(measure_size(n, settings, options, cache, catalogue, rates, progress))
        write_outputs(result, options.out)  # a long run keeps what it has so far
    if options.users:
        say(f"Users at once: {', '.join(map(str, options.users))}")
        result["concurrency"] = measure_users(settings, options, cache, progress)
    # The engines as used: the question engine is chosen on the first question.
    if "engines" in result["embeddings"]:
        result["embeddings"]["engines"] = model_description(settings.embedding_model, model)["engines"]
    result["embeddings"]["cache_hits"] = cache.hits
    result["embeddings"]["cache_misses"] = cache.misses
    result["embeddings"]["cache_vectors"] = len(cache)
    result["machine"]["load_average_at_end"] = load_average()
    result["seconds"] = round(time.perf_counter() - began, 1)
    cache.close()
    write_outputs(result, options.out)
    return result
