"""The browser UI (the only module that imports gradio).

Thin by design: layout, event wiring, and handlers that call the :class:`Studio` and translate
its results and errors. Per-user state (the current draft, the stop switch) lives in
``gr.State``; nothing per-user lives in module globals.
"""

from __future__ import annotations

import threading
import time

import gradio as gr

from studio.ui.common import export_draft, parse_seed, refusal_sink, user_error, word_count, writer_studio
from studio.ui.draft_view import render_draft, render_streaming
from studio.ui.i18n import I18N, TEXT, headers, language, say, t, table
from studio.ui.history import history_hint, history_table, history_tab
from studio.ui.images import images_tab
from studio.ui.knowledge import collection_names, documents_table, knowledge_tab
from studio.ui.model_picker import model_picker, wire_image_model_picker, wire_model_picker
from studio.ui.settings import settings_tab
from studio.ui.system import system_tab
from studio.errors import StudioError
from studio.history import passage_snapshot
from studio.pipeline import REVISIONS, STRATEGIES, BriefReady, DraftReady, PassagesFound, Studio, TextDelta
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


# Requests waiting beyond those running; one more is told "queue full" instead of waiting.
QUEUE_SIZE = 64


def launch(demo: gr.Blocks, studio: Studio, *, host: str = "127.0.0.1", port: int | None = 7860,
           auth: tuple[str, str] | None = None, queue_size: int = QUEUE_SIZE,
           prevent_thread_lock: bool = False, **options) -> None:
    """Serve ``demo`` the one way the studio is served (``app.py`` and the tests use this).

    Bounded queue; uploads over the knowledge base's size limit refused by the server before a
    handler reads them; the only folder served by path is the studio's image folder (files a
    handler returns are served from Gradio's temp folder); never a public share link.

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
    demo.queue(max_size=queue_size).launch(
        server_name=host, server_port=port, auth=auth, share=False, show_error=False, i18n=I18N,
        max_file_size=studio.kb.settings.max_upload_bytes, allowed_paths=[str(studio.images_dir)],
        app_kwargs={"middleware": middleware}, prevent_thread_lock=True, **options)
    if accounts is not None:
        demo.server_app.tokens = accounts.sessions()  # before any login: the server just started
    if not prevent_thread_lock:
        demo.block_thread()


def build_demo(studio: Studio) -> gr.Blocks:
    """Lay out the studio and wire its events to ``studio``."""

    # --- write handlers ---------------------------------------------------------------------

    def stream_events(events, cancel, request):
        """Turn studio events into (draft, sources, status, draft id, cancel) updates."""
        text, passages, writing = "", [], ""
        lang = language(request)
        began = time.monotonic()

        def word(kind, value):  # a form, tone or length in the writer's language
            return TEXT[f"{kind}.{value}"][lang] if f"{kind}.{value}" in TEXT else value

        for event in events:
            if isinstance(event, BriefReady):
                b = event.brief
                writing = say(request, "msg.writing", form=word("form", b.form).lower(), query=b.query,
                              tone=word("tone", b.tone), length=word("length", b.length))
                yield gr.update(), gr.update(), writing, gr.update(), cancel, gr.update()
            elif isinstance(event, PassagesFound):
                passages = event.passages
                status = say(request, "msg.found", count=len(passages))
                if not passages:
                    status += say(request, "msg.ungrounded")
                yield (gr.update(), table(request, "sources", _sources_table(passages)), status, gr.update(),
                       cancel, gr.update())
            elif isinstance(event, TextDelta):
                text += event.text
                status = writing + say(request, "msg.progress", words=word_count(text),
                                       seconds=round(time.monotonic() - began))
                yield render_streaming(text), gr.update(), status, gr.update(), cancel, gr.update()
            elif isinstance(event, DraftReady):
                d = event.draft
                page, status, _ = checked_draft(request, d)
                yield (page, table(request, "sources", _sources_table(d.passages, d.cited)),
                       status, d.generation_id, None, d.text)

    def write(prompt, form, tone, length, collections, max_new_tokens, temperature, seed, strategy,
              model="", request: gr.Request = None):
        s = writer_studio(studio, request)
        cancel = threading.Event()
        write_request = WriteRequest(prompt=prompt or "", form=form or "", tone=tone or "", length=length or "",
                                     collections=tuple(collections) if collections else None,
                                     strategy=strategy or "")
        settings = GenerationSettings(max_new_tokens=int(max_new_tokens), temperature=float(temperature),
                                      seed=parse_seed(seed, request), model=model or "")
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

    def revise(draft_id, instruction, selection, max_new_tokens, temperature, model="", request: gr.Request = None):
        s = writer_studio(studio, request)
        if not draft_id:
            raise gr.Error(say(request, "msg.revise_first"))
        cancel = threading.Event()
        settings = GenerationSettings(max_new_tokens=int(max_new_tokens), temperature=float(temperature),
                                      model=model or "")
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

    def exporter(kind):
        def export(generation_id, flagged, request: gr.Request):
            return export_draft(writer_studio(studio, request), kind, generation_id, request, flagged=bool(flagged))
        return export

    def stop(cancel):
        if cancel is not None:
            cancel.set()
        return None

    # --- layout -----------------------------------------------------------------------------

    with gr.Blocks(title="Inkstone") as demo:
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

        def clear_draft(request: gr.Request):
            return "", table(request, "sources", []), gr.DownloadButton(visible=False), "", gr.update(visible=False)

        def check_then_clear(prompt, max_new_tokens, temperature, seed, model, anyway, request: gr.Request):
            """Refuse an invalid request while the current draft is still on the page, and a
            request in a language the chosen model does not write (unless "write anyway")."""
            s = writer_studio(studio, request)
            settings = GenerationSettings(max_new_tokens=int(max_new_tokens), temperature=float(temperature),
                                          seed=parse_seed(seed, request))
            try:
                s.check_request(WriteRequest(prompt=prompt or ""), settings)
                advice = "" if anyway else s.language_advice(WriteRequest(prompt=prompt or ""), model or "")
                if advice:
                    raise StudioError(advice)
            except Exception as exc:
                raise user_error(exc) from None
            return clear_draft(request)

        def check_draft_then_clear(draft_id, request: gr.Request):
            if not draft_id:
                raise gr.Error(say(request, "msg.regenerate_first"))
            return clear_draft(request)

        # .success: the page is cleared, and the draft written, only when the request is valid
        write_button.click(check_then_clear, [prompt, max_new_tokens, temperature, seed, model, write_anyway], cleared,
                           api_name=False, show_progress_on=[sink]).success(
            write, [prompt, form, tone, length, collections, max_new_tokens, temperature, seed, strategy, model],
            outputs,
            api_name="write", concurrency_id="text", concurrency_limit=studio.ops.limits.max_concurrent_generations,
            show_progress_on=[draft])
        regenerate_button.click(check_draft_then_clear, draft_id, cleared, api_name=False,
                                show_progress_on=[sink]).success(
            regenerate, draft_id, outputs, api_name="regenerate", concurrency_id="text", show_progress_on=[draft])
        # progress (the queue, the timer) on the draft, not on the sources table
        revise_button.click(revise, [draft_id, instruction, selection, max_new_tokens, temperature, model], outputs,
                            api_name="revise", concurrency_id="text", show_progress_on=[draft])
        save_edit_button.click(save_edit, [draft_id, edit_text], outputs, api_name="save_edit",
                               concurrency_id="text", show_progress_on=[draft])
        stop_button.click(stop, cancel_switch, cancel_switch, api_name=False)
        draft_id.change(lambda value: str(int(value)) if value else "", draft_id, draft_label, api_name=False,
                        show_progress="hidden")
        export_button.click(exporter("md"), [draft_id, export_flagged], export_file, api_name="export_markdown",
                            show_progress_on=[sink])
        export_docx_button.click(exporter("docx"), [draft_id, export_flagged], export_file, api_name="export_docx",
                                 show_progress_on=[sink])
        def page_loaded(request: gr.Request):
            """Fill what depends on the writer: their collections, documents and history, and
            the tables' headers in their language."""
            s = writer_studio(studio, request)
            names = collection_names(s)
            return (documents_table(s, request), history_table(s, request), gr.update(choices=names, value=names[0]),
                    gr.update(choices=names), table(request, "sources", []), table(request, "report", []),
                    table(request, "results", []), empty_kb_hint(request), history_hint(s))

        def empty_kb_hint(request: gr.Request):
            """The Write tab says what to do first while the writer has no material."""
            return gr.update(visible=not writer_studio(studio, request).kb.stats()["documents"])

        demo.load(page_loaded, None, [knowledge["documents"], history["table"], knowledge["collection"],
                                      collections, sources, knowledge["report"], knowledge["results"],
                                      kb_hint, history["hint"]],
                  api_name=False)
        knowledge["added"].then(empty_kb_hint, None, kb_hint, api_name=False)
        demo.load(settings["loaded"], None, [settings["tab"], settings["listing"]], api_name=False)
    return demo
