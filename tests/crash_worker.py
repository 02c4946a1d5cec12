"""A studio process for tests/test_crash_safety.py to kill with SIGKILL.

    python tests/crash_worker.py ingest DATA_DIR DATABASE_URL FILE...
    python tests/crash_worker.py write DATA_DIR DATABASE_URL

Prints "ready" once loaded, then one line per result the moment the studio reports it
("added NAME", "duplicate NAME", "recorded ID"): what a writer would have been told.
"""

import sys
from pathlib import Path


def main(command: str, data_dir: str, url: str, *rest: str) -> None:
    from knowledge import KnowledgeBase, KnowledgeSettings

    kb = KnowledgeBase.open(KnowledgeSettings(data_dir=Path(data_dir), database_url=url,
                                              parse_timeout_s=60))
    kb.embedder.encode(["warm up"])
    if command == "ingest":
        print("ready", flush=True)
        for path in rest:
            outcome = kb.add_files([path], "default")[0]
            print(outcome.status, outcome.name, flush=True)
    elif command == "write":
        from studio.history import History
        from studio.ops import Ops
        from studio.pipeline import DraftReady, Studio
        from studio.text_generation import GenerationSettings, LlamaCppGenerator
        from studio.understanding import WriteRequest

        # the default model as the studio runs it on a CPU: no torch to import, so the process
        # is ready in seconds and each round's kill lands while drafts are being recorded
        generator = LlamaCppGenerator("")
        studio = Studio(kb, generator, History(kb.engine), Ops())
        print("ready", flush=True)
        for n in range(10_000):
            events = studio.write(WriteRequest(prompt=f"Write note {n} about herons"),
                                  GenerationSettings(max_new_tokens=16, seed=n))
            for event in events:
                if isinstance(event, DraftReady):
                    print("recorded", event.draft.generation_id, flush=True)
    print("finished", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
