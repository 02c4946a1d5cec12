"""Inkstone's knowledge base: documents in, passages out.

A library: it never imports :mod:`studio` or gradio, and importing it loads no model and
opens no database.
"""

from knowledge.access import Owner
from knowledge.base import DEFAULT_COLLECTION, CollectionInfo, DocumentInfo, KnowledgeBase
from knowledge.errors import InvalidQuery, NotFound, UnreadableFile, UserError
from knowledge.ingestion import FileOutcome, IngestProgress
from knowledge.migrations import Migration, apply_migrations
from knowledge.search import Passage
from knowledge.settings import KnowledgeSettings

__all__ = [
    "DEFAULT_COLLECTION", "CollectionInfo", "DocumentInfo", "FileOutcome", "IngestProgress",
    "InvalidQuery", "KnowledgeBase", "KnowledgeSettings", "Migration", "NotFound", "Owner",
    "Passage", "UnreadableFile", "UserError", "apply_migrations",
]
