"""The System tab: the studio at a glance in plain words, then the details, then the
Prometheus text for monitoring behind a disclosure."""

from __future__ import annotations

import gradio as gr

from studio.overview import Overview, overview
from studio.pipeline import Studio
from studio.ui.common import writer_studio
from studio.ui.i18n import say, t


def summary_markdown(view: Overview, request) -> str:
    """The overview as a short list in the browser's language."""
    lines = []
    for model in view.models:
        role = say(request, f"system.role_{model.role}")
        if not model.id:
            lines.append(say(request, "system.model_none", role=role))
        else:
            state = say(request, "system.loaded" if model.loaded else "system.not_loaded")
            lines.append(say(request, "system.model", role=role, id=model.id, state=state))
    lines.append(say(request, "system.material", documents=view.documents, chunks=view.chunks))
    typical = (say(request, "system.typical", seconds=f"{view.typical_draft_s:g}")
               if view.typical_draft_s is not None else say(request, "system.typical_none"))
    lines.append(say(request, "system.drafts", count=view.drafts_today) + " " + typical)
    if view.errors_last_hour is not None:  # studio-wide: shown to admins
        lines.append(say(request, "system.errors", count=view.errors_last_hour))
    return "\n".join(f"- {line}" for line in lines)


def system_tab(studio: Studio) -> gr.Tab:
    """Lay out and wire the tab; returns it so the page can refresh it when it is opened."""

    def system_status(request: gr.Request):
        s = writer_studio(studio, request)  # a writer sees their own figures; an admin, everything
        metrics = studio.ops.prometheus() if s.admin else ""
        return s.system_status(), metrics, summary_markdown(overview(s), request)

    with gr.Tab(t("tab.system")) as tab:
        summary = gr.Markdown(elem_id="system-summary")
        refresh = gr.Button(t("system.refresh"))
        with gr.Accordion(t("system.details"), open=True):
            gr.Markdown(t("system.about"))
            # open: nested values shown, not folded into "Object(4)"
            details = gr.JSON(label=t("system.status"), open=True)
        with gr.Accordion(t("system.metrics"), open=False):
            metrics = gr.Code(label=t("system.metrics"), language=None)

    refresh.click(system_status, None, [details, metrics, summary], api_name="system_status")
    tab.select(system_status, None, [details, metrics, summary], api_name=False)
    return tab
