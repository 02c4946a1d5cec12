"""Ingestion throughput against raw embedding throughput on the same chunks.

    python -m bench.ingestion --path ../shared/data/books/en/war-and-peace.txt [--max-chars N]
    python -m bench.ingestion --path ../shared/data/ir/cranfield --beir [--max-files N]
    python -m bench.ingestion --path ../shared/data/books/en/war-and-peace.txt --pdf-pages 619

``--pdf-pages N`` first sets the text as an N-page PDF (fpdf2, Helvetica 10 pt on A4, made in
the temporary folder at bench time, never stored) and ingests that: a long book as a writer
would upload it, for the "619-page PDF" goal of issue 16. Add ``--quantize`` to embed with the
int8 model, ``--engine torch`` to embed in torch instead of ONNX Runtime.

Adds the input through ``KnowledgeBase.add_files`` (read, chunk, embed, write SQL + FTS,
update FAISS), then calls the embedder's ``encode()`` alone on exactly the texts that were
embedded. The ratio says how much of ingestion is the model (1.0 = nothing else costs).

It also prints the arithmetic ceiling for those chunks: the packaged model's FLOPs per chunk
(its own tokenizer and config: projections, feed-forward, attention scores) against the peak
fp32 rate of the cores (AVX2 + FMA: 2 FMA units x 8 lanes x 2 FLOP a cycle, the clock from
/proc/cpuinfo). No engine embeds faster than that at equal, fp32 vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def book_pdf(text: str, pages: int, path: Path) -> Path:
    """Set ``text`` as a PDF of at most ``pages`` A4 pages at ``path``: Courier 10 pt, 88
    characters and 64 lines a page, paragraphs apart (fpdf2's ``text()``; its ``multi_cell``
    took five minutes for 619 pages here)."""
    import textwrap

    from fpdf import FPDF

    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        paragraph = " ".join(paragraph.split()).encode("latin-1", "replace").decode("latin-1")
        if paragraph:
            lines.extend(textwrap.wrap(paragraph, 88) + [""])
        if len(lines) >= pages * 64:
            break
    pdf = FPDF(format="A4")
    pdf.set_font("Courier", size=10)
    for start in range(0, min(len(lines), pages * 64), 64):
        pdf.add_page()
        for row, line in enumerate(lines[start : start + 64]):
            if line:
                pdf.text(15, 18 + row * 4.2, line)
    pdf.output(str(path))
    return path


def arithmetic_ceiling(texts: list[str]) -> tuple[float, float, float, float]:
    """(mean tokens, GFLOP a chunk, peak GFLOP/s, chunks/s at peak) for the packaged model."""
    import psutil

    from knowledge.embedding import packaged_model_path
    from knowledge.onnx_model import tokenizer

    folder = packaged_model_path()
    config = json.loads((folder / "config.json").read_text())
    lengths = [len(e.ids) for e in tokenizer(folder).encode_batch(texts)]
    h, f, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    flops = sum(layers * (2 * n * (4 * h * h + 2 * h * f) + 4 * n * n * h) for n in lengths) / len(lengths)
    mhz = max(float(line.split(":")[1]) for line in open("/proc/cpuinfo") if line.startswith("cpu MHz"))
    peak = (psutil.cpu_count(logical=False) or 1) * 2 * 8 * 2 * mhz * 1e6
    return sum(lengths) / len(lengths), flops / 1e9, peak / 1e9, peak / flops


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", required=True, type=Path)
    parser.add_argument("--beir", action="store_true", help="path is a BEIR folder: one file per record")
    parser.add_argument("--max-files", type=int, default=0)
    parser.add_argument("--max-chars", type=int, default=0, help="cut a single file to this size")
    parser.add_argument("--pdf-pages", type=int, default=0,
                        help="set a text file as a PDF of this many pages first (0: as it is)")
    parser.add_argument("--quantize", action="store_true",
                        help="embed with the int8 model (INKSTONE_EMBEDDING_QUANTIZE)")
    parser.add_argument("--engine", default="auto", choices=["auto", "torch"],
                        help="embedding engine (INKSTONE_EMBEDDING_ENGINE): auto = ONNX Runtime where exact")
    args = parser.parse_args(argv)

    import sqlalchemy as sa

    from knowledge import KnowledgeBase, KnowledgeSettings
    from knowledge.ingestion import embedding_text
    from knowledge.schema import Chunk, Document

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in"
        source.mkdir()
        if args.beir:
            records = [json.loads(l) for l in (args.path / "corpus.jsonl").open(encoding="utf-8")]
            if args.max_files:
                records = records[: args.max_files]
            files = []
            for r in records:
                path = source / f"{r['_id']}.md"
                path.write_text(f"# {r.get('title', '')}\n\n{r['text']}\n", encoding="utf-8")
                files.append(path)
        else:
            data = args.path.read_bytes()
            if args.max_chars:
                data = data.decode("utf-8", errors="ignore")[: args.max_chars].encode("utf-8")
            files = [source / args.path.name]
            files[0].write_bytes(data)
            if args.pdf_pages:
                files = [book_pdf(data.decode("utf-8", errors="ignore"), args.pdf_pages,
                                  source / (args.path.stem + ".pdf"))]
                print(f"pdf       {files[0].name}: {args.pdf_pages} pages, "
                      f"{files[0].stat().st_size / 2**20:.1f} MB")

        kb = KnowledgeBase.open(KnowledgeSettings(data_dir=Path(tmp) / "data",
                                                  embedding_quantize=args.quantize,
                                                  embedding_engine=args.engine))
        kb.embedder.encode(["warm up"])
        print(f"engine    {kb.embedder.runs_in}")
        started = time.perf_counter()
        outcomes = kb.add_files(files)
        ingest_s = time.perf_counter() - started
        chunks = sum(o.chunks for o in outcomes)

        with kb.engine.connect() as conn:
            rows = conn.execute(sa.select(Document.title, Chunk.headings, Chunk.text)
                                .join(Document, Document.id == Chunk.document_id)).all()
        texts = [embedding_text(t or "", tuple(h.split(" > ")) if h else (), x) for t, h, x in rows]
        started = time.perf_counter()
        kb.embedder.encode(texts)
        encode_s = time.perf_counter() - started

        print(f"input     {args.path} ({len(files)} files)")
        print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
              f"batch {kb.embedder.batch_size}")
        print(f"ingest    {chunks} chunks in {ingest_s:.1f} s = {chunks / ingest_s:.1f} chunks/s")
        print(f"encode()  {len(texts)} texts in {encode_s:.1f} s = {len(texts) / encode_s:.1f} chunks/s")
        print(f"ratio     {(chunks / ingest_s) / (len(texts) / encode_s):.2f} (ingestion / raw encode)")
        tokens, gflop, peak, ceiling = arithmetic_ceiling(texts)
        print(f"ceiling   {tokens:.0f} tokens a chunk = {gflop:.2f} GFLOP; fp32 peak {peak:.0f} GFLOP/s "
              f"-> at most {ceiling:.0f} chunks/s at equal vectors")
        kb.close()


if __name__ == "__main__":
    main()
