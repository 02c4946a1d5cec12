"""End-to-end search latency at 10k and 100k chunks.

    python -m bench.search_latency --chunks 100000

Builds a knowledge base of real book text (War and Peace and 红楼梦 from ../shared/data/books,
chunked by the real chunker, repeated as further documents until the chunk count is reached),
stored through the real write path (SQL rows, FTS rows, FAISS). Stored vectors are random unit
vectors instead of model embeddings, since embedding 100k chunks on a 2-core machine takes an
hour and FAISS costs the same for any vectors. Queries are real (Cranfield questions and
Chinese questions) and go through ``KnowledgeBase.search``: query embedding with the real
model, FAISS, lexical search, fusion, and fetching the passages from SQL.
"""

from __future__ import annotations

import argparse
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


def grow(kb, target: int, rng) -> int:
    """Add copies of the books (as new documents) until the knowledge base has ``target`` chunks."""
    from dataclasses import replace

    from knowledge.ingestion import embedding_text

    with kb._write() as conn, conn.begin():
        collection_id = kb._collection_id(conn, "bench", create=True)
    books = list(book_documents(kb.settings))
    total = kb.stats()["chunks"]
    copy = total // sum(len(b.chunks) for b in books) * len(books)
    while total < target:
        book = books[copy % len(books)]
        chunks = book.chunks[: target - total]
        name = f"copy-{copy}-{book.file.name}"
        prepared = replace(book, file=replace(book.file, name=name, sha256=f"{copy}"), chunks=chunks)
        texts = [embedding_text(book.parsed.title, c.headings, c.text) for c in chunks]
        vectors = rng.standard_normal((len(chunks), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        kb._write_document(collection_id, prepared, texts, vectors)
        total += len(chunks)
        copy += 1
    kb.index()  # the refresh adds the new vectors from SQL and saves the index
    return total


def queries() -> list[str]:
    english = [json.loads(l)["text"] for l in (SHARED / "ir" / "cranfield" / "queries.jsonl").open()][:40]
    chinese = [json.loads(l)["text"] for l in (SHARED / "ir" / "cmrc2018" / "queries.jsonl").open(encoding="utf-8")][:20]
    return english + chinese


def measure(kb, qs, repeats: int = 2):
    from knowledge import lexical

    totals, embeds, faiss_ms, lexical_ms = [], [], [], []
    for q in qs * repeats:
        t0 = time.perf_counter()
        kb.search(q, k=10)
        totals.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        vector = kb.embedder.encode_query(q)
        t1 = time.perf_counter()
        kb.index().search(vector, 50)
        t2 = time.perf_counter()
        with kb.engine.connect() as conn:
            lexical.search(conn, q, 50)
        t3 = time.perf_counter()
        embeds.append((t1 - t0) * 1000)
        faiss_ms.append((t2 - t1) * 1000)
        lexical_ms.append((t3 - t2) * 1000)
    return {name: (percentile(v, 0.5), percentile(v, 0.95)) for name, v in
            [("end-to-end", totals), ("query embedding", embeds), ("FAISS", faiss_ms),
             ("lexical", lexical_ms)]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="largest size to measure")
    parser.add_argument("--index-type", default="flat", choices=["flat", "hnsw"])
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    args = parser.parse_args(argv)

    from knowledge import KnowledgeBase, KnowledgeSettings

    sizes = sorted({min(10_000, args.chunks), args.chunks})
    rng = np.random.default_rng(0)
    qs = queries()
    with tempfile.TemporaryDirectory() as tmp:
        settings = KnowledgeSettings(data_dir=Path(tmp), index_type=args.index_type,
                                     database_url=args.database_url)
        kb = KnowledgeBase.open(settings)
        kb.search("warm up the model", k=1)
        print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
        print(f"index     {args.index_type}, database {kb.engine.dialect.name}, {len(qs)} queries x 2")
        for size in sizes:
            started = time.perf_counter()
            total = grow(kb, size, rng)
            build = time.perf_counter() - started
            figures = measure(kb, qs)
            print(f"\n{total} chunks (built in {build:.0f} s)")
            for name, (p50, p95) in figures.items():
                print(f"  {name:<16} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
        kb.close()


if __name__ == "__main__":
    main()
