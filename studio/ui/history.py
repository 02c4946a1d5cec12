"""The History tab: every generation with its request, sources, model and seed; open one (its
brief, sources and exact prompt), compare two versions side by side, export, re-run, delete."""

from __future__ import annotations

import json

import gradio as gr

from studio.history import GenerationRecord
from studio.pipeline import DraftReady, ImagesReady, Studio
from studio.ui.common import export_draft, parse_id, refusal_sink, show_markdown, user_error, writer_studio
from studio.ui.i18n import TEXT, headers, language, say, t, table

# Longest model name shown in the table: a long local path would push the request column off
# the page; the full id is in the record when it is opened.
MODEL_CHARS = 28


def short_model(model_id: str) -> str:
    """A model id short enough for a table column: its last path part, cut with an ellipsis.

    >>> short_model("/srv/models/HuggingFaceTB/SmolLM2-135M-Instruct-Q8_0.gguf")
    'SmolLM2-135M-Instruct-Q8_0.…'
    """
    name = model_id.rstrip("/").rsplit("/", 1)[-1] or model_id
    return name if len(name) <= MODEL_CHARS else name[: MODEL_CHARS - 1] + "…"


def history_table(studio: Studio, request) -> dict:
    """The table of generations, newest first."""
    rows = []
    for r in studio.history.list(limit=200):
        preview = r.request.get("prompt") or r.request.get("instruction") or ""
        rows.append([r.id, r.kind, r.action, r.status, r.parent_id or "", short_model(r.model_id),
                     r.backend, r.seed, r.created_at.strftime("%Y-%m-%d %H:%M"), preview[:80]])
    return table(request, "history", rows)


def history_hint(studio: Studio) -> dict:
    """The "nothing yet" line, shown only while there is nothing."""
    return gr.update(visible=studio.history.count() == 0)


def _brief_line(record: GenerationRecord, request) -> str:
    lang = language(request)
    brief = record.brief

    def word(kind):
        value = getattr(brief, kind)
        return TEXT[f"{kind}.{value}"][lang] if f"{kind}.{value}" in TEXT else value

    return say(request, "history.brief", form=word("form"), tone=word("tone"), length=word("length"),
               words=brief.target_words, query=brief.query)


def describe(studio: Studio, generation_id, request) -> tuple[str, str, str]:
    """A record as (its output, what made it, the exact prompt the model saw)."""
    record = studio.history.get(int(generation_id))
    if record.kind == "image":
        body = f"![image {record.id}](/gradio_api/file={record.output})\n\n`{record.output}`"
    else:
        body = show_markdown(record.output)
    parts = [f"**#{record.id}** · {record.action} · {record.status} · {record.created_at:%Y-%m-%d %H:%M}"]
    if record.brief:
        parts.append(_brief_line(record, request))
    request_text = record.request.get("prompt") or record.request.get("instruction") or ""
    if request_text:
        parts.append(say(request, "history.request") + " " + show_markdown(request_text))
    parts.append(say(request, "history.made_with", model=record.model_id, backend=record.backend,
                     seed=record.seed, settings=", ".join(f"{k} {v}" for k, v in record.settings.items()
                                                          if k != "seed")))
    if record.parent_id:
        parts.append(say(request, "history.revises", id=record.parent_id))
    if record.passages:
        cited = set(record.cited)
        listed = "\n".join(
            f"{n}. {'✓ ' if n in cited else ''}{show_markdown(p.document_name)}"
            + (f", p. {p.page}" if p.page else "")
            + f" — {show_markdown(' '.join(p.text.split())[:160])}" for n, p in enumerate(record.passages, 1))
        parts.append(f"**{say(request, 'history.sources')}**\n\n{listed}")
    prompt = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in record.messages)
    if not prompt and record.kind == "image":
        prompt = json.dumps(record.settings, ensure_ascii=False, indent=1)
    return body, "\n\n".join(parts), prompt


