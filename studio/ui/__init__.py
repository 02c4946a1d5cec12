"""The browser UI (the only module that imports gradio).

Thin by design: layout, event wiring, and handlers that call the :class:`Studio` and translate
its results and errors. Per-user state (the current draft, the stop switch) lives in
``gr.State``; nothing per-user lives in module globals.
"""

from __future__ import annotations

import gradio as gr

from knowledge import UserError
from studio.metrics import metrics_text
from studio.ui.common import refusal_sink, writer_studio
from studio.ui.handling import handler
from studio.ui.i18n import I18N, headers, t, table
from studio.ui.history import history_hint, history_table, history_tab
from studio.ui.images import images_tab
from studio.ui.knowledge import collection_names, documents_table, knowledge_tab
from studio.ui.model_picker import model_picker, wire_image_model_picker, wire_model_picker
from studio.ui.routes import StudioRoutes
from studio.ui.settings import settings_tab
from studio.ui.system import system_tab
from studio.ui.write import WriteHandlers
from studio.pipeline import REVISIONS, STRATEGIES, Studio
from studio.understanding import FORMS, LENGTHS, TONES


# Requests waiting beyond those running; one more is told "queue full" instead of waiting.
QUEUE_SIZE = 64


def launch(demo: gr.Blocks, studio: Studio, *, host: str = "127.0.0.1", port: int | None = 7860,
           auth: tuple[str, str] | None = None, queue_size: int = QUEUE_SIZE, metrics: bool = False,
           prevent_thread_lock: bool = False, **options) -> None:
    """Serve ``demo`` the one way the studio is served (``app.py`` and the tests use this).

    Bounded queue; uploads over the knowledge base's size limit refused by the server before a
    handler reads them; the only folder served by path is the studio's image folder (files a
    handler returns are served from Gradio's temp folder); never a public share link.
    ``metrics``: serve ``GET /metrics`` (Prometheus text) behind the same login as the page.

    Logins: with accounts (``studio.accounts`` has users, now or from when one is added) each
    writer logs in as themselves, sessions live in the database and failed logins are limited
    (studio/ui/login.py); ``auth`` is one shared ``(user, password)`` while there are none.
    """
    from starlette.middleware import Middleware

    from studio.ui.login import LoginGate
    from studio.ui.served_files import FileGate

    studio.images_dir.mkdir(parents=True, exist_ok=True)
    accounts = studio.accounts
    if accounts is not None and accounts.enabled():
        auth = accounts.check
    middleware = [Middleware(LoginGate, accounts=accounts),
                  Middleware(FileGate, studio=studio)] if accounts is not None else []
    # /metrics (when on) and the nameless-upload refusal, inside the login gate
    middleware.append(Middleware(StudioRoutes, metrics=(lambda: metrics_text(studio)) if metrics else None,
                                 may_read_metrics=lambda user: may_read_metrics(studio, user)))
    demo.queue(max_size=queue_size).launch(
        server_name=host, server_port=port, auth=auth, share=False, show_error=False, i18n=I18N,
        max_file_size=studio.kb.settings.max_upload_bytes, allowed_paths=[str(studio.images_dir)],
        app_kwargs={"middleware": middleware}, prevent_thread_lock=True, **options)
    if accounts is not None:
        demo.server_app.tokens = accounts.sessions()  # before any login: the server just started
    if not prevent_thread_lock:
        demo.block_thread()


def may_read_metrics(studio: Studio, user: str | None) -> bool:
    """Studio-wide figures are an admin's when there are accounts; anyone past the page's
    login (or on an unguarded loopback studio) may read them when there are none."""
    if studio.accounts is None or not studio.accounts.enabled():
        return True
    try:
        return studio.for_user(user).admin
    except UserError:
        return False


