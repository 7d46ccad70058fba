"""The embedding model run by ONNX Runtime: ingest's batches on every core and, once the model is
exported, questions on one thread each (`encoder.Embedder` chooses).

Measured on this project's 2-core machine with the shipped all-MiniLM-L6-v2: on 64 synthetic
passages and 256 sentences, sentence-transformers on torch (2 threads) embedded 23 passages/s and
125 sentences/s, ONNX Runtime 36 and 254; 60 dev questions were answered at 38-39 ms of CPU each
with questions embedded by the NumPy encoder, 26 ms with ONNX Runtime. The vectors agree with the
NumPy encoder's to 2e-7. ONNX Runtime comes with chromadb.

The ONNX file is exported once per machine and model from the packaged weights (torch's exporter,
which needs the `onnx` package), into procguide's cache folder (`$XDG_CACHE_HOME/procguide/onnx`,
else `~/.cache/procguide/onnx`): about 5 s, the first time something embeds a large batch (ingest).
Each process checks the export on a probe text against the NumPy encoder's vector for it (kept
beside the export, so the check need not load the NumPy weights). An export that disagrees, or
that cannot be made, leaves questions to the NumPy encoder and large batches to
sentence-transformers.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from procguide.atomic import replacing
from procguide.encoder import BatchEncoder

log = logging.getLogger(__name__)

# Bumped when the exported graph changes, so that older files are not reused.
EXPORT_FORMAT = 1
PROBE = "A probe sentence: the contracting authority may reserve the contract under section 33."
TOLERANCE = 1e-4


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "procguide" / "onnx"


def export_path(folder: str | Path) -> Path:
    """Where the export of the model in `folder` lives: named by the folder and its weights' size
    and time, so that new weights get a new file."""
    weights = Path(folder) / "model.safetensors"
    stat = weights.stat()
    key = f"{EXPORT_FORMAT}|{Path(folder).resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return cache_folder() / f"{Path(folder).name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.onnx"


def export(folder: str | Path, target: Path, normalise: bool) -> None:
    """Export the BERT encoder of a sentence-transformers folder, with mean pooling (and
    normalisation when the model has it), to an ONNX file; written whole or not at all."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, bert: Any):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1) if normalise else pooled

    target.parent.mkdir(parents=True, exist_ok=True)
    sample = torch.ones(2, 8, dtype=torch.long)
    # Another process exporting at once writes the same file.
    with replacing(target, 0o644) as scratch, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on the model's Python branches
        torch.onnx.export(
            Pooled(model), (sample, sample), str(scratch), input_names=["input_ids", "attention_mask"],
            output_names=["vectors"], opset_version=17, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"}, "vectors": {0: "batch"}},
        )


class OnnxEncoder(BatchEncoder):
    """`encode(texts)` like `encoder.NumpyEncoder`'s (same tokenizer, batches of texts of similar
    length), run by an ONNX Runtime session on `threads` threads (all the machine's cores when
    None). With one thread, a call runs on the caller's thread, so questions answered at once
    embed side by side (ONNX Runtime's sessions take concurrent calls)."""

    name = "onnxruntime"

    def __init__(self, path: Path, tokenizer: Any, dimensions: int, batch_size: int = 32,
                 threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # no warnings about the graph on every start
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.dimensions = dimensions
        self.batch_size = batch_size

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]


def probe_vector(path: Path, reference: Any) -> np.ndarray:
    """The reference encoder's vector for PROBE, kept beside the export the first time, so that a
    process checking the export need not load the NumPy encoder's weights."""
    kept = path.with_suffix(".probe.npy")
    try:
        vector = np.load(kept)
        if vector.shape == (1, reference.dimensions):
            return vector
    except (OSError, ValueError):
        pass
    vector = reference.encode([PROBE])
    with replacing(kept, 0o644) as scratch, scratch.open("wb") as out:
        np.save(out, vector)
    return vector


def onnx_encoder(folder: str | Path, reference: Any, threads: int | None = None,
                 make: bool = True) -> OnnxEncoder | None:
    """The ONNX Runtime encoder for the model in `folder` on `threads` threads, exported first if
    need be and `make` allows, and checked against `reference` (the NumPy encoder of the same
    folder); None, with the reason logged, when it cannot be had."""
    try:
        path = export_path(folder)
        if not path.is_file():
            if not make:
                return None
            log.info("Exporting the embedding model to %s for ONNX Runtime", path)
            export(folder, path, reference.normalise)
        engine = OnnxEncoder(path, reference.tokenizer, reference.dimensions, threads=threads)
        gap = float(np.abs(engine.encode([PROBE]) - probe_vector(path, reference)).max())
    except Exception as exc:  # noqa: BLE001  (any failure: the caller's other engine is used)
        log.warning("ONNX Runtime is not used (%s: %s)", type(exc).__name__, exc)
        return None
    if gap > TOLERANCE:
        log.warning("ONNX Runtime is not used: its vectors differ from the model's by %.2g", gap)
        return None
    return engine
