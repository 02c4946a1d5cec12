"""How grounded the studio's drafts are, per writing strategy, on any BEIR-format folder.

    python -m bench.grounding --dataset ../shared/data/ir/cranfield [--strategy all] [--queries 20]

Adds the corpus to a temporary knowledge base through the real ingestion path (as
``bench.retrieval`` does), then for N judged queries asks the studio, with the configured text
model (the embedded SmolLM2 by default), for a short piece built from the query, and prints per
strategy: gold passage retrieved, gold passage cited (of drafts where one was retrieved),
citation precision (cited passages whose document is judged relevant), sentence support rate,
hard facts in no source per draft, share of content words in no source, prompt-echo and
wrong-language drafts, share of sentences copied verbatim, words and seconds per draft, and
how many drafts met the goals of issue 12. ``--show N`` prints the first N drafts in full.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def request_text(query: str) -> str:
    from textkit.scripts import cjk_ratio

    if cjk_ratio(query) > 0.3:
        return f"写一篇简短的文章，介绍：{query}"
    return f"Write a short article about: {query}"


def draft_figures(draft, judged: dict[str, int], name_to_id: dict[str, str], seconds: float) -> dict:
    from textkit.scripts import CJK_CHAR
    from studio.grounding import SUPPORTED, content_terms, normalise

    report = draft.report
    relevant = {name_to_id[p.document_name] for p in draft.passages} & {d for d, g in judged.items() if g > 0}
    cited_docs = [name_to_id[draft.passages[n - 1].document_name] for n in draft.cited]
    claims = report.claims
    sources = " ".join(normalise(p.text).lower() for p in draft.passages)
    source_terms = set(content_terms(sources))
    terms = [t for f in claims for t in content_terms(f.text)]
    squeezed = re.sub(r"\W+", "", sources)
    verbatim = [f for f in claims if re.sub(r"\W+", "", normalise(f.text).lower()) in squeezed]
    words = len(CJK_CHAR.findall(draft.text)) if draft.brief.language == "zh" else len(draft.text.split())
    return {
        "gold_retrieved": bool(relevant),
        "gold_cited": any(d in relevant for d in cited_docs) if relevant else None,
        "precision": (sum(judged.get(d, 0) > 0 for d in cited_docs) / len(cited_docs)) if cited_docs else None,
        "sentences": len(claims),
        "supported": sum(f.status == SUPPORTED for f in claims),
        "facts_in_no_source": len(report.facts_in_no_source),
        "unflagged_facts": sum(1 for f in claims for m in f.missing if f.status == SUPPORTED),
        "terms": len(terms), "terms_in_no_source": sum(t not in source_terms for t in terms),
        "echo": "echo" in draft.flags, "wrong_language": "wrong_language" in draft.flags,
        "ungrounded": "ungrounded" in draft.flags,
        "verbatim": len(verbatim), "words": words, "seconds": seconds,
    }


def report_line(label: str, rows: list[dict]) -> list[str]:
    def mean(values):
        values = [v for v in values if v is not None]
        return sum(values) / len(values) if values else float("nan")

    n = len(rows)
    sentences = sum(r["sentences"] for r in rows)
    retrieved = [r for r in rows if r["gold_retrieved"]]
    seconds = sorted(r["seconds"] for r in rows)
    return [
        f"strategy {label}: {n} drafts",
        f"  gold passage retrieved        {sum(r['gold_retrieved'] for r in rows) / n:.2f}",
        f"  gold passage cited            {mean([r['gold_cited'] for r in retrieved]):.2f}  (of {len(retrieved)} drafts where one was retrieved)",
        f"  citation precision            {mean([r['precision'] for r in rows]):.2f}",
        f"  sentences supported           {sum(r['supported'] for r in rows) / max(1, sentences):.2f}  ({sum(r['supported'] for r in rows)} of {sentences})",
        f"  hard facts in no source/draft {mean([r['facts_in_no_source'] for r in rows]):.2f}  (left unflagged: {sum(r['unflagged_facts'] for r in rows)})",
        f"  content words in no source    {sum(r['terms_in_no_source'] for r in rows) / max(1, sum(r['terms'] for r in rows)):.3f}",
        f"  prompt-echo drafts            {sum(r['echo'] for r in rows)}",
        f"  wrong-language drafts         {sum(r['wrong_language'] for r in rows)}",
        f"  drafts resting on no source   {sum(r['ungrounded'] for r in rows)}",
        f"  sentences copied verbatim     {sum(r['verbatim'] for r in rows) / max(1, sentences):.2f}",
        f"  words per draft               {mean([r['words'] for r in rows]):.0f}",
        f"  seconds per draft             mean {mean(seconds):.1f}, p50 {seconds[len(seconds) // 2]:.1f}, max {seconds[-1]:.1f}",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True, type=Path)
    parser.add_argument("--strategy", default="all", choices=["single", "source-first", "all"])
    parser.add_argument("--queries", type=int, default=20, help="judged queries, drawn with --seed")
    parser.add_argument("--seed", type=int, default=7, help="which queries, and the drafts' seeds")
    parser.add_argument("--show", type=int, default=0, help="print this many drafts in full")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the ingested corpus here and reuse it on the next run (default: a temporary folder)")
    args = parser.parse_args(argv)

    from bench.retrieval import file_name, load_beir
    from knowledge import KnowledgeBase, KnowledgeSettings
    from studio.build import text_generator
    from studio.history import History
    from studio.ops import Ops
    from studio.pipeline import DraftReady, Studio
    from studio.settings import Settings
    from studio.text_generation import GenerationSettings
    from studio.understanding import WriteRequest

    corpus, queries, qrels = load_beir(args.dataset)
    judged = sorted(q for q in queries if q in qrels and queries[q].strip())
    chosen = random.Random(args.seed).sample(judged, min(args.queries, len(judged)))
    strategies = ["source-first", "single"] if args.strategy == "all" else [args.strategy]

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data_dir or Path(tmp) / "data"
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        paths = []
        for record in corpus:
            title, text = (record.get("title") or "").strip(), (record.get("text") or "").strip()
            path = folder / file_name(record["_id"])
            path.write_text(f"# {title}\n\n{text}\n" if title else text + "\n", encoding="utf-8")
            paths.append(path)
        name_to_id = {file_name(r["_id"]): r["_id"] for r in corpus}
        settings = Settings.from_env(knowledge=KnowledgeSettings(data_dir=data))
        kb = KnowledgeBase.open(settings.knowledge)
        started = time.perf_counter()
        if not kb.stats()["documents"]:
            kb.add_files(paths)
        print(f"dataset   {args.dataset}  ({len(corpus)} documents; {len(chosen)} of {len(judged)} judged "
              f"queries, seed {args.seed}; ingested in {time.perf_counter() - started:.0f} s)")
        generator = text_generator(settings)
        studio = Studio(kb, generator, History(kb.engine), Ops(settings.limits))
        print(f"model     {generator.model_id} on {generator.backend}")
        print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
        shown = 0
        for strategy in strategies:
            rows = []
            for i, query_id in enumerate(chosen):
                request = WriteRequest(request_text(queries[query_id]), length="short", strategy=strategy)
                began = time.perf_counter()
                events = list(studio.write(request, GenerationSettings(max_new_tokens=300, seed=args.seed + i)))
                draft = next(e.draft for e in events if isinstance(e, DraftReady))
                rows.append(draft_figures(draft, qrels[query_id], name_to_id, time.perf_counter() - began))
                if shown < args.show:
                    shown += 1
                    print(f"\n--- {strategy} · query {query_id}: {queries[query_id]}\n{draft.text}\n"
                          f"[{draft.summary}; flags: {', '.join(draft.flags) or 'none'}]\n")
            print("\n".join(report_line(strategy, rows)))
        kb.close()


if __name__ == "__main__":
    main()
