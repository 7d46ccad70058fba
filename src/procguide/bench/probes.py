"""Measuring instruments for the bench: latency summaries, memory, the machine, and a counter of
calls into Chroma's API (each one an HTTP round trip when PROCGUIDE_CHROMA_URL points at a server).
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

# The client-side API every Chroma call goes through (chromadb.api.ServerAPI): Collection methods
# call the underscored ones, the client the others. On an HttpClient each is one HTTP request.
CHROMA_METHODS = (
    "heartbeat", "get_collection", "get_or_create_collection", "create_collection",
    "delete_collection", "list_collections", "count_collections", "get_max_batch_size",
    "_count", "_get", "_peek", "_query", "_add", "_upsert", "_update", "_delete", "_modify",
    "_search",
)


def summary(values_ms: Sequence[float]) -> dict[str, float]:
    """p50, p95, mean, min and max of latencies in milliseconds, and how many."""
    if not values_ms:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "mean": 0.0, "min": 0.0, "max": 0.0}
    a = np.asarray(values_ms, dtype=float)
    return {
        "n": len(a),
        "p50": round(float(np.percentile(a, 50)), 3),
        "p95": round(float(np.percentile(a, 95)), 3),
        "mean": round(float(a.mean()), 3),
        "min": round(float(a.min()), 3),
        "max": round(float(a.max()), 3),
    }


def _status_kb(field: str, pid: int | str = "self") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rss_mb() -> float:
    """This process's resident memory now, in MB (VmRSS)."""
    kb = _status_kb("VmRSS")
    if not kb:  # not Linux: the peak is the best there is
        return peak_rss_mb()
    return round(kb / 1024, 1)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def load_average() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages (a shared machine's numbers need them)."""
    return [round(x, 2) for x in os.getloadavg()]


def cpu_seconds(pid: int | str = "self") -> float:
    """CPU time (user and system, every thread) a live process has used: /proc/PID/stat on Linux;
    for this process, getrusage elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        if pid != "self":
            return 0.0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime


def versions(*packages: str) -> dict[str, str]:
    """{'<package>_version': version} for each package installed."""
    found = {}
    for package in packages:
        try:
            found[f"{package}_version"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return found


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = 0.0
    try:
        ram_gb = round(_meminfo_kb("MemTotal") / 1024 / 1024, 1)
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_gb": ram_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": load_average(),
    }
    # The model's own libraries are with the embeddings (embedcache.model_description).
    info |= versions("chromadb", "numpy", "bm25s", "gradio", "gradio_client")
    if "torch" in sys.modules:
        info["torch_threads"] = sys.modules["torch"].get_num_threads()
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY"):
        if os.environ.get(name):
            info[name] = os.environ[name]
    return info


def _meminfo_kb(field: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class ChromaCalls:
    """Counts calls into a Chroma client's API by wrapping the methods of its server object (the
    embedded Rust bindings, or the HTTP client of a server). Thread-safe; `counting()` collects
    the calls made inside a block."""

    def __init__(self, client: Any):
        self.server = client._server
        self._lock = threading.Lock()
        self._active: Counter[str] | None = None
        self._originals: dict[str, Any] = {}
        for name in CHROMA_METHODS:
            original = getattr(self.server, name, None)
            if original is None:
                continue
            self._originals[name] = original
            setattr(self.server, name, self._wrap(name, original))

    def _wrap(self, name: str, original: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                if self._active is not None:
                    self._active[name] += 1
            return original(*args, **kwargs)

        return counted

    @contextmanager
    def counting(self):  # -> Iterator[Counter[str]]
        calls: Counter[str] = Counter()
        with self._lock:
            self._active = calls
        try:
            yield calls
        finally:
            with self._lock:
                self._active = None

    def remove(self) -> None:
        for name in self._originals:
            try:
                delattr(self.server, name)  # the class's own method shows through again
            except AttributeError:
                pass
