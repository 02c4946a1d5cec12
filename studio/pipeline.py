"""The studio facade: a writer's request through the founding chain, as a stream of events.

    interface -> understanding -> knowledge base -> generator model -> content generation -> ops

``Studio.write()`` and ``Studio.revise()`` yield :class:`BriefReady`, :class:`PassagesFound`,
:class:`TextDelta` events and finally one :class:`DraftReady`, so a UI can show each stage as
it happens. No gradio here.
"""

from __future__ import annotations

import copy
import os
import queue
import random
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterator

from knowledge import KnowledgeBase, Passage
from studio.accounts import Account, Accounts
from studio.catalog import ModelCatalog
from studio.connections import Connections
from studio.reembedding import Reembedding
from studio.composer import Composed, Composer
from studio.grounding import GroundingReport, Scorer, check, lexical_scorer, summary
from studio.hygiene import echoes, has_scaffolding, instructions, language_of, strip_scaffolding
from studio.errors import ModelUnavailable, StudioError
from studio.illustration import STYLE_QUERY, DerivedPrompt, derive_image_prompt, style_terms
from studio.image_generation import (NOT_CONFIGURED, ImageGenerator, ImageLimits, ImageSettings,
                                     check_image_settings, keep_start_image, save_png)
from studio.export import draft_docx, draft_markdown
from studio.history import History
from studio.ops import Ops
from studio.prompts import compose
from studio.text_generation import GenerationSettings, TextGenerator
from studio.understanding import Brief, WriteRequest, understand

REVISIONS = ("continue", "rewrite", "expand", "shorten")
_REVISION_TASKS = {
    "continue": "Continue the draft below from where it stops, in the same voice. Write only the new text.",
    "rewrite": "Rewrite the text below: clearer and better organised, same facts and meaning.",
    "expand": "Expand the text below with more detail and examples from the sources.",
    "shorten": "Shorten the text below to about half its length, keeping the key points.",
}
# Passages retrieved for a request; the prompt keeps as many as fit the context window.
RETRIEVE_K = 6
STRATEGIES = ("source-first", "single")
# Share of a draft's word 5-grams found in its prompt's instructions above which it is an echo.
ECHO_LIMIT = 0.3


@dataclass(frozen=True)
class Draft:
    generation_id: int
    text: str
    passages: list[Passage]
    cited: tuple[int, ...]
    uncited: tuple[int, ...]
    brief: Brief
    model_id: str
    backend: str
    settings: GenerationSettings
    status: str  # "done" | "cancelled"
    parent_id: int | None = None
    timings: dict = field(default_factory=dict)
    report: GroundingReport | None = None  # what the sentence check found
    strategy: str = "single"
    flags: tuple[str, ...] = ()  # echo | wrong_language | ungrounded: why "Done" would be a lie

    @property
    def summary(self) -> str:
        return summary(self.report) if self.report else ""


@dataclass(frozen=True)
class BriefReady:
    brief: Brief


@dataclass(frozen=True)
class PassagesFound:
    passages: list[Passage]


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class DraftReady:
    draft: Draft


@dataclass(frozen=True)
class PromptReady:
    prompt: str  # the prompt the image model gets (English)


@dataclass(frozen=True)
class ImageProgress:
    step: int
    total: int


@dataclass(frozen=True)
class Artwork:
    generation_id: int
    path: Path
    seed: int
    settings: ImageSettings
    model_id: str
    source: dict  # what it illustrates: {"draft": id} / {"chunk": id} / {}


@dataclass(frozen=True)
class ImagesReady:
    artworks: list[Artwork]
    status: str  # "done" | "cancelled"


Event = BriefReady | PassagesFound | TextDelta | DraftReady | PromptReady | ImageProgress | ImagesReady


