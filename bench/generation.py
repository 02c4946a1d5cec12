"""Text generation speed of the default model, and where a request's time goes.

    python -m bench.generation [--new-tokens 64]

Prints: model load time cold (GGUF dequantised, then cached as safetensors) and cached; time
to first token and tokens/s at prompt lengths 128/512/1024 (greedy decoding); and the share
of one full ``Studio.write`` request spent in each stage (understand, retrieve, compose,
generate, attribute, record) over a small knowledge base.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FILLER = ("The harbour wakes before dawn, when the fishing boats slip out past the lighthouse "
          "and the gulls follow them towards the open sea. ")


def prompt_of(generator, tokens: int) -> list[dict]:
    """Chat messages whose prompt (template included) is close to ``tokens`` tokens."""
    text = FILLER * (tokens // 10)
    while True:
        messages = [{"role": "user", "content": f"Summarise these notes:\n{text}"}]
        size = generator.prompt_ids(messages).shape[1]
        if size <= tokens:
            return messages
        text = text[: int(len(text) * tokens / size) - 1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--new-tokens", type=int, default=64)
    args = parser.parse_args(argv)

    import torch

    from knowledge import KnowledgeBase, KnowledgeSettings
    from studio.history import History
    from studio.ops import Ops
    from studio.pipeline import DraftReady, Studio
    from studio.text_generation import GenerationSettings, TransformersGenerator
    from studio.understanding import WriteRequest

    print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "models"
        cold = TransformersGenerator("", cache_dir=cache)
        started = time.perf_counter()
        cold.count_tokens("load")
        print(f"load      cold (GGUF -> float32, cache written) {time.perf_counter() - started:6.1f} s")
        generator = TransformersGenerator("", cache_dir=cache)
        started = time.perf_counter()
        generator.count_tokens("load")
        print(f"load      cached (safetensors)                  {time.perf_counter() - started:6.1f} s")
        del cold

        settings = GenerationSettings(max_new_tokens=args.new_tokens, temperature=0.0, seed=0)
        list(generator.stream(prompt_of(generator, 64), GenerationSettings(max_new_tokens=4)))  # warm up
        print(f"{'prompt':>8} {'first token':>12} {'tokens/s':>9} {'new tokens':>11}")
        for size in (128, 512, 1024):
            messages = prompt_of(generator, size)
            actual = generator.prompt_ids(messages).shape[1]
            started = time.perf_counter()
            first = None
            pieces = []
            for piece in generator.stream(messages, settings):
                first = first or time.perf_counter()
                pieces.append(piece)
            done = time.perf_counter()
            produced = generator.count_tokens("".join(pieces))
            rate = (produced - 1) / (done - first) if produced > 1 else 0.0
            print(f"{actual:>8} {1000 * (first - started):>9.0f} ms {rate:>9.1f} {produced:>11}")

        kb = KnowledgeBase.open(KnowledgeSettings(data_dir=Path(tmp) / "data"))
        notes = Path(tmp) / "notes"
        notes.mkdir()
        for i in range(5):
            (notes / f"harbour-{i}.md").write_text(f"# Harbour day {i}\n\n" + FILLER * 6)
        kb.add_files(sorted(notes.iterdir()))
        studio = Studio(kb, generator, History(kb.engine), Ops())
        list(studio.write(WriteRequest("Write a short blog post about the harbour at dawn"),
                          GenerationSettings(max_new_tokens=8, seed=0)))  # warm the embedder
        events = list(studio.write(WriteRequest("Write a short blog post about the harbour at dawn"),
                                   GenerationSettings(max_new_tokens=args.new_tokens, seed=0)))
        timings = next(e for e in events if isinstance(e, DraftReady)).draft.timings
        total = sum(timings.values())
        print(f"request   Studio.write, {args.new_tokens} new tokens: {total:.2f} s")
        for stage, seconds in timings.items():
            print(f"  {stage:<11} {seconds:7.3f} s  {100 * seconds / total:5.1f} %")
        kb.close()


if __name__ == "__main__":
    main()
