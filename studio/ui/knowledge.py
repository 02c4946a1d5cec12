"""The Knowledge tab: collections, uploads with progress, the document table, search."""

from __future__ import annotations

import gradio as gr

from knowledge import DEFAULT_COLLECTION
from studio.pipeline import Studio
from studio.ui.common import user_error, writer_studio
from studio.ui.i18n import headers, say, t, table

FILE_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"]


def documents_table(studio: Studio, request) -> dict:
    """The documents the (writer's) studio can see, newest first."""
    ready, failed = say(request, "outcome.ready"), say(request, "outcome.failed")
    return table(request, "documents", [
        [d.id, d.name, d.file_type, d.pages or "", d.chunks, readable_size(d.size_bytes),
         d.created_at.strftime("%Y-%m-%d %H:%M"), d.collection,
         ready if d.status == "ready" else f"{failed}: {d.error}"] for d in studio.kb.documents()])


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

        def show(p):
            progress(p.files_done / max(p.files_total, 1),
                     desc=say(request, "msg.upload_progress", files_done=p.files_done, files_total=p.files_total,
                              chunks_done=p.chunks_embedded, chunks_total=p.chunks_total))

        try:
            outcomes = s.kb.add_files([(f, f.rsplit("/", 1)[-1]) for f in files],
                                      collection or s.kb.default_collection, progress=show)
        except Exception as exc:
            raise user_error(exc) from None
        rows = [[o.name, say(request, f"outcome.{o.status}"), o.chunks or "", o.reason] for o in outcomes]
        return table(request, "report", rows), *refreshed(s, request, collection)

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

    def delete_collection(name, request: gr.Request):
        s = writer_studio(studio, request)
        try:
            count = s.kb.delete_collection(name)
        except Exception as exc:
            raise user_error(exc) from None
        gr.Info(say(request, "msg.collection_deleted", name=name, count=count))
        return refreshed(s, request)

    def share(name, user, access, request: gr.Request):
        s = writer_studio(studio, request)
        if not hasattr(s.kb, "share_collection"):
            raise gr.Error(say(request, "msg.sharing_off"))
        try:
            s.kb.share_collection(name, (user or "").strip(), access)
        except Exception as exc:
            raise user_error(exc) from None
        gr.Info(say(request, "msg.shared", name=name, user=user, access=access) if access != "none"
                else say(request, "msg.unshared", name=name, user=user))

    def remove(doc_id, request: gr.Request):
        s = writer_studio(studio, request)
        if doc_id in (None, ""):
            raise gr.Error(say(request, "msg.doc_id_first"))
        try:
            s.kb.remove_document(int(doc_id))
        except Exception as exc:
            raise user_error(exc) from None
        return documents_table(s, request)

    def reindex(request: gr.Request, progress=gr.Progress()):
        s = writer_studio(studio, request)
        count = s.kb.reindex()
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
        # sharing only means something with accounts (python -m studio users add NAME)
        with gr.Row(visible=bool(studio.accounts and studio.accounts.enabled())):
            share_with = gr.Textbox(label=t("kb.share_with"), scale=2)
            share_access = gr.Radio(["read", "write", "none"], value="read", label=t("kb.share_access"), scale=2)
            share_button = gr.Button(t("kb.share"), scale=1)
        files = gr.File(label=t("kb.files"), file_count="multiple", file_types=FILE_TYPES)
        add = gr.Button(t("kb.add"), variant="primary")
        report = gr.Dataframe(headers=headers("report"), label=t("kb.report"),
                              interactive=False)
        documents = gr.Dataframe(headers=headers("documents"), label=t("kb.documents"), interactive=False)
        with gr.Row():
            doc_id = gr.Number(label=t("kb.doc_id"), precision=0, scale=1)
            remove_button = gr.Button(t("kb.remove"), variant="stop", scale=1)
            reindex_button = gr.Button(t("kb.reindex"), scale=1)
        with gr.Row():
            query = gr.Textbox(label=t("kb.search"), scale=4)
            k = gr.Slider(1, 20, value=5, step=1, label=t("kb.k"), scale=1)
        results = gr.Dataframe(headers=headers("results"),
                               label=t("kb.results"), interactive=False, wrap=True)

    add.click(upload, [files, collection], [report, collection, documents], api_name="add_documents")
    create_button.click(create, new_name, [collection, documents], api_name="create_collection")
    rename_button.click(rename, [collection, new_name], [collection, documents], api_name="rename_collection")
    delete_button.click(delete_collection, collection, [collection, documents], api_name="delete_collection")
    share_button.click(share, [collection, share_with, share_access], None, api_name="share_collection")
    remove_button.click(remove, doc_id, documents, api_name="remove_document")
    reindex_button.click(reindex, None, documents, api_name="reindex")
    query.submit(search, [query, k, collection], results, api_name="search")
    return {"documents": documents, "collection": collection, "report": report, "results": results}
