"""The browser UI (the only module that imports gradio).

Thin by design: layout, event wiring, and handlers that call the :class:`Studio` and translate
its results and errors. Per-user state (the current draft, the stop switch) lives in
``gr.State``; nothing per-user lives in module globals.
"""

from __future__ import annotations

import html
import logging
import threading

import gradio as gr

from knowledge import DEFAULT_COLLECTION, UserError
from studio.image_generation import NOT_CONFIGURED, ImageSettings
from studio.pipeline import (REVISIONS, BriefReady, DraftReady, ImageProgress, ImagesReady,
                             PassagesFound, Studio, TextDelta)
from studio.text_generation import GenerationSettings
from studio.understanding import FORMS, LENGTHS, TONES, WriteRequest

log = logging.getLogger(__name__)

EMPTY_KNOWLEDGE = "Upload documents to ground your writing: TXT, Markdown, HTML, PDF or DOCX."
EMPTY_DRAFT = "*Your draft will appear here as it is written.*"
FORM_LABELS = {"": "Work it out from my request", "article": "Article", "blog_post": "Blog post",
               "outline": "Outline", "summary": "Summary", "email": "Email",
               "social_post": "Social post", "product_description": "Product description",
               "rewrite": "Rewrite a passage", "expand": "Expand a passage", "free": "Free prompt"}
SOURCE_HEADERS = ["#", "cited", "document", "page", "passage"]


def show_markdown(text: str) -> str:
    """Model and document text as Markdown that cannot carry live HTML."""
    return html.escape(text, quote=False)


def _documents_table(studio: Studio) -> list[list]:
    return [[d.id, d.name, d.file_type, d.pages or "", d.chunks, f"{d.size_bytes / 1024:.0f} KB",
             d.created_at.strftime("%Y-%m-%d %H:%M"), d.collection,
             "ready" if d.status == "ready" else f"failed: {d.error}"] for d in studio.kb.documents()]


def _sources_table(passages, cited=()) -> list[list]:
    return [[n, "✓" if n in cited else "", p.document_name, p.page or "",
             " ".join(p.text.split())[:300]] for n, p in enumerate(passages, start=1)]


def _user_error(exc: Exception) -> gr.Error:
    if isinstance(exc, UserError):
        return gr.Error(str(exc))
    log.exception("unexpected error in the UI")
    return gr.Error("Something went wrong on our side; the details are in the studio's log.")


