"""Image generation overhead: model load time and seconds per image.

    python -m bench.images --model PATH [--size 512] [--steps 4] [--images 3]
    python -m bench.images --tiny            # the tiny test pipeline, built from config

On a CPU-only machine only the tiny pipeline is practical; its figures measure Inkstone's
plumbing (loading, callbacks, PNG + provenance, history), not a real model's speed.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="diffusers folder or cached hub id")
    parser.add_argument("--tiny", action="store_true", help="build and use the tiny test pipeline")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--guidance", type=float, default=0.0)
    parser.add_argument("--images", type=int, default=3)
    args = parser.parse_args(argv)
    if not args.model and not args.tiny:
        parser.error("give --model PATH or --tiny")

    import torch

    from knowledge import KnowledgeBase, KnowledgeSettings
    from studio.history import History
    from studio.image_generation import ImageGenerator, ImageSettings
    from studio.ops import Ops
    from studio.pipeline import ImagesReady, Studio
    from studio.text_generation import TransformersGenerator

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if args.tiny:
            from tests.conftest import tiny_image_model

            class Folders:
                def mktemp(self, name):
                    return Path(tempfile.mkdtemp(dir=tmp))

            model = tiny_image_model.__wrapped__(Folders())
        device = "cuda" if torch.cuda.is_available() else "cpu"
        print(f"machine   {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, {device}")
        generator = ImageGenerator(model)
        started = time.perf_counter()
        generator.schedulers()  # loads the pipeline
        print(f"model     {'tiny test pipeline' if args.tiny else model}")
        print(f"load      {time.perf_counter() - started:.2f} s")
        kb = KnowledgeBase.open(KnowledgeSettings(data_dir=Path(tmp) / "data"))
        studio = Studio(kb, TransformersGenerator("", cache_dir=Path(tmp) / "models"),
                        History(kb.engine), Ops(), images=generator, images_dir=Path(tmp) / "images")
        settings = ImageSettings("a lighthouse on a cliff at dawn, watercolor", width=args.size,
                                 height=args.size, num_inference_steps=args.steps,
                                 guidance_scale=args.guidance, seed=0)
        list(studio.illustrate(settings))  # warm up
        times = []
        for i in range(args.images):
            started = time.perf_counter()
            events = list(studio.illustrate(settings.__class__(**{**settings.as_dict(), "seed": i + 1})))
            assert isinstance(events[-1], ImagesReady)
            times.append(time.perf_counter() - started)
        print(f"image     {args.size}x{args.size}, {args.steps} steps: "
              f"{sum(times) / len(times):.3f} s per image (mean of {len(times)}, PNG + history included)")
        kb.close()


if __name__ == "__main__":
    main()
