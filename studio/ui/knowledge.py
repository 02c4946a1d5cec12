"""The Knowledge tab: collections, uploads with progress, the document table, search."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from knowledge import DEFAULT_COLLECTION
from studio.pipeline import Studio
from studio.ui.common import parse_id, refusal_sink, user_error, writer_studio
from studio.ui.i18n import headers, say, t, table

FILE_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"]


def documents_table(studio: Studio, request) -> dict:
    """The documents the (writer's) studio can see, newest first. Only documents that went in:
    a refused file is reported in its batch's report, not kept as a row here."""
    return table(request, "documents", [
        [d.id, d.name, d.file_type, d.pages or "", d.chunks, readable_size(d.size_bytes),
         d.created_at.strftime("%Y-%m-%d %H:%M"), d.collection, say(request, "outcome.ready")]
        for d in studio.kb.documents() if d.status == "ready"])


def readable_size(size: int) -> str:
    """A file size for people.

    >>> readable_size(110), readable_size(20_480), readable_size(3_500_000)
    ('110 B', '20 KB', '3.3 MB')
    """
    if size < 1024:
        return f"{size} B"
    if size < 1024**2:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024**2:.1f} MB"


def collection_names(studio: Studio) -> list[str]:
    return [c.name for c in studio.kb.collections()] or [studio.kb.default_collection]