def build_demo(studio: Studio) -> gr.Blocks:
    """Lay out the studio and wire its events to ``studio``."""

    # --- knowledge handlers -----------------------------------------------------------------

    def upload(files, progress=gr.Progress()):
        if not files:
            raise gr.Error("Choose one or more files to upload first.")

        def show(p):
            progress(p.files_done / max(p.files_total, 1),
                     desc=f"{p.files_done}/{p.files_total} files, "
                          f"{p.chunks_embedded}/{p.chunks_total} chunks embedded")

        try:
            outcomes = studio.kb.add_files([(f, f.rsplit("/", 1)[-1]) for f in files],
                                           DEFAULT_COLLECTION, progress=show)
        except Exception as exc:
            raise _user_error(exc) from None
        report = [[o.name, o.status, o.chunks or "", o.reason] for o in outcomes]
        return report, _documents_table(studio)

    def search(query, k):
        try:
            passages = studio.kb.search(query, k=int(k))
        except Exception as exc:
            raise _user_error(exc) from None
        if not passages:
            return [["", "", "", "No passages found. " + EMPTY_KNOWLEDGE]]
        return [[i, f"{p.score:.3f}", p.location, p.text] for i, p in enumerate(passages, 1)]

    # --- write handlers ---------------------------------------------------------------------

    def stream_events(events, cancel):
        """Turn studio events into (draft, sources, status, draft id, cancel) updates."""
        text, passages = "", []
        for event in events:
            if isinstance(event, BriefReady):
                b = event.brief
                status = f"Writing a {FORM_LABELS.get(b.form, b.form).lower()} about “{b.query}” ({b.tone}, {b.length})"
                yield gr.update(), gr.update(), status, gr.update(), cancel
            elif isinstance(event, PassagesFound):
                passages = event.passages
                note = "" if passages else " No sources found: the draft is not grounded."
                yield gr.update(), _sources_table(passages), f"Found {len(passages)} sources.{note}", gr.update(), cancel
            elif isinstance(event, TextDelta):
                text += event.text
                yield show_markdown(text), gr.update(), gr.update(), gr.update(), cancel
            elif isinstance(event, DraftReady):
                d = event.draft
                done = "Stopped" if d.status == "cancelled" else "Done"
                yield (show_markdown(d.text), _sources_table(d.passages, d.cited),
                       f"{done}. Cited {len(d.cited)} of {len(d.passages)} sources · seed {d.settings.seed} · "
                       f"draft #{d.generation_id}", d.generation_id, None)

    def write(prompt, form, tone, length, max_new_tokens, temperature, seed):
        cancel = threading.Event()
        request = WriteRequest(prompt=prompt or "", form=form or "", tone=tone or "", length=length or "")
        settings = GenerationSettings(max_new_tokens=int(max_new_tokens), temperature=float(temperature),
                                      seed=int(seed) if seed not in (None, "") else None)
        try:
            yield from stream_events(studio.write(request, settings, cancel), cancel)
        except Exception as exc:
            raise _user_error(exc) from None

    def revise(draft_id, instruction, selection, max_new_tokens, temperature):
        if draft_id is None:
            raise gr.Error("Write a draft first; then continue, rewrite, expand or shorten it.")
        cancel = threading.Event()
        settings = GenerationSettings(max_new_tokens=int(max_new_tokens), temperature=float(temperature))
        try:
            yield from stream_events(studio.revise(draft_id, instruction, selection=selection or "",
                                                   settings=settings, cancel=cancel), cancel)
        except Exception as exc:
            raise _user_error(exc) from None

    # --- image handlers ---------------------------------------------------------------------

    def suggest_prompt(draft_id, text):
        try:
            derived = studio.image_prompt(text=text or "", draft_id=None if text else draft_id)
        except Exception as exc:
            raise _user_error(exc) from None
        style = f" · house style: {', '.join(derived.style)}" if derived.style else ""
        return derived.prompt, f"Prompt derived from the {'selection' if text else 'draft'}{style}. Edit it, then Generate."

    def illustrate(prompt, negative, steps, guidance, width, height, seed, batch, scheduler,
                   init_image, strength, draft_id, progress=gr.Progress()):
        cancel = threading.Event()
        settings = ImageSettings(prompt=prompt or "", negative_prompt=negative or "",
                                 num_inference_steps=int(steps), guidance_scale=float(guidance),
                                 width=int(width), height=int(height),
                                 seed=int(seed) if seed not in (None, "") else None,
                                 batch_count=int(batch), scheduler=scheduler or "",
                                 init_image=init_image or "", strength=float(strength))
        source = {"draft": draft_id} if draft_id is not None else {}
        try:
            for event in studio.illustrate(settings, source=source, cancel=cancel):
                if isinstance(event, ImageProgress):
                    progress(event.step / event.total, desc=f"step {event.step}/{event.total}")
                elif isinstance(event, ImagesReady):
                    items = [(str(a.path), f"seed {a.seed} · {a.settings.num_inference_steps} steps · "
                                           f"{a.settings.width}x{a.settings.height}") for a in event.artworks]
                    seeds = ", ".join(str(a.seed) for a in event.artworks)
                    return items, f"Made {len(items)} image(s); seeds {seeds}."
        except Exception as exc:
            raise _user_error(exc) from None
        return [], ""

    def stop(cancel):
        if cancel is not None:
            cancel.set()
        return None

    # --- layout -----------------------------------------------------------------------------

    with gr.Blocks(title="Inkstone") as demo:
        draft_id = gr.State(None)
        cancel_switch = gr.State(None)
        gr.Markdown("# Inkstone\nA writing studio grounded in your own material.")
        with gr.Tab("Write"):
            with gr.Row():
                with gr.Column(scale=2):
                    prompt = gr.Textbox(label="What should I write?", lines=3,
                                        placeholder="e.g. Write a friendly blog post about our tide-pool notes, under 300 words")
                    with gr.Row():
                        form = gr.Dropdown([(v, k) for k, v in FORM_LABELS.items()], value="", label="Form")
                        tone = gr.Dropdown([("Work it out", "")] + [(t, t) for t in TONES], value="", label="Tone")
                        length = gr.Dropdown([("Work it out", "")] + [(n, n) for n in LENGTHS], value="", label="Length")
                    with gr.Accordion("Model settings", open=False):
                        max_new_tokens = gr.Slider(16, studio.ops.limits.max_new_tokens, value=400, step=16,
                                                   label="Max new tokens")
                        temperature = gr.Slider(0, 1.5, value=0.7, step=0.05, label="Temperature (0 = greedy)")
                        seed = gr.Number(value=None, precision=0, label="Seed (empty = random, always recorded)")
                    with gr.Row():
                        write_button = gr.Button("Write", variant="primary")
                        stop_button = gr.Button("Stop")
                    status = gr.Markdown("")
                    draft = gr.Markdown(EMPTY_DRAFT, label="Draft", sanitize_html=True)
                    with gr.Row():
                        selection = gr.Textbox(label="Selection to revise (paste a passage; empty = whole draft)",
                                               lines=2, scale=3)
                        instruction = gr.Radio(list(REVISIONS), value="rewrite", label="Revise", scale=2)
                    revise_button = gr.Button("Revise")
                with gr.Column(scale=1):
                    sources = gr.Dataframe(headers=SOURCE_HEADERS, label="Sources", interactive=False, wrap=True)
        with gr.Tab("Images"):
            if not studio.images.configured:
                gr.Markdown("**Images are off.** " + NOT_CONFIGURED)
            with gr.Row():
                with gr.Column(scale=2):
                    image_prompt = gr.Textbox(label="Prompt (English works best)", lines=2)
                    with gr.Row():
                        suggest = gr.Button("Illustrate the current draft")
                        image_source = gr.Textbox(label="…or this passage", lines=2, scale=2)
                    negative = gr.Textbox(label="Negative prompt", placeholder="blurry, text, watermark")
                    with gr.Row():
                        steps = gr.Slider(1, studio.image_limits.max_steps, value=4, step=1, label="Steps")
                        guidance = gr.Slider(0, 15, value=0.0, step=0.5, label="Guidance (0 for turbo models)")
                    with gr.Row():
                        width = gr.Slider(64, studio.image_limits.max_side, value=512, step=8, label="Width")
                        height = gr.Slider(64, studio.image_limits.max_side, value=512, step=8, label="Height")
                    with gr.Row():
                        image_seed = gr.Number(value=None, precision=0, label="Seed (empty = random)")
                        batch = gr.Slider(1, studio.image_limits.max_batch, value=1, step=1, label="Images")
                        scheduler = gr.Textbox(label="Scheduler (empty = the model's own)")
                    with gr.Accordion("Start from an image", open=False):
                        init_image = gr.Image(type="filepath", label="Starting image")
                        strength = gr.Slider(0.05, 1.0, value=0.6, step=0.05, label="Strength")
                    generate = gr.Button("Generate", variant="primary", interactive=studio.images.configured)
                    image_status = gr.Markdown("")
                with gr.Column(scale=2):
                    gallery = gr.Gallery(label="Results", columns=2, format="png")
        with gr.Tab("Knowledge"):
            gr.Markdown(EMPTY_KNOWLEDGE)
            files = gr.File(label="Documents", file_count="multiple",
                            file_types=[".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"])
            add = gr.Button("Add to knowledge base", variant="primary")
            report = gr.Dataframe(headers=["file", "result", "chunks", "reason"],
                                  label="Upload report", interactive=False)
            documents = gr.Dataframe(headers=["id", "name", "type", "pages", "chunks", "size", "added",
                                              "collection", "status"],
                                     label="Documents", interactive=False)
            with gr.Row():
                query = gr.Textbox(label="Search your material", scale=4)
                k = gr.Slider(1, 20, value=5, step=1, label="passages", scale=1)
            results = gr.Dataframe(headers=["#", "score", "source", "passage"],
                                   label="What retrieval finds", interactive=False, wrap=True)

        with gr.Tab("System"):
            gr.Markdown("Models in use (backend, device, dtype, quantisation, load state), storage, "
                        "the queue and request metrics. Prometheus text is below the JSON.")
            refresh = gr.Button("Refresh")
            system = gr.JSON(label="Status")
            metrics = gr.Code(label="Prometheus metrics", language=None)

        def system_status():
            return studio.system_status(), studio.ops.prometheus()

        refresh.click(system_status, None, [system, metrics], api_name="system_status")
        demo.load(system_status, None, [system, metrics], api_name=False)
        outputs = [draft, sources, status, draft_id, cancel_switch]
        write_button.click(lambda: (EMPTY_DRAFT, []), None, [draft, sources], api_name=False).then(
            write, [prompt, form, tone, length, max_new_tokens, temperature, seed], outputs,
            api_name="write", concurrency_id="text", concurrency_limit=studio.ops.limits.max_concurrent_generations)
        revise_button.click(revise, [draft_id, instruction, selection, max_new_tokens, temperature], outputs,
                            api_name="revise", concurrency_id="text")
        stop_button.click(stop, cancel_switch, cancel_switch, api_name=False)
        suggest.click(suggest_prompt, [draft_id, image_source], [image_prompt, image_status],
                      api_name="image_prompt", concurrency_id="text")
        generate.click(illustrate, [image_prompt, negative, steps, guidance, width, height, image_seed,
                                    batch, scheduler, init_image, strength, draft_id],
                       [gallery, image_status], api_name="illustrate", concurrency_id="image",
                       concurrency_limit=1)
        add.click(upload, files, [report, documents], api_name="add_documents")
        query.submit(search, [query, k], results, api_name="search")
        demo.load(lambda: _documents_table(studio), None, documents, api_name=False)
    return demo
