"""What a search returns, and how dense and lexical rankings are fused."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk with where it came from, ready to quote and cite."""

    chunk_id: int
    document_id: int
    document_name: str
    document_title: str
    collection: str
    text: str
    page: int | None
    char_start: int
    char_end: int
    headings: str
    score: float  # fused score: higher is better, comparable within one result list
    dense_score: float | None = None  # cosine similarity, when dense search found it
    lexical_score: float | None = None  # BM25 (SQLite) or ts_rank_cd (PostgreSQL)

    @property
    def location(self) -> str:
        """Human-readable source location, e.g. ``report.pdf, p. 3``."""
        where = f", p. {self.page}" if self.page else ""
        return f"{self.document_name}{where}"


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = 60) -> list[tuple[int, float]]:
    """Fuse ranked id lists: each id scores the sum of ``1 / (k + rank)`` over the lists.

    >>> reciprocal_rank_fusion([[1, 2, 3], [3, 1]])[:2]
    [(1, 0.0325...), (3, 0.0322...)]
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)
