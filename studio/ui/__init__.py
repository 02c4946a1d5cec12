"""The browser UI (the only module that imports gradio).

Thin by design: layout, event wiring, and handlers that call the :class:`Studio` and translate
its results and errors. Per-user state (the current draft, the stop switch) lives in
``gr.State``; nothing per-user lives in module globals.
"""

from __future__ import annotations

import threading
from pathlib import Path

import gradio as gr

from studio.ui.common import user_error, writer_studio
from studio.ui.draft_view import render_draft, render_streaming
from studio.ui.i18n import I18N, TEXT, headers, language, say, t, table
from studio.ui.history import history_table, history_tab
from studio.ui.knowledge import collection_names, documents_table, knowledge_tab
from studio.image_generation import NOT_CONFIGURED, ImageSettings, read_provenance
from studio.pipeline import (REVISIONS, STRATEGIES, BriefReady, DraftReady, ImageProgress, ImagesReady,
                             PassagesFound, Studio, TextDelta, passage_snapshot)
from studio.text_generation import GenerationSettings
from studio.understanding import FORMS, LENGTHS, TONES, WriteRequest

def _sources_table(passages, cited=()) -> list[list]:
    return [[n, "✓" if n in cited else "", p.document_name, p.page or "",
             " ".join(p.text.split())[:300]] for n, p in enumerate(passages, start=1)]


def checked_draft(request, d) -> tuple[str, str, str]:
    """The draft's HTML (sentences marked, citations opening their passage), its status line and
    its one-line check summary, in the page's language; a draft that echoes, is in the wrong language or rests on nothing
    says so instead of "Done"."""
    report = d.report
    claims = report.claims
    line = say(request, "msg.summary", supported=report.count("supported"), claims=len(claims))
    if report.count("partial"):
        line += say(request, "msg.summary_partial", n=report.count("partial"))
    if report.count("unsupported"):
        line += say(request, "msg.summary_unsupported", n=report.count("unsupported"))
    if report.facts_in_no_source:
        line += say(request, "msg.summary_facts", n=len(report.facts_in_no_source),
                    facts=", ".join(report.facts_in_no_source[:3]))

    def describe(f: dict) -> str:
        if f["status"] == "unsupported":
            return say(request, "tip.unsupported")
        if f.get("missing"):
            return say(request, "tip.missing", facts=", ".join(f["missing"]))
        return say(request, "tip.partial", pct=round(f["score"] * 100))

    sources = [passage_snapshot(n, p) for n, p in enumerate(d.passages, start=1)]
    page = render_draft(d.text, [f.as_dict() for f in report.findings], sources, summary=line,
                        warning=bool(d.flags), describe=describe)
    status = say(request, "msg.checked" if d.status != "cancelled" else "msg.stopped", summary=line,
                 cited=len(d.cited), count=len(d.passages), seed=d.settings.seed, id=d.generation_id)
    warnings = [say(request, f"msg.flag.{flag}", cited=len(d.cited), count=len(d.passages))
                for flag in d.flags]
    if warnings:
        status = " ".join(warnings) + (say(request, "msg.try_source_first") if d.strategy != "source-first" else "") \
            + "  \n" + status
    return page, status, line


def parse_seed(value, request=None) -> int | None:
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
        raise gr.Error(say(request, "msg.seed", value=text)) from None


# Requests waiting beyond those running; one more is told "queue full" instead of waiting.
QUEUE_SIZE = 64


def launch(demo: gr.Blocks, studio: Studio, *, host: str = "127.0.0.1", port: int | None = 7860,
           auth=None, queue_size: int = QUEUE_SIZE, **options) -> None:
    """Serve ``demo`` the one way the studio is served (``app.py`` and the tests use this).

    Bounded queue; uploads over the knowledge base's size limit refused by the server before a
    handler reads them; the only folder served by path is the studio's image folder (files a
    handler returns are served from Gradio's temp folder); never a public share link.
    """
    studio.images_dir.mkdir(parents=True, exist_ok=True)
    demo.queue(max_size=queue_size).launch(
        server_name=host, server_port=port, auth=auth, share=False, show_error=False, i18n=I18N,
        max_file_size=studio.kb.settings.max_upload_bytes, allowed_paths=[str(studio.images_dir)],
        **options)


