"""`procguide bench`: latency, ingest rate, memory and cold start at 1k, 10k and 100k passages,
and many users at once through the served UI. run.py says what is measured and how, corpus.py
makes the synthetic notes, embedcache.py keeps vectors between runs, report.py writes the files,
options.py holds the options and their defaults, probes.py reads the machine and processes.

bench.json holds:

- machine: cpu, cores, cores_usable, ram_gb, os, python, torch_threads, thread settings, library
  versions, and the load average at the start and end (the machine may be shared).
- code: the commit measured and the files changed from it.
- settings: k, store (embedded or the server's address), batch sizes, answerer.
- embeddings: how the vectors were made (model, package and library versions, the engines,
  dimensions, normalised, device), the cache file and key, what is cached, the model's rate on passages,
  cache hits and misses.
- corpus: the generator, seed and passages per document.
- sizes: per corpus size, passages (shipped and synthetic); ingest (seconds, passages_per_s,
  vectors written, from the cache and embedded now, passages_per_s_uncached, store_mb);
  index_load_s; questions; answered_share; latency_ms (embed_query, raw_chroma, retrieval, ask:
  n, p50, p95, mean, min, max); ask_stages_ms; ratios (retrieval_over_raw,
  ask_over_raw_plus_embed: p50, p95); chroma_round_trips (per_ask, per_retrieval, raw_query,
  ask_by_method_mean); memory (rss_mb, peak_rss_mb_process); cold_start (first_answer_s,
  exit_s, peak_rss_mb, exit_code); load_average; seconds.
- concurrency: the knowledge base and its passages, how users were simulated, the UI's limits,
  levels (users, answers, errors, wall_s, p50_ms, p95_ms, max_ms, answers_per_s) and
  throughput_4_over_1.
- notes, seconds.
"""
