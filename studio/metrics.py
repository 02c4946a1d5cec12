"""What a Prometheus scrape of the studio reads: :meth:`Ops.prometheus` (requests, latencies,
the queue) plus whether each model is loaded and how much memory the process holds."""

from __future__ import annotations

import resource
from pathlib import Path


def resident_bytes() -> int:
    """The process's resident memory now (Linux ``/proc``), else its peak (``getrusage``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _label(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def metrics_text(studio) -> str:
    """The Prometheus text exposition of ``studio`` (a :class:`studio.pipeline.Studio`)."""
    text, image = studio.generator.info(), studio.images.info()
    models = [("text", text.get("id", ""), bool(text.get("loaded"))),
              ("embedding", studio.kb.embedder.model_id, bool(studio.kb.embedder.loaded))]
    if studio.images.configured:
        models.append(("image", image.get("id", ""), bool(image.get("loaded"))))
    lines = ["# HELP inkstone_model_loaded Whether a model is loaded (1) or waits for its first use (0).",
             "# TYPE inkstone_model_loaded gauge"]
    lines += [f'inkstone_model_loaded{{role="{role}",model="{_label(model)}"}} {int(loaded)}'
              for role, model, loaded in models]
    lines += ["# HELP inkstone_process_resident_memory_bytes Resident memory of the studio's process.",
              "# TYPE inkstone_process_resident_memory_bytes gauge",
              f"inkstone_process_resident_memory_bytes {resident_bytes()}"]
    return studio.ops.prometheus() + "\n".join(lines) + "\n"
