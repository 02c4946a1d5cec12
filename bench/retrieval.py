"""Retrieval quality and speed on any BEIR-format folder, through the real ingestion path.

    python -m bench.retrieval --dataset ../shared/data/ir/cranfield [--mode all]

Writes every corpus record to a temporary folder as a Markdown file (title as heading), adds
them with ``KnowledgeBase.add_files`` into a temporary data folder, then runs every judged
query and prints nDCG@10, Recall@10 and MRR@10 per mode (documents ranked by their best
chunk; graded qrels used as linear gains, as BEIR's tooling does), ingestion throughput, and
query latency p50/p95.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import re
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load_beir(folder: Path):
    corpus = [json.loads(line) for line in (folder / "corpus.jsonl").open(encoding="utf-8")]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (folder / "queries.jsonl").open(encoding="utf-8"))}
    qrels: dict[str, dict[str, int]] = {}
    for path in sorted((folder / "qrels").glob("*.tsv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return corpus, queries, qrels


def file_name(doc_id: str) -> str:
    return re.sub(r"[^\w.-]", "_", doc_id) + ".md"


def ndcg_at(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    relevant = {d for d, g in judged.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k]):
        if judged.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True, type=Path)
    parser.add_argument("--mode", default="all", choices=["dense", "lexical", "hybrid", "all"],
                        help="all = dense, lexical, hybrid (relative score fusion) and hybrid-rrf")
    parser.add_argument("--max-queries", type=int, default=0, help="0 = every judged query")
    parser.add_argument("--candidates", type=int, default=50,
                        help="chunks retrieved per query before ranking documents")
    parser.add_argument("--database-url", default="",
                        help="an EMPTY database to use instead of a temporary SQLite file "
                             "(e.g. postgresql+psycopg://postgres@127.0.0.1:54329/inkstone_bench)")
    parser.add_argument("--quantize", action="store_true",
                        help="embed with the int8 model (INKSTONE_EMBEDDING_QUANTIZE)")
    args = parser.parse_args(argv)

    from knowledge import KnowledgeBase, KnowledgeSettings

    corpus, queries, qrels = load_beir(args.dataset)
    # A judged query with no text (the Chinese set has a few) cannot be asked; it is left out
    # and counted, not scored as a miss.
    blank = [q for q in queries if q in qrels and not queries[q].strip()]
    judged = [q for q in queries if q in qrels and queries[q].strip()]
    if args.max_queries:
        judged = judged[: args.max_queries]
    labels = ["dense", "lexical", "hybrid", "hybrid-rrf"] if args.mode == "all" else [args.mode]

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "corpus"
        source.mkdir()
        paths = []
        for record in corpus:
            title, text = (record.get("title") or "").strip(), (record.get("text") or "").strip()
            body = f"# {title}\n\n{text}\n" if title else text + "\n"
            path = source / file_name(record["_id"])
            path.write_text(body, encoding="utf-8")
            paths.append(path)
        name_to_id = {file_name(r["_id"]): r["_id"] for r in corpus}

        kb = KnowledgeBase.open(KnowledgeSettings(data_dir=Path(tmp) / "data",
                                                  database_url=args.database_url or None,
                                                  embedding_quantize=args.quantize))
        kb.embedder.encode(["warm up"])  # model load is not ingestion throughput
        started = time.perf_counter()
        outcomes = kb.add_files(paths)
        elapsed = time.perf_counter() - started
        chunks = sum(o.chunks for o in outcomes)
        failed = [o for o in outcomes if o.status == "failed"]

        print(f"dataset   {args.dataset}  ({len(corpus)} documents, {len(judged)} judged queries"
              f"{f', {len(blank)} blank ones skipped' if blank else ''})")
        print(f"database  {kb.engine.dialect.name}")
        print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
        print(f"ingest    {len(outcomes) - len(failed)} documents, {chunks} chunks in {elapsed:.1f} s "
              f"= {chunks / elapsed:.1f} chunks/s ({len(failed)} failed, "
              f"{sum(o.status == 'duplicate' for o in outcomes)} duplicates)")
        print(f"{'mode':<10} {'nDCG@10':>8} {'R@10':>7} {'MRR@10':>7} {'p50 ms':>8} {'p95 ms':>8}")
        # The same stored knowledge base, searched with reciprocal rank fusion for comparison.
        rrf_kb = KnowledgeBase(kb.engine, kb.embedder, replace(kb.settings, fusion="rrf"))
        for label in labels:
            searcher, mode = (rrf_kb, "hybrid") if label == "hybrid-rrf" else (kb, label)
            ndcgs, recalls, mrrs, latencies = [], [], [], []
            for query_id in judged:
                t0 = time.perf_counter()
                passages = searcher.search(queries[query_id], k=args.candidates, mode=mode)
                latencies.append((time.perf_counter() - t0) * 1000)
                ranked = list(dict.fromkeys(name_to_id[p.document_name] for p in passages))
                ndcgs.append(ndcg_at(ranked, qrels[query_id]))
                recalls.append(recall_at(ranked, qrels[query_id]))
                mrrs.append(mrr_at(ranked, qrels[query_id]))
            n = len(judged)
            print(f"{label:<10} {sum(ndcgs) / n:8.4f} {sum(recalls) / n:7.4f} {sum(mrrs) / n:7.4f} "
                  f"{percentile(latencies, 0.5):8.1f} {percentile(latencies, 0.95):8.1f}")
        kb.close()


if __name__ == "__main__":
    main()
