"""The Images tab: an editable prompt derived from the draft, generation with progress, and a
results gallery whose pictures give their prompt and seed back to the controls."""

from __future__ import annotations

import threading
from pathlib import Path

import gradio as gr

from studio.image_generation import ImageSettings, read_provenance
from studio.pipeline import ImageProgress, ImagesReady, Studio
from studio.ui.common import number, parse_id, parse_seed, whole, writer_studio
from studio.ui.handling import handler
from studio.ui.i18n import say, t
from studio.ui.model_picker import image_model_picker


def images_tab(studio: Studio, draft_id: gr.Number) -> tuple[gr.Dropdown, gr.Button]:
    """Lay out and wire the tab; ``draft_id`` is the Write tab's current draft. Returns the
    image model picker and the Generate button, which the page updates when it loads."""
    configured = studio.images.configured or bool(studio.catalog.connections.list("image"))

    @handler
    def suggest_prompt(draft_id, text, request: gr.Request):
        s = writer_studio(studio, request)
        draft = parse_id(draft_id, request)
        if not text and draft is None:
            raise gr.Error(say(request, "msg.illustrate_first"))
        derived = s.image_prompt(text=text or "", draft_id=None if text else draft)
        style = say(request, "msg.house_style", words=", ".join(derived.style)) if derived.style else ""
        source = "selection" if text else "draft"
        # "then Generate" only where Generate can be pressed
        key = f"msg.prompt_from_{source}" if configured else f"msg.prompt_from_{source}_no_model"
        return derived.prompt, say(request, key, style=style)

    @handler
    def illustrate(prompt, negative, steps, guidance, width, height, seed, batch, scheduler,
                   init_image, strength, draft_id, model="", request: gr.Request = None, progress=gr.Progress()):
        """Generate, streaming: the first update hands the page the stop switch (Stop sets it;
        the images finished by then are kept and shown), the last one the pictures."""
        s = writer_studio(studio, request)
        cancel = threading.Event()
        settings = ImageSettings(prompt=prompt or "", negative_prompt=negative or "",
                                 num_inference_steps=whole(steps, "num_inference_steps", request),
                                 guidance_scale=number(guidance, "guidance_scale", request),
                                 width=whole(width, "width", request), height=whole(height, "height", request),
                                 seed=parse_seed(seed, request),
                                 batch_count=whole(batch, "batch_count", request), scheduler=scheduler or "",
                                 init_image=init_image or "", strength=number(strength, "strength", request),
                                 model=model or "")
        draft = parse_id(draft_id, request)
        source = {"draft": draft} if draft is not None else {}
        items, message = [], ""
        yield gr.update(), gr.update(), cancel
        # read the stream to its end (returning early would close it and count the request
        # as abandoned)
        for event in s.illustrate(settings, source=source, cancel=cancel):
            if isinstance(event, ImageProgress):
                progress(event.step / event.total, desc=say(request, "msg.image_step", step=event.step,
                                                             total=event.total))
            elif isinstance(event, ImagesReady):
                items = [(str(a.path), say(request, "msg.image_caption", seed=a.seed,
                                           steps=a.settings.num_inference_steps, width=a.settings.width,
                                           height=a.settings.height)) for a in event.artworks]
                message = say(request, "msg.images_made" if event.status != "cancelled" else "msg.images_stopped",
                              count=len(items), seeds=", ".join(str(a.seed) for a in event.artworks))
        yield items, message, None

    def stop(cancel):
        if cancel is not None:
            cancel.set()
        return None

    @handler
    def reuse(items, evt: gr.SelectData, request: gr.Request):
        """Fill the controls from the selected result's PNG provenance (its prompt and seed)."""
        try:
            chosen = items[evt.index]
            path = chosen[0] if isinstance(chosen, (list, tuple)) else chosen["image"]["path"]
            meta = read_provenance(Path(path))
        except (KeyError, IndexError, OSError, ValueError):
            raise gr.Error(say(request, "msg.no_provenance")) from None
        return (meta["prompt"], meta.get("negative_prompt", ""), str(meta["seed"]),
                meta["num_inference_steps"], meta["guidance_scale"], meta["width"], meta["height"],
                say(request, "msg.reusing", seed=meta["seed"]))

    limits = studio.image_limits
    with gr.Tab(t("tab.images")):
        if not configured:
            gr.Markdown(t("images.off"), elem_id="images-off")
        with gr.Row():
            with gr.Column(scale=2):
                image_model = image_model_picker(studio)
                image_prompt = gr.Textbox(label=t("images.prompt"), lines=2)
                with gr.Row():
                    suggest = gr.Button(t("images.suggest"))
                    image_source = gr.Textbox(label=t("images.passage"), lines=2, scale=2)
                negative = gr.Textbox(label=t("images.negative"), placeholder="blurry, text, watermark")
                with gr.Row():
                    steps = gr.Slider(1, limits.max_steps, value=4, step=1, label=t("images.steps"))
                    guidance = gr.Slider(0, 15, value=0.0, step=0.5, label=t("images.guidance"))
                with gr.Row():
                    width = gr.Slider(64, limits.max_side, value=512, step=8, label=t("images.width"))
                    height = gr.Slider(64, limits.max_side, value=512, step=8, label=t("images.height"))
                with gr.Row():
                    image_seed = gr.Textbox(label=t("images.seed"), placeholder=t("seed.placeholder"))
                    batch = gr.Slider(1, limits.max_batch, value=1, step=1, label=t("images.batch"))
                    scheduler = gr.Textbox(label=t("images.scheduler"))
                with gr.Accordion(t("images.start_from"), open=False):
                    init_image = gr.Image(type="filepath", label=t("images.init"))
                    strength = gr.Slider(0.05, 1.0, value=0.6, step=0.05, label=t("images.strength"))
                with gr.Row():
                    generate = gr.Button(t("images.generate"), variant="primary", interactive=configured)
                    stop_button = gr.Button(t("images.stop"), elem_id="image-stop")
                image_cancel = gr.State(None)
                image_status = gr.Markdown("")
            with gr.Column(scale=2):
                # results only: pictures come from Generate, not from uploads
                gallery = gr.Gallery(label=t("images.results"), columns=2, format="png", interactive=False,
                                     elem_id="image-results")

    suggest.click(suggest_prompt, [draft_id, image_source], [image_prompt, image_status],
                  api_name="image_prompt", concurrency_id="text", show_progress_on=[image_prompt])
    gallery.select(reuse, gallery, [image_prompt, negative, image_seed, steps, guidance, width,
                                    height, image_status], api_name=False)
    generate.click(illustrate, [image_prompt, negative, steps, guidance, width, height, image_seed,
                                batch, scheduler, init_image, strength, draft_id, image_model],
                   [gallery, image_status, image_cancel], api_name="illustrate", concurrency_id="image",
                   concurrency_limit=studio.ops.limits.max_concurrent_images, show_progress_on=[gallery])
    stop_button.click(stop, image_cancel, image_cancel, api_name=False)
    return image_model, generate
