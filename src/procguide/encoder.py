"""The embedding model run in NumPy, straight from the packaged model's own files.

The shipped model (all-MiniLM-L6-v2) is a sentence-transformers model of three modules: a BERT
encoder, mean pooling over the tokens and normalisation. Importing sentence-transformers pulls in
torch, transformers and scikit-learn, about 6 s before a cold `procguide ask` can embed its
question; this module needs only NumPy, `tokenizers` and `safetensors` (0.2 s), and
gives the same vectors: tests/test_encoder.py compares it with sentence-transformers on English,
Welsh, long and odd texts, to 1e-5.

`NumpyEncoder.supports(folder)` says whether a model folder is one it can run (a BERT encoder with
absolute positions and GELU, mean pooling, optionally normalised); `index.load_embeddings` falls
back to sentence-transformers for any other model.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"


def _json(path: Path) -> dict[str, Any] | list[Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


# erf as a ratio of two polynomials on [-4, 4] (beyond it erf is +-1 in float32): Eigen's
# float32 erf, within 5e-7 of the exact function (tests/test_encoder.py) and three times faster
# here than SciPy's, which computes in double precision.
_ERF_NUMERATOR = np.array([-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                           -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                           -1.60960333262415e-02], dtype=np.float32)
_ERF_DENOMINATOR = np.array([-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                             -7.37332916720468e-03, -1.42647390514189e-02], dtype=np.float32)


def _polynomial(coefficients: np.ndarray, x2: np.ndarray) -> np.ndarray:
    out = np.full_like(x2, coefficients[0])
    for c in coefficients[1:]:
        out *= x2
        out += c
    return out


def erf(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, -4.0, 4.0)
    x2 = x * x
    return _polynomial(_ERF_NUMERATOR, x2) * x / _polynomial(_ERF_DENOMINATOR, x2)


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x)."""
    return 0.5 * x * (1.0 + erf(x * np.float32(1 / np.sqrt(2))))


