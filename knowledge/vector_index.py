"""The FAISS index over chunk embeddings. Derived data: SQL can always rebuild it.

FAISS ids are chunk primary keys (``IndexIDMap2``). The file is written with
``faiss.write_index`` to a temporary name, fsynced and renamed over the old one, so a crash
leaves either the old index or the new one, never half of one; and it is never pickled.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import faiss
import numpy as np


class VectorIndex:
    """Cosine search over unit vectors. ``kind`` is "flat" (exact) or "hnsw" (approximate)."""

    def __init__(self, dim: int, kind: str = "flat"):
        if kind not in ("flat", "hnsw"):
            raise ValueError(f"`kind` must be 'flat' or 'hnsw' but is {kind!r}")
        self.dim = dim
        self.kind = kind
        self.lock = threading.RLock()
        self._index = self._empty()

    def _empty(self):
        if self.kind == "hnsw":
            inner = faiss.IndexHNSWFlat(self.dim, 32, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efSearch = 128
        else:
            inner = faiss.IndexFlatIP(self.dim)
        return faiss.IndexIDMap2(inner)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def supports_remove(self) -> bool:
        return self.kind == "flat"

    def ids(self) -> np.ndarray:
        with self.lock:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.dim):
            raise ValueError(f"`vectors` must have shape ({len(ids)}, {self.dim}) but has {vectors.shape}")
        with self.lock:
            self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        """Remove ``ids``; an HNSW index cannot remove, so the caller rebuilds it instead."""
        if len(ids) == 0:
            return
        if not self.supports_remove:
            raise NotImplementedError("an HNSW index is rebuilt, not edited, on removal")
        with self.lock:
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def reset(self) -> None:
        with self.lock:
            self._index = self._empty()

    def search(self, vector: np.ndarray, k: int,
               allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest ``(chunk_id, cosine)`` to ``vector``, optionally among ``allowed_ids``."""
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
        with self.lock:
            if self._index.ntotal == 0 or k <= 0:
                return []
            params = None
            if allowed_ids is not None:
                if len(allowed_ids) == 0:
                    return []
                selector = faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64))
                params = (faiss.SearchParametersHNSW(sel=selector, efSearch=128)
                          if self.kind == "hnsw" else faiss.SearchParameters(sel=selector))
            # One query is scanned fastest by one thread: measured at 100k chunks, FAISS's
            # OpenMP team made a single search slower (p50 50 -> 35 ms end to end).
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                scores, ids = self._index.search(query, min(k, self._index.ntotal), params=params)
            finally:
                faiss.omp_set_num_threads(threads)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    def save(self, path: Path) -> None:
        """Write atomically: temp file, fsync, rename, fsync the folder."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with self.lock:
            faiss.write_index(self._index, str(temporary))
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def load(self, path: Path) -> bool:
        """Replace the contents with the index at ``path``; False if missing or unusable."""
        try:
            index = faiss.read_index(str(path))
        except (RuntimeError, OSError):
            return False
        if index.d != self.dim or not isinstance(index, faiss.IndexIDMap2):
            return False
        with self.lock:
            self._index = index
        return True
