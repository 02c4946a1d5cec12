"""The browser UI (the only module that imports gradio).

Thin by design: layout, event wiring, and handlers that call the :class:`Studio` and translate
its results and errors. Per-user state (the current draft, the stop switch) lives in
``gr.State``; nothing per-user lives in module globals.
"""

from __future__ import annotations

import threading
from pathlib import Path

import gradio as gr

from studio.ui.common import show_markdown, user_error
from studio.ui.history import history_table, history_tab
from studio.ui.knowledge import collection_names, documents_table, knowledge_tab
from studio.image_generation import NOT_CONFIGURED, ImageSettings, read_provenance
from studio.pipeline import (REVISIONS, BriefReady, DraftReady, ImageProgress, ImagesReady,
                             PassagesFound, Studio, TextDelta)
from studio.text_generation import GenerationSettings
from studio.understanding import FORMS, LENGTHS, TONES, WriteRequest

EMPTY_DRAFT = "*Your draft will appear here as it is written.*"
FORM_LABELS = {"": "Work it out from my request", "article": "Article", "blog_post": "Blog post",
               "outline": "Outline", "summary": "Summary", "email": "Email",
               "social_post": "Social post", "product_description": "Product description",
               "rewrite": "Rewrite a passage", "expand": "Expand a passage", "free": "Free prompt"}
SOURCE_HEADERS = ["#", "cited", "document", "page", "passage"]


def _sources_table(passages, cited=()) -> list[list]:
    return [[n, "✓" if n in cited else "", p.document_name, p.page or "",
             " ".join(p.text.split())[:300]] for n, p in enumerate(passages, start=1)]


def parse_seed(value) -> int | None:
    """A seed typed by the writer: empty means "draw one" (a number field would send 0).

    >>> parse_seed(""), parse_seed(" 42 "), parse_seed(7.0)
    (None, 42, 7)
    """
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:
        return int(float(text))
    except ValueError:
        raise gr.Error(f"The seed must be a whole number but is {text!r}") from None


