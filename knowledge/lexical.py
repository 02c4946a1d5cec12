"""Full-text search inside the database: SQLite FTS5 (BM25) or PostgreSQL tsvector.

Chinese, Japanese and Korean runs are indexed as overlapping character bigrams, so a query
finds a CJK phrase without a segmentation dictionary; other words go through the database's
own tokenizer (case-folded, English-stemmed).
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy import Connection

from textkit.scripts import CJK_CLASS, CJK_RUN, cjk_bigrams

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


def _match_one(dialect: str) -> str:
    """A WHERE clause matching chunks that contain the one term ``:t``."""
    if dialect == "sqlite":
        return "chunk_fts MATCH :t"
    return "body @@ to_tsquery('english', :t)"


def _quoted(term: str, dialect: str) -> str:
    if dialect == "sqlite":
        return '"' + term.replace('"', '""') + '"'
    return term  # letters and digits only (query_terms), nothing to_tsquery reads as syntax


def document_counts(conn: Connection, terms: list[str], cap: int) -> list[int]:
    """How many chunks contain each term, counted up to ``cap`` (a longer posting list reads
    as ``cap``): the cost is bounded by ``cap`` rows per term however large the library, and
    counting a row costs a tenth or less of ranking it (measured on FTS5 at 100k chunks)."""
    dialect = conn.dialect.name
    # One statement for all terms: a Chinese question brings a dozen bigrams.
    parts = [f"SELECT {i} AS term, count(*) AS n FROM (SELECT 1 FROM chunk_fts WHERE "
             f"{_match_one(dialect).replace(':t', f':t{i}')} LIMIT :cap) AS hits{i}"
             for i in range(len(terms))]
    params = {f"t{i}": _quoted(term, dialect) for i, term in enumerate(terms)}
    params["cap"] = cap
    counts = dict(conn.execute(sa.text(" UNION ALL ".join(parts)), params).all())
    return [int(counts[i]) for i in range(len(terms))]


def _counts_within(conn: Connection, terms: list[str], budget: int) -> list[int]:
    """Chunk counts exact enough for :func:`prune_terms` at a fraction of counting to ``budget``.

    A first pass counts every term up to an eighth of the budget; only the terms found that
    often are counted further, and only as far as the room the rarer terms leave. At a million
    chunks a question of twelve common terms would otherwise count 240k rows before ranking any.
    """
    first = budget // 8 + 1
    counts = document_counts(conn, terms, first)
    used = 0
    for c in sorted(c for c in counts if 0 < c < first):
        if used + c > budget:
            break
        used += c
    room = budget - used
    common = [i for i, c in enumerate(counts) if c >= first]
    if common and room >= first:
        further = document_counts(conn, [terms[i] for i in common], room + 1)
        for i, c in zip(common, further):
            counts[i] = c
    elif common:
        for i in common:
            counts[i] = budget + 1  # past the room left: dropped, unless nothing rarer matched
    return counts


def prune_terms(terms: list[str], counts: list[int], budget: int) -> list[str]:
    """The terms worth asking the index for, given how many chunks hold each (capped at ``budget``).

    Ranking an OR-query costs a few microseconds per chunk in the union of its terms' posting
    lists, and BM25 weighs a term found in many chunks least. So terms are taken rarest first
    while their chunks add up to at most ``budget``; the rest, the commonest, are dropped. Terms
    found nowhere go too (they change no score). The rarest matching term is always kept, so a
    query's only matching term is never dropped.

    >>> prune_terms(["tides", "the", "moon", "qzx"], [40, 5000, 900, 0], budget=5000)
    ['tides', 'moon']
    >>> prune_terms(["said", "prince"], [5000, 4000], budget=3000)
    ['prince']
    """
    matching = sorted((count, position) for position, count in enumerate(counts) if count > 0)
    kept, rows = [], 0
    for count, position in matching:
        if kept and rows + count > budget:
            break
        kept.append(position)
        rows += count
    return [terms[position] for position in sorted(kept)]


def _or(terms: list[str], dialect: str) -> str:
    return (" OR " if dialect == "sqlite" else " | ").join(_quoted(t, dialect) for t in terms)


def search(conn: Connection, query: str, k: int,
           collection_ids: list[int] | None = None, *,
           prune_budget: int = 20_000) -> list[tuple[int, float]]:
    """The ``k`` best ``(chunk_id, score)`` for ``query``, best first (higher is better).

    When the query's posting lists add up to more than ``prune_budget`` chunks, only chunks
    holding one of its rarer terms (:func:`prune_terms`) are candidates, but every candidate is
    scored with every query term, so the scores are those of the exhaustive ranking and only a
    chunk holding nothing but the commonest terms can be missed (measured at a million chunks:
    lexical top-10 agreement 1.0 with the exhaustive ranking, against 0.61 when the common terms
    were dropped from the scores too). 0 ranks every chunk holding any term (slow on a large
    library). KnowledgeSettings.lexical_prune_budget says why the default.
    """
    terms = query_terms(query)
    if not terms:
        return []
    dialect = conn.dialect.name
    rare, common = terms, []
    if prune_budget and len(terms) > 1:
        counts = _counts_within(conn, terms, prune_budget)
        rare = prune_terms(terms, counts, prune_budget)
        if not rare:
            return []  # no term occurs anywhere
        common = [t for t, c in zip(terms, counts) if c > 0 and t not in rare]
    if dialect != "sqlite":
        # ts_rank_cd reads only the row's own tsvector: candidates are ranked by every term.
        return _top(conn, _or(rare, dialect), k, collection_ids, rank_by=_or(rare + common, dialect))
    if not common:
        return _top(conn, _or(rare, dialect), k, collection_ids)
    # FTS5's bm25() sums, over the phrases of its MATCH expression, each phrase's weight in the
    # row (its idf over the whole table, which FTS5 recounts from the phrase's whole posting list
    # in every statement). Two statements, each ranked and cut inside FTS5:
    # - chunks holding a rare and a common term, matched by an expression naming every term, so
    #   their scores are exact;
    # - chunks holding a rare term, scored by the rare terms alone: exact for the chunks without
    #   a common term, and an underestimate for the others, which the first statement scores
    #   exactly. So the merged top k is the exhaustive top k of the candidates, and the long
    #   posting lists of the common terms are read by one statement, not two.
    rare_q, common_q = _or(rare, dialect), _or(common, dialect)
    scores = dict(_top(conn, rare_q, k, collection_ids))
    scores.update(_top(conn, f"({rare_q}) AND ({common_q})", k, collection_ids))
    return sorted(scores.items(), key=lambda hit: -hit[1])[:k]


def _top(conn: Connection, match: str, k: int, collection_ids: list[int] | None, *,
         rank_by: str = "") -> list[tuple[int, float]]:
    """The ``k`` best chunks matching the full-text expression ``match`` (PostgreSQL: ranked by
    the tsquery ``rank_by``), as ``(chunk_id, score)`` with higher better."""
    params: dict = {"q": match, "k": k}
    where = ""
    if collection_ids is not None:
        where = ("AND c.document_id IN (SELECT id FROM documents "
                 "WHERE collection_id IN :collections)")
        params["collections"] = collection_ids
    # The chunks table is joined only to filter by collection, so an unfiltered query does not
    # look up the chunk row of every match (FTS rows and chunks commit together: no orphans).
    join = "" if collection_ids is None else "JOIN chunks c ON c.id = {key} "
    if conn.dialect.name == "sqlite":
        statement = sa.text(
            "SELECT chunk_fts.rowid, bm25(chunk_fts) AS score FROM chunk_fts "
            + join.format(key="chunk_fts.rowid") +
            f"WHERE chunk_fts MATCH :q {where} ORDER BY score LIMIT :k")
        sign = -1.0  # FTS5's bm25() is lower-is-better
    else:
        params["rank"] = rank_by or match
        statement = sa.text(
            "SELECT f.chunk_id, ts_rank_cd(f.body, to_tsquery('english', :rank)) AS score "
            "FROM to_tsquery('english', :q) q, chunk_fts f "
            + join.format(key="f.chunk_id") +
            f"WHERE f.body @@ q {where} ORDER BY score DESC LIMIT :k")
        sign = 1.0
    if collection_ids is not None:
        statement = statement.bindparams(sa.bindparam("collections", expanding=True))
    return [(int(row[0]), sign * float(row[1])) for row in conn.execute(statement, params)]
