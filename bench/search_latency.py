"""End-to-end search latency, and what the speed costs in quality, at 10k, 100k and 1M chunks.

    python -m bench.search_latency --chunks 1000000 [--index-type auto|flat|ivf|hnsw]

Builds a knowledge base of real book text (War and Peace and 红楼梦 from ../shared/data/books,
chunked by the real chunker, repeated as further documents until the chunk count is reached),
stored through the real write path (SQL rows, FTS rows), the vector index brought up to date
incrementally from SQL after each size. Embedding a million chunks would take days here, so the
stored vectors are made, not embedded: the first 300 chunks of each book are embedded with the
real model once, and every stored chunk gets the embedding of its book's chunk (ordinal modulo
300) plus Gaussian noise of norm ~0.5, renormalised (cosine ~0.9 to its source). The vectors
thus have the clustered shape of real embeddings, which approximate indexes depend on (uniform
random vectors are their worst case), and no two are equal, so recall is well defined.

Queries are real (40 Cranfield questions, 20 CMRC questions) and go through
``KnowledgeBase.search(k=10)``: query embedding with the real model, the vector index, lexical
search, fusion, and fetching the passages from SQL. Beside the speed it prints:

- dense recall@10: the index's top 10 against an exact scan of every stored vector;
- lexical agreement@10: of the pruned lexical top 10, the share that scores (by BM25 over every
  query term) at least as high as the 10th of the exhaustive ranking; ties count, since copies
  of a book give equal scores;
- the index's structure and bytes (per million chunks), and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def book_documents(settings):
    from knowledge.ingestion import load_file, prepare

    for path in (SHARED / "books" / "en" / "war-and-peace.txt", SHARED / "books" / "zh" / "红楼梦.txt"):
        yield prepare(load_file(path, path.name, settings), settings)


BASES_PER_BOOK = 300


def base_vectors(kb, books) -> list[np.ndarray]:
    """Real embeddings of the first chunks of each book (what the stored vectors are made from)."""
    from knowledge.ingestion import embedding_text

    return [kb.embedder.encode([embedding_text(b.parsed.title, c.headings, c.text)
                                for c in b.chunks[:BASES_PER_BOOK]]) for b in books]


def made_vectors(bases: np.ndarray, ordinals: np.ndarray, rng) -> np.ndarray:
    vectors = bases[ordinals % len(bases)] + rng.standard_normal((len(ordinals), bases.shape[1])).astype(
        np.float32) * (0.5 / np.sqrt(bases.shape[1]))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def grow(kb, target: int, books, bases, rng, stored: list[np.ndarray]) -> int:
    """Add copies of the books (as new documents) until the knowledge base has ``target`` chunks."""
    from dataclasses import replace

    from knowledge.ingestion import embedding_text

    with kb._write() as conn, conn.begin():
        collection_id = kb._collection_id(conn, "bench", create=True)
    total = kb.stats()["chunks"]
    copy = total // sum(len(b.chunks) for b in books) * len(books)
    while total < target:
        which = copy % len(books)
        book = books[which]
        chunks = book.chunks[: target - total]
        name = f"copy-{copy}-{book.file.name}"
        prepared = replace(book, file=replace(book.file, name=name, sha256=f"{copy}"), chunks=chunks)
        texts = [embedding_text(book.parsed.title, c.headings, c.text) for c in chunks]
        vectors = made_vectors(bases[which], np.arange(len(chunks)), rng)
        kb._write_document(collection_id, prepared, texts, vectors)
        stored.append(vectors)
        total += len(chunks)
        copy += 1
    kb.index()  # the refresh adds the new vectors from SQL (incrementally) and saves the index
    return total


def queries() -> list[str]:
    english = [json.loads(l)["text"] for l in (SHARED / "ir" / "cranfield" / "queries.jsonl").open()][:40]
    chinese = [json.loads(l)["text"] for l in (SHARED / "ir" / "cmrc2018" / "queries.jsonl").open(encoding="utf-8")][:20]
    return english + chinese


def exhaustive_scores(conn, query: str, ids: list[int]) -> dict[int, float]:
    """BM25 over every query term (higher is better) of the chunks ``ids``."""
    import sqlalchemy as sa

    from knowledge import lexical

    terms = lexical.query_terms(query)
    if not ids or not terms:
        return {}
    statement = sa.text("SELECT rowid, -bm25(chunk_fts) FROM chunk_fts WHERE chunk_fts MATCH :q "
                        "AND rowid IN :ids").bindparams(sa.bindparam("ids", expanding=True))
    q = " OR ".join(f'"{t}"' for t in terms)
    return {int(r[0]): float(r[1]) for r in conn.execute(statement, {"q": q, "ids": ids})}


def lexical_agreement(kb, query: str) -> float | None:
    """Share of the pruned top 10 scoring at least the exhaustive 10th (None: no lexical hits)."""
    from knowledge import lexical

    with kb.engine.connect() as conn:
        full = lexical.search(conn, query, 10, prune_budget=0)
        pruned = lexical.search(conn, query, 10, prune_budget=kb.settings.lexical_prune_budget)
        if not full:
            return None
        if conn.dialect.name != "sqlite":
            return len({i for i, _ in full} & {i for i, _ in pruned}) / len(full)
        floor = full[-1][1]
        scores = exhaustive_scores(conn, query, [i for i, _ in pruned])
    return sum(scores.get(i, -1e9) >= floor - 1e-6 for i, _ in pruned) / len(full)


def measure(kb, qs, stored: np.ndarray, repeats: int = 2):
    from knowledge import lexical

    totals, embeds, faiss_ms, lexical_ms, exhaustive_ms = [], [], [], [], []
    recalls, agreements = [], []
    index = kb.index()
    for q in qs * repeats:
        t0 = time.perf_counter()
        kb.search(q, k=10)
        totals.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        vector = kb.embedder.encode_query(q)
        t1 = time.perf_counter()
        found = index.search(vector, 50)
        t2 = time.perf_counter()
        with kb.engine.connect() as conn:
            lexical.search(conn, q, 50, prune_budget=kb.settings.lexical_prune_budget)
            t3 = time.perf_counter()
            lexical.search(conn, q, 50, prune_budget=0)
            t4 = time.perf_counter()
        embeds.append((t1 - t0) * 1000)
        faiss_ms.append((t2 - t1) * 1000)
        lexical_ms.append((t3 - t2) * 1000)
        exhaustive_ms.append((t4 - t3) * 1000)
        if len(recalls) < len(qs):
            exact = set(np.argpartition(-(stored[1] @ vector), 10)[:10].tolist())
            exact_ids = {int(stored[0][i]) for i in exact}
            recalls.append(len(exact_ids & {i for i, _ in found[:10]}) / 10)
            agreement = lexical_agreement(kb, q)
            if agreement is not None:
                agreements.append(agreement)
    rows = {name: (percentile(v, 0.5), percentile(v, 0.95)) for name, v in
            [("end-to-end", totals), ("query embedding", embeds), ("vector index", faiss_ms),
             ("lexical", lexical_ms), ("lexical, all terms", exhaustive_ms)]}
    return rows, float(np.mean(recalls)), float(np.mean(agreements)) if agreements else float("nan")


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="largest size to measure")
    parser.add_argument("--index-type", default="auto", choices=["auto", "flat", "ivf", "hnsw"])
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    parser.add_argument("--nprobe", type=int, default=0, help="IVF groups per query (0: the default)")
    parser.add_argument("--engine", default="auto", choices=["auto", "torch"],
                        help="embedding engine (INKSTONE_EMBEDDING_ENGINE): auto = ONNX Runtime where exact")
    parser.add_argument("--keep", type=Path, default=None,
                        help="build the library in this folder and keep it; a later run with the same "
                             "folder measures it again without rebuilding (e.g. another --index-type)")
    args = parser.parse_args(argv)

    import sqlalchemy as sa

    from knowledge import KnowledgeBase, KnowledgeSettings
    from knowledge.schema import Chunk

    sizes = sorted({min(s, args.chunks) for s in (10_000, 100_000, 1_000_000)} | {args.chunks})
    rng = np.random.default_rng(0)
    qs = queries()
    with (contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory()) as tmp:
        extra = {"index_nprobe": args.nprobe} if args.nprobe else {}
        settings = KnowledgeSettings(data_dir=Path(tmp), index_type=args.index_type,
                                     embedding_engine=args.engine, database_url=args.database_url, **extra)
        kb = KnowledgeBase.open(settings)
        kb.search("warm up the model", k=1)
        books = list(book_documents(kb.settings))
        bases = base_vectors(kb, books)
        print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
        print(f"embedder  {kb.embedder.model_id} in {kb.embedder.runs_in}")
        print(f"index     {args.index_type} (threshold {settings.index_threshold}, nprobe "
              f"{settings.index_nprobe}), database {kb.engine.dialect.name}, {len(qs)} queries x 2")
        stored: list[np.ndarray] = []
        kept = kb.stats()["chunks"]
        if kept:  # a kept library: its vectors, for the exact comparison, come back from SQL
            with kb.engine.connect() as conn:
                rows = conn.execute(sa.select(Chunk.embedding).order_by(Chunk.id)).scalars()
                stored = [np.frombuffer(b"".join(rows), dtype=np.float32).reshape(kept, -1)]
            sizes = [s for s in sizes if s >= kept] or [kept]
        for size in sizes:
            started = time.perf_counter()
            total = grow(kb, size, books, bases, rng, stored)
            build = time.perf_counter() - started
            with kb.engine.connect() as conn:
                ids = np.fromiter(conn.execute(sa.select(Chunk.id).order_by(Chunk.id)).scalars(), dtype=np.int64)
            stored = [np.concatenate(stored)]
            figures, recall, agreement = measure(kb, qs, (ids, stored[0]))
            index = kb.index()
            size_mb = index.memory_bytes() / 2**20
            print(f"\n{total} chunks (built in {build:.0f} s; index {index.structure}, "
                  f"{size_mb:.0f} MB = {size_mb * 1e6 / total / 1024:.2f} GB per million chunks; "
                  f"peak RSS {peak_rss_mb():.0f} MB)")
            for name, (p50, p95) in figures.items():
                print(f"  {name:<18} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
            print(f"  dense recall@10 vs exact      {recall:.3f}")
            print(f"  lexical agreement@10 vs all   {agreement:.3f}")
        kb.close()


if __name__ == "__main__":
    main()
