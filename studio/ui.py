"""The browser UI (the only module that imports gradio).

For now it offers the knowledge base: upload with progress and a per-file report, and a
search box that shows what retrieval would give. Writing and images join as they land.
"""

from __future__ import annotations

import logging

import gradio as gr

from knowledge import DEFAULT_COLLECTION, KnowledgeBase, UserError

log = logging.getLogger(__name__)

EMPTY_STATE = "Upload documents to ground your writing: TXT, Markdown, HTML, PDF or DOCX."


def _documents_table(kb: KnowledgeBase) -> list[list]:
    return [[d.name, d.file_type, d.pages or "", d.chunks, f"{d.size_bytes / 1024:.0f} KB",
             d.created_at.strftime("%Y-%m-%d %H:%M"), d.collection,
             "ready" if d.status == "ready" else f"failed: {d.error}"] for d in kb.documents()]


def build_demo(kb: KnowledgeBase) -> gr.Blocks:
    """Lay out the studio and wire its events to ``kb``."""

    def upload(files, progress=gr.Progress()):
        if not files:
            raise gr.Error("Choose one or more files to upload first.")

        def show(p):
            fraction = p.files_done / max(p.files_total, 1)
            progress(fraction, desc=f"{p.files_done}/{p.files_total} files, "
                                    f"{p.chunks_embedded}/{p.chunks_total} chunks embedded")

        try:
            outcomes = kb.add_files([(f, f.rsplit("/", 1)[-1]) for f in files],
                                    DEFAULT_COLLECTION, progress=show)
        except UserError as exc:
            raise gr.Error(str(exc)) from None
        report = [[o.name, o.status, o.chunks or "", o.reason] for o in outcomes]
        return report, _documents_table(kb)

    def search(query, k):
        try:
            passages = kb.search(query, k=int(k))
        except UserError as exc:
            raise gr.Error(str(exc)) from None
        if not passages:
            return [["", "", "", "No passages found. " + EMPTY_STATE]]
        return [[i, f"{p.score:.4f}", p.location, p.text] for i, p in enumerate(passages, 1)]

    with gr.Blocks(title="Inkstone") as demo:
        gr.Markdown("# Inkstone\nA writing studio grounded in your own material.")
        with gr.Tab("Knowledge"):
            gr.Markdown(EMPTY_STATE)
            files = gr.File(label="Documents", file_count="multiple",
                            file_types=[".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"])
            add = gr.Button("Add to knowledge base", variant="primary")
            report = gr.Dataframe(headers=["file", "result", "chunks", "reason"],
                                  label="Upload report", interactive=False)
            documents = gr.Dataframe(headers=["name", "type", "pages", "chunks", "size", "added",
                                              "collection", "status"],
                                     label="Documents", interactive=False)
            with gr.Row():
                query = gr.Textbox(label="Search your material", scale=4)
                k = gr.Slider(1, 20, value=5, step=1, label="passages", scale=1)
            results = gr.Dataframe(headers=["#", "score", "source", "passage"],
                                   label="What retrieval finds", interactive=False, wrap=True)
        add.click(upload, files, [report, documents], api_name="add_documents")
        query.submit(search, [query, k], results, api_name="search")
        demo.load(lambda: _documents_table(kb), None, documents, api_name=False)
    return demo
