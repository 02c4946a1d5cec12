"""Ingestion steps for one file: check, read, parse (bounded), chunk. And what a batch reports."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from knowledge.chunking import ChunkSpan, chunk_document, document_text
from knowledge.errors import UnreadableFile
from knowledge.readers import SANDBOXED_TYPES, ParsedDocument, file_type, read_document
from knowledge.sandbox import read_document_bounded
from knowledge.settings import KnowledgeSettings


@dataclass(frozen=True)
class FileOutcome:
    """The per-file line of an ingestion report."""

    name: str
    status: str  # "added" | "replaced" | "duplicate" | "failed" | "cancelled"
    message: str = ""  # duplicate of what / why it failed
    document_id: int | None = None
    chunks: int = 0
    code: str = ""  # the reason's stable name (see knowledge.errors), for a page in another language
    params: dict = field(default_factory=dict)  # what fills the reason

    def line(self) -> str:
        """One line for a terminal or a log, e.g. ``added     notes.md  (12 chunks)``."""
        detail = f"({self.chunks} chunks)" if self.status == "added" else self.reason
        return f"{self.status:<9} {self.name}  {detail}"

    @property
    def reason(self) -> str:
        """The message without the leading file name that user errors carry."""
        prefix = f"{self.name}: "
        return self.message[len(prefix):] if self.message.startswith(prefix) else self.message


@dataclass(frozen=True)
class IngestProgress:
    files_done: int  # stored (or refused) for good
    files_total: int
    chunks_embedded: int
    chunks_total: int  # chunks known so far (files are parsed ahead of embedding)
    current: str = ""
    files_read: int = 0  # parsed (or refused); files are read ahead of embedding, in groups

    @property
    def fraction(self) -> float:
        """Rough share of the work done: reading the files is the first half, embedding their
        chunks the second (what is known of it so far).

        >>> IngestProgress(0, 4, 64, 128, files_read=4).fraction
        0.75
        """
        read = self.files_read / self.files_total if self.files_total else 1.0
        embedded = self.chunks_embedded / self.chunks_total if self.chunks_total else read
        return round(min(1.0, 0.5 * read + 0.5 * embedded), 4)


@dataclass
class LoadedFile:
    name: str
    data: bytes
    file_type: str
    sha256: str


@dataclass
class PreparedDocument:
    file: LoadedFile
    parsed: ParsedDocument
    text: str
    chunks: list[ChunkSpan] = field(default_factory=list)


def clean_name(name: str) -> str:
    """A file name safe to store and show: no folders, no control characters, at most 255 chars.

    >>> clean_name("../../etc/pass\\x00wd.txt")
    'passwd.txt'
    """
    base = PurePath(str(name).replace("\\", "/")).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = re.sub(r"\s+", " ", base).strip() or "unnamed"
    if len(base) > 255:
        suffix = PurePath(base).suffix[:16]
        base = base[: 255 - len(suffix)] + suffix
    return base


def load_file(path: Path, name: str, settings: KnowledgeSettings) -> LoadedFile:
    """Check type and size (before reading), then read and hash the file."""
    kind = file_type(name)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(f"{name}: could not be opened ({exc.strerror})", code="file_damaged",
                             name=name) from None
    if size > settings.max_upload_bytes:
        raise UnreadableFile(
            f"{name}: is {size / 2**20:.1f} MB, over the {settings.max_upload_mb} MB limit; "
            "split it or raise INKSTONE_MAX_UPLOAD_MB", code="file_too_big", name=name,
            mb=round(size / 2**20, 1), limit=settings.max_upload_mb)
    if size == 0:
        raise UnreadableFile(f"{name}: is empty (0 bytes)", code="file_empty", name=name)
    data = path.read_bytes()
    return LoadedFile(name, data, kind, hashlib.sha256(data).hexdigest())


def prepare(file: LoadedFile, settings: KnowledgeSettings) -> PreparedDocument:
    """Parse (in a bounded child process for complex formats) and chunk a loaded file."""
    if file.file_type in SANDBOXED_TYPES:
        parsed = read_document_bounded(file.data, file.name, timeout_s=settings.parse_timeout_s,
                                       memory_mb=settings.parse_memory_mb)
    else:
        parsed = read_document(file.data, file.name)
    if not parsed.has_text:
        raise UnreadableFile(f"{file.name}: contains no text to add (it is blank, or holds only images or empty "
                             "tables)", code="file_no_text", name=file.name)
    chunks = chunk_document(parsed, max_tokens=settings.chunk_tokens,
                            overlap_tokens=settings.chunk_overlap)
    return PreparedDocument(file, parsed, document_text(parsed), chunks)


def embedding_text(title: str, headings: tuple[str, ...], text: str) -> str:
    """What gets embedded and full-text indexed for a chunk: its context line, then its text.

    The document title and heading path tell the embedder what a terse passage is about;
    parts the chunk already starts with are not repeated.

    >>> embedding_text("Guide", ("Guide", "Install"), "Run make.")
    'Guide > Install\\nRun make.'
    """
    context = []
    for part in (title, *headings):
        if part and part not in context and not text.startswith(part):
            context.append(part)
    return (" > ".join(context) + "\n" + text) if context else text
