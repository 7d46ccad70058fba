"""The bench's outputs: bench.json (every number), bench.md (the tables, for the README) and
bench.png (latency against corpus size, and against users at once)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SIZE_COLUMNS = (
    "passages", "ingest passages/s", "query embedding p50 / p95 ms", "raw Chroma p50 / p95 ms",
    "exact dense p50 / p95 ms (HNSW recall@k)", "retrieval (vector given) p50 / p95 ms",
    "retrieval / raw (p50, p95)", "full ask p50 / p95 ms",
    "ask / (raw + embedding) (p50, p95)", "Chroma calls per ask", "RSS MB",
    "cold start to answer s (peak RSS MB)",
)
USER_COLUMNS = ("users at once", "answers", "p50 ms", "p95 ms", "answers/s", "errors",
                "server CPU ms/answer", "clients' CPU ms/answer")


def _pair(d: dict[str, Any], digits: int = 0) -> str:
    return f"{d['p50']:,.{digits}f} / {d['p95']:,.{digits}f}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ratio(d: dict[str, Any]) -> str:
    return f"{d['p50'] or 0:.1f}x, {d['p95'] or 0:.1f}x"


def size_rows(result: dict[str, Any]) -> list[list[str]]:
    rows = []
    for size in result.get("sizes", []):
        lat = size["latency_ms"]
        cold = size.get("cold_start")
        cold_text = "not run"
        if cold:
            cold_text = (f"{cold['first_answer_s']:.1f} ({cold['peak_rss_mb']:,.0f})"
                         if cold.get("exit_code") == 0 else f"failed ({cold.get('exit_code')})")
        ingest = size["ingest"]
        trips = size["chroma_round_trips"]["per_ask"]
        rows.append([
            f"{size['passages']:,}",
            f"{ingest['passages_per_s']:,.0f} ({ingest['passages_per_s_uncached']:,.0f} uncached)",
            _pair(lat["embed_query"], 1),
            _pair(lat["raw_chroma"], 1),
            (f"{_pair(lat['exact_dense'], 1)} ({size['hnsw_recall_at_k']:.3f})"
             if "exact_dense" in lat and size.get("hnsw_recall_at_k") is not None else "-"),
            _pair(lat["retrieval"]),
            _ratio(size["ratios"]["retrieval_over_raw"]),
            _pair(lat["ask"]),
            _ratio(size["ratios"]["ask_over_raw_plus_embed"]),
            f"{trips['mean']:.0f}" if trips["min"] == trips["max"] else f"{trips['min']:.0f}-{trips['max']:.0f}",
            f"{size['memory']['rss_mb']:,.0f}",
            cold_text,
        ])
    return rows


def user_rows(result: dict[str, Any]) -> list[list[str]]:
    concurrency = result.get("concurrency") or {}
    return [
        [str(level["users"]), str(level["answers"]), f"{level['p50_ms']:,.0f}",
         f"{level['p95_ms']:,.0f}", f"{level['answers_per_s']:.2f}", str(level["errors"]),
         _number(level.get("server_cpu_ms_per_answer")), _number(level.get("client_cpu_ms_per_answer"))]
        for level in concurrency.get("levels", [])
    ]


def machine_line(result: dict[str, Any]) -> str:
    m = result["machine"]
    load = m.get("load_average_at_start", [])
    threads = f", torch {m['torch_threads']} threads" if "torch_threads" in m else ""
    if "OPENBLAS_NUM_THREADS" in m:
        threads += f", NumPy's BLAS {m['OPENBLAS_NUM_THREADS']} thread(s)"
    return (f"{m['cpu']}, {m['cores_usable']} cores usable of {m['cores']}, {m['ram_gb']:g} GB RAM, "
            f"Python {m['python']}{threads}, chromadb {m.get('chromadb_version', '?')}; "
            f"load average {load[0] if load else '?'} at the start (a shared machine)")


def _markdown_table(columns: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def markdown(result: dict[str, Any]) -> str:
    emb = result["embeddings"]
    lines = [
        (f"Measured {result['created']} with `{result.get('command') or 'procguide bench'}` on: "
        f"{machine_line(result)}."),
        "",
        (f"Vectors: {emb['model']} ({emb.get('dimensions', '?')} dimensions, "
        f"{'normalised' if emb.get('normalised') else 'not normalised'}); what ingest embeds comes "
        f"from the cache file {Path(emb['cache_file']).name} (key {emb['cache_key']}); the model embeds "
        f"{emb['model_passages_per_s']:,.0f} passages/s and {emb.get('model_sentences_per_s', 0):,.0f} "
        f"sentences/s here (the 'uncached' ingest rate counts every passage and sentence at these "
        f"rates). Questions are embedded live."),
        "",
        *_markdown_table(SIZE_COLUMNS, size_rows(result)),
        "",
        *(f"- {size['passages']:,} passages ({size['shipped_passages']:,} shipped, "
          f"{size['synthetic_passages']:,} synthetic): ingest wrote {size['ingest']['vectors_written']:,} "
          f"vectors (passages and their sentences) in {size['ingest']['seconds']:,.0f} s, "
          f"{size['ingest']['vectors_embedded_now']:,} embedded by the model in this run, "
          f"{size['ingest']['vectors_from_cache']:,} from the cache; {size['questions']} questions; "
          f"index load {size['index_load_s']:.1f} s; store {size['ingest']['store_mb'] or 0:,.0f} MB."
          for size in result.get("sizes", [])),
    ]
    concurrency = result.get("concurrency")
    if concurrency:
        lines += [
            "",
            (f"Users at once on the shipped knowledge base ({concurrency['passages']:,} passages), "
            f"through the UI's `/respond` with gradio_client, `procguide serve` in its own process "
            f"on the same cores (UI concurrency {concurrency['ui_concurrency']}); throughput at "
            f"4 users / 1 user: {concurrency['throughput_4_over_1']}. CPU per answer: the "
            f"server's, and the clients' (load the bench puts on the machine that real users' "
            f"browsers would not)."),
            "",
            *_markdown_table(USER_COLUMNS, user_rows(result)),
        ]
    if result.get("notes"):
        lines += ["", *(f"- {note}" for note in result["notes"])]
    return "\n".join(lines) + "\n"


def chart(result: dict[str, Any], path: Path) -> None:
    """Latency p50 (solid) and p95 (dashed) against corpus size on log axes; users at once."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    concurrency = result.get("concurrency") or {}
    panels = 2 if concurrency.get("levels") else 1
    fig, axes = plt.subplots(1, panels, figsize=(6.5 * panels, 5.5), squeeze=False)
    ax = axes[0][0]
    sizes = result.get("sizes", [])
    xs = [s["passages"] for s in sizes]
    series = (("raw_chroma", "raw Chroma query", "tab:gray"), ("embed_query", "question embedding", "tab:green"),
              ("exact_dense", "exact dense search (in memory)", "tab:purple"),
              ("retrieval", "retrieval (hybrid_search, vector given)", "tab:blue"), ("ask", "full ask", "tab:red"))
    for key, label, colour in series:
        ax.plot(xs, [s["latency_ms"][key]["p50"] for s in sizes], "o-", color=colour, label=f"{label} p50")
        ax.plot(xs, [s["latency_ms"][key]["p95"] for s in sizes], "s--", color=colour, alpha=0.6,
                label=f"{label} p95")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages in the store")
    ax.set_ylabel("latency, ms")
    ax.set_title("Latency against corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    if panels == 2:
        ax2 = axes[0][1]
        levels = concurrency["levels"]
        users = [level["users"] for level in levels]
        ax2.plot(users, [level["p50_ms"] for level in levels], "o-", color="tab:red", label="p50")
        ax2.plot(users, [level["p95_ms"] for level in levels], "s--", color="tab:red", label="p95")
        ax2.set_xscale("log")
        ax2.set_xticks(users, [str(u) for u in users])
        ax2.minorticks_off()
        ax2.set_xlabel("users at once")
        ax2.set_ylabel("answer latency, ms")
        ax2.set_title("Users at once (shipped knowledge base, via the UI)")
        ax2.grid(True, which="both", alpha=0.3)
        twin = ax2.twinx()
        twin.plot(users, [level["answers_per_s"] for level in levels], "^:", color="tab:blue",
                  label="answers/s")
        twin.set_ylabel("answers per second")
        lines = ax2.get_legend_handles_labels()
        more = twin.get_legend_handles_labels()
        ax2.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper left")
    m = result["machine"]
    load = (m.get("load_average_at_start") or ["?"])[0]
    fig.suptitle(f"procguide bench {result['created'][:10]}: {m['cpu']}, {m['cores_usable']} cores, "
                 f"{m['ram_gb']:g} GB RAM, load average {load} at the start", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(result: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "bench.md").write_text(markdown(result), encoding="utf-8")
    chart(result, out / "bench.png")