class BatchEncoder:
    """What the engines share: the model's tokenizer, texts embedded in batches of similar length
    (little padding computed), and the LangChain-style methods. A subclass sets `tokenizer`,
    `dimensions` and `batch_size` and runs the model in `_run(ids, mask)`."""

    tokenizer: Any
    dimensions: int
    batch_size: int

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _tokens(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask (int64), padded to the longest text. sentence-transformers
        strips each text before tokenising."""
        encodings = self.tokenizer.encode_batch([t.strip() for t in texts])
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        return ids, mask

    def encode(self, texts: list[str]) -> np.ndarray:
        """Vectors for texts, in their order."""
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start: start + self.batch_size]
            out[chunk] = self._run(*self._tokens([texts[i] for i in chunk]))
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


class NumpyEncoder(BatchEncoder):
    """A LangChain-style embeddings object (embed_documents, embed_query) for a BERT
    sentence-transformers model folder."""

    name = "numpy"

    def __init__(self, folder: str | Path, batch_size: int = 32):
        from tokenizers import Tokenizer

        folder = Path(folder)
        config = _json(folder / "config.json")
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.normalise = self._normalised(folder)
        bert = folder / "sentence_bert_config.json"
        self.max_length = int(_json(bert).get("max_seq_length", 512)) if bert.is_file() else 512
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.folder = folder
        self.dimensions = int(config["hidden_size"])

    @cached_property
    def w(self) -> dict[str, np.ndarray]:
        """The weights, loaded on first use (not at all in a process whose questions ONNX Runtime
        embeds)."""
        from safetensors.numpy import load_file

        weights = load_file(str(self.folder / "model.safetensors"))
        # Some checkpoints prefix every name with the architecture ("bert.").
        w = {name.removeprefix("bert."): value for name, value in weights.items()}
        # Linear layers as (in, out) so that x @ w needs no transpose per call.
        for name in [n for n in w if n.endswith(".weight") and w[n].ndim == 2 and n.startswith("encoder.")]:
            w[name] = np.ascontiguousarray(w[name].T)
        return w

    # -- which folders it can run -------------------------------------------------------------

    @staticmethod
    def _normalised(folder: Path) -> bool:
        modules = folder / "modules.json"
        return modules.is_file() and any(m.get("type") == _NORMALIZE for m in _json(modules))

    @staticmethod
    def supports(folder: str | Path) -> bool:
        """True for a sentence-transformers folder of a BERT encoder (absolute positions, GELU)
        with mean pooling, weights in safetensors and a fast tokenizer."""
        folder = Path(folder)
        try:
            modules = [m.get("type") for m in _json(folder / "modules.json")]
            config = _json(folder / "config.json")
            pooling = _json(folder / "1_Pooling" / "config.json")
        except (OSError, ValueError, AttributeError):
            return False
        mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
            pooling.get(mode) for mode in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                           "pooling_mode_mean_sqrt_len_tokens",
                                           "pooling_mode_weightedmean_tokens",
                                           "pooling_mode_lasttoken"))
        return (modules in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE])
                and config.get("model_type") == "bert"
                and config.get("hidden_act") == "gelu"
                and config.get("position_embedding_type", "absolute") == "absolute"
                and bool(mean_only)
                and (folder / "model.safetensors").is_file()
                and (folder / "tokenizer.json").is_file())

    # -- the forward pass ---------------------------------------------------------------------

    def _run(self, ids: np.ndarray, mask_ids: np.ndarray) -> np.ndarray:
        mask = mask_ids.astype(np.float32)
        length = ids.shape[1]
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        batch, hidden = ids.shape[0], x.shape[-1]
        size = hidden // self.heads
        # Padding may not be attended to: a large negative bias before the softmax.
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1 / np.sqrt(size))

        def heads(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q = heads(x @ w[p + "attention.self.query.weight"] + w[p + "attention.self.query.bias"])
            k = heads(x @ w[p + "attention.self.key.weight"] + w[p + "attention.self.key.bias"])
            v = heads(x @ w[p + "attention.self.value.weight"] + w[p + "attention.self.value.bias"])
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            attended = context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(attended + x, w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"], self.eps)
            inner = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            out = inner @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
                            self.eps)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)[:, None]
        if self.normalise:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)


class Embedder:
    """The project's embeddings object for a model NumpyEncoder runs. Questions and small batches
    are embedded on one thread by ONNX Runtime when the model's export is already on this machine
    (ingest makes it), else by the NumPy encoder: either way answering never imports torch.
    A larger batch (ingest, the support checker over many sentences) goes to ONNX Runtime on every
    core, exporting the model first if need be, else to sentence-transformers on torch. Each engine
    is made on first use. All give the same vectors (tests/test_encoder.py); onnx_encoder.py has
    the measurements."""

    SMALL_BATCH = 8

    def __init__(self, folder: str | Path, fallback: Any):
        import threading

        self.model_name = str(folder)
        self.encoder = NumpyEncoder(folder)
        self._fallback = fallback
        self._engines: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _engine(self, use: str, make: Any) -> Any:
        """The engine for `use`, made once by `make()` (by one thread, the others waiting)."""
        engine = self._engines.get(use)
        if engine is None:
            with self._lock:
                engine = self._engines.get(use)
                if engine is None:
                    engine = self._engines[use] = make()
        return engine

    def small(self) -> Any:
        """The engine for questions and small batches."""
        from procguide.onnx_encoder import onnx_encoder

        return self._engine("questions", lambda: onnx_encoder(
            self.model_name, self.encoder, threads=1, make=False) or self.encoder)

    def bulk(self) -> Any:
        """The engine for large batches."""
        from procguide.onnx_encoder import onnx_encoder

        return self._engine("batches", lambda: onnx_encoder(self.model_name, self.encoder) or self._fallback())

    def engines(self) -> dict[str, str]:
        """What embeds questions and what embeds large batches ('' before first use)."""
        return {use: getattr(self._engines[use], "name", "sentence-transformers") if use in self._engines else ""
                for use in ("questions", "batches")}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if len(texts) <= self.SMALL_BATCH:
            return self.small().embed_documents(texts)
        return self.bulk().embed_documents(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self.small().embed_query(text)
