"""Assemble a :class:`~studio.pipeline.Studio` from settings (used by app.py, benches, tests)."""

from __future__ import annotations

import importlib.util
from dataclasses import replace

from knowledge import KnowledgeBase
from studio.accounts import Accounts
from studio.catalog import ModelCatalog
from studio.connections import Connections
from studio.history import History
from studio.image_generation import ImageGenerator
from studio.ops import Ops
from studio.pipeline import Studio
from studio.settings import Settings
from studio.errors import ModelUnavailable
from studio.grounding import CrossEncoderJudge, lexical_scorer
from studio.text_generation import (LlamaCppGenerator, OpenAICompatibleGenerator, TextGenerator,
                                    TransformersGenerator)


def text_generator(settings: Settings) -> TextGenerator:
    """The configured text generator; nothing is loaded until the first generation.

    ``auto`` picks an OpenAI-compatible server when a URL is set; llama.cpp for a GGUF model
    (the packaged default included) on a machine without CUDA, where it is several times faster
    (docs/BENCHMARKS.md); transformers otherwise.
    """
    backend = settings.text_backend
    if backend == "auto":
        backend = "openai" if settings.text_api_url else (
            "llamacpp" if _is_gguf(settings.text_model) and not _has_cuda() and _has_llama_cpp()
            else "transformers")
    if backend == "openai":
        if not settings.text_api_url:
            raise ModelUnavailable("INKSTONE_TEXT_BACKEND=openai needs INKSTONE_TEXT_API_URL")
        return OpenAICompatibleGenerator(settings.text_api_url, settings.text_model,
                                         api_key=settings.text_api_key)
    if backend == "llamacpp":
        return LlamaCppGenerator(settings.text_model, cache_dir=settings.knowledge.data_dir / "models")
    return TransformersGenerator(settings.text_model,
                                 cache_dir=settings.knowledge.data_dir / "models")


def _is_gguf(model: str) -> bool:
    return not model or model.lower().endswith(".gguf")


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _has_llama_cpp() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def build_studio(settings: Settings, *, kb: KnowledgeBase | None = None,
                 generator: TextGenerator | None = None) -> Studio:
    kb = kb or KnowledgeBase.open(settings.knowledge)
    images = ImageGenerator(settings.image_model, memory=settings.image_memory)
    judge = CrossEncoderJudge(settings.grounding_judge) if settings.grounding_judge else lexical_scorer
    generator = generator or text_generator(settings)
    # Servers added in Settings are offered beside the configured model, which environment
    # variables choose (they win: the default stays theirs); the packaged model stays on offer
    # beside a server set by INKSTONE_TEXT_API_URL. Nothing here loads a model.
    connections = Connections(kb.engine, settings.knowledge.data_dir / "connections.key")
    embedded = (None if generator.backend != "openai" else
                text_generator(replace(settings, text_api_url="", text_model="", text_backend="auto")))
    catalog = ModelCatalog(generator, connections=connections, embedded=embedded)
    return Studio(kb, generator, History(kb.engine), Ops(settings.limits),
                  images=images, images_dir=settings.knowledge.data_dir / "images",
                  image_limits=settings.image_limits, accounts=Accounts(kb.engine), judge=judge,
                  catalog=catalog)