def build_demo(studio: Studio) -> gr.Blocks:
    """Lay out the studio and wire its events to ``studio``."""

    # --- write handlers ---------------------------------------------------------------------

    def stream_events(events, cancel, request):
        """Turn studio events into (draft, sources, status, draft id, cancel) updates."""
        text, passages = "", []
        lang = language(request)

        def word(kind, value):  # a form, tone or length in the writer's language
            return TEXT[f"{kind}.{value}"][lang] if f"{kind}.{value}" in TEXT else value

        for event in events:
            if isinstance(event, BriefReady):
                b = event.brief
                status = say(request, "msg.writing", form=word("form", b.form).lower(), query=b.query,
                             tone=word("tone", b.tone), length=word("length", b.length))
                yield gr.update(), gr.update(), status, gr.update(), cancel, gr.update()
            elif isinstance(event, PassagesFound):
                passages = event.passages
                status = say(request, "msg.found", count=len(passages))
                if not passages:
                    status += say(request, "msg.ungrounded")
                yield (gr.update(), table(request, "sources", _sources_table(passages)), status, gr.update(),
                       cancel, gr.update())
            elif isinstance(event, TextDelta):
                text += event.text
                yield render_streaming(text), gr.update(), gr.update(), gr.update(), cancel, gr.update()
            elif isinstance(event, DraftReady):
                d = event.draft
                page, status, _ = checked_draft(request, d)
                yield (page, table(request, "sources", _sources_table(d.passages, d.cited)),
                       status, d.generation_id, None, d.text)

    def write(prompt, form, tone, length, collections, max_new_tokens, temperature, seed, strategy,
              request: gr.Request):
        s = writer_studio(studio, request)
        cancel = threading.Event()
        write_request = WriteRequest(prompt=prompt or "", form=form or "", tone=tone or "", length=length or "",
                                     collections=tuple(collections) if collections else None,
                                     strategy=strategy or "")
        settings = GenerationSettings(max_new_tokens=int(max_new_tokens), temperature=float(temperature),
                                      seed=parse_seed(seed, request))
        try:
            yield from stream_events(s.write(write_request, settings, cancel), cancel, request)
        except Exception as exc:
            raise user_error(exc) from None

    def regenerate(draft_id, request: gr.Request):
        """Another version of the draft on the page: same request and sources, a new seed."""
        s = writer_studio(studio, request)
        if not draft_id:
            raise gr.Error(say(request, "msg.regenerate_first"))
        cancel = threading.Event()
        try:
            yield from stream_events(s.rerun(int(draft_id), cancel, same_seed=False), cancel, request)
        except Exception as exc:
            raise user_error(exc) from None

    def revise(draft_id, instruction, selection, max_new_tokens, temperature, request: gr.Request):
        s = writer_studio(studio, request)
        if not draft_id:
            raise gr.Error(say(request, "msg.revise_first"))
        cancel = threading.Event()
        settings = GenerationSettings(max_new_tokens=int(max_new_tokens), temperature=float(temperature))
        try:
            yield from stream_events(s.revise(int(draft_id), instruction, selection=selection or "",
                                                   settings=settings, cancel=cancel), cancel, request)
        except Exception as exc:
            raise user_error(exc) from None

    def save_edit(draft_id, text, request: gr.Request):
        """The writer's own edit of the draft: checked like any draft, stored as a new version."""
        s = writer_studio(studio, request)
        if not draft_id:
            raise gr.Error(say(request, "msg.revise_first"))
        try:
            d = s.save_edit(int(draft_id), text or "")
        except Exception as exc:
            raise user_error(exc) from None
        page, _, line = checked_draft(request, d)
        status = say(request, "msg.saved", id=d.generation_id, summary=line)
        return (page, table(request, "sources", _sources_table(d.passages, d.cited)), status,
                d.generation_id, None, d.text)

    # --- image handlers ---------------------------------------------------------------------

    def suggest_prompt(draft_id, text, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            if not text and not draft_id:
                raise gr.Error(say(request, "msg.illustrate_first"))
            derived = s.image_prompt(text=text or "", draft_id=None if text else int(draft_id))
        except Exception as exc:
            raise user_error(exc) from None
        style = say(request, "msg.house_style", words=", ".join(derived.style)) if derived.style else ""
        return derived.prompt, say(request, "msg.prompt_from_selection" if text else "msg.prompt_from_draft",
                                   style=style)

    def illustrate(prompt, negative, steps, guidance, width, height, seed, batch, scheduler,
                   init_image, strength, draft_id, request: gr.Request, progress=gr.Progress()):
        s = writer_studio(studio, request)
        cancel = threading.Event()
        settings = ImageSettings(prompt=prompt or "", negative_prompt=negative or "",
                                 num_inference_steps=int(steps), guidance_scale=float(guidance),
                                 width=int(width), height=int(height),
                                 seed=parse_seed(seed, request),
                                 batch_count=int(batch), scheduler=scheduler or "",
                                 init_image=init_image or "", strength=float(strength))
        source = {"draft": int(draft_id)} if draft_id else {}
        items, message = [], ""
        try:
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
                    message = say(request, "msg.images_made", count=len(items),
                                  seeds=", ".join(str(a.seed) for a in event.artworks))
        except Exception as exc:
            raise user_error(exc) from None
        return items, message

    def exporter(kind):
        def export(generation_id, flagged, request: gr.Request):
            s = writer_studio(studio, request)
            if not generation_id:
                raise gr.Error(say(request, "msg.export_first"))
            try:
                path = (s.export_docx if kind == "docx" else s.export_markdown)(int(generation_id),
                                                                                flagged=bool(flagged))
            except Exception as exc:
                raise user_error(exc) from None
            return gr.DownloadButton(f"⬇ {path.name}", value=str(path), visible=True)
        return export

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

    def stop(cancel):
        if cancel is not None:
            cancel.set()
        return None

    # --- layout -----------------------------------------------------------------------------

    with gr.Blocks(title="Inkstone") as demo:
        # Visible (not gr.State) so API scripts get the id back from /write and can pass it on.
        draft_id = gr.Number(None, precision=0, label=t("write.draft_id"), interactive=False, render=False,
                             scale=1, min_width=100)
        cancel_switch = gr.State(None)
        gr.Markdown(t("title"))
        with gr.Tab(t("tab.write")):
            with gr.Row():
                with gr.Column(scale=2):
                    prompt = gr.Textbox(label=t("write.prompt"), lines=3, placeholder=t("write.placeholder"))
                    with gr.Row():
                        form = gr.Dropdown([(t(f"form.{k}"), k) for k in ("",) + FORMS], value="", label=t("write.form"))
                        tone = gr.Dropdown([(t("write.auto"), "")] + [(t(f"tone.{x}"), x) for x in TONES], value="",
                                           label=t("write.tone"))
                        length = gr.Dropdown([(t("write.auto"), "")] + [(t(f"length.{n}"), n) for n in LENGTHS], value="",
                                             label=t("write.length"))
                    collections = gr.Dropdown([], multiselect=True, value=[],
                                              allow_custom_value=True, label=t("write.collections"))
                    strategy = gr.Dropdown([(t(f"strategy.{k}"), k) for k in ("",) + STRATEGIES], value="",
                                           label=t("write.strategy"))
                    with gr.Accordion(t("write.model_settings"), open=False):
                        max_new_tokens = gr.Slider(16, studio.ops.limits.max_new_tokens, value=400, step=16,
                                                   label=t("write.max_new_tokens"))
                        temperature = gr.Slider(0, 1.5, value=0.7, step=0.05, label=t("write.temperature"))
                        seed = gr.Textbox(label=t("write.seed"), placeholder=t("seed.placeholder"))
                    with gr.Row():
                        write_button = gr.Button(t("write.button"), variant="primary")
                        regenerate_button = gr.Button(t("write.regenerate"))
                        stop_button = gr.Button(t("write.stop"))
                    status = gr.Markdown("")
                    draft_placeholder = gr.Markdown(t("write.empty"))
                    draft = gr.HTML("", label=t("write.draft"))
                    with gr.Accordion(t("write.edit"), open=False):
                        edit_text = gr.Textbox(label=t("write.edit_text"), lines=12, buttons=["copy"],
                                               elem_id="draft-editor")
                        save_edit_button = gr.Button(t("write.save_edit"))
                    with gr.Row():
                        draft_id.render()
                        export_button = gr.Button(t("write.export_md"), scale=1)
                        export_docx_button = gr.Button(t("write.export_docx"), scale=1)
                        export_file = gr.DownloadButton(t("write.download"), visible=False, variant="secondary", scale=2)
                    export_flagged = gr.Checkbox(False, label=t("write.export_flagged"))
                    with gr.Row():
                        selection = gr.Textbox(label=t("write.selection"), lines=2, scale=3)
                        instruction = gr.Radio([(t(f"revise.{r}"), r) for r in REVISIONS], value="rewrite",
                                               label=t("write.revise_how"), scale=2)
                    revise_button = gr.Button(t("write.revise"))
                with gr.Column(scale=1):
                    sources = gr.Dataframe(headers=headers("sources"), label=t("write.sources"), interactive=False, wrap=True,
                                           column_widths=["7%", "17%", "24%", "15%", "37%"])
        with gr.Tab(t("tab.images")):
            if not studio.images.configured:
                gr.Markdown(t("images.off") + " " + NOT_CONFIGURED)
            with gr.Row():
                with gr.Column(scale=2):
                    image_prompt = gr.Textbox(label=t("images.prompt"), lines=2)
                    with gr.Row():
                        suggest = gr.Button(t("images.suggest"))
                        image_source = gr.Textbox(label=t("images.passage"), lines=2, scale=2)
                    negative = gr.Textbox(label=t("images.negative"), placeholder="blurry, text, watermark")
                    with gr.Row():
                        steps = gr.Slider(1, studio.image_limits.max_steps, value=4, step=1, label=t("images.steps"))
                        guidance = gr.Slider(0, 15, value=0.0, step=0.5, label=t("images.guidance"))
                    with gr.Row():
                        width = gr.Slider(64, studio.image_limits.max_side, value=512, step=8, label=t("images.width"))
                        height = gr.Slider(64, studio.image_limits.max_side, value=512, step=8, label=t("images.height"))
                    with gr.Row():
                        image_seed = gr.Textbox(label=t("images.seed"), placeholder=t("seed.placeholder"))
                        batch = gr.Slider(1, studio.image_limits.max_batch, value=1, step=1, label=t("images.batch"))
                        scheduler = gr.Textbox(label=t("images.scheduler"))
                    with gr.Accordion(t("images.start_from"), open=False):
                        init_image = gr.Image(type="filepath", label=t("images.init"))
                        strength = gr.Slider(0.05, 1.0, value=0.6, step=0.05, label=t("images.strength"))
                    generate = gr.Button(t("images.generate"), variant="primary", interactive=studio.images.configured)
                    image_status = gr.Markdown("")
                with gr.Column(scale=2):
                    gallery = gr.Gallery(label=t("images.results"), columns=2, format="png")
        knowledge = knowledge_tab(studio)
        history = history_tab(studio)

        with gr.Tab(t("tab.system")):
            gr.Markdown(t("system.about"))
            refresh = gr.Button(t("system.refresh"))
            system = gr.JSON(label=t("system.status"))
            metrics = gr.Code(label=t("system.metrics"), language=None)

        def system_status():
            return studio.system_status(), studio.ops.prometheus()

        refresh.click(system_status, None, [system, metrics], api_name="system_status")
        demo.load(system_status, None, [system, metrics], api_name=False)
        outputs = [draft, sources, status, draft_id, cancel_switch, edit_text]
        def clear_draft(request: gr.Request):
            return ("", table(request, "sources", []), gr.DownloadButton(visible=False),
                    gr.update(visible=False))

        write_button.click(clear_draft, None, [draft, sources, export_file, draft_placeholder], api_name=False).then(
            write, [prompt, form, tone, length, collections, max_new_tokens, temperature, seed, strategy], outputs,
            api_name="write", concurrency_id="text", concurrency_limit=studio.ops.limits.max_concurrent_generations)
        regenerate_button.click(clear_draft, None, [draft, sources, export_file, draft_placeholder], api_name=False).then(
            regenerate, draft_id, outputs, api_name="regenerate", concurrency_id="text")
        revise_button.click(revise, [draft_id, instruction, selection, max_new_tokens, temperature], outputs,
                            api_name="revise", concurrency_id="text")
        save_edit_button.click(save_edit, [draft_id, edit_text], outputs, api_name="save_edit",
                               concurrency_id="text")
        stop_button.click(stop, cancel_switch, cancel_switch, api_name=False)
        export_button.click(exporter("md"), [draft_id, export_flagged], export_file, api_name="export_markdown")
        export_docx_button.click(exporter("docx"), [draft_id, export_flagged], export_file, api_name="export_docx")
        suggest.click(suggest_prompt, [draft_id, image_source], [image_prompt, image_status],
                      api_name="image_prompt", concurrency_id="text")
        gallery.select(reuse, gallery, [image_prompt, negative, image_seed, steps, guidance, width,
                                        height, image_status], api_name=False)
        generate.click(illustrate, [image_prompt, negative, steps, guidance, width, height, image_seed,
                                    batch, scheduler, init_image, strength, draft_id],
                       [gallery, image_status], api_name="illustrate", concurrency_id="image",
                       concurrency_limit=1)
        def page_loaded(request: gr.Request):
            """Fill what depends on the writer: their collections, documents and history, and
            the tables' headers in their language."""
            s = writer_studio(studio, request)
            names = collection_names(s)
            return (documents_table(s, request), history_table(s, request), gr.update(choices=names, value=names[0]),
                    gr.update(choices=names), table(request, "sources", []), table(request, "report", []),
                    table(request, "results", []))

        demo.load(page_loaded, None, [knowledge["documents"], history["table"], knowledge["collection"],
                                      collections, sources, knowledge["report"], knowledge["results"]],
                  api_name=False)
    return demo
