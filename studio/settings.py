"""The studio's one settings object, read once in ``app.py`` from flags and ``INKSTONE_*``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from knowledge.settings import KnowledgeSettings
from studio.image_generation import ImageLimits, MemoryOptions
from studio.ops import Limits
from studio.text_generation import BACKENDS


@dataclass(frozen=True)
class Settings:
    knowledge: KnowledgeSettings = field(default_factory=KnowledgeSettings)
    # Loopback by default: the studio holds a writer's private material.
    host: str = "127.0.0.1"
    port: int = 7860
    # "user:password" enables Gradio's login; required when binding to a public address.
    auth: str = ""
    # Text model: a transformers folder or hub id, or a .gguf file; empty means the packaged
    # SmolLM2 GGUF.
    text_model: str = ""
    # "auto" | "llamacpp" | "transformers" | "openai"; auto runs GGUF models with llama.cpp on
    # CPU machines and everything else with transformers (see studio/build.py).
    text_backend: str = "auto"
    # An OpenAI-compatible server (vLLM, TGI, Ollama, llama.cpp) instead of a local model,
    # e.g. http://gpu-box:8000/v1; text_model then names the model on that server.
    text_api_url: str = ""
    text_api_key: str = ""
    limits: Limits = field(default_factory=Limits)
    # Image model: a local diffusers folder or a cached hub id (stabilityai/sd-turbo, ...);
    # empty means images are off and the UI says how to turn them on.
    image_model: str = ""
    # The judge of the sentence check: empty means model-free word overlap (studio/grounding.py);
    # a local cross-encoder folder (an NLI model such as a DeBERTa/MiniLM MNLI one) replaces it.
    grounding_judge: str = ""
    image_memory: MemoryOptions = field(default_factory=MemoryOptions)
    image_limits: ImageLimits = field(default_factory=ImageLimits)
    # Serve GET /metrics (Prometheus text: requests, latencies, queue, model load state, memory),
    # behind the same login as the page. Off: what the studio does is nobody's business by default.
    metrics: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ValueError(f"`port` must be between 1 and 65535 but is {self.port}")
        if self.auth and ":" not in self.auth:
            raise ValueError("`auth` must look like user:password")
        if self.text_backend not in BACKENDS:
            raise ValueError(f"`text_backend` must be one of {', '.join(BACKENDS)} but is {self.text_backend!r}")
        if self.text_api_url and not self.text_model:
            raise ValueError("`text_model` must name the server's model when `text_api_url` is set")

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        values = dict(
            knowledge=KnowledgeSettings.from_env(),
            host=os.environ.get("INKSTONE_HOST", "127.0.0.1"),
            port=int(os.environ.get("INKSTONE_PORT", "7860")),
            auth=os.environ.get("INKSTONE_AUTH", ""),
            text_model=os.environ.get("INKSTONE_TEXT_MODEL", ""),
            text_backend=os.environ.get("INKSTONE_TEXT_BACKEND", "auto") or "auto",
            text_api_url=os.environ.get("INKSTONE_TEXT_API_URL", ""),
            text_api_key=os.environ.get("INKSTONE_TEXT_API_KEY", ""),
            image_model=os.environ.get("INKSTONE_IMAGE_MODEL", ""),
            grounding_judge=os.environ.get("INKSTONE_GROUNDING_JUDGE", ""),
            metrics=os.environ.get("INKSTONE_METRICS", "") == "1",
            image_memory=MemoryOptions(
                attention_slicing=os.environ.get("INKSTONE_IMAGE_ATTENTION_SLICING", "") == "1",
                vae_tiling=os.environ.get("INKSTONE_IMAGE_VAE_TILING", "") == "1",
                cpu_offload=os.environ.get("INKSTONE_IMAGE_CPU_OFFLOAD", "") == "1",
            ),
            image_limits=ImageLimits(max_side=int(os.environ.get("INKSTONE_IMAGE_MAX_SIDE", "1024"))),
            limits=Limits(
                max_prompt_chars=int(os.environ.get("INKSTONE_MAX_PROMPT_CHARS", "8000")),
                max_new_tokens=int(os.environ.get("INKSTONE_MAX_NEW_TOKENS", "1024")),
                max_concurrent_generations=int(os.environ.get("INKSTONE_MAX_CONCURRENT_GENERATIONS", "1")),
                max_concurrent_images=int(os.environ.get("INKSTONE_MAX_CONCURRENT_IMAGES", "1")),
            ),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
