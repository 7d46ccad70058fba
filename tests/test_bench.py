"""`procguide bench` (fast tier: the synthetic notes and the hashing stand-in, a tiny corpus): the
generator is deterministic and writes well-formed provision ids that ingest keeps, the vector cache
gives back the same vectors without the model, and a run writes the JSON, table and chart."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from procguide import provisions as prov
from procguide.bench import corpus
from procguide.bench.embedcache import CachedEmbeddings
from procguide.bench.options import BenchOptions
from procguide.bench.run import run_bench
from procguide.index import HashingEmbeddings, Index
from tests.conftest import ROOT, fast_kb_settings

pytestmark = pytest.mark.fast

CATALOGUE = prov.load_catalogue(ROOT / "knowledge" / "instruments.yaml")


def test_the_generator_is_deterministic_and_each_size_extends_the_smaller():
    first = list(corpus.passages(300, 7, CATALOGUE))
    assert first == list(corpus.passages(300, 7, CATALOGUE))
    assert first[:120] == list(corpus.passages(120, 7, CATALOGUE))
    assert first != list(corpus.passages(300, 8, CATALOGUE))
    assert len({p.text for p in first}) == 300  # no duplicate passages
    assert all(len(p.text) <= 1200 for p in first)  # one passage per section


def test_every_passage_carries_well_formed_provision_ids_of_the_catalogue():
    kinds: set[str] = set()
    for p in corpus.passages(500, 7, CATALOGUE):
        assert 1 <= len(p.provisions) <= 3
        for pid in p.provisions:
            assert prov.is_well_formed(pid), pid
            parsed = prov.parse(pid)
            assert parsed.part and parsed.part.split("-")[0] in CATALOGUE[parsed.instrument].part_kinds
            kinds.add(parsed.part.split("-")[0])
    assert {"art", "reg", "s", "sch"} <= kinds  # across the instruments' kinds of parts


def test_the_cache_gives_the_same_vectors_again_without_the_model(tmp_path: Path):
    texts = [p.text for p in corpus.passages(40, 7, CATALOGUE)]
    cache = CachedEmbeddings(HashingEmbeddings(), "hashing", tmp_path / "cache.sqlite3")
    made = np.asarray(cache.embed_documents(texts), dtype=np.float32)
    assert (cache.hits, cache.misses) == (0, 40)
    cache.embed_query("not cached")
    cache.close()

    again = CachedEmbeddings(HashingEmbeddings(), "hashing", tmp_path / "cache.sqlite3")
    assert len(again) == 40  # questions are never cached
    assert np.array_equal(np.asarray(again.embed_documents(texts), dtype=np.float32), made)
    assert (again.hits, again.misses) == (40, 0)


def test_a_run_writes_its_numbers_table_and_chart_and_reuses_vectors(tmp_path: Path):
    settings = fast_kb_settings(tmp_path)
    out = tmp_path / "bench-out"
    options = BenchOptions(sizes=(200,), queries=6, users=(1, 2), questions_per_user=1,
                           min_questions_per_level=2, cold_start=False, out=out, keep_work=True)
    result = run_bench(settings, options)

    saved = json.loads((out / "bench.json").read_text())
    assert saved == json.loads(json.dumps(result))
    for key in ("machine", "code", "settings", "embeddings", "corpus", "sizes", "concurrency", "notes"):
        assert key in saved
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["ram_gb"] > 0
    assert saved["embeddings"]["model"] == "hashing" and saved["embeddings"]["cache_misses"] > 0
    (size,) = saved["sizes"]
    assert size["passages"] == 200 and size["synthetic_passages"] == 200 - size["shipped_passages"]
    assert size["ingest"]["passages_per_s"] > 0 and size["ingest"]["vectors_embedded_now"] > 0
    for name in ("embed_query", "raw_chroma", "exact_dense", "retrieval", "ask"):
        latency = size["latency_ms"][name]
        assert latency["n"] == 6 and 0 < latency["p50"] <= latency["p95"]
    assert 0.5 <= size["hnsw_recall_at_k"] <= 1  # HNSW is approximate, but not far off at 200
    assert size["ratios"]["retrieval_over_raw"]["p50"] > 0
    assert size["chroma_round_trips"]["per_ask"]["min"] >= 1
    assert size["memory"]["rss_mb"] > 0
    levels = saved["concurrency"]["levels"]
    assert [level["users"] for level in levels] == [1, 2]
    assert all(level["errors"] == 0 and level["answers_per_s"] > 0 for level in levels)
    # The UI ran in its own process: both sides' CPU per answer is known.
    # (Counted in clock ticks of 10 ms, so a level of two quick answers can round to 0.)
    assert all(level["server_cpu_ms_per_answer"] >= 0 and level["client_cpu_ms_per_answer"] >= 0
               for level in levels)
    assert sum(level["server_cpu_ms_per_answer"] for level in levels) > 0
    assert saved["concurrency"]["serve_ready_s"] > 0
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| passages |" in (out / "bench.md").read_text()

    # The store holds the generated notes with their provision ids, as ingest read them.
    store = settings.model_copy(update={"home": out / "work" / "200" / "store"})
    synthetic = [p for p in Index(store).passages() if p.doc_id.startswith("bench-")]
    assert len(synthetic) == size["synthetic_passages"]
    assert all(p.provisions and all(map(prov.is_well_formed, p.provisions)) for p in synthetic)

    # A second run finds every vector in the cache.
    options.users, options.keep_work = (), False
    again = run_bench(settings, options)
    assert again["sizes"][0]["ingest"]["vectors_embedded_now"] == 0
    assert again["sizes"][0]["ingest"]["vectors_from_cache"] == size["ingest"]["vectors_written"]
    assert again["embeddings"]["cache_misses"] == 0


def test_a_child_process_gets_exactly_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """What the bench's `procguide serve` and cold `procguide ask` run with."""
    from pydantic import SecretStr

    from procguide.config import Settings, child_environment

    settings = fast_kb_settings(tmp_path, k=7, stages={"rewrite": "plain"}, ui_concurrency=3,
                                llm_api_key=SecretStr("s3cret"), auth=None)
    monkeypatch.setenv("PROCGUIDE_AUTH", "someone:else")  # the parent's own: not passed on
    env = child_environment(settings)
    assert "PROCGUIDE_AUTH" not in env and env["PROCGUIDE_LLM_API_KEY"] == "s3cret"
    for name in [n for n in list(__import__("os").environ) if n.startswith("PROCGUIDE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("PROCGUIDE_"):
            monkeypatch.setenv(name, value)
    child = Settings(_env_file=None)  # type: ignore[call-arg]

    def values(s: Settings) -> dict:
        return {name: value.resolve() if isinstance(value, Path) else value
                for name, value in s.model_dump().items() if name != "llm_api_key"}

    assert values(child) == values(settings)
    assert child.llm_api_key.get_secret_value() == "s3cret"
