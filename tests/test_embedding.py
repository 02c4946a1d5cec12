"""The embedder's two engines: ONNX Runtime (the default for the packaged model) and torch give the
same vectors, so a library embedded by one is searched by the other; the export is made once."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge import onnx_model
from knowledge.embedding import Embedder, packaged_model_path

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    "Herons stand still in shallow water and strike at fish with their bills.",
    "潮汐的涨落与月球的引力有关。",
    "Mixed 中文 and English, with numbers: 3.5 km/h, 42%.",
    "word " * 600,  # longer than the model's 256 tokens: truncated the same way by both
    "?",
    "😀",
]


@pytest.fixture(scope="module")
def torch_embedder():
    return Embedder(engine="torch")


def test_onnx_and_torch_give_the_same_vectors(embedder, torch_embedder):
    assert embedder.runs_in == "onnxruntime" and torch_embedder.runs_in == "torch"
    onnx, torch = embedder.encode(TEXTS), torch_embedder.encode(TEXTS)
    assert onnx.shape == torch.shape == (len(TEXTS), 384) and onnx.dtype == np.float32
    assert np.abs(onnx - torch).max() < 1e-5
    queries = np.stack([embedder.encode_query(t) for t in TEXTS[:3]])
    assert np.abs(queries - torch[:3]).max() < 1e-5
    # batches are sorted by length and spread over threads: the order still follows the input
    many = [f"Note {i}: " + "tide " * (i % 37) for i in range(70)]
    assert np.abs(embedder.encode(many) - torch_embedder.encode(many)).max() < 1e-5
    assert embedder.encode([]).shape == (0, 384)


def test_the_export_is_made_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("INKSTONE_ONNX_CACHE", str(tmp_path / "cache"))
    first = Embedder()
    first.encode(["made now"])
    exports = list((tmp_path / "cache").iterdir())
    assert [p.suffix for p in exports] == [".onnx"]  # no partial file left beside it
    made = exports[0].stat().st_mtime_ns
    second = Embedder()
    assert second.runs_in == "onnxruntime"
    assert exports[0].stat().st_mtime_ns == made and list((tmp_path / "cache").iterdir()) == exports


def test_a_model_onnx_cannot_run_exactly_stays_in_torch(tmp_path):
    folder = tmp_path / "cls-pooled"
    shutil.copytree(packaged_model_path(), folder)
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert onnx_model.supported(packaged_model_path()) and not onnx_model.supported(folder)
    cls = Embedder(str(folder))
    assert cls.runs_in == "torch"
    mean = Embedder(str(packaged_model_path()), engine="torch")
    assert not np.allclose(cls.encode(TEXTS[:1]), mean.encode(TEXTS[:1]), atol=1e-3)  # it pools by CLS


def test_a_read_only_cache_falls_back_to_torch(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("INKSTONE_ONNX_CACHE", str(blocked / "onnx"))
    embedder = Embedder()
    assert embedder.runs_in == "torch" and embedder.encode(TEXTS[:1]).shape == (1, 384)


def test_a_process_that_only_embeds_never_imports_torch():
    """The CLI and ingestion workers never import torch (a first vector in 1-2 s instead of 9-12)."""
    code = ("import sys; from knowledge.embedding import Embedder; e = Embedder(); e.encode(['x']); "
            "print(e.runs_in, 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["onnxruntime", "False"]
