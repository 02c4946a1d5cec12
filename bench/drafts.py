"""Write drafts from real documents with the configured models and print them in full.

    python -m bench.drafts --add ../shared/data/docs/html/google-sre-book_source.html \\
        --write "Write a 200-word blog post on the four golden signals of monitoring"

Adds the files to a knowledge base in ``--data-dir`` (a temporary folder by default; an
existing one is reused as it is), then writes each request with ``--seed`` and prints the
draft, its check summary and flags, the time per stage, and the model's short edits with why
each was kept or refused. docs/EXAMPLES.md was made with it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="append", required=True, dest="requests",
                        help="what to write (repeat for more drafts)")
    parser.add_argument("--add", nargs="*", type=Path, default=[], help="documents to add first")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--strategy", default="", choices=["", "source-first", "single"])
    args = parser.parse_args(argv)

    from knowledge import KnowledgeSettings
    from studio.build import build_studio
    from studio.pipeline import DraftReady
    from studio.settings import Settings
    from studio.text_generation import GenerationSettings
    from studio.understanding import WriteRequest

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(knowledge=KnowledgeSettings(data_dir=args.data_dir or Path(tmp)))
        studio = build_studio(settings)
        if args.add:
            for outcome in studio.kb.add_files(args.add):
                print(f"added {outcome.name}: {outcome.status}, {outcome.chunks} chunks")
        for request in args.requests:
            began = time.perf_counter()
            events = list(studio.write(WriteRequest(request, strategy=args.strategy),
                                       GenerationSettings(max_new_tokens=300, seed=args.seed)))
            draft = next(e.draft for e in events if isinstance(e, DraftReady))
            print(f"===== {request} · {time.perf_counter() - began:.1f} s · {draft.summary} · "
                  f"flags: {', '.join(draft.flags) or 'none'} · stages: {draft.timings}")
            print(draft.text)
            for edit in (studio.history.get(draft.generation_id).checks or {}).get("edits", []):
                verdict = "kept" if edit["accepted"] else f"refused ({edit['reason']})"
                print(f"  edit {edit['task']}: {verdict} | {' '.join(edit['output'].split())[:150]}")
        studio.kb.close()


if __name__ == "__main__":
    main()