def history_tab(studio: Studio) -> dict:
    def need(value, request, message="msg.id_first"):
        number = parse_id(value, request)
        if number is None:
            raise gr.Error(say(request, message))
        return number

    def open_one(generation_id, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            body, meta, prompt = describe(s, need(generation_id, request), request)
        except gr.Error:
            raise
        except Exception as exc:
            raise user_error(exc) from None
        # the previous comparison goes: the page shows one record now
        return body, meta, "", "", prompt

    def compare(a, b, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            left, _, _ = describe(s, need(a, request), request)
            right, _, _ = describe(s, need(b, request, "msg.second_id_first"), request)
            diff = s.history.diff(need(a, request), need(b, request)) or say(request, "msg.no_differences")
        except gr.Error:
            raise
        except Exception as exc:
            raise user_error(exc) from None
        return left, right, diff, "", ""

    def rerun(generation_id, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            record = s.history.get(need(generation_id, request))
            events = s.rerun(record.id) if record.kind == "text" else s.rerun_image(record.id)
            final = list(events)[-1]
        except gr.Error:
            raise
        except Exception as exc:
            raise user_error(exc) from None
        new_id = final.draft.generation_id if isinstance(final, DraftReady) else (
            final.artworks[0].generation_id if isinstance(final, ImagesReady) and final.artworks else None)
        gr.Info(say(request, "msg.rerun_done", id=record.id, new_id=new_id))
        return history_table(s, request)

    def delete(generation_id, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            s.history.delete(need(generation_id, request))
        except gr.Error:
            raise
        except Exception as exc:
            raise user_error(exc) from None
        return history_table(s, request)

    def exporter(kind):
        def export(generation_id, request: gr.Request):
            return export_draft(writer_studio(studio, request), kind, generation_id, request)
        return export

    with gr.Tab(t("tab.history")) as tab:
        hint = gr.Markdown(t("history.empty"))
        sink = refusal_sink()
        generations = gr.Dataframe(headers=headers("history"), label=t("history.table"), interactive=False,
                                   wrap=True, column_widths=["6%", "7%", "9%", "9%", "8%", "18%", "11%",
                                                             "10%", "12%", "24%"])
        with gr.Row():
            first = gr.Textbox(label=t("history.id"), placeholder=t("id.type"))
            second = gr.Textbox(label=t("history.other"), placeholder=t("id.type"))
            refresh = gr.Button(t("history.refresh"))
        with gr.Row():
            open_button = gr.Button(t("history.open"))
            compare_button = gr.Button(t("history.compare"))
            rerun_button = gr.Button(t("history.rerun"))
            delete_button = gr.Button(t("history.delete"), variant="stop")
        with gr.Row():
            export_md = gr.Button(t("write.export_md"))
            export_docx = gr.Button(t("write.export_docx"))
            download = gr.DownloadButton(t("write.download"), visible=False, variant="secondary")
        with gr.Row():
            left = gr.Markdown(sanitize_html=True)
            right = gr.Markdown(sanitize_html=True)
        details = gr.Markdown(sanitize_html=True)
        with gr.Accordion(t("history.prompt"), open=False):
            prompt = gr.Code(label=t("history.prompt"), language=None, wrap_lines=True)
        diff = gr.Code(label=t("history.diff"), language=None)

    def listing(request: gr.Request):
        return history_table(writer_studio(studio, request), request)

    def hinting(request: gr.Request):
        return history_hint(writer_studio(studio, request))

    refresh.click(listing, None, generations, api_name="history").then(hinting, None, hint, api_name=False)
    tab.select(listing, None, generations, api_name=False).then(hinting, None, hint, api_name=False)
    # refusals are toasts, not red "Error" badges left on the table or the record
    quiet = {"show_progress_on": [sink]}

    def check_id(generation_id, request: gr.Request):
        need(generation_id, request)

    open_button.click(open_one, first, [left, details, right, diff, prompt], api_name="open_generation", **quiet)
    compare_button.click(compare, [first, second], [left, right, diff, details, prompt],
                         api_name="compare_generations", **quiet)
    rerun_button.click(check_id, first, None, api_name=False, **quiet).success(
        rerun, first, generations, api_name="rerun", concurrency_id="text").then(
        hinting, None, hint, api_name=False)
    delete_button.click(delete, first, generations, api_name="delete_generation", **quiet).then(
        hinting, None, hint, api_name=False)
    export_md.click(exporter("md"), first, download, api_name="export_generation_markdown", **quiet)
    export_docx.click(exporter("docx"), first, download, api_name="export_generation_docx", **quiet)
    return {"table": generations, "hint": hint}
