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


def relative_score_fusion(rankings: list[list[tuple[int, float]]],
                          weights: list[float]) -> list[tuple[int, float]]:
    """Fuse scored lists: min-max normalise each list's scores to [0, 1], then add them weighted.

    Unlike rank fusion this keeps how far ahead a hit is: a BM25 score that towers over the
    rest still wins when the other list is unsure (the dense model on Chinese text).

    >>> relative_score_fusion([[(1, 0.9), (2, 0.5)], [(2, 12.0), (3, 2.0)]], [0.4, 0.6])
    [(2, 0.6), (1, 0.4), (3, 0.0)]
    """
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        if not ranking:
            continue
        values = [score for _, score in ranking]
        low, high = min(values), max(values)
        for item, score in ranking:
            normalised = (score - low) / (high - low) if high > low else 1.0
            scores[item] = scores.get(item, 0.0) + weight * normalised
    return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)


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
