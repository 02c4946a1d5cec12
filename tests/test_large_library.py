"""What a growing library relies on: the vector index turns approximate past its threshold and
stays right through restarts, rebuilds and deletions; lexical pruning never loses a query's only
matching term. Real FAISS, real SQLite/PostgreSQL, the real packaged embedding model."""

from dataclasses import replace

import numpy as np
import pytest
import sqlalchemy as sa

from knowledge import lexical
from knowledge.base import KnowledgeBase
from knowledge.schema import Chunk
from knowledge.vector_index import VectorIndex, ivf_lists

TOPICS = ["bees and the waggle dance", "volcanic ash and lava", "sourdough bread and starters",
          "tides and the moon", "glaciers carving valleys", "owls hunting at night",
          "coral reefs bleaching", "comets and their tails", "salmon swimming upstream",
          "desert dunes moving with the wind", "lighthouses guiding ships", "maple syrup in spring"]


def unit_vectors(n: int, seed: int = 0, dim: int = 32) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def sql_ids(kb):
    with kb.engine.connect() as conn:
        return sorted(conn.execute(sa.select(Chunk.id)).scalars())


@pytest.fixture
def topics(make_file):
    return [make_file(f"topic-{i:02d}.txt", f"A short note about {topic}.") for i, topic in enumerate(TOPICS)]


def test_auto_index_is_exact_below_the_threshold_and_ivf_from_it():
    index = VectorIndex(32, "auto", threshold=400, nprobe=4)
    vectors = unit_vectors(2000)
    index.add(np.arange(1, 400), vectors[:399])
    assert index.structure == "flat"
    index.add(np.arange(400, 401), vectors[399:400])  # the 400th vector crosses it
    assert index.structure == "ivf" and len(index) == 400
    assert sorted(index.ids().tolist()) == list(range(1, 401))
    # every stored vector is still found as its own nearest neighbour, with its own id
    for i in (1, 200, 400):
        assert index.search(vectors[i - 1], 1)[0][0] == i


def test_ivf_retrains_when_the_library_outgrows_its_centroids():
    index = VectorIndex(32, "ivf", nprobe=1000)
    vectors = unit_vectors(4000, seed=1)
    index.add(np.arange(400), vectors[:400])
    first = index._index.nlist
    assert first == ivf_lists(400)
    index.add(np.arange(400, 4000), vectors[400:])
    assert index._index.nlist == ivf_lists(4000) > first
    assert sorted(index.ids().tolist()) == list(range(4000))
    assert index.search(vectors[3999], 1)[0][0] == 3999


def test_ivf_removes_vectors_in_place():
    index = VectorIndex(32, "ivf", nprobe=1000)
    vectors = unit_vectors(500, seed=2)
    index.add(np.arange(500), vectors)
    index.remove(np.arange(0, 500, 2))
    assert sorted(index.ids().tolist()) == list(range(1, 500, 2))
    found = [i for i, _ in index.search(vectors[10], 50)]
    assert 10 not in found and found and all(i % 2 for i in found)


def test_a_file_of_another_structure_is_not_loaded(tmp_path):
    ivf = VectorIndex(32, "ivf")
    ivf.add(np.arange(100), unit_vectors(100))
    ivf.save(tmp_path / "i.faiss")
    assert not VectorIndex(32, "flat").load(tmp_path / "i.faiss")
    assert not VectorIndex(32, "hnsw").load(tmp_path / "i.faiss")
    loaded = VectorIndex(32, "auto")
    assert loaded.load(tmp_path / "i.faiss") and loaded.structure == "ivf" and len(loaded) == 100


