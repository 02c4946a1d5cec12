"""The studio's one settings object, read once in ``app.py`` from flags and ``INKSTONE_*``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from knowledge.settings import KnowledgeSettings


@dataclass(frozen=True)
class Settings:
    knowledge: KnowledgeSettings = field(default_factory=KnowledgeSettings)
    # Loopback by default: the studio holds a writer's private material.
    host: str = "127.0.0.1"
    port: int = 7860
    # "user:password" enables Gradio's login; required when binding to a public address.
    auth: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ValueError(f"`port` must be between 1 and 65535 but is {self.port}")
        if self.auth and ":" not in self.auth:
            raise ValueError("`auth` must look like user:password")

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        values = dict(
            knowledge=KnowledgeSettings.from_env(),
            host=os.environ.get("INKSTONE_HOST", "127.0.0.1"),
            port=int(os.environ.get("INKSTONE_PORT", "7860")),
            auth=os.environ.get("INKSTONE_AUTH", ""),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
