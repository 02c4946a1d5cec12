"""A sentence-transformers model run by ONNX Runtime: same vectors, less overhead per call.

For a model folder whose pipeline is a transformer, mean pooling and normalisation (the
packaged all-MiniLM-L6-v2 is one), the transformer is exported once to ONNX with torch's own
exporter and kept in a cache folder (``onnx_cache_dir()``); texts are tokenised with the
folder's own ``tokenizer.json`` (the ``tokenizers`` library that transformers' fast tokenizer
wraps) and pooled here exactly as sentence-transformers pools them.

Why: a query is a few dozen tokens, and torch's per-operator overhead on a CPU dominates at that
size; ONNX Runtime embeds one query in about half the time (docs/BENCHMARKS.md, issue 16), with
vectors equal to torch's to float precision (cosine 1.0000), so a library embedded by either
needs no re-embedding. Ingestion runs each batch on one thread and two batches at a time, one per
core. A process that only embeds (the CLI, a worker) never imports torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from textkit import cpu_threads

_EXPORT_LOCK = threading.Lock()


def onnx_cache_dir() -> Path:
    """Where exports are kept: ``INKSTONE_ONNX_CACHE``, else the virtualenv's ``share/inkstone/onnx``
    (``make setup`` fills it, so the studio and the tests find the export made at install)."""
    return Path(os.environ.get("INKSTONE_ONNX_CACHE") or Path(sys.prefix) / "share" / "inkstone" / "onnx")


def supported(folder: Path) -> bool:
    """Whether ``folder`` is a sentence-transformers model this module runs exactly: a transformer,
    mean pooling and normalisation, with a ``tokenizer.json``."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text())]
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
    return (modules == ["Transformer", "Pooling", "Normalize"] and bool(mean_only)
            and (folder / "tokenizer.json").is_file())


def tokenizer(folder: Path):
    """``folder``'s own fast tokenizer, truncating where the model does, without padding."""
    from tokenizers import Tokenizer

    config = json.loads((folder / "sentence_bert_config.json").read_text())
    loaded = Tokenizer.from_file(str(folder / "tokenizer.json"))
    loaded.enable_truncation(max_length=int(config.get("max_seq_length", 256)))
    loaded.no_padding()
    return loaded


def export_path(folder: Path) -> Path:
    """The export of ``folder``'s model, named by a fingerprint of its weights and config."""
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        path = folder / name
        if path.is_file():
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    digest.update((folder / "config.json").read_bytes())
    return onnx_cache_dir() / f"{folder.name}-{digest.hexdigest()[:16]}.onnx"


def export(folder: Path, target: Path) -> Path:
    """Export ``folder``'s transformer to ``target`` (atomically: a reader never sees half a file)."""
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar in logs and CLIs
    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(str(folder)).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = torch.ones(2, 8, dtype=torch.long)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(LastHiddenState(model), (example, example, torch.zeros_like(example)),
                              str(partial), input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                              opset_version=17, dynamo=False)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


class OnnxSentenceModel:
    """``folder``'s model in ONNX Runtime; ``encode`` gives what sentence-transformers' would."""

    engine = "onnxruntime"

    def __init__(self, folder: Path, *, workers: int | None = None):
        import onnxruntime

        path = export_path(folder)
        with _EXPORT_LOCK:
            if not path.is_file():
                export(folder, path)
        self.dim = int(json.loads((folder / "config.json").read_text())["hidden_size"])
        self.tokenizer = tokenizer(folder)
        options = onnxruntime.SessionOptions()
        # One thread per call: a query leaves the other core to the lexical search, and batches
        # are spread over the cores by ``encode`` instead (no cross-thread sync inside a batch).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.workers = max(1, workers or cpu_threads())
        self._pool: ThreadPoolExecutor | None = None

    def _run(self, encodings) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        feed = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in
                ("input_ids", "attention_mask", "token_type_ids")}
        for row, e in enumerate(encodings):
            n = len(e.ids)
            feed["input_ids"][row, :n] = e.ids
            feed["attention_mask"][row, :n] = e.attention_mask
            feed["token_type_ids"][row, :n] = e.type_ids
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def encode_query(self, text: str) -> np.ndarray:
        """One query, on the calling thread (the session runs each call on one)."""
        return self._run(self.tokenizer.encode_batch([text]))[0]

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        """``(len(texts), dim)`` unit vectors; batches sorted by length, so little is padding."""
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        if len(batches) > 1 and self.workers > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed")
            results = list(self._pool.map(lambda b: self._run([encodings[i] for i in b]), batches))
        else:
            results = [self._run([encodings[i] for i in b]) for b in batches]
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        for batch, result in zip(batches, results):
            vectors[batch] = result
        return vectors