def test_index_switches_at_the_threshold_and_survives_restart_rebuild_and_deletion(
        kb_settings, embedder, topics):
    settings = replace(kb_settings, index_threshold=8)
    kb = KnowledgeBase.open(settings, embedder=embedder)
    kb.add_files(topics[:6])
    assert kb.index().structure == "flat"
    kb.add_files(topics[6:])
    assert kb.index().structure == "ivf"
    assert sorted(kb.index().ids().tolist()) == sql_ids(kb)
    assert kb.search("waggle dance", k=1, mode="dense")[0].document_name == "topic-00.txt"
    kb.close()

    # a restart loads the IVF file as saved
    kb = KnowledgeBase.open(settings, embedder=embedder)
    assert kb.index().structure == "ivf" and sorted(kb.index().ids().tolist()) == sql_ids(kb)
    # a rebuild from SQL makes the same kind of index over the same chunks
    assert kb.reindex() == len(sql_ids(kb))
    assert kb.index().structure == "ivf" and sorted(kb.index().ids().tolist()) == sql_ids(kb)
    kb.close()
    settings.index_path.unlink()
    kb = KnowledgeBase.open(settings, embedder=embedder)
    assert kb.index().structure == "ivf" and sorted(kb.index().ids().tolist()) == sql_ids(kb)

    # deleting a document takes its vectors out of the approximate index, without a rebuild
    bees = next(d for d in kb.documents() if d.name == "topic-00.txt")
    with kb.engine.connect() as conn:
        gone = set(conn.execute(sa.select(Chunk.id).where(Chunk.document_id == bees.id)).scalars())
    kb.remove_document(bees.id)
    remaining = set(kb.index().ids().tolist())
    assert not gone & remaining and sorted(remaining) == sql_ids(kb)
    assert all(p.document_name != "topic-00.txt"
               for p in kb.search("waggle dance of bees", k=20, mode="dense"))
    kb.close()
    # and the saved file agrees after a restart
    kb = KnowledgeBase.open(settings, embedder=embedder)
    assert kb.index().structure == "ivf" and sorted(kb.index().ids().tolist()) == sql_ids(kb)
    kb.close()


def test_another_process_adding_chunks_is_picked_up_incrementally(kb_settings, embedder, topics):
    settings = replace(kb_settings, index_threshold=8)
    here = KnowledgeBase.open(settings, embedder=embedder)
    here.add_files(topics[:4])
    assert len(here.index()) == 4
    there = KnowledgeBase.open(settings, embedder=embedder)
    there.add_files(topics[4:])
    assert sorted(here.index().ids().tolist()) == sql_ids(here)
    assert here.index().structure == "ivf"
    there.remove_document(next(d.id for d in there.documents() if d.name == "topic-03.txt"))
    assert sorted(here.index().ids().tolist()) == sql_ids(here)
    here.close()
    there.close()


@pytest.mark.parametrize("counts", [
    [0, 0, 90000],            # the only matching term is the commonest there is
    [50000, 0, 0],
    [0, 7, 0],
    [100, 200, 300],
    [30000, 40000, 50000],    # every term is over the budget alone
    [1, 30000, 2],
])
def test_pruning_never_drops_a_querys_only_or_rarest_matching_term(counts):
    terms = ["alpha", "beta", "gamma"]
    kept = lexical.prune_terms(terms, counts, budget=20_000)
    matching = [t for t, c in zip(terms, counts) if c > 0]
    rarest = min(matching, key=lambda t: counts[terms.index(t)])
    assert rarest in kept
    assert all(counts[terms.index(t)] > 0 for t in kept)
    if len(matching) == 1:
        assert kept == matching


def test_pruning_drops_the_commonest_terms_past_the_budget():
    assert lexical.prune_terms(["the", "tides", "moon"], [900, 3, 40], budget=100) == ["tides", "moon"]
    assert lexical.prune_terms(["the", "tides", "moon"], [900, 3, 40], budget=1000) == ["the", "tides", "moon"]


HARBOURS = {f"harbour-{i:02d}.txt" for i in range(12)}


