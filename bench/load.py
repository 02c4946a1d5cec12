"""Many writers at once: simulated users drive a running studio through gradio_client.

    python -m bench.load --users 25 [--rounds 2] [--new-tokens 48] [--url http://127.0.0.1:7860/]

Without ``--url`` the studio is started here as a separate process (``app.py`` on a free port,
a temporary data folder, the default embedded models), exactly as ``make run`` starts it. Each
user has its own client and, per round, uploads a document (Cranfield abstracts from
``../shared`` when present), searches, and writes a short draft. Every request must end in a
result or a clear message ("queue is full", "busy"); one that has not ended after
``--timeout`` seconds is counted as hung. Prints, per action: requests, results, clear
refusals, errors, hung, and p50/p95/max latency in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CRANFIELD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ir" / "cranfield"
QUERIES = ["heat transfer in hypersonic flow", "boundary layer transition", "buckling of thin shells",
           "supersonic wing lift", "shock wave interaction", "laminar flow over a flat plate"]


def documents(count: int, folder: Path) -> list[Path]:
    """``count`` small Markdown files: Cranfield abstracts, or generated notes without ../shared."""
    texts = []
    if (CRANFIELD / "corpus.jsonl").exists():
        with open(CRANFIELD / "corpus.jsonl", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                texts.append(f"# {record.get('title') or 'Note'}\n\n{record['text']}\n")
                if len(texts) == count:
                    break
    while len(texts) < count:
        texts.append(f"# Note {len(texts)}\n\nShock waves and boundary layers, note {len(texts)}.\n")
    paths = []
    for n, text in enumerate(texts):
        path = folder / f"load-{n:04d}.md"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_studio(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "INKSTONE_DATA_DIR": str(data_dir), "INKSTONE_PORT": str(port),
           "INKSTONE_LOG_LEVEL": "WARNING", "GRADIO_TEMP_DIR": str(data_dir / "gradio")}
    root = Path(__file__).resolve().parents[1]
    log = open(data_dir / "studio.log", "w")
    process = subprocess.Popen([sys.executable, str(root / "app.py")], cwd=root, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the studio exited ({process.returncode}); see {data_dir / 'studio.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the studio did not start within 180 s")


def classify(exc: BaseException) -> str:
    text = str(exc).lower()
    if "queue is full" in text or "busy" in text or "position" in text:
        return "refused"
    return "error"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=2, help="upload + search + write per user")
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a request counts as hung")
    parser.add_argument("--url", help="a running studio (default: start one here)")
    args = parser.parse_args(argv)

    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        process, url = (None, args.url) if args.url else start_studio(tmp)
        files = documents(args.users * args.rounds, tmp)
        results: dict[str, list[tuple[str, float]]] = defaultdict(list)
        lock = threading.Lock()
        errors: list[str] = []

        def timed(action: str, call) -> None:
            began = time.perf_counter()
            try:
                call()
                outcome = "result"
            except TimeoutError:
                outcome = "hung"
            except Exception as exc:  # what a writer would be shown
                outcome = classify(exc)
                if outcome == "error":
                    with lock:
                        errors.append(f"{action}: {str(exc)[:160]}")
            with lock:
                results[action].append((outcome, time.perf_counter() - began))

        def user(n: int) -> None:
            client = Client(url, verbose=False)
            for r in range(args.rounds):
                path = files[n * args.rounds + r]
                timed("upload", lambda: client.submit([handle_file(str(path))], "default",
                                                      api_name="/add_documents").result(args.timeout))
                timed("search", lambda: client.submit(QUERIES[(n + r) % len(QUERIES)], 5, "",
                                                      api_name="/search").result(args.timeout))
                timed("write", lambda: client.submit(
                    f"Write a short note about {QUERIES[(n + r) % len(QUERIES)]}", "", "", "", [],
                    args.new_tokens, 0.7, str(n), api_name="/write").result(args.timeout))

        started = time.perf_counter()
        served: dict = {}
        try:
            with ThreadPoolExecutor(args.users) as pool:
                list(pool.map(user, range(args.users)))
            wall = time.perf_counter() - started
            # the studio's own timing of each action, from handler start to end: no queue wait
            served = Client(url, verbose=False).predict(api_name="/system_status")[0]["ops"]["latency"]
        finally:
            if process is not None:
                process.terminate()
                process.wait(30)

    print(f"load      {args.users} users x {args.rounds} rounds (upload, search, write of "
          f"{args.new_tokens} tokens) against {'a studio started here' if process else url}")
    print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"wall      {wall:.1f} s")
    print(f"{'action':<8} {'requests':>8} {'results':>8} {'refused':>8} {'errors':>7} {'hung':>5} "
          f"{'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for action in ("upload", "search", "write"):
        rows = results[action]
        seconds = sorted(s for _, s in rows)
        count = {k: sum(o == k for o, _ in rows) for k in ("result", "refused", "error", "hung")}
        p = lambda q: seconds[min(len(seconds) - 1, int(round(q * (len(seconds) - 1))))] if seconds else 0
        print(f"{action:<8} {len(rows):>8} {count['result']:>8} {count['refused']:>8} {count['error']:>7} "
              f"{count['hung']:>5} {p(0.5):7.2f} {p(0.95):7.2f} {p(1.0):7.2f}")
    for action, figures in sorted(served.items()):
        print(f"studio    {action}: {figures['count']} served, mean {figures['mean_s']:.2f} s inside "
              f"the studio (the rest of a writer's wait is the queue)")
    print(f"throughput {len(results['write']) / wall * 60:.1f} writes/min, "
          f"{len(results['upload']) / wall * 60:.1f} uploads/min")
    for line in errors[:10]:
        print(f"error     {line}")


if __name__ == "__main__":
    main()
