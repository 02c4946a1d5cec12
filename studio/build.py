"""Assemble a :class:`~studio.pipeline.Studio` from settings (used by app.py, benches, tests)."""

from __future__ import annotations

from knowledge import KnowledgeBase
from studio.history import History
from studio.image_generation import ImageGenerator
from studio.ops import Ops
from studio.pipeline import Studio
from studio.settings import Settings
from studio.text_generation import OpenAICompatibleGenerator, TextGenerator, TransformersGenerator


def text_generator(settings: Settings) -> TextGenerator:
    """The configured text generator; nothing is loaded until the first generation."""
    if settings.text_api_url:
        return OpenAICompatibleGenerator(settings.text_api_url, settings.text_model,
                                         api_key=settings.text_api_key)
    return TransformersGenerator(settings.text_model,
                                 cache_dir=settings.knowledge.data_dir / "models")


def build_studio(settings: Settings, *, kb: KnowledgeBase | None = None,
                 generator: TextGenerator | None = None) -> Studio:
    kb = kb or KnowledgeBase.open(settings.knowledge)
    images = ImageGenerator(settings.image_model, memory=settings.image_memory)
    return Studio(kb, generator or text_generator(settings), History(kb.engine), Ops(settings.limits),
                  images=images, images_dir=settings.knowledge.data_dir / "images",
                  image_limits=settings.image_limits)
