"""The studio at a glance: what the System tab says first, before the details.

``overview(studio)`` gathers the few facts a writer or an administrator asks first: which
models there are and whether they are loaded, how much material the knowledge base holds,
drafts today, the typical time a draft takes, and errors in the last hour.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timezone

# Drafts whose timings give "typical time per draft": the most recent ones.
RECENT_DRAFTS = 50


@dataclass(frozen=True)
class ModelState:
    role: str  # "text" | "embedding" | "image"
    id: str  # "" when none is configured
    loaded: bool


@dataclass(frozen=True)
class Overview:
    models: tuple[ModelState, ...]
    documents: int
    chunks: int
    drafts_today: int
    typical_draft_s: float | None  # median over recent finished drafts; None before the first
    errors_last_hour: int | None  # studio-wide, so only for an admin's view


def overview(studio) -> Overview:
    """The facts above for ``studio`` (a :class:`studio.pipeline.Studio`)."""
    text, image = studio.generator.info(), studio.images.info()
    models = (ModelState("text", text["id"], bool(text.get("loaded"))),
              ModelState("embedding", studio.kb.embedder.model_id, bool(studio.kb.embedder.loaded)),
              ModelState("image", image["id"] if studio.images.configured else "", bool(image.get("loaded"))))
    stats = studio.kb.stats()
    midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    recent = [r for r in studio.history.list(kind="text", limit=RECENT_DRAFTS) if r.status == "done"]
    seconds = [sum(r.timings.values()) for r in recent if r.timings]
    return Overview(models=models, documents=stats["documents"], chunks=stats["chunks"],
                    drafts_today=studio.history.count(kind="text", since=midnight),
                    typical_draft_s=round(statistics.median(seconds), 1) if seconds else None,
                    errors_last_hour=studio.ops.errors_since(3600) if studio.admin else None)
