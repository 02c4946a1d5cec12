"""The History tab: every generation with its request, sources, model and seed; open, compare
two versions side by side, re-run, delete."""

from __future__ import annotations

import json

import gradio as gr

from studio.pipeline import DraftReady, ImagesReady, Studio
from studio.ui.common import show_markdown, user_error, writer_studio
from studio.ui.i18n import headers, say, t, table


def history_table(studio: Studio, request) -> dict:
    rows = []
    for r in studio.history.list(limit=200):
        preview = r.request.get("prompt") or r.request.get("instruction") or ""
        rows.append([r.id, r.kind, r.action, r.status, r.parent_id or "", r.model_id, r.backend,
                     r.seed, r.created_at.strftime("%Y-%m-%d %H:%M"), preview[:80]])
    return table(request, "history", rows)


def _describe(studio: Studio, generation_id) -> tuple[str, str]:
    record = studio.history.get(int(generation_id))
    if record.kind == "image":
        body = f"![image {record.id}](/gradio_api/file={record.output})\n\n`{record.output}`"
    else:
        body = show_markdown(record.output)
    sources = "\n".join(f"[{s['n']}] {s['document']}" + (f", p. {s['page']}" if s.get("page") else "")
                        for s in record.passages)
    facts = {"request": record.request, "model": record.model_id, "backend": record.backend,
             "seed": record.seed, "settings": record.settings, "revises": record.parent_id,
             "timings_s": record.timings, "created": record.created_at.isoformat()}
    meta = f"```json\n{json.dumps(facts, ensure_ascii=False, indent=1)}\n```"
    if sources:
        meta += "\n\n**Sources**\n\n" + show_markdown(sources)
    return body, meta


def history_tab(studio: Studio) -> dict:
    def need(value, request, message="msg.id_first"):
        if value in (None, ""):
            raise gr.Error(say(request, message))
        return int(value)

    def open_one(generation_id, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            body, meta = _describe(s, need(generation_id, request))
        except gr.Error:
            raise
        except Exception as exc:
            raise user_error(exc) from None
        return body, meta

    def compare(a, b, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            left, _ = _describe(s, need(a, request))
            right, _ = _describe(s, need(b, request, "msg.second_id_first"))
            diff = s.history.diff(int(a), int(b)) or say(request, "msg.no_differences")
        except gr.Error:
            raise
        except Exception as exc:
            raise user_error(exc) from None
        return left, right, diff

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

    with gr.Tab(t("tab.history")):
        gr.Markdown(t("history.empty"))
        generations = gr.Dataframe(headers=headers("history"), label=t("history.table"), interactive=False,
                                   wrap=True)
        with gr.Row():
            first = gr.Number(label=t("history.id"), precision=0)
            second = gr.Number(label=t("history.other"), precision=0)
            refresh = gr.Button(t("history.refresh"))
        with gr.Row():
            open_button = gr.Button(t("history.open"))
            compare_button = gr.Button(t("history.compare"))
            rerun_button = gr.Button(t("history.rerun"))
            delete_button = gr.Button(t("history.delete"), variant="stop")
        with gr.Row():
            left = gr.Markdown(sanitize_html=True)
            right = gr.Markdown(sanitize_html=True)
        details = gr.Markdown(sanitize_html=True)
        diff = gr.Code(label=t("history.diff"), language=None)

    def listing(request: gr.Request):
        return history_table(writer_studio(studio, request), request)

    refresh.click(listing, None, generations, api_name="history")
    open_button.click(open_one, first, [left, details], api_name="open_generation")
    compare_button.click(compare, [first, second], [left, right, diff], api_name="compare_generations")
    rerun_button.click(rerun, first, generations, api_name="rerun", concurrency_id="text")
    delete_button.click(delete, first, generations, api_name="delete_generation")
    return {"table": generations}