@pytest.mark.parametrize("query, expected", [
    ("harbour zebra", {"zebra.txt"}),                   # the rare term decides, the common one goes
    ("harbour", HARBOURS | {"zebra.txt"}),              # the only term, however common, stays
    ("harbour qqqnothing", HARBOURS | {"zebra.txt"}),   # the only *matching* term stays
    ("港口斑马", {"zebra.txt", "斑马.txt"}),              # Chinese bigrams: the rare bigram decides
])
def test_lexical_search_with_a_small_budget_keeps_what_matters(kb_settings, embedder, make_file,
                                                                 query, expected):
    settings = replace(kb_settings, lexical_prune_budget=5)
    kb = KnowledgeBase.open(settings, embedder=embedder)
    files = [make_file(f"harbour-{i:02d}.txt", f"The harbour at dawn, note {i}. 港口的早晨。")
             for i in range(12)]
    files.append(make_file("zebra.txt", "A zebra walked past the harbour. 斑马走过港口。"))
    files.append(make_file("斑马.txt", "斑马的条纹"))
    kb.add_files(files)
    hits = kb.search(query, k=3, mode="lexical")
    assert hits, f"{query!r} found nothing"
    assert hits[0].document_name in expected
    kb.close()


def test_pruned_lexical_search_ranks_candidates_by_every_term(kb_settings, embedder, make_file):
    """Past the budget only chunks with a rare term are candidates, but the common term still
    scores them: the longer note that has both ranks first, as in the exhaustive ranking, where
    scoring by the rare term alone would put it last (BM25 favours the shortest note)."""
    kb = KnowledgeBase.open(replace(kb_settings, lexical_prune_budget=5), embedder=embedder)
    files = [make_file(f"harbour-{i:02d}.txt", f"The harbour at dawn, note {i}.") for i in range(6)]
    # more notes without the common term, so that BM25 gives it a positive weight (df < N/2)
    files += [make_file(f"gulls-{i:02d}.txt", f"Gulls over the cliffs, note {i}.") for i in range(20)]
    files += [make_file("zebra-1.txt", "A zebra."), make_file("zebra-2.txt", "Zebra stripes."),
              make_file("zebra-3.txt", "A zebra at the harbour.")]
    kb.add_files(files)
    with kb.engine.connect() as conn:
        pruned = lexical.search(conn, "harbour zebra", 3, prune_budget=5)
        exhaustive = dict(lexical.search(conn, "harbour zebra", 50, prune_budget=0))
        only_rare = lexical.search(conn, "zebra", 3, prune_budget=0)
    # every candidate carries its exhaustive score (all terms), best first
    assert [s for _, s in pruned] == pytest.approx([exhaustive[i] for i, _ in pruned])
    assert pruned[0][1] == pytest.approx(max(exhaustive.values()))
    assert kb.chunk_text(pruned[0][0]) == "A zebra at the harbour."
    assert kb.chunk_text(only_rare[0][0]) != kb.chunk_text(pruned[0][0])  # the common term decided
    # and the top k of the candidates (the chunks with the rare term) is their exhaustive top k
    candidates = sorted(((s, i) for i, s in exhaustive.items() if "zebra" in kb.chunk_text(i).lower()),
                        reverse=True)
    with kb.engine.connect() as conn:
        for k in (1, 2, 3):
            top = lexical.search(conn, "harbour zebra", k, prune_budget=5)
            assert [s for _, s in top] == pytest.approx([s for s, _ in candidates[:k]])  # ties: any order
    kb.close()


def test_the_int8_embedder_stays_close_to_the_float_one(embedder):
    """INKSTONE_EMBEDDING_QUANTIZE trades exactness for speed: the vectors move a little (so
    the int8 model really runs) but keep their neighbours, English and Chinese alike."""
    from knowledge.embedding import Embedder

    texts = [f"A short note about {topic}." for topic in TOPICS] + ["潮汐与月亮的关系", "火山灰和熔岩"]
    exact = embedder.encode(texts)
    int8 = Embedder(quantize=True).encode(texts)
    assert int8.shape == exact.shape and int8.dtype == np.float32
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    cosines = (exact * int8).sum(axis=1)
    assert cosines.min() > 0.93 and cosines.min() < 0.9999
    # each text's nearest neighbour among the float vectors is its own float vector
    assert ((int8 @ exact.T).argmax(axis=1) == np.arange(len(texts))).all()
