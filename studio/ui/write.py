"""The Write tab's handlers: plain methods on the studio they serve, so a test can import and
call them; ``build_demo`` lays out the tab and wires them. Every one goes through
:func:`studio.ui.handling.handler`."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import gradio as gr

from studio.history import passage_snapshot
from studio.pipeline import BriefReady, DraftReady, PassagesFound, Studio, TextDelta
from studio.text_generation import GenerationSettings
from studio.ui.common import export_draft, number, parse_id, parse_seed, whole, word_count, writer_studio
from studio.ui.draft_view import render_draft, render_streaming
from studio.ui.handling import handler
from studio.ui.i18n import TEXT, language, say, table
from studio.understanding import WriteRequest

# Forms whose request works on a passage: the Selection box is that passage.
PASSAGE_FORMS = ("rewrite", "expand")


def sources_table(passages, cited=()) -> list[list]:
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


# A draft being written is shown at most this often. Each update re-sends and re-renders the
# whole draft, so a fast model (hundreds of tokens a second on a GPU or a connected server)
# updating per token costs the server and the writer's browser work that grows with the square
# of the draft's length, for changes no eye can follow. The first words show at once; the
# finished draft always replaces the last update.
STREAM_INTERVAL_S = 0.1


def stream_events(events, cancel, request):
    """Turn studio events into (draft, sources, status, draft id, cancel, edit text) updates."""
    text, passages, writing = "", [], ""
    lang = language(request)
    began = time.monotonic()
    shown = 0.0  # when the draft was last shown

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
            yield (gr.update(), table(request, "sources", sources_table(passages)), status, gr.update(),
                   cancel, gr.update())
        elif isinstance(event, TextDelta):
            text += event.text
            now = time.monotonic()
            if now - shown < STREAM_INTERVAL_S:
                continue
            shown = now
            status = writing + say(request, "msg.progress", words=word_count(text), seconds=round(now - began))
            yield render_streaming(text), gr.update(), status, gr.update(), cancel, gr.update()
        elif isinstance(event, DraftReady):
            d = event.draft
            page, status, _ = checked_draft(request, d)
            yield (page, table(request, "sources", sources_table(d.passages, d.cited)),
                   status, d.generation_id, None, d.text)


def generation_settings(max_new_tokens, temperature, seed=None, request=None, model="") -> GenerationSettings:
    """The model settings from the page's fields, each refused by name when it is not a number;
    ``model``: the picked model's key ("" the default)."""
    return GenerationSettings(max_new_tokens=whole(max_new_tokens, "max_new_tokens", request),
                              temperature=number(temperature, "temperature", request),
                              seed=parse_seed(seed, request), model=model or "")


def draft_number(draft_id, request, first: str) -> int:
    """The draft id on the page, or a ``gr.Error`` saying ``first`` (what to do first)."""
    value = parse_id(draft_id, request)
    if value is None:
        raise gr.Error(say(request, first))
    return value


@dataclass
class WriteHandlers:
    """What the Write tab's events do, for ``studio`` (scoped to the writer on each call)."""

    studio: Studio

    @handler
    def write(self, prompt, form, tone, length, collections, max_new_tokens, temperature, seed, strategy,
              selection=None, model="", request: gr.Request = None):
        """Write a draft, streaming; with the form "rewrite" or "expand", ``selection`` is the passage;
        ``model``: the picked model."""
        s = writer_studio(self.studio, request)
        cancel = threading.Event()
        passage = (selection or "").strip() if form in PASSAGE_FORMS else ""
        write_request = WriteRequest(prompt=prompt or "", form=form or "", tone=tone or "", length=length or "",
                                     collections=tuple(collections) if collections else None,
                                     source_text=passage, strategy=strategy or "")
        settings = generation_settings(max_new_tokens, temperature, seed, request, model)
        yield from stream_events(s.write(write_request, settings, cancel), cancel, request)

    @handler
    def regenerate(self, draft_id, request: gr.Request = None):
        """Another version of the draft on the page: same request and sources, a new seed."""
        s = writer_studio(self.studio, request)
        number_ = draft_number(draft_id, request, "msg.regenerate_first")
        cancel = threading.Event()
        yield from stream_events(s.rerun(number_, cancel, same_seed=False), cancel, request)

    @handler
    def revise(self, draft_id, instruction, selection, max_new_tokens, temperature, model="",
               request: gr.Request = None):
        s = writer_studio(self.studio, request)
        number_ = draft_number(draft_id, request, "msg.revise_first")
        cancel = threading.Event()
        settings = generation_settings(max_new_tokens, temperature, request=request, model=model)
        yield from stream_events(s.revise(number_, instruction, selection=selection or "",
                                          settings=settings, cancel=cancel), cancel, request)

    @handler
    def save_edit(self, draft_id, text, request: gr.Request = None):
        """The writer's own edit of the draft: checked like any draft, stored as a new version."""
        s = writer_studio(self.studio, request)
        d = s.save_edit(draft_number(draft_id, request, "msg.revise_first"), text or "")
        page, _, line = checked_draft(request, d)
        status = say(request, "msg.saved", id=d.generation_id, summary=line)
        return (page, table(request, "sources", sources_table(d.passages, d.cited)), status,
                d.generation_id, None, d.text)

    @handler
    def export_markdown(self, generation_id, flagged, request: gr.Request = None):
        return export_draft(writer_studio(self.studio, request), "md", generation_id, request, flagged=bool(flagged))

    @handler
    def export_docx(self, generation_id, flagged, request: gr.Request = None):
        return export_draft(writer_studio(self.studio, request), "docx", generation_id, request, flagged=bool(flagged))

    @staticmethod
    def stop(cancel):
        if cancel is not None:
            cancel.set()
        return None

    @staticmethod
    def clear_draft(request: gr.Request = None):
        return "", table(request, "sources", []), gr.DownloadButton(visible=False), "", gr.update(visible=False)

    @handler
    def check_then_clear(self, prompt, max_new_tokens, temperature, seed, model="", anyway=False,
                         request: gr.Request = None):
        """Refuse an invalid request while the current draft is still on the page, and a request
        in a language the picked model does not write (unless the writer ticked "write anyway")."""
        s = writer_studio(self.studio, request)
        s.check_request(WriteRequest(prompt=prompt or ""),
                        generation_settings(max_new_tokens, temperature, seed, request))
        advice = None if anyway else s.language_advice(WriteRequest(prompt=prompt or ""), model or "")
        if advice:
            raise advice
        return self.clear_draft(request)

    @handler
    def check_draft_then_clear(self, draft_id, request: gr.Request = None):
        draft_number(draft_id, request, "msg.regenerate_first")
        return self.clear_draft(request)

    @handler
    def empty_kb_hint(self, request: gr.Request = None):
        """The Write tab says what to do first while the writer has no material."""
        return gr.update(visible=not writer_studio(self.studio, request).kb.stats()["documents"])
