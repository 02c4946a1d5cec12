"""Full-text search inside the database: SQLite FTS5 (BM25) or PostgreSQL tsvector.

Chinese, Japanese and Korean runs are indexed as overlapping character bigrams, so a query
finds a CJK phrase without a segmentation dictionary; other words go through the database's
own tokenizer (case-folded, English-stemmed).
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy import Connection

from knowledge.scripts import CJK_CLASS, CJK_RUN, cjk_bigrams

_WORD = re.compile(f"[{CJK_CLASS}]+|[^\\W_{CJK_CLASS}]+")
# Words too common to help ranking; dropping them from queries keeps OR-queries fast.
_STOPWORDS = frozenset("""
a an and are as at be but by can could did do does for from had has have how i if in into is
it its me my no not of on or our so such than that the their them then there these they this
to was we were what when where which who why will with would you your about after all also any
been before being between both during each few more most other over same should some through
under until very while write article blog post please tell give make
""".split())


def index_text(text: str) -> str:
    """The text the lexical index stores: CJK runs replaced by their bigrams.

    >>> index_text("Inkstone 支持中文检索")
    'Inkstone  支持 持中 中文 文检 检索 '
    """
    return CJK_RUN.sub(lambda m: " " + " ".join(cjk_bigrams(m.group())) + " ", text)


def query_terms(query: str) -> list[str]:
    """Distinct search terms of ``query``: lower-cased words without stopwords, CJK bigrams.

    >>> query_terms("What is the Boundary Layer of 北京大学?")
    ['boundary', 'layer', '北京', '京大', '大学']
    """
    terms: list[str] = []
    for match in _WORD.finditer(query):
        token = match.group()
        if CJK_RUN.fullmatch(token):
            terms.extend(cjk_bigrams(token))
        else:
            terms.append(token.lower())
    kept = [t for t in terms if t not in _STOPWORDS] or terms
    return list(dict.fromkeys(kept))


def add(conn: Connection, rows: list[tuple[int, str]]) -> None:
    """Index ``(chunk_id, text)`` rows in the caller's transaction."""
    if not rows:
        return
    params = [{"id": chunk_id, "body": index_text(text)} for chunk_id, text in rows]
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text("INSERT INTO chunk_fts(rowid, body) VALUES (:id, :body)"), params)
    else:
        conn.execute(sa.text(
            "INSERT INTO chunk_fts(chunk_id, body) VALUES (:id, to_tsvector('english', :body))"),
            params)


def remove(conn: Connection, chunk_ids: list[int]) -> None:
    """Drop the given chunks from the index in the caller's transaction."""
    if not chunk_ids:
        return
    column = "rowid" if conn.dialect.name == "sqlite" else "chunk_id"
    statement = sa.text(f"DELETE FROM chunk_fts WHERE {column} IN :ids").bindparams(
        sa.bindparam("ids", expanding=True))
    for start in range(0, len(chunk_ids), 500):
        conn.execute(statement, {"ids": chunk_ids[start : start + 500]})


def search(conn: Connection, query: str, k: int,
           collection_ids: list[int] | None = None) -> list[tuple[int, float]]:
    """The ``k`` best ``(chunk_id, score)`` for ``query``, best first (higher is better)."""
    terms = query_terms(query)
    if not terms:
        return []
    params: dict = {"k": k}
    where = ""
    if collection_ids is not None:
        where = ("AND c.document_id IN (SELECT id FROM documents "
                 "WHERE collection_id IN :collections)")
        params["collections"] = collection_ids
    if conn.dialect.name == "sqlite":
        params["q"] = " OR ".join(f'"{t}"' for t in terms)
        statement = sa.text(
            "SELECT chunk_fts.rowid, bm25(chunk_fts) AS score FROM chunk_fts "
            f"JOIN chunks c ON c.id = chunk_fts.rowid WHERE chunk_fts MATCH :q {where} "
            "ORDER BY score LIMIT :k")
        sign = -1.0  # FTS5's bm25() is lower-is-better
    else:
        params["q"] = " | ".join(terms)
        statement = sa.text(
            "SELECT f.chunk_id, ts_rank_cd(f.body, q) AS score "
            "FROM chunk_fts f JOIN chunks c ON c.id = f.chunk_id, "
            "to_tsquery('english', :q) q "
            f"WHERE f.body @@ q {where} ORDER BY score DESC LIMIT :k")
        sign = 1.0
    if collection_ids is not None:
        statement = statement.bindparams(sa.bindparam("collections", expanding=True))
    return [(int(row[0]), sign * float(row[1])) for row in conn.execute(statement, params)]
