"""The FAISS index over chunk embeddings. Derived data: SQL can always rebuild it.

FAISS ids are chunk primary keys. The file is written with ``faiss.write_index`` to a
temporary name, fsynced and renamed over the old one, so a crash leaves either the old index or
the new one, never half of one; and it is never pickled.

Three structures, chosen by ``kind``:

- ``flat``: exact search (``IndexIDMap2`` over ``IndexFlatIP``). Every query reads every vector,
  so its cost grows with the library: measured on 2 cores, 6 ms at 100k chunks, 94 ms at 1M.
- ``ivf``: approximate search (``IndexIVFFlat``). The vectors are grouped around ``nlist``
  centroids (k-means); a query reads only the ``nprobe`` nearest groups. It removes vectors in
  place, so deleting a document needs no rebuild.
- ``hnsw``: approximate search over a neighbour graph (``IndexIDMap2`` over ``IndexHNSWFlat``).
  FAISS cannot remove from it, so a removal rebuilds it.

``auto`` (the default) is exact below ``threshold`` vectors and switches to ``ivf`` when an
addition crosses it; an IVF index that has grown to four times what its centroids were trained
for is retrained on its own vectors at the next addition. docs/BENCHMARKS.md has the measurements
behind the threshold and ``nprobe``.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import faiss
import numpy as np

KINDS = ("auto", "flat", "ivf", "hnsw")
# Below this many vectors "auto" stays exact: a flat scan of 100k takes ~6 ms on one core here,
# under the query embedding's ~13 ms, and IVF's recall is bought with nothing to gain.
DEFAULT_THRESHOLD = 100_000
# IVF groups read per query (see docs/BENCHMARKS.md for recall against speed at 1M).
DEFAULT_NPROBE = 48
# k-means sample per centroid and iterations: enough for stable centroids at a bounded cost.
_TRAIN_PER_LIST = 40
_TRAIN_ITERATIONS = 10


def ivf_lists(n: int) -> int:
    """How many IVF centroids suit ``n`` vectors: sqrt(n), with at least 39 vectors each.

    Assigning a vector costs one dot product per centroid, so building is O(n * lists): with
    4 sqrt(n) lists (FAISS's usual advice), building 1M took 304 s here against ~30 s with
    sqrt(n), while a query reads a few thousand vectors either way.

    >>> ivf_lists(1_000_000), ivf_lists(100_000), ivf_lists(390)
    (1000, 316, 10)
    """
    return max(1, min(int(math.sqrt(n)), n // 39))


class VectorIndex:
    """Cosine search over unit vectors; see the module docstring for ``kind``.

    ``threshold`` is where ``auto`` turns from exact to IVF; ``nprobe`` is how many IVF groups a
    query reads.
    """

    def __init__(self, dim: int, kind: str = "auto", *, threshold: int = DEFAULT_THRESHOLD,
                 nprobe: int = DEFAULT_NPROBE):
        if kind not in KINDS:
            raise ValueError(f"`kind` must be one of {', '.join(KINDS)} but is {kind!r}")
        if threshold < 1:
            raise ValueError(f"`threshold` must be at least 1 but is {threshold}")
        if nprobe < 1:
            raise ValueError(f"`nprobe` must be at least 1 but is {nprobe}")
        self.dim = dim
        self.kind = kind
        self.threshold = threshold
        self.nprobe = nprobe
        self.lock = threading.RLock()
        self._index = self._empty("hnsw" if kind == "hnsw" else "flat")
        if kind == "ivf":
            self._index = None  # trained on the first addition

    # --- what it is -------------------------------------------------------------------------

    @property
    def structure(self) -> str:
        """What the index is now: "flat", "ivf" or "hnsw" (``auto`` is one of the first two)."""
        index = self._index
        if index is None or isinstance(index, faiss.IndexIVF):
            return "ivf"
        return "hnsw" if isinstance(faiss.downcast_index(index.index), faiss.IndexHNSW) else "flat"

    def __len__(self) -> int:
        return int(self._index.ntotal) if self._index is not None else 0

    @property
    def supports_remove(self) -> bool:
        return self.structure != "hnsw"

    def memory_bytes(self) -> int:
        """Bytes the vectors, ids and structure take in memory (the size of the saved file)."""
        with self.lock:
            if self._index is None:
                return 0
            return int(faiss.serialize_index(self._index).nbytes)

    def ids(self) -> np.ndarray:
        with self.lock:
            if self._index is None:
                return np.zeros(0, dtype=np.int64)
            if isinstance(self._index, faiss.IndexIVF):
                return self._ivf_contents(vectors=False)[0]
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    # --- building ---------------------------------------------------------------------------

    def _empty(self, structure: str):
        if structure == "hnsw":
            inner = faiss.IndexHNSWFlat(self.dim, 32, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efSearch = 128
            return faiss.IndexIDMap2(inner)
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _trained_ivf(self, vectors: np.ndarray):
        """An empty IVF index whose centroids were trained on (a sample of) ``vectors``."""
        nlist = ivf_lists(len(vectors))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = _TRAIN_ITERATIONS
        index.cp.max_points_per_centroid = _TRAIN_PER_LIST
        sample = vectors
        if len(vectors) > nlist * _TRAIN_PER_LIST:
            rng = np.random.default_rng(0)
            sample = vectors[np.sort(rng.choice(len(vectors), nlist * _TRAIN_PER_LIST, replace=False))]
        index.train(np.ascontiguousarray(sample))
        return index

    def _contents(self) -> tuple[np.ndarray, np.ndarray]:
        """Every ``(ids, vectors)`` held now (exact copies: both flat and IVF-flat keep floats)."""
        if self._index is None or self._index.ntotal == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        if isinstance(self._index, faiss.IndexIVF):
            return self._ivf_contents(vectors=True)
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        return ids, self._index.index.reconstruct_n(0, self._index.ntotal)

    def _ivf_contents(self, *, vectors: bool):
        invlists = self._index.invlists
        id_parts, vector_parts = [], []
        for group in range(invlists.nlist):
            size = invlists.list_size(group)
            if size == 0:
                continue
            id_parts.append(faiss.rev_swig_ptr(invlists.get_ids(group), size).copy())
            if vectors:
                codes = faiss.rev_swig_ptr(invlists.get_codes(group), size * invlists.code_size)
                vector_parts.append(np.frombuffer(codes.tobytes(), dtype=np.float32).reshape(size, self.dim))
        ids = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int64)
        if not vectors:
            return ids, None
        return ids, (np.concatenate(vector_parts) if vector_parts else np.zeros((0, self.dim), np.float32))

    def _wants_ivf(self, total: int) -> bool:
        if self.kind == "ivf":
            return True
        return self.kind == "auto" and (self.structure == "ivf" or total >= self.threshold)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add ``vectors`` under ``ids``; in ``auto``, crossing the threshold turns the index to IVF."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if vectors.shape != (len(ids), self.dim):
            raise ValueError(f"`vectors` must have shape ({len(ids)}, {self.dim}) but has {vectors.shape}")
        with self.lock:
            total = len(self) + len(ids)
            if self._wants_ivf(total):
                current = self._index if isinstance(self._index, faiss.IndexIVF) else None
                # (Re)train when there are no centroids yet or they were made for a quarter of
                # the vectors there are now: lists four times too long cost recall or speed.
                if current is None or ivf_lists(total) >= 2 * current.nlist:
                    old_ids, old_vectors = self._contents()
                    ids = np.concatenate([old_ids, ids])
                    vectors = np.concatenate([old_vectors, vectors])
                    self._index = self._trained_ivf(vectors)
            self._index.add_with_ids(vectors, ids)

    def remove(self, ids: np.ndarray) -> None:
        """Remove ``ids``; an HNSW index cannot remove, so the caller rebuilds it instead."""
        if len(ids) == 0:
            return
        if not self.supports_remove:
            raise NotImplementedError("an HNSW index is rebuilt, not edited, on removal")
        with self.lock:
            if self._index is not None:
                self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def reset(self) -> None:
        with self.lock:
            self._index = self._empty("hnsw" if self.kind == "hnsw" else "flat")
            if self.kind == "ivf":
                self._index = None

    # --- searching --------------------------------------------------------------------------

    def search(self, vector: np.ndarray, k: int,
               allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest ``(chunk_id, cosine)`` to ``vector``, optionally among ``allowed_ids``."""
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
        with self.lock:
            index = self._index
            if index is None or index.ntotal == 0 or k <= 0:
                return []
            selector = None
            if allowed_ids is not None:
                if len(allowed_ids) == 0:
                    return []
                selector = faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64))
            if isinstance(index, faiss.IndexIVF):
                nprobe = self.nprobe
                if allowed_ids is not None:
                    # A filter keeps a fraction of each group: read proportionally more groups,
                    # so a small collection inside a large library is not starved of candidates.
                    share = max(len(allowed_ids) / index.ntotal, 1e-9)
                    nprobe = int(min(index.nlist, math.ceil(self.nprobe / min(share, 1.0))))
                params = faiss.SearchParametersIVF(sel=selector, nprobe=min(nprobe, index.nlist))
            elif self.structure == "hnsw":
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=128)
            else:
                params = faiss.SearchParameters(sel=selector) if selector is not None else None
            # One query is scanned fastest by one thread: measured at 100k chunks, FAISS's
            # OpenMP team made a single search slower (p50 50 -> 35 ms end to end).
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                scores, ids = index.search(query, min(k, index.ntotal), params=params)
            finally:
                faiss.omp_set_num_threads(threads)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    # --- the file ---------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write atomically: temp file, fsync, rename, fsync the folder."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with self.lock:
            if self._index is None:
                if path.exists():
                    path.unlink()
                return
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
        """Replace the contents with the index at ``path``; False if missing or unusable.

        A file of another structure than ``kind`` allows (a flat file for an ``hnsw`` setting)
        is unusable: the caller rebuilds from SQL.
        """
        try:
            index = faiss.read_index(str(path))
        except (RuntimeError, OSError):
            return False
        if index.d != self.dim:
            return False
        if isinstance(index, faiss.IndexIVF):
            structure = "ivf"
        elif isinstance(index, faiss.IndexIDMap2):
            inner = faiss.downcast_index(index.index)
            structure = "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"
            if structure == "flat" and not isinstance(inner, faiss.IndexFlat):
                return False
        else:
            return False
        allowed = {"auto": ("flat", "ivf"), "flat": ("flat",), "ivf": ("ivf",), "hnsw": ("hnsw",)}
        if structure not in allowed[self.kind]:
            return False
        with self.lock:
            self._index = index
        return True