class Studio:
    """Writes grounded drafts. Built by ``app.py`` from its parts; holds no per-user state."""

    def __init__(self, kb: KnowledgeBase, generator: TextGenerator, history: History, ops: Ops, *,
                 images: ImageGenerator | None = None, images_dir: Path | None = None,
                 image_limits: ImageLimits = ImageLimits(), accounts: Accounts | None = None,
                 judge: Scorer = lexical_scorer, catalog: ModelCatalog | None = None):
        self.kb = kb
        self.accounts = accounts
        self.generator = generator
        # the models a writer may pick (studio/catalog.py); model_key: which one this studio writes with
        self.catalog = catalog or ModelCatalog(generator, connections=Connections(
            kb.engine, kb.settings.data_dir / "connections.key"))
        self.model_key = ""
        self.reembedding = Reembedding(kb)  # switching the library's embedding model (Settings)
        self.history = history
        self.ops = ops
        self.images = images or ImageGenerator("")
        self.images_dir = images_dir or kb.settings.data_dir / "images"
        self.image_limits = image_limits
        self.judge = judge  # scores how well a span supports a sentence (studio/grounding.py)
        self.account: Account | None = None  # the logged-in writer in a for_user view
        self.admin = True  # may see studio-wide status and rebuild the index

    def for_user(self, user: str | None) -> "Studio":
        """The studio as ``user`` sees it when accounts are on: their collections (own, shared,
        team), their own history, and studio-wide facts only for an admin; the whole studio
        when accounts are off."""
        if self.accounts is None or not self.accounts.enabled():
            return self
        account = self.accounts.find(user) if user else None
        if account is None:
            raise StudioError("Log in first: this studio has accounts.", code="log_in_first")
        scoped = copy.copy(self)
        scoped.account, scoped.admin = account, account.admin
        scoped.kb = self.kb.for_owner(account.owner)
        scoped.history = self.history.for_owner(account.id, account.name)
        return scoped

    def share_collection(self, collection: str, writer: str, role: str) -> None:
        """Share the writer's ``collection`` with the writer called ``writer`` ("read",
        "write", or "none" to stop). A name with no account is answered like any other (and
        nothing is stored), so sharing cannot be used to find out who has an account."""
        if self.account is None:
            raise StudioError("Sharing needs accounts: add them with `python -m studio users add NAME`.",
                              code="sharing_needs_accounts")
        other = self.accounts.find(str(writer or "").strip())
        # nobody by that name: the same checks and answers as a real share, and nothing stored
        self.kb.share_collection(collection, other.id if other else None, role)

    def reindex(self) -> int:
        """Rebuild the vector index from SQL (an admin's action: it is the whole studio's)."""
        if not self.admin:
            raise StudioError("Only an admin can rebuild the index.", code="admin_only")
        return self.kb.reindex()

    # --- write ------------------------------------------------------------------------------

    def check_request(self, request: WriteRequest,
                      settings: GenerationSettings = GenerationSettings()) -> None:
        """Refuse a request that cannot be written (empty, too long, impossible settings) with
        a :class:`StudioError`; :meth:`write` starts with this, and a UI can call it before it
        clears the page for a new draft."""
        prompt = (request.prompt or "").strip()
        if not prompt:
            raise StudioError("Say what to write: the request is empty.", code="request_empty")
        self.ops.check_prompt(prompt + request.source_text)
        settings.check(max_new_tokens_limit=self.ops.limits.max_new_tokens)
        self.strategy(request.strategy)

    def using(self, model: str) -> "Studio":
        """The studio writing with ``model`` (a key from ``self.catalog``; "" the default), or a
        :class:`ModelUnavailable` saying why that model cannot write now."""
        if not model:
            return self
        scoped = copy.copy(self)
        scoped.generator = self.catalog.generator(model)
        scoped.model_key = model
        return scoped

    def language_advice(self, request: WriteRequest, model: str = "") -> StudioError | None:
        """None when ``model`` writes the request's language (or nobody knows); otherwise what
        to say before writing: the model's languages and the connected models that write it."""
        language = understand(request).language
        writes = self.catalog.languages(model)
        if language not in ("en", "zh") or writes is None or language in writes:
            return None
        names = {"en": "English", "zh": "Chinese"}
        choices, _ = self.catalog.choices()
        capable = ", ".join(c.label for c in choices if c.languages and language in c.languages)
        model_id = self.catalog.generator(model).model_id if model in ("", "embedded") else model.partition("/")[2]
        offer = (StudioError(f"Models that write {names[language]}: {capable}.", code="models_that_write",
                             language=language, models=capable) if capable else
                 StudioError(f"No connected model is known to write {names[language]}: add one in Settings "
                             "(e.g. a Qwen model on Ollama or llama.cpp's server).", code="none_write",
                             language=language))
        return StudioError(f"This request is in {names[language]}, but {model_id} writes only "
                           f"{', '.join(names.get(w, w) for w in writes)}: its draft would be your sources' own "
                           f"sentences with no edits in {names[language]}. {offer} Or tick \"Write anyway\".",
                           code="wrong_language", language=language, model=model_id, writes=writes, offer=offer)

    def write(self, request: WriteRequest, settings: GenerationSettings = GenerationSettings(),
              cancel: threading.Event | None = None) -> Iterator[Event]:
        """Write a draft for ``request`` with the model ``settings.model`` names, streaming
        events; the last one is :class:`DraftReady`."""
        yield from self.using(settings.model)._write(request, settings, cancel)

    def _write(self, request: WriteRequest, settings: GenerationSettings,
               cancel: threading.Event | None) -> Iterator[Event]:
        with self.ops.request("write") as log:
            # 1. check inputs
            self.check_request(request, settings)
            prompt = request.prompt.strip()
            settings = self._settle(settings)

            # 2. understand
            with log.stage("understand"):
                brief = understand(request)
            if brief.task == "image":
                raise StudioError("This asks for a picture, not text: use the Images tab.", code="asks_for_picture")
            yield BriefReady(brief)

            # 3. retrieve
            with log.stage("retrieve"):
                passages = self.kb.search(brief.query, k=RETRIEVE_K, collections=request.collections)
            yield PassagesFound(passages)

            # 4.-7. compose (a plan from the sources, or one prompt), generate, check, record
            strategy = self.strategy(request.strategy)
            if strategy == "source-first":
                yield from self._compose_and_record(
                    log, action="write", request={**asdict(request), "strategy": strategy},
                    brief=brief, passages=passages, settings=settings, cancel=cancel)
                return
            with log.stage("compose"):
                composition = compose(
                    brief, passages, prompt=prompt, source_text=request.source_text,
                    count_tokens=self.generator.count_tokens,
                    context_window=self.generator.context_window,
                    max_new_tokens=settings.max_new_tokens)
            yield from self._generate_and_record(
                log, action="write", request={**asdict(request), "strategy": strategy}, brief=brief,
                passages=composition.passages, messages=composition.messages,
                settings=settings, cancel=cancel, parent_id=None, prefix="")

    def strategy(self, asked: str = "") -> str:
        """The writing strategy for a request: what was asked, else source-first for a local
        model (small enough that one long prompt overwhelms it) and one prompt for a server."""
        if asked and asked not in STRATEGIES:
            raise StudioError(f"`strategy` must be one of {', '.join(STRATEGIES)} but is {asked!r}",
                              code="not_one_of", field="strategy", choices=", ".join(STRATEGIES), value=asked)
        return asked or ("single" if self.generator.backend == "openai" else "source-first")

    def composer(self) -> Composer:
        # what the model writes: as declared for its connection in Settings, else known by family
        return Composer(self.generator, self.kb.embedder.encode,
                        languages=self.catalog.languages(self.model_key))

    # --- revise -----------------------------------------------------------------------------

    def revise(self, generation_id: int, instruction: str, *, selection: str = "",
               settings: GenerationSettings = GenerationSettings(),
               cancel: threading.Event | None = None) -> Iterator[Event]:
        """Continue / rewrite / expand / shorten a stored draft, or only ``selection`` of it,
        with the model ``settings.model`` names.

        The new version is recorded with the old one as its parent; with a selection, the
        revised passage replaces the selection inside the whole draft.
        """
        yield from self.using(settings.model)._revise(generation_id, instruction, selection=selection,
                                                      settings=settings, cancel=cancel)

    def _revise(self, generation_id: int, instruction: str, *, selection: str,
                settings: GenerationSettings, cancel: threading.Event | None) -> Iterator[Event]:
        with self.ops.request(instruction if instruction in REVISIONS else "revise") as log:
            # 1. check inputs
            if instruction not in REVISIONS:
                raise StudioError(f"`instruction` must be one of {', '.join(REVISIONS)} but is {instruction!r}",
                                  code="not_one_of", field="instruction", choices=", ".join(REVISIONS),
                                  value=instruction)
            parent = self.history.get(generation_id)
            if parent.kind != "text":
                raise StudioError(f"Generation {generation_id} is not a text draft", code="not_text_draft",
                              id=generation_id)
            if instruction == "continue" and selection:
                raise StudioError("`continue` works on the whole draft; clear the selection.",
                                  code="continue_whole")
            if selection and selection not in parent.output:
                raise StudioError("The selected text is not in this draft any more; select it again.",
                                  code="selection_gone")
            settings = self._settle(settings)
            target = selection or parent.output
            self.ops.check_prompt(target)

            # 2. understand: the original brief, re-aimed at the revision
            with log.stage("understand"):
                brief = parent.brief
                if instruction == "shorten":
                    brief = replace(brief, length="short", target_words=max(50, len(target.split()) // 2))
            yield BriefReady(brief)

            # 3. retrieve: the sources the draft was written from
            passages = parent.passages
            yield PassagesFound(passages)

            if (parent.checks or {}).get("strategy") == "source-first":
                # 4.-7. the same operation on the draft's sentences, then check and record
                yield from self._compose_and_record(
                    log, action=instruction, request={"instruction": instruction, "selection": selection,
                                                      "revises": generation_id, "strategy": "source-first"},
                    brief=brief, passages=passages, settings=settings, cancel=cancel,
                    parent_id=generation_id,
                    revising=(instruction, parent.output, selection, parent.checks.get("framing", [])))
                return

            # 4. compose: same sources, the revision task, the text to revise
            with log.stage("compose"):
                task_brief = replace(brief, form="rewrite" if instruction != "expand" else "expand")
                composition = compose(
                    task_brief, passages, prompt=_REVISION_TASKS[instruction], source_text=target,
                    count_tokens=self.generator.count_tokens,
                    context_window=self.generator.context_window,
                    max_new_tokens=settings.max_new_tokens)

            # 5.-7. generate, splice into the draft, link citations, record
            if instruction == "continue":
                prefix, suffix = parent.output.rstrip() + "\n\n", ""
            elif selection:
                start = parent.output.index(selection)
                prefix, suffix = parent.output[:start], parent.output[start + len(selection):]
            else:
                prefix, suffix = "", ""
            yield from self._generate_and_record(
                log, action=instruction, request={"instruction": instruction, "selection": selection,
                                                  "revises": generation_id},
                brief=brief, passages=composition.passages, messages=composition.messages,
                settings=settings, cancel=cancel, parent_id=generation_id, prefix=prefix,
                suffix=suffix)

    # --- re-run -----------------------------------------------------------------------------

    def rerun(self, generation_id: int, cancel: threading.Event | None = None, *,
              same_seed: bool = True) -> Iterator[Event]:
        """Generate again from a stored record: the same messages and settings.

        Re-run (``same_seed``) keeps the seed too: with the same model on CPU the output is the
        same. Regenerate draws a new seed: another version of the draft, recorded as its child
        so History can compare the two. Both use the model the draft was made with, or say it
        is not available."""
        record = self.history.get(generation_id)
        model = (record.settings or {}).get("model", "")
        try:
            studio = self.using(model)
        except ModelUnavailable as exc:
            raise ModelUnavailable(f"Generation {generation_id} was made with {record.model_id}, which is "
                                   f"not available now: {exc}", code="made_with_unavailable", id=generation_id,
                                   model=record.model_id, why=exc) from None
        yield from studio._rerun(generation_id, cancel, same_seed=same_seed)

    def _rerun(self, generation_id: int, cancel: threading.Event | None, *,
               same_seed: bool) -> Iterator[Event]:
        action = "rerun" if same_seed else "regenerate"
        with self.ops.request(action) as log:
            record = self.history.get(generation_id)
            if record.kind != "text":
                raise StudioError(f"Generation {generation_id} is not a text draft", code="not_text_draft",
                              id=generation_id)
            if same_seed and (record.model_id, record.backend) != (self.generator.model_id,
                                                                    self.generator.backend):
                raise StudioError(f"Generation {generation_id} was made with {record.model_id} on "
                                  f"{record.backend}; this studio runs {self.generator.model_id} on "
                                  f"{self.generator.backend}, which would not reproduce it.",
                                  code="rerun_other_model", id=generation_id, model=record.model_id,
                                  backend=record.backend, current=self.generator.model_id,
                                  current_backend=self.generator.backend)
            brief = record.brief
            passages = record.passages
            settings = GenerationSettings(**record.settings)
            yield BriefReady(brief)
            yield PassagesFound(passages)
            if (record.checks or {}).get("strategy") == "source-first":
                revising = None
                if record.action in REVISIONS and record.parent_id is not None:
                    parent = self.history.get(record.parent_id)
                    revising = (record.action, parent.output, record.request.get("selection", ""),
                                (parent.checks or {}).get("framing", []))
                yield from self._compose_and_record(
                    log, action=action, request={action + "s": generation_id, **record.request},
                    brief=brief, passages=passages,
                    settings=settings if same_seed else self._settle(replace(settings, seed=None)),
                    cancel=cancel, parent_id=record.parent_id if same_seed else generation_id,
                    revising=revising)
                return
            yield from self._generate_and_record(
                log, action=action, request={action + "s": generation_id, **record.request},
                brief=brief, passages=passages, messages=record.messages,
                settings=settings if same_seed else self._settle(replace(settings, seed=None)), cancel=cancel,
                parent_id=record.parent_id if same_seed else generation_id, prefix="")

    # --- illustrate -------------------------------------------------------------------------

    def source_text(self, *, text: str = "", draft_id: int | None = None,
                    chunk_id: int | None = None) -> tuple[str, dict]:
        """The text to illustrate and a record of where it came from."""
        if draft_id is not None:
            return self.history.get(draft_id).output, {"draft": draft_id}
        if chunk_id is not None:
            return self.kb.chunk_text(chunk_id), {"chunk": chunk_id}
        return text, ({"text": text[:500]} if text else {})

    def image_prompt(self, *, text: str = "", draft_id: int | None = None,
                     chunk_id: int | None = None) -> DerivedPrompt:
        """Derive an editable English image prompt from a draft, a passage or given text, with
        style words from the writer's style notes when the knowledge base has them."""
        with self.ops.request("image_prompt") as log:
            source, _ = self.source_text(text=text, draft_id=draft_id, chunk_id=chunk_id)
            if not source.strip():
                raise StudioError("Choose what to illustrate: a draft, a passage, or some text.",
                                  code="illustrate_what")
            with log.stage("style"):
                notes = [p.text for p in self.kb.search(STYLE_QUERY, k=4) if style_terms([p.text])]
            with log.stage("derive"), self.ops.generation_slot():
                return derive_image_prompt(source, generator=self.generator, style_notes=notes)

    def illustrate(self, settings: ImageSettings, *, source: dict | None = None,
                   cancel: threading.Event | None = None) -> Iterator[Event]:
        """Generate images for ``settings`` with the image model ``settings.model`` names,
        streaming progress; every image is saved as a PNG with its parameters and recorded in
        history. Ends with :class:`ImagesReady`."""
        studio = self
        if settings.model:
            studio = copy.copy(self)
            studio.images = self.catalog.image_generator(settings.model, self.images)
        yield from studio._illustrate(settings, source=source, cancel=cancel)

    def _illustrate(self, settings: ImageSettings, *, source: dict | None,
                    cancel: threading.Event | None) -> Iterator[Event]:
        with self.ops.request("illustrate") as log:
            # 1. check inputs (and the model: a clear message when none is configured)
            if not self.images.configured:
                raise ModelUnavailable(NOT_CONFIGURED, code="no_image_model_configured")
            check_image_settings(settings, self.image_limits)
            self.ops.check_prompt(settings.prompt + settings.negative_prompt)
            settings = keep_start_image(settings, self.kb.settings.data_dir / "start-images")
            if source and "draft" in source:  # the writer's own draft: another's reads as not found
                self.history.get(source["draft"])
            if source and "chunk" in source:
                self.kb.chunk_text(source["chunk"])
            seed = settings.seed if settings.seed is not None else random.randrange(2**31)
            settings = replace(settings, seed=seed)

            # 2. understand: what the picture is of, for the record
            with log.stage("understand"):
                brief = understand(WriteRequest(settings.prompt))
            yield BriefReady(brief)
            yield PromptReady(settings.prompt)

            # 3.-5. generate in a worker, passing its step progress on as events
            cancel = cancel or threading.Event()
            updates: queue.Queue = queue.Queue()
            outcome: dict = {}

            def work() -> None:
                try:
                    outcome["images"] = self.images.generate(
                        settings, seed=seed, cancel=cancel,
                        progress=lambda step, total: updates.put(ImageProgress(step, total)))
                except BaseException as exc:
                    outcome["error"] = exc
                finally:
                    updates.put(None)

            with self.ops.generation_slot("image"), log.stage("generate"):
                worker = threading.Thread(target=work, name="image-generation", daemon=True)
                worker.start()
                try:
                    while (update := updates.get()) is not None:
                        yield update
                finally:
                    if "images" not in outcome and "error" not in outcome:
                        cancel.set()  # the reader went away mid-generation: stop the pipeline
                    worker.join()
            if "error" in outcome:
                raise outcome["error"]

            # 6.-7. save with provenance, record in history
            with log.stage("record"):
                artworks = [self._save_artwork(image, settings, seed + i, source or {})
                            for i, image in enumerate(outcome["images"])]
            log.facts.update(images=len(artworks), seed=seed, cancelled=cancel.is_set())
            yield ImagesReady(artworks, "cancelled" if cancel.is_set() else "done")

    def rerun_image(self, generation_id: int) -> Iterator[Event]:
        """Generate a recorded image again with its stored settings and seed."""
        record = self.history.get(generation_id)
        if record.kind != "image":
            raise StudioError(f"Generation {generation_id} is not an image", code="not_image", id=generation_id)
        settings = ImageSettings(**{**record.settings, "seed": record.seed, "batch_count": 1})
        yield from self.illustrate(settings, source=record.request.get("source") or {})

    def _save_artwork(self, image, settings: ImageSettings, seed: int, source: dict) -> Artwork:
        """Write the PNG first, then its history record: a crash in between leaves an orphan
        file, never a record that points at nothing."""
        single = replace(settings, seed=seed, batch_count=1)
        provenance = {**single.as_dict(), "model": self.images.model_id, "source": source,
                      "scheduler": settings.scheduler or "default"}
        name = f"inkstone-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex}.png"
        path = save_png(image, self.images_dir / time.strftime("%Y-%m") / name, provenance)
        generation_id = self.history.record(
            kind="image", action="illustrate", status="done",
            request={"prompt": settings.prompt, "source": source}, brief=None, passages=[],
            messages=[], model_id=self.images.model_id, backend=self.images.backend,
            settings=single.as_dict(), seed=seed, output=str(path), cited=[], timings={})
        return Artwork(generation_id, path, seed, single, self.images.model_id, source)

    def export_markdown(self, generation_id: int, *, flagged: bool = False) -> Path:
        """Write a stored draft to Markdown: footnotes quoting what each citation rests on, its
        illustrations, and (``flagged``) an appendix of sentences to check; returns its path."""
        record = self.history.get(generation_id)
        if record.kind != "text":
            raise StudioError(f"Generation {generation_id} is not a text draft", code="not_text_draft",
                              id=generation_id)
        path = self.kb.settings.data_dir / "exports" / f"inkstone-draft-{generation_id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        images = [Path(os.path.relpath(image, path.parent)).as_posix()
                  for image in self._illustrations(generation_id)]
        path.write_text(draft_markdown(record, images, flagged=flagged), encoding="utf-8")
        return path

    def _illustrations(self, generation_id: int) -> list[Path]:
        return [Path(r.output) for r in reversed(self.history.list(kind="image", limit=500))
                if r.request.get("source") == {"draft": generation_id} and Path(r.output).exists()]

    def export_docx(self, generation_id: int, *, flagged: bool = False) -> Path:
        """Write a stored draft as DOCX: citations as footnotes quoting the words they rest on,
        its illustrations embedded, and (``flagged``) an appendix of sentences to check."""
        record = self.history.get(generation_id)
        if record.kind != "text":
            raise StudioError(f"Generation {generation_id} is not a text draft", code="not_text_draft",
                              id=generation_id)
        images = self._illustrations(generation_id)
        path = self.kb.settings.data_dir / "exports" / f"inkstone-draft-{generation_id}.docx"
        path.parent.mkdir(parents=True, exist_ok=True)
        draft_docx(record, path, images, flagged=flagged)
        return path

    # --- system ---------------------------------------------------------------------------

    def system_status(self) -> dict:
        """What the System tab shows: models, storage, queue and request metrics; to a writer
        who is not an admin, the models and their own material only."""
        from knowledge.db import redact_url

        if not self.admin:
            return {"text model": self.generator.info(),
                    "embedding model": {"id": self.kb.embedder.model_id, "loaded": self.kb.embedder.loaded},
                    "image model": self.images.info(),
                    "knowledge base": self.kb.stats(),
                    "drafts": self.history.count(kind="text"), "images": self.history.count(kind="image")}
        return {
            "text model": self.generator.info(),
            "embedding model": {"id": self.kb.embedder.model_id, "loaded": self.kb.embedder.loaded},
            "image model": self.images.info(),
            "database": redact_url(self.kb.settings.url),
            "knowledge base": self.kb.stats(),
            "ops": self.ops.snapshot(),
        }

    # --- shared steps -----------------------------------------------------------------------

    def _settle(self, settings: GenerationSettings) -> GenerationSettings:
        settings.check(max_new_tokens_limit=self.ops.limits.max_new_tokens)
        if settings.seed is None:
            settings = replace(settings, seed=random.randrange(2**31))
        return settings

    def _generate_and_record(self, log, *, action, request, brief, passages, messages, settings,
                             cancel, parent_id, prefix, suffix="") -> Iterator[Event]:
        """One prompt to the model (strategy "single"), streamed, then checked and recorded."""
        cancel = cancel or threading.Event()
        pieces: list[str] = []
        # 5. generate, streaming
        with self.ops.generation_slot():
            began = time.perf_counter()
            with log.stage("generate"):
                for piece in self.generator.stream(messages, settings, cancel):
                    if not pieces:
                        log.facts["first_token_s"] = round(time.perf_counter() - began, 3)
                    pieces.append(piece)
                    yield TextDelta(piece)
            if pieces and not cancel.is_set():  # the speed the picker shows beside the model
                self.catalog.note_speed(self.model_key, self.generator.count_tokens("".join(pieces))
                                        / max(time.perf_counter() - began, 1e-6))
        raw = "".join(pieces).strip()
        # 6. hygiene: scaffolding out; an echo of the prompt's instructions is flagged
        generated = strip_scaffolding(raw)
        echoed = has_scaffolding(raw) or echoes(generated, instructions(messages)) > ECHO_LIMIT
        flags = ["echo"] if echoed else []
        yield from self._check_and_record(
            log, action=action, request=request, brief=brief, passages=passages, messages=messages,
            text=prefix + generated + suffix, settings=settings, cancel=cancel, parent_id=parent_id,
            checks={"strategy": "single", "framing": []}, flags=flags)

    def _compose_and_record(self, log, *, action, request, brief, passages, settings, cancel,
                            parent_id=None, revising=None) -> Iterator[Event]:
        """A source-first draft: plan from the sources, short model edits, streamed by section;
        ``revising`` = (instruction, parent text, selection, parent framing) works on a stored
        draft's sentences instead."""
        cancel = cancel or threading.Event()
        composer = self.composer()
        composed: Composed | None = None
        began = time.perf_counter()
        with self.ops.generation_slot(), log.stage("compose"):
            if revising:
                instruction, text, selection, framing = revising
                stream = composer.revise(instruction, brief, text, passages, settings, cancel,
                                         selection=selection, framing=framing)
            else:
                stream = composer.write(brief, passages, settings, cancel)
            for item in stream:
                if isinstance(item, Composed):
                    composed = item
                else:
                    log.facts.setdefault("first_token_s", round(time.perf_counter() - began, 3))
                    yield TextDelta(item)
        edits = [asdict(e) for e in composed.edits]
        log.facts.update(edits=len(edits), edits_accepted=sum(e["accepted"] for e in edits))
        yield from self._check_and_record(
            log, action=action, request=request, brief=brief, passages=passages,
            messages=[{"role": "user", "content": e["prompt"]} for e in edits], text=composed.text,
            settings=settings, cancel=cancel, parent_id=parent_id,
            checks={"strategy": "source-first", "framing": list(composed.framing), "edits": edits},
            flags=[])

    def _check_and_record(self, log, *, action, request, brief, passages, messages, text, settings,
                          cancel, parent_id, checks, flags) -> Iterator[Event]:
        log.facts.update(output_chars=len(text), cancelled=cancel.is_set(),
                         model=self.generator.model_id, seed=settings.seed)
        # 6. check every sentence against the passages; citations rebuilt from what it found
        with log.stage("check"):
            report = check(text, passages, framing=frozenset(checks.get("framing", ())), scorer=self.judge)
        flags = list(flags)
        if report.text.strip() and brief.language in ("en", "zh") and language_of(report.text) != brief.language:
            flags.append("wrong_language")
        if not report.grounded:
            flags.append("ungrounded")
        report = replace(report, flags=tuple(flags))
        checks = {**checks, "findings": [f.as_dict() for f in report.findings], "flags": flags,
                  "summary": summary(report)}
        log.facts.update(sentences=len(report.claims), supported=report.count("supported"), flags=flags)

        # 7. record in history
        status = "cancelled" if cancel.is_set() else "done"
        with log.stage("record"):
            generation_id = self.history.record(
                kind="text", action=action, status=status, request=request, brief=brief,
                passages=passages, messages=messages, model_id=self.generator.model_id,
                backend=self.generator.backend, settings=settings.as_dict(), seed=settings.seed,
                output=report.text, cited=list(report.cited), timings=dict(log.stages),
                parent_id=parent_id, checks=checks)
        log.facts["generation_id"] = generation_id
        yield DraftReady(Draft(
            generation_id=generation_id, text=report.text, passages=list(passages),
            cited=report.cited, uncited=report.uncited, brief=brief,
            model_id=self.generator.model_id, backend=self.generator.backend, settings=settings,
            status=status, parent_id=parent_id, timings=dict(log.stages), report=report,
            strategy=checks["strategy"], flags=tuple(flags)))

    # --- edit by hand -----------------------------------------------------------------------

    def save_edit(self, generation_id: int, text: str) -> Draft:
        """Store the writer's own edit of a draft as a new version, checked like any draft."""
        with self.ops.request("edit") as log:
            parent = self.history.get(generation_id)
            if parent.kind != "text":
                raise StudioError(f"Generation {generation_id} is not a text draft", code="not_text_draft",
                              id=generation_id)
            if not text.strip():
                raise StudioError("The edited draft is empty; write something or keep the old version.",
                                  code="edit_empty")
            self.ops.check_prompt(text)
            brief = parent.brief
            passages = parent.passages
            previous = parent.checks or {}
            events = list(self._check_and_record(
                log, action="edit", request={"edits": generation_id}, brief=brief, passages=passages,
                messages=[], text=text.strip(), settings=GenerationSettings(**parent.settings),
                cancel=threading.Event(), parent_id=generation_id,
                checks={"strategy": previous.get("strategy", "single"),
                        "framing": previous.get("framing", []), "edited_by_hand": True},
                flags=[]))
            return events[-1].draft
