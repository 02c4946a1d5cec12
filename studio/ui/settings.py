"""The Settings tab (administrators only when accounts are on): connections to model servers
and image models, added, tested, edited and removed without a restart. A stored API key is
never sent back to the page; the form says "•••• set" instead."""

from __future__ import annotations


import gradio as gr

from studio.connections import Connection, probe, probe_image_model
from studio.errors import StudioError
from studio.reembedding import EMBEDDERS
from studio.ui.common import parse_id, refusal_sink, whole, writer_studio
from studio.ui.handling import handler
from studio.ui.i18n import explain, headers, say, t, table


def _row(c: Connection) -> list:
    return [c.name, c.kind, c.base_url if c.kind == "text" else c.model, ", ".join(c.languages),
            c.context_window or "", "•••• set" if c.has_key else ""]


def settings_tab(studio) -> dict:
    """Lay out and wire the tab; returns its parts the page fills on load."""

    def admin_studio(request):
        s = writer_studio(studio, request)
        if not s.admin:
            raise StudioError(say(request, "settings.admin_only"))
        return s

    def connections_table(request):
        return table(request, "connections", [_row(c) for c in admin_studio(request).catalog.connections.list()])

    @handler
    def loaded(request: gr.Request):
        visible = writer_studio(studio, request).admin
        return gr.update(visible=visible), (connections_table(request) if visible else table(request, "connections", []))

    @handler
    def chosen(evt: gr.SelectData, request: gr.Request):
        """Fill the form from the connection picked in the table (its key stays where it is)."""
        name = evt.row_value[0]
        c = admin_studio(request).catalog.connections.by_name(name)
        return (c.id, c.name, c.kind, c.base_url, gr.update(value="", placeholder=say(request, "msg.key_set")
                                                             if c.has_key else ""),
                c.model, ", ".join(c.languages), c.context_window, "")

    def cleared():
        return None, "", "text", "", gr.update(value="", placeholder=""), "", "", 0, ""

    @handler
    def test(connection_id, kind, base_url, api_key, model, request: gr.Request):
        """Ask the server for its models with the form's URL and key (the stored key when the
        field is left empty on a saved connection)."""
        connections = admin_studio(request).catalog.connections
        number = parse_id(connection_id, request)
        if kind == "image":
            answer = probe_image_model(model or "")
        else:
            key = api_key or (connections.api_key(number) if number is not None else "")
            answer = probe(base_url or "", key)
        if not answer.ok:
            return say(request, "msg.test_failed", error=explain(request, answer.problem))
        return say(request, "msg.test_ok", url=base_url if kind == "text" else model, ms=round(answer.latency_ms),
                   count=len(answer.models), models=", ".join(answer.models[:20]))

    @handler
    def save(connection_id, name, kind, base_url, api_key, model, languages, context, request: gr.Request):
        connections = admin_studio(request).catalog.connections
        saved = connections.save(connection_id=parse_id(connection_id, request), name=name or "", kind=kind,
                                 base_url=base_url or "", model=model or "", languages=languages or "",
                                 context_window=whole(context or 0, "context_window", request),
                                 api_key=api_key or None)
        return (saved.id, gr.update(value="", placeholder=say(request, "msg.key_set") if saved.has_key else ""),
                connections_table(request), say(request, "msg.saved_connection", name=saved.name))

    @handler
    def remove(connection_id, request: gr.Request):
        connections = admin_studio(request).catalog.connections
        number = parse_id(connection_id, request)
        if number is None:
            raise StudioError(say(request, "msg.choose_connection"))
        name = connections.get(number).name
        connections.remove(number)
        return (*cleared()[:-1], say(request, "msg.removed_connection", name=name), connections_table(request))

    def reembed_line(request) -> str:
        status = studio.reembedding.status()
        if status.state == "running":
            return say(request, "msg.reembed_running", model=status.model, done=status.chunks_done,
                       total=status.chunks_total or "?")
        if status.state == "done":
            return say(request, "msg.reembed_done", model=status.model, total=status.chunks_total)
        if status.state == "failed":
            return say(request, "msg.reembed_failed", model=status.model, error=status.error)
        return say(request, "msg.reembed_idle", model=studio.kb.embedder.model_id)

    @handler
    def reembed(model, request: gr.Request):
        admin_studio(request).reembedding.start(model or "")
        return reembed_line(request), gr.Timer(active=True)

    def reembed_progress(request: gr.Request):
        """The progress line while a switch runs; the timer stops when it has ended."""
        running = studio.reembedding.status().state == "running"
        return reembed_line(request), gr.Timer(active=running)

    with gr.Tab(t("tab.settings"), visible=False, elem_id="settings-tab") as tab:
        gr.Markdown(t("settings.about"))
        listing = gr.Dataframe(headers=headers("connections"), label=t("settings.connections"),
                               interactive=False, wrap=True, elem_id="connections")
        editing = gr.Number(None, precision=0, visible=False)
        with gr.Row():
            name = gr.Textbox(label=t("settings.name"), elem_id="connection-name")
            kind = gr.Radio([(t("settings.kind_text"), "text"), (t("settings.kind_image"), "image")], value="text",
                            label=t("settings.kind"))
        base_url = gr.Textbox(label=t("settings.base_url"), elem_id="connection-url")
        api_key = gr.Textbox(label=t("settings.api_key"), type="password", elem_id="connection-key")
        model = gr.Textbox(label=t("settings.model"))
        with gr.Row():
            languages = gr.Textbox(label=t("settings.languages"), elem_id="connection-languages")
            context = gr.Number(0, precision=0, minimum=0, label=t("settings.context"))
        with gr.Row():
            test_button = gr.Button(t("settings.test"), elem_id="connection-test")
            save_button = gr.Button(t("settings.save"), variant="primary", elem_id="connection-save")
            remove_button = gr.Button(t("settings.remove"), variant="stop")
            new_button = gr.Button(t("settings.new"))
        outcome = gr.Markdown("", elem_id="connection-outcome")
        sink = refusal_sink()
        gr.Markdown(t("settings.embedding"))
        with gr.Row():
            embedder = gr.Dropdown([(label, key) for key, label in EMBEDDERS], value="", allow_custom_value=True,
                                   label=t("settings.embedder"), scale=3, elem_id="embedder")
            reembed_button = gr.Button(t("settings.reembed"), scale=1, elem_id="reembed")
        reembed_status = gr.Markdown("", elem_id="reembed-status")
        ticker = gr.Timer(1.0, active=False)

    form = [editing, name, kind, base_url, api_key, model, languages, context, outcome]
    listing.select(chosen, None, form, api_name=False)
    new_button.click(cleared, None, form, api_name=False)
    test_button.click(test, [editing, kind, base_url, api_key, model], outcome, api_name=False,
                      show_progress_on=[outcome])
    save_button.click(save, [editing, name, kind, base_url, api_key, model, languages, context],
                      [editing, api_key, listing, outcome], api_name=False, show_progress_on=[sink])
    remove_button.click(remove, editing, form + [listing], api_name=False, show_progress_on=[sink])
    reembed_button.click(reembed, embedder, [reembed_status, ticker], api_name=False, show_progress_on=[sink])
    ticker.tick(reembed_progress, None, [reembed_status, ticker], api_name=False, show_progress="hidden")
    tab.select(reembed_progress, None, [reembed_status, ticker], api_name=False, show_progress="hidden")
    return {"tab": tab, "listing": listing, "loaded": loaded}
