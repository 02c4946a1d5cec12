"""The models a writer can pick: the studio's own (embedded, or the server set by environment
variables) and every model of every connected text server, each with what is known about it.

A model is named by a key: ``""`` is the studio's default generator, ``"embedded"`` the packaged
model when the default is something else, and ``"NAME/MODEL"`` model MODEL of connection NAME.
The key is what a draft's settings record, so a re-run asks for the same model again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from knowledge.errors import NotFound
from studio.connections import Connection, Connections
from studio.errors import ModelUnavailable, StudioError
from studio.text_generation import OpenAICompatibleGenerator, TextGenerator, writes_languages

EMBEDDED = "embedded"


@dataclass(frozen=True)
class ModelChoice:
    key: str
    label: str
    backend: str  # "llamacpp" | "transformers" | "openai"
    source: str  # "embedded", "environment" or the connection's name
    context_window: int | None  # tokens; None until known
    languages: tuple[str, ...] | None  # what it writes; None: not known
    tokens_per_s: float | None = None  # measured on its first draft in this process


class ModelCatalog:
    """Lists the models on offer and builds the generator for a chosen key.

    ``default`` is the studio's configured generator (environment variables win: a server set
    by ``INKSTONE_TEXT_API_URL`` is the default); ``embedded`` the packaged local model, offered
    beside a default that is not it; ``connections`` the servers added in Settings.
    """

    def __init__(self, default: TextGenerator, *, connections: Connections | None = None,
                 embedded: TextGenerator | None = None):
        self.default = default
        self.embedded = embedded
        self.connections = connections
        self._speeds: dict[str, float] = {}
        self._images: dict = {}  # connection name -> ImageGenerator (a pipeline, loaded on first use)
        self._lock = threading.Lock()

    # --- what is on offer -------------------------------------------------------------------

    def choices(self, *, timeout_s: float = 3.0) -> tuple[list[ModelChoice], list[StudioError]]:
        """Every model on offer, and why each connected server that could not list its models did not."""
        own = [(self.default, "")] + ([(self.embedded, EMBEDDED)] if self.embedded is not None else [])
        found = [self._local_choice(generator, key) for generator, key in own]
        problems = []
        for connection in (self.connections.list("text") if self.connections else []):
            answer = self.connections.test(connection, timeout_s=timeout_s)
            if not answer.ok:
                problems.append(StudioError(f"{connection.name}: {answer.error}", code="not_listed",
                                            connection=connection.name, why=answer.problem))
                continue
            for model in answer.models:
                key = f"{connection.name}/{model}"
                window = connection.context_window or (answer.context_windows or {}).get(model)
                found.append(ModelChoice(
                    key=key, label=f"{model} · {connection.name}", backend="openai", source=connection.name,
                    context_window=window, languages=connection.languages or writes_languages(model),
                    tokens_per_s=self._speeds.get(key)))
        return found, problems

    def _local_choice(self, generator: TextGenerator, key: str) -> ModelChoice:
        info = generator.info()
        remote = generator.backend == "openai"
        source = "environment" if remote else "embedded"
        return ModelChoice(
            key=key, label=f"{generator.model_id} · {source}", backend=generator.backend, source=source,
            context_window=generator.context_window if remote else info.get("context"),
            languages=writes_languages(generator.model_id), tokens_per_s=self._speeds.get(key))

    def languages(self, key: str) -> tuple[str, ...] | None:
        """What the model behind ``key`` writes, without asking its server."""
        if key in ("", EMBEDDED):
            generator = self.default if not key else self.embedded
            return writes_languages(generator.model_id) if generator is not None else None
        connection, model = self._connection(key)
        return connection.languages or writes_languages(model)

    # --- the generator for a choice ---------------------------------------------------------

    def generator(self, key: str) -> TextGenerator:
        """The generator for ``key``; a :class:`ModelUnavailable` saying why when there is none
        (the connection was removed, its server is down, or no longer serves that model)."""
        if not key:
            return self.default
        if key == EMBEDDED:
            if self.embedded is None:
                raise ModelUnavailable("The embedded model is the studio's default here: choose the default.",
                                       code="model_is_default")
            return self.embedded
        connection, model = self._connection(key)
        answer = self.connections.test(connection)
        if not answer.ok:
            raise ModelUnavailable(f"Model {model} on {connection.name} is not available now: {answer.error}",
                                   code="model_down", model=model, connection=connection.name, why=answer.problem)
        if model not in answer.models:
            raise ModelUnavailable(f"{connection.name} no longer serves {model} (it serves "
                                   f"{', '.join(answer.models) or 'nothing'}); choose another model.",
                                   code="model_gone", model=model, connection=connection.name)
        window = connection.context_window or (answer.context_windows or {}).get(model) or 8192
        return OpenAICompatibleGenerator(connection.base_url, model, api_key=self.connections.api_key(connection.id),
                                         context_window=window)

    def _connection(self, key: str) -> tuple[Connection, str]:
        name, _, model = key.partition("/")
        if not model or self.connections is None:
            raise ModelUnavailable(f"No model {key!r}: choose one from the list.", code="no_model", key=key)
        try:
            return self.connections.by_name(name), model
        except NotFound as exc:
            raise ModelUnavailable(f"Model {model} was on connection {name!r}, which is not in "
                                   "Settings any more; choose another model.", code="connection_gone",
                                   model=model, connection=name) from exc

    # --- image models -----------------------------------------------------------------------

    def image_choices(self, images) -> list[tuple[str, str]]:
        """(label, key) of each image model: the studio's own ``images`` (when configured) and
        every image connection."""
        own = [(f"{images.model_id} · {images.backend}", "")] if images.configured else []
        return own + [(f"{c.model} · {c.name}", c.name) for c in
                      (self.connections.list("image") if self.connections else [])]

    def image_generator(self, key: str, images):
        """The image generator for ``key`` ("" the studio's own ``images``); one loaded pipeline
        per connection, kept while it stays configured the same."""
        from studio.image_generation import ImageGenerator

        if not key:
            return images
        try:
            connection = self.connections.by_name(key) if self.connections else None
        except NotFound:
            connection = None
        if connection is None or connection.kind != "image":
            raise ModelUnavailable(f"No image model {key!r} in Settings any more; choose another model.",
                                   code="no_image_model", key=key)
        with self._lock:
            cached = self._images.get(key)
            if cached is None or cached.model_id != connection.model:
                cached = self._images[key] = ImageGenerator(connection.model, memory=images.memory)
            return cached

    # --- facts learnt on use ----------------------------------------------------------------

    def note_speed(self, key: str, tokens_per_s: float) -> None:
        """Keep the speed measured on a model's first draft (shown beside it in the picker)."""
        with self._lock:
            self._speeds.setdefault(key, round(tokens_per_s, 1))