def build_demo(studio: Studio) -> gr.Blocks:
    """Lay out the studio and wire its events to ``studio``."""

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

    def write(prompt, form, tone, length, collections, max_new_tokens, temperature, seed):
        cancel = threading.Event()
        request = WriteRequest(prompt=prompt or "", form=form or "", tone=tone or "", length=length or "",
                               collections=tuple(collections) if collections else None)
        settings = GenerationSettings(max_new_tokens=int(max_new_tokens), temperature=float(temperature),
                                      seed=parse_seed(seed))
        try:
            yield from stream_events(studio.write(request, settings, cancel), cancel)
        except Exception as exc:
            raise user_error(exc) from None

    def revise(draft_id, instruction, selection, max_new_tokens, temperature):
        if not draft_id:
            raise gr.Error("Write a draft first; then continue, rewrite, expand or shorten it.")
        cancel = threading.Event()
        settings = GenerationSettings(max_new_tokens=int(max_new_tokens), temperature=float(temperature))
        try:
            yield from stream_events(studio.revise(int(draft_id), instruction, selection=selection or "",
                                                   settings=settings, cancel=cancel), cancel)
        except Exception as exc:
            raise user_error(exc) from None

    # --- image handlers ---------------------------------------------------------------------

    def suggest_prompt(draft_id, text):
        try:
            if not text and not draft_id:
                raise gr.Error("Write a draft first, or paste the passage to illustrate.")
            derived = studio.image_prompt(text=text or "", draft_id=None if text else int(draft_id))
        except Exception as exc:
            raise user_error(exc) from None
        style = f" · house style: {', '.join(derived.style)}" if derived.style else ""
        return derived.prompt, f"Prompt derived from the {'selection' if text else 'draft'}{style}. Edit it, then Generate."

    def illustrate(prompt, negative, steps, guidance, width, height, seed, batch, scheduler,
                   init_image, strength, draft_id, progress=gr.Progress()):
        cancel = threading.Event()
        settings = ImageSettings(prompt=prompt or "", negative_prompt=negative or "",
                                 num_inference_steps=int(steps), guidance_scale=float(guidance),
                                 width=int(width), height=int(height),
                                 seed=parse_seed(seed),
                                 batch_count=int(batch), scheduler=scheduler or "",
                                 init_image=init_image or "", strength=float(strength))
        source = {"draft": int(draft_id)} if draft_id else {}
        items, message = [], ""
        try:
            # read the stream to its end (returning early would close it and count the request
            # as abandoned)
            for event in studio.illustrate(settings, source=source, cancel=cancel):
                if isinstance(event, ImageProgress):
                    progress(event.step / event.total, desc=f"step {event.step}/{event.total}")
                elif isinstance(event, ImagesReady):
                    items = [(str(a.path), f"seed {a.seed} · {a.settings.num_inference_steps} steps · "
                                           f"{a.settings.width}x{a.settings.height}") for a in event.artworks]
                    message = f"Made {len(items)} image(s); seeds {', '.join(str(a.seed) for a in event.artworks)}."
        except Exception as exc:
            raise user_error(exc) from None
        return items, message

    def exporter(kind):
        def export(generation_id):
            if not generation_id:
                raise gr.Error("Write a draft first; then export it.")
            try:
                path = (studio.export_docx if kind == "docx" else studio.export_markdown)(int(generation_id))
            except Exception as exc:
                raise user_error(exc) from None
            return str(path)
        return export

    def reuse(items, evt: gr.SelectData):
        """Fill the controls from the selected result's PNG provenance (its prompt and seed)."""
        try:
            chosen = items[evt.index]
            path = chosen[0] if isinstance(chosen, (list, tuple)) else chosen["image"]["path"]
            meta = read_provenance(Path(path))
        except (KeyError, IndexError, OSError, ValueError):
            raise gr.Error("This image carries no Inkstone parameters to reuse.") from None
        return (meta["prompt"], meta.get("negative_prompt", ""), str(meta["seed"]),
                meta["num_inference_steps"], meta["guidance_scale"], meta["width"], meta["height"],
                f"Reusing the prompt and seed {meta['seed']} of the selected image.")

    def stop(cancel):
        if cancel is not None:
            cancel.set()
        return None

    # --- layout -----------------------------------------------------------------------------

    with gr.Blocks(title="Inkstone") as demo:
        # Visible (not gr.State) so API scripts get the id back from /write and can pass it on.
        draft_id = gr.Number(None, precision=0, label="Draft id", interactive=False, render=False,
                             scale=1, min_width=100)
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
                    collections = gr.Dropdown(collection_names(studio), multiselect=True, value=[],
                                              allow_custom_value=True, label="Draw on collections (empty = all)")
                    with gr.Accordion("Model settings", open=False):
                        max_new_tokens = gr.Slider(16, studio.ops.limits.max_new_tokens, value=400, step=16,
                                                   label="Max new tokens")
                        temperature = gr.Slider(0, 1.5, value=0.7, step=0.05, label="Temperature (0 = greedy)")
                        seed = gr.Textbox(label="Seed (empty = random, always recorded)", placeholder="random")
                    with gr.Row():
                        write_button = gr.Button("Write", variant="primary")
                        stop_button = gr.Button("Stop")
                    status = gr.Markdown("")
                    draft = gr.Markdown(EMPTY_DRAFT, label="Draft", sanitize_html=True, buttons=["copy"])
                    with gr.Row():
                        draft_id.render()
                        export_button = gr.Button("Export Markdown", scale=1)
                        export_docx_button = gr.Button("Export DOCX", scale=1)
                        export_file = gr.File(label="Download", interactive=False, height=90, scale=2)
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
                        image_seed = gr.Textbox(label="Seed (empty = random)", placeholder="random")
                        batch = gr.Slider(1, studio.image_limits.max_batch, value=1, step=1, label="Images")
                        scheduler = gr.Textbox(label="Scheduler (empty = the model's own)")
                    with gr.Accordion("Start from an image", open=False):
                        init_image = gr.Image(type="filepath", label="Starting image")
                        strength = gr.Slider(0.05, 1.0, value=0.6, step=0.05, label="Strength")
                    generate = gr.Button("Generate", variant="primary", interactive=studio.images.configured)
                    image_status = gr.Markdown("")
                with gr.Column(scale=2):
                    gallery = gr.Gallery(label="Results", columns=2, format="png")
        knowledge = knowledge_tab(studio)
        history = history_tab(studio)

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
            write, [prompt, form, tone, length, collections, max_new_tokens, temperature, seed], outputs,
            api_name="write", concurrency_id="text", concurrency_limit=studio.ops.limits.max_concurrent_generations)
        revise_button.click(revise, [draft_id, instruction, selection, max_new_tokens, temperature], outputs,
                            api_name="revise", concurrency_id="text")
        stop_button.click(stop, cancel_switch, cancel_switch, api_name=False)
        export_button.click(exporter("md"), draft_id, export_file, api_name="export_markdown")
        export_docx_button.click(exporter("docx"), draft_id, export_file, api_name="export_docx")
        suggest.click(suggest_prompt, [draft_id, image_source], [image_prompt, image_status],
                      api_name="image_prompt", concurrency_id="text")
        gallery.select(reuse, gallery, [image_prompt, negative, image_seed, steps, guidance, width,
                                        height, image_status], api_name=False)
        generate.click(illustrate, [image_prompt, negative, steps, guidance, width, height, image_seed,
                                    batch, scheduler, init_image, strength, draft_id],
                       [gallery, image_status], api_name="illustrate", concurrency_id="image",
                       concurrency_limit=1)
        demo.load(lambda: (documents_table(studio), history_table(studio)), None,
                  [knowledge["documents"], history["table"]], api_name=False)
    return demo
