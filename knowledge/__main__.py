"""Command line for the knowledge base.

    python -m knowledge add PATH... [--collection NAME]
    python -m knowledge search "QUERY" [-k N] [--mode hybrid|dense|lexical] [--collection NAME]
    python -m knowledge list [--collection NAME]
    python -m knowledge remove DOC_ID
    python -m knowledge reindex [--reembed]

Settings come from ``INKSTONE_*`` variables (``INKSTONE_DATA_DIR``, ``INKSTONE_DATABASE_URL``,
...). ``add`` exits 0 only when every file went in (duplicates count as in).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from knowledge.base import DEFAULT_COLLECTION, SEARCH_MODES, KnowledgeBase
from knowledge.errors import UserError
from knowledge.readers import FILE_TYPES
from knowledge.settings import KnowledgeSettings


def _expand(paths: list[str]) -> list[Path]:
    """Files named, and the supported files inside folders named (recursively, sorted)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in FILE_TYPES))
        else:
            files.append(path)
    return files


def _progress_printer(stream):
    def show(progress) -> None:
        if stream.isatty():
            stream.write(f"\r{progress.files_read}/{progress.files_total} files read, "
                         f"{progress.chunks_embedded}/{progress.chunks_total} chunks embedded \x1b[K")
            stream.flush()
    return show


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="data folder (default: $INKSTONE_DATA_DIR or ./data)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add files or folders")
    add.add_argument("paths", nargs="+")
    add.add_argument("--collection", default=DEFAULT_COLLECTION)
    search = commands.add_parser("search", help="show the passages a query retrieves")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--mode", choices=SEARCH_MODES, default="hybrid")
    search.add_argument("--collection", action="append")
    listing = commands.add_parser("list", help="list documents")
    listing.add_argument("--collection")
    remove = commands.add_parser("remove", help="remove a document by id")
    remove.add_argument("doc_id", type=int)
    reindex = commands.add_parser("reindex", help="rebuild the vector index from SQL")
    reindex.add_argument("--reembed", action="store_true",
                         help="embed every chunk again (after changing the embedding model)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=os.environ.get("INKSTONE_LOG_LEVEL", "WARNING"))
    settings = KnowledgeSettings.from_env(data_dir=Path(args.data_dir) if args.data_dir else None)
    try:
        kb = KnowledgeBase.open(settings, check_model=args.command != "reindex")
        if args.command == "add":
            outcomes = kb.add_files(_expand(args.paths), args.collection,
                                    progress=_progress_printer(sys.stderr))
            if sys.stderr.isatty():
                sys.stderr.write("\n")
            for outcome in outcomes:
                print(outcome.line())
            failed = sum(o.status == "failed" for o in outcomes)
            print(f"{len(outcomes) - failed} of {len(outcomes)} files in, {failed} failed")
            return 1 if failed or not outcomes else 0
        if args.command == "search":
            passages = kb.search(args.query, k=args.k, collections=args.collection, mode=args.mode)
            if not passages:
                print("No passages found.")
            for rank, passage in enumerate(passages, start=1):
                snippet = " ".join(passage.text.split())[:300]
                print(f"[{rank}] {passage.score:.4f}  {passage.location}  "
                      f"(doc {passage.document_id}, chars {passage.char_start}-{passage.char_end})")
                print(f"    {snippet}")
            return 0
        if args.command == "list":
            documents = kb.documents(args.collection)
            if not documents:
                print("No documents yet. Add some with: python -m knowledge add PATH...")
            for d in documents:
                detail = f"{d.chunks} chunks" if d.status == "ready" else f"failed: {d.error}"
                print(f"{d.id:>6}  {d.collection:<12} {d.file_type:<5} {d.name}  ({detail})")
            return 0
        if args.command == "remove":
            kb.remove_document(args.doc_id)
            print(f"removed document {args.doc_id}")
            return 0
        if args.command == "reindex":
            count = kb.reindex(reembed=args.reembed, progress=_progress_printer(sys.stderr))
            print(f"indexed {count} chunks ({settings.index_type}: {kb.index().structure})")
            return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