def build_demo(studio: Studio) -> gr.Blocks:
    """Lay out the studio and wire its events to ``studio``."""

    handlers = WriteHandlers(studio)

    # --- layout -----------------------------------------------------------------------------

    # analytics off: Gradio would otherwise ask PyPI for its latest version each time a page is
    # built and report every launch to its makers; a writer's studio sends nothing anywhere.
    with gr.Blocks(title="Inkstone", analytics_enabled=False) as demo:
        # A component (not gr.State) so API scripts get the id back from /write as a number and can
        # pass it on; hidden, because Gradio shows an empty number field as 0: the page shows
        # draft_label, which stays empty until there is a draft.
        draft_id = gr.Number(None, precision=0, label=t("write.draft_id"), visible=False, render=False)
        draft_label = gr.Textbox(label=t("write.draft_id"), interactive=False, render=False, scale=1,
                                 min_width=100, placeholder=t("id.placeholder"))
        cancel_switch = gr.State(None)
        sink = refusal_sink()
        gr.Markdown(t("title"))
        with gr.Tab(t("tab.write")):
            with gr.Row():
                with gr.Column(scale=2):
                    kb_hint = gr.Markdown(t("write.empty_kb"), visible=False, elem_id="empty-kb-hint")
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
                    model, model_about, model_refresh = model_picker()
                    write_anyway = gr.Checkbox(False, label=t("picker.anyway"), elem_id="write-anyway")
                    with gr.Accordion(t("write.model_settings"), open=False):
                        max_new_tokens = gr.Slider(16, studio.ops.limits.max_new_tokens,
                                                   value=min(400, studio.ops.limits.max_new_tokens), step=16,
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
                        draft_label.render()
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
        image_model, generate_images = images_tab(studio, draft_id)
        knowledge = knowledge_tab(studio)
        history = history_tab(studio)

        system_tab(studio)
        settings = settings_tab(studio)
        wire_model_picker(studio, demo, model, model_about, model_refresh)
        wire_image_model_picker(studio, demo, image_model, generate_images)

        outputs = [draft, sources, status, draft_id, cancel_switch, edit_text]
        cleared = [draft, sources, export_file, status, draft_placeholder]

        # .success: the page is cleared, and the draft written, only when the request is valid
        write_button.click(handlers.check_then_clear, [prompt, max_new_tokens, temperature, seed, model, write_anyway],
                           cleared,
                           api_name=False, show_progress_on=[sink]).success(
            handlers.write, [prompt, form, tone, length, collections, max_new_tokens, temperature, seed, strategy,
                             selection, model], outputs,
            api_name="write", concurrency_id="text", concurrency_limit=studio.ops.limits.max_concurrent_generations,
            show_progress_on=[draft])
        regenerate_button.click(handlers.check_draft_then_clear, draft_id, cleared, api_name=False,
                                show_progress_on=[sink]).success(
            handlers.regenerate, draft_id, outputs, api_name="regenerate", concurrency_id="text", show_progress_on=[draft])
        # progress (the queue, the timer) on the draft, not on the sources table
        revise_button.click(handlers.revise, [draft_id, instruction, selection, max_new_tokens, temperature, model],
                            outputs,
                            api_name="revise", concurrency_id="text", show_progress_on=[draft])
        save_edit_button.click(handlers.save_edit, [draft_id, edit_text], outputs, api_name="save_edit",
                               concurrency_id="text", show_progress_on=[draft])
        stop_button.click(handlers.stop, cancel_switch, cancel_switch, api_name=False)
        draft_id.change(lambda value: str(int(value)) if value else "", draft_id, draft_label, api_name=False,
                        show_progress="hidden")
        export_button.click(handlers.export_markdown, [draft_id, export_flagged], export_file, api_name="export_markdown",
                            show_progress_on=[sink])
        export_docx_button.click(handlers.export_docx, [draft_id, export_flagged], export_file, api_name="export_docx",
                                 show_progress_on=[sink])
        @handler
        def page_loaded(request: gr.Request):
            """Fill what depends on the writer: their collections, documents and history, and
            the tables' headers in their language."""
            s = writer_studio(studio, request)
            names = collection_names(s)
            return (documents_table(s, request), history_table(s, request), gr.update(choices=names, value=names[0]),
                    gr.update(choices=names), table(request, "sources", []), table(request, "report", []),
                    table(request, "results", []), handlers.empty_kb_hint(request), history_hint(s))

        demo.load(page_loaded, None, [knowledge["documents"], history["table"], knowledge["collection"],
                                      collections, sources, knowledge["report"], knowledge["results"],
                                      kb_hint, history["hint"]],
                  api_name=False)
        knowledge["added"].then(handlers.empty_kb_hint, None, kb_hint, api_name=False)
        demo.load(settings["loaded"], None, [settings["tab"], settings["listing"]], api_name=False)
    return demo