def knowledge_tab(studio: Studio) -> dict:
    """Lay out and wire the tab; returns the components other tabs listen to."""

    def refreshed(s: Studio, request, selected=None):
        names = collection_names(s)
        return (gr.update(choices=names, value=selected if selected in names else names[0]),
                documents_table(s, request))

    def upload(files, collection, request: gr.Request, progress=gr.Progress()):
        s = writer_studio(studio, request)
        if not files:
            raise gr.Error(say(request, "msg.choose_files"))
        shown = [0.0]

        def show(p):
            shown[0] = max(shown[0], p.fraction)  # the bar never goes back
            progress(shown[0], desc=say(request, "msg.upload_progress", files_read=p.files_read,
                                        files_total=p.files_total, chunks_done=p.chunks_embedded,
                                        chunks_total=p.chunks_total))

        try:
            outcomes = s.kb.add_files([(f, f.rsplit("/", 1)[-1]) for f in files],
                                      collection or s.kb.default_collection, progress=show)
        except Exception as exc:
            raise user_error(exc) from None
        finally:  # Gradio's copies of the uploads: the text is stored, the raw files must not stay servable
            for f in files:
                Path(f).unlink(missing_ok=True)
        rows = [[o.name, say(request, f"outcome.{o.status}"), o.chunks or "", o.reason] for o in outcomes]
        # the file box empties: the batch is in (or reported), not waiting to be sent again
        return table(request, "report", rows), *refreshed(s, request, collection), None

    def create(name, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            created = s.kb.create_collection(name)
        except Exception as exc:
            raise user_error(exc) from None
        return refreshed(s, request, created.name)

    def rename(old, new, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            s.kb.rename_collection(old, new)
        except Exception as exc:
            raise user_error(exc) from None
        return refreshed(s, request, new.strip())

    def ask_delete(name, request: gr.Request):
        """Say what deleting ``name`` takes with it and show the confirm buttons."""
        s = writer_studio(studio, request)
        found = next((c for c in s.kb.collections() if c.name == name), None)
        if found is None:
            raise gr.Error(say(request, "msg.no_collection", name=name))
        return gr.update(visible=True), say(request, "msg.confirm_delete", name=name, count=found.documents)

    def delete_collection(name, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            count = s.kb.delete_collection(name)
        except Exception as exc:
            raise user_error(exc) from None
        gr.Info(say(request, "msg.collection_deleted", name=name, count=count))
        return *refreshed(s, request), gr.update(visible=False)

    def share(name, user, access, request: gr.Request):
        s = writer_studio(studio, request)
        if s.account is None:
            raise gr.Error(say(request, "msg.sharing_off"))
        try:
            s.share_collection(name, user, access)
        except Exception as exc:
            raise user_error(exc) from None
        gr.Info(say(request, "msg.shared", name=name, user=user, access=access) if access != "none"
                else say(request, "msg.unshared", name=name, user=user))

    def remove(doc_id, request: gr.Request):
        s = writer_studio(studio, request)
        number = parse_id(doc_id, request)
        if number is None:
            raise gr.Error(say(request, "msg.doc_id_first"))
        try:
            s.kb.remove_document(number)
        except Exception as exc:
            raise user_error(exc) from None
        return documents_table(s, request)

    def reindex(request: gr.Request, progress=gr.Progress()):
        s = writer_studio(studio, request)
        try:
            count = s.reindex()
        except Exception as exc:
            raise user_error(exc) from None
        gr.Info(say(request, "msg.reindexed", count=count))
        return documents_table(s, request)

    def search(query, k, collection, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            # a new writer's knowledge base has no collection yet, not even the one shown
            scope = [collection] if collection and s.kb.collections() else None
            passages = s.kb.search(query, k=int(k), collections=scope)
        except Exception as exc:
            raise user_error(exc) from None
        if not passages:
            return table(request, "results", [["", "", "", say(request, "msg.no_passages") + say(request, "kb.empty")]])
        return table(request, "results", [[i, f"{p.score:.3f}", p.location, p.text]
                                          for i, p in enumerate(passages, 1)])

    with gr.Tab(t("tab.knowledge")):
        gr.Markdown(t("kb.empty"))
        with gr.Row():
            # choices are filled per writer when the page loads
            collection = gr.Dropdown([DEFAULT_COLLECTION], value=DEFAULT_COLLECTION,
                                     label=t("kb.collection"), allow_custom_value=True, scale=2)
            new_name = gr.Textbox(label=t("kb.new_name"), scale=2)
            create_button = gr.Button(t("kb.create"), scale=1)
            rename_button = gr.Button(t("kb.rename"), scale=1)
            delete_button = gr.Button(t("kb.delete_collection"), variant="stop", scale=1)
        with gr.Row(visible=False) as confirm_row:
            confirm_text = gr.Markdown()
            confirm_button = gr.Button(t("kb.confirm_delete"), variant="stop", scale=0)
            cancel_button = gr.Button(t("kb.cancel"), scale=0)
        # sharing only means something with accounts (python -m studio users add NAME)
        with gr.Row(visible=bool(studio.accounts and studio.accounts.enabled())):
            share_with = gr.Textbox(label=t("kb.share_with"), scale=2)
            share_access = gr.Radio(["read", "write", "none"], value="read", label=t("kb.share_access"), scale=2)
            share_button = gr.Button(t("kb.share"), scale=1)
        sink = refusal_sink()
        files = gr.File(label=t("kb.files"), file_count="multiple", file_types=FILE_TYPES, elem_id="kb-files")
        add = gr.Button(t("kb.add"), variant="primary")
        report = gr.Dataframe(headers=headers("report"), label=t("kb.report"),
                              interactive=False)
        documents = gr.Dataframe(headers=headers("documents"), label=t("kb.documents"), interactive=False)
        with gr.Row():
            doc_id = gr.Textbox(label=t("kb.doc_id"), scale=1, placeholder=t("id.type"))
            remove_button = gr.Button(t("kb.remove"), variant="stop", scale=1)
            reindex_button = gr.Button(t("kb.reindex"), scale=1)
        with gr.Row():
            query = gr.Textbox(label=t("kb.search"), scale=4)
            k = gr.Slider(1, 20, value=5, step=1, label=t("kb.k"), scale=1)
        results = gr.Dataframe(headers=headers("results"),
                               label=t("kb.results"), interactive=False, wrap=True)

    # A refusal is a toast, not a red "Error" left on the collection box or a table: quick
    # events show no progress, and the upload checks its input before it starts.
    quiet = {"show_progress_on": [sink]}

    def check_files(files, request: gr.Request):
        if not files:
            raise gr.Error(say(request, "msg.choose_files"))

    # progress drawn once, on the report, not on every table the upload refreshes
    added = add.click(check_files, files, None, api_name=False, **quiet).success(
        upload, [files, collection], [report, collection, documents, files], api_name="add_documents",
        show_progress_on=[report])
    create_button.click(create, new_name, [collection, documents], api_name="create_collection", **quiet)
    rename_button.click(rename, [collection, new_name], [collection, documents], api_name="rename_collection",
                        **quiet)
    delete_button.click(ask_delete, collection, [confirm_row, confirm_text], api_name=False, **quiet)
    confirm_button.click(delete_collection, collection, [collection, documents, confirm_row],
                         api_name="delete_collection", **quiet)
    cancel_button.click(lambda: gr.update(visible=False), None, confirm_row, api_name=False)
    collection.change(lambda: gr.update(visible=False), None, confirm_row, api_name=False)
    share_button.click(share, [collection, share_with, share_access], None, api_name="share_collection")
    remove_button.click(remove, doc_id, documents, api_name="remove_document", **quiet)
    reindex_button.click(reindex, None, documents, api_name="reindex")
    query.submit(search, [query, k, collection], results, api_name="search", **quiet)
    return {"documents": documents, "collection": collection, "report": report, "results": results,
            "added": added}
