"""The knowledge base end to end on real SQLite and PostgreSQL, a real FAISS index and the real
packaged embedding model: what goes in is findable, what fails is reported, SQL and FAISS agree."""

import numpy as np
import pytest
import sqlalchemy as sa

from knowledge.base import KnowledgeBase
from knowledge.errors import InvalidQuery, NotFound
from knowledge.schema import Chunk
from tests.documents import docx_bytes, pdf_bytes

CORPUS = {
    "bees.md": "# Bees\n\nHoney bees communicate the location of flowers with a waggle dance. "
               "The angle of the dance shows the direction relative to the sun.",
    "volcano.txt": "Volcanic eruptions eject ash and lava. Magma rises through cracks in the "
                   "crust when pressure builds up beneath the volcano.",
    "bread.txt": "Sourdough bread rises because wild yeast and lactic acid bacteria ferment the "
                 "dough. A starter must be fed flour and water every day.",
    "tea.md": "# 茶\n\n龙井茶产于杭州西湖一带，是中国著名的绿茶。采摘时间一般在清明节前后。",
}


@pytest.fixture
def corpus(make_file):
    return [make_file(name, text) for name, text in CORPUS.items()]


def index_ids(kb):
    return sorted(kb.index().ids().tolist())


def sql_ids(kb):
    with kb.engine.connect() as conn:
        return sorted(conn.execute(sa.select(Chunk.id)).scalars())


def assert_consistent(kb):
    """SQL chunks, FTS rows and FAISS vectors describe the same set of chunks."""
    ids = sql_ids(kb)
    assert index_ids(kb) == ids
    table, column = ("chunk_fts", "rowid") if kb.engine.dialect.name == "sqlite" else ("chunk_fts", "chunk_id")
    with kb.engine.connect() as conn:
        fts = sorted(conn.execute(sa.text(f"SELECT {column} FROM {table}")).scalars())
    assert fts == ids


def test_added_documents_are_found_by_meaning_and_by_words(kb, corpus):
    outcomes = kb.add_files(corpus)
    assert [o.status for o in outcomes] == ["added"] * 4
    assert_consistent(kb)
    # by meaning: no shared keyword with the bee text
    assert kb.search("how do insects tell each other where food is", k=1, mode="dense")[0].document_name == "bees.md"
    # by words, regardless of case
    assert kb.search("SOURDOUGH STARTER", k=1, mode="lexical")[0].document_name == "bread.txt"
    # Chinese is searchable although it has no spaces
    top = kb.search("西湖龙井", k=1, mode="lexical")[0]
    assert top.document_name == "tea.md" and "龙井茶" in top.text
    # hybrid puts the right document first and says where the passage is
    best = kb.search("magma pressure under a volcano", k=2)[0]
    assert best.document_name == "volcano.txt"
    assert best.text in kb.document_text(best.document_id)
    assert kb.document_text(best.document_id)[best.char_start : best.char_end] == best.text
    assert best.dense_score is not None and best.lexical_score is not None


def test_hybrid_uses_both_signals(kb, make_file):
    # One document matches only by a rare code word, another only by meaning; five others
    # match neither, so each signal has to pick its document out of seven, not two.
    kb.add_files([
        make_file("codes.txt", "Project XQ-77 is the internal name for the harbour survey."),
        make_file("sea.txt", "Waves crash on the shore while gulls circle above the fishing boats."),
        make_file("budget.txt", "The quarterly budget review covers salaries, rent and software licences."),
        make_file("bread.txt", "Bake the loaf at 220 degrees for forty minutes, then let it cool on a rack."),
        make_file("compiler.txt", "The compiler reports a type error on line twelve of the parser module."),
        make_file("trails.txt", "Mountain trails close in winter after heavy snow and avalanche warnings."),
        make_file("concert.txt", "The orchestra tuned for a long minute before the symphony began."),
    ])
    query = "XQ-77 seaside birds"
    assert [p.document_name for p in kb.search(query, k=7, mode="lexical")] == ["codes.txt"]
    assert kb.search("seaside birds", k=7, mode="lexical") == []  # no word in common with sea.txt
    assert kb.search("seaside birds", k=1, mode="dense")[0].document_name == "sea.txt"
    hybrid = kb.search(query, k=2)
    assert {p.document_name for p in hybrid} == {"codes.txt", "sea.txt"}


def test_duplicates_are_detected_by_content_not_name(kb, make_file):
    first = make_file("a.txt", "The same words twice.")
    kb.add_files([first])
    copy = make_file("renamed copy.txt", "The same words twice.")
    outcomes = kb.add_files([copy, copy])
    assert [(o.status, o.message) for o in outcomes] == [
        ("duplicate", "duplicate of a.txt"), ("duplicate", "duplicate of a.txt")]
    assert len([d for d in kb.documents() if d.status == "ready"]) == 1


def test_a_broken_file_mid_batch_is_reported_and_the_rest_goes_in(kb, make_file, tmp_path):
    files = [
        make_file("good1.txt", "Otters hold hands while they sleep."),
        make_file("locked.pdf", pdf_bytes(["secret"], password="pw")),
        make_file("empty.md", b""),
        make_file("scan.pdf", pdf_bytes([""], drawing_only=True)),
        make_file("corrupt.docx", b"PK\x03\x04 this is not really a zip"),
        make_file("image.png", b"\x89PNG\r\n"),
        make_file("good2.docx", docx_bytes([("h1", "Owls"), ("p", "Owls hunt at night.")])),
    ]
    outcomes = kb.add_files(files)
    by_name = {o.name: o for o in outcomes}
    assert [o.name for o in outcomes] == [f.name for f in files]
    assert by_name["good1.txt"].status == by_name["good2.docx"].status == "added"
    reasons = {name: by_name[name].message for name in by_name if by_name[name].status == "failed"}
    assert "encrypted" in reasons["locked.pdf"]
    assert "empty" in reasons["empty.md"]
    assert "no text layer" in reasons["scan.pdf"]
    assert "damaged" in reasons["corrupt.docx"]
    assert "unsupported file type" in reasons["image.png"]
    assert_consistent(kb)
    documents = {d.name: d for d in kb.documents()}
    assert documents["locked.pdf"].status == "failed" and documents["locked.pdf"].chunks == 0
    assert kb.search("owls at night", k=1)[0].document_name == "good2.docx"


def test_oversized_file_is_refused_before_reading(kb_settings, embedder, make_file):
    from dataclasses import replace

    kb = KnowledgeBase.open(replace(kb_settings, max_upload_mb=1), embedder=embedder)
    big = make_file("big.txt", b"word " * 300_000)
    [outcome] = kb.add_files([big])
    assert outcome.status == "failed" and "over the 1 MB limit" in outcome.message


def _fail_inserts_for(conn, document_name):
    """A real database failure: a trigger that aborts inserting the chunks of one document."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE TRIGGER fail_one BEFORE INSERT ON chunks WHEN (SELECT name FROM documents "
            f"WHERE id = NEW.document_id) = '{document_name}' BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    else:
        conn.exec_driver_sql(
            "CREATE FUNCTION fail_one() RETURNS trigger AS $$ BEGIN IF (SELECT name FROM documents "
            f"WHERE id = NEW.document_id) = '{document_name}' THEN RAISE EXCEPTION 'disk full'; "
            "END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
        conn.exec_driver_sql("CREATE TRIGGER fail_one BEFORE INSERT ON chunks "
                             "FOR EACH ROW EXECUTE FUNCTION fail_one()")


def test_database_failure_mid_batch_leaves_no_partial_document(kb, corpus):
    with kb.engine.begin() as conn:
        _fail_inserts_for(conn, "volcano.txt")
    outcomes = kb.add_files(corpus)
    assert [(o.name, o.status) for o in outcomes] == [
        ("bees.md", "added"), ("volcano.txt", "failed"), ("bread.txt", "added"), ("tea.md", "added")]
    assert "could not be saved" in outcomes[1].message
    # the document row inserted before its chunks failed was rolled back with them
    assert "volcano.txt" not in {d.name for d in kb.documents() if d.status == "ready"}
    assert_consistent(kb)


def test_embedder_failure_mid_batch_is_raised_and_nothing_half_written(kb, corpus, monkeypatch):
    kb.add_files(corpus[:1])

    def broken(texts):
        raise RuntimeError("worker died")

    monkeypatch.setattr(kb.embedder, "encode", broken)
    with pytest.raises(RuntimeError, match="worker died"):
        kb.add_files(corpus[1:])
    monkeypatch.undo()
    assert [d.name for d in kb.documents() if d.status == "ready"] == ["bees.md"]
    assert_consistent(kb)
    # the batch can simply be sent again
    assert [o.status for o in kb.add_files(corpus)] == ["duplicate", "added", "added", "added"]
    assert_consistent(kb)


def test_progress_reports_files_and_chunks(kb, corpus):
    seen = []
    kb.add_files(corpus, progress=seen.append)
    assert seen[-1].files_done == seen[-1].files_total == 4
    assert seen[-1].chunks_embedded == seen[-1].chunks_total > 0
    files = [p.files_done for p in seen]
    assert files == sorted(files)


def test_progress_while_embedding_says_the_files_are_read(kb, corpus, monkeypatch):
    # the files are parsed ahead of embedding: while the chunks are embedded (the slow part)
    # the report says every file is read, rather than "0 of 4 files" until the end
    seen, during = [], []
    encode = kb.embedder.encode

    def watched(texts):
        during.append(seen[-1])
        return encode(texts)

    monkeypatch.setattr(kb.embedder, "encode", watched)
    kb.add_files(corpus, progress=seen.append)
    assert during and all(p.files_read == p.files_total == 4 for p in during)
    assert during[0].chunks_embedded == 0 and 0.45 <= during[0].fraction <= 0.55
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_remove_document_removes_its_vectors_and_words(kb, corpus):
    kb.add_files(corpus)
    bread = next(d for d in kb.documents() if d.name == "bread.txt")
    kb.remove_document(bread.id)
    assert_consistent(kb)
    assert all(p.document_name != "bread.txt" for p in kb.search("sourdough yeast", k=5))
    with pytest.raises(NotFound):
        kb.remove_document(bread.id)


@pytest.mark.parametrize("bad_id", [0, -1, 2**31, 10**12])
def test_ids_that_can_name_no_row_read_as_not_found_on_every_database(kb, corpus, bad_id):
    # PostgreSQL refuses to compare an INTEGER id with a number past 32 bits
    kb.add_files(corpus[:1])
    for call in (kb.document_text, kb.chunk_text, kb.remove_document):
        with pytest.raises(NotFound):
            call(bad_id)


def test_index_is_rebuilt_when_the_faiss_file_is_missing_or_stale(kb_settings, embedder, corpus):
    kb = KnowledgeBase.open(kb_settings, embedder=embedder)
    kb.add_files(corpus[:2])
    stale = kb_settings.index_path.read_bytes()  # the index as it was with two documents
    kb.add_files(corpus[2:])
    expected = sql_ids(kb)
    kb.close()

    kb_settings.index_path.unlink()
    reopened = KnowledgeBase.open(kb_settings, embedder=embedder)
    assert index_ids(reopened) == expected
    reopened.close()

    kb_settings.index_path.write_bytes(stale)
    reopened = KnowledgeBase.open(kb_settings, embedder=embedder)
    assert index_ids(reopened) == expected
    assert reopened.search("waggle dance", k=1)[0].document_name == "bees.md"
    reopened.close()


def test_a_second_process_sees_new_documents_through_sql(kb_settings, embedder, corpus):
    writer = KnowledgeBase.open(kb_settings, embedder=embedder)
    reader = KnowledgeBase.open(kb_settings, embedder=embedder)
    writer.add_files(corpus[:1])
    assert reader.search("waggle dance", k=1)[0].document_name == "bees.md"
    writer.add_files(corpus[1:2])
    assert reader.search("volcano magma", k=1, mode="dense")[0].document_name == "volcano.txt"


def test_collections_filter_search(kb, make_file):
    kb.add_files([make_file("a.txt", "Apples grow in orchards.")], collection="fruit")
    kb.add_files([make_file("b.txt", "Apples of the eye are pupils.")], collection="idioms")
    hits = kb.search("apples", k=5, collections=["fruit"])
    assert [p.collection for p in hits] == ["fruit"]
    assert {c.name: c.documents for c in kb.collections()} == {"fruit": 1, "idioms": 1}
    kb.rename_collection("idioms", "sayings")
    assert [p.collection for p in kb.search("apples", k=5, collections=["sayings"])] == ["sayings"]
    assert kb.delete_collection("sayings") == 1
    assert_consistent(kb)
    with pytest.raises(InvalidQuery, match="Unknown collection"):
        kb.search("apples", collections=["sayings"])


@pytest.mark.parametrize("query, k, message", [
    ("", 5, "empty"), ("   \n\t", 5, "empty"), ("ok", 0, "`k` must be"), ("ok", 10_000, "`k` must be"),
    ("?!...", 5, "Nothing to search for"), ("，。？！", 5, "Nothing to search for"),
    ("herons " * 1200, 5, "the limit is 8000"),
])
def test_bad_queries_get_clear_errors(kb, query, k, message):
    with pytest.raises(InvalidQuery, match=message):
        kb.search(query, k=k)


def test_search_on_an_empty_knowledge_base_returns_nothing(kb):
    assert kb.search("anything at all") == []


def test_hnsw_index_answers_and_rebuilds_on_removal(tmp_path, embedder, corpus):
    from knowledge.settings import KnowledgeSettings

    kb = KnowledgeBase.open(KnowledgeSettings(data_dir=tmp_path / "h", index_type="hnsw"),
                            embedder=embedder)
    kb.add_files(corpus)
    assert kb.search("waggle dance of bees", k=1, mode="dense")[0].document_name == "bees.md"
    kb.remove_document(next(d.id for d in kb.documents() if d.name == "bees.md"))
    assert_consistent(kb)


def test_reindex_rebuilds_from_stored_embeddings_without_the_model_changing(kb, corpus):
    kb.add_files(corpus)
    before = kb.search("bread starter", k=3, mode="dense")
    assert kb.reindex() == len(sql_ids(kb))
    after = kb.search("bread starter", k=3, mode="dense")
    assert [p.chunk_id for p in before] == [p.chunk_id for p in after]
    with kb.engine.connect() as conn:
        stored = conn.execute(sa.select(Chunk.embedding)).scalars().first()
    vector = np.frombuffer(stored, dtype=np.float32)
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4


def test_changing_the_embedding_model_asks_for_a_reembed(kb_settings, embedder, corpus):
    from knowledge.embedding import Embedder
    from knowledge.errors import UserError

    kb = KnowledgeBase.open(kb_settings, embedder=embedder)
    kb.add_files(corpus[:1])
    kb.close()
    with pytest.raises(UserError, match="reindex --reembed"):
        KnowledgeBase.open(kb_settings, embedder=Embedder("some/other-model"))


def test_cancelled_ingestion_keeps_what_was_stored_and_reports_the_rest(kb_settings, embedder, make_file):
    import threading
    from dataclasses import replace

    # each file is stored as soon as it is read
    kb = KnowledgeBase.open(replace(kb_settings, embed_group_chunks=1), embedder=embedder)
    files = [make_file(f"note{i}.md", f"Note {i}: grey herons hunt fish number {i} at dawn.") for i in range(4)]
    cancel = threading.Event()

    def progress(p):
        if p.files_done >= 1:  # the writer presses Cancel once the first file is in
            cancel.set()

    outcomes = kb.add_files(files, progress=progress, cancel=cancel)
    assert [o.status for o in outcomes] == ["added", "cancelled", "cancelled", "cancelled"]
    assert outcomes[1].code == "cancelled"
    assert [d.name for d in kb.documents()] == ["note0.md"]
    assert {p.document_name for p in kb.search("herons hunt fish", k=10)} == {"note0.md"}
    kb.close()


def test_cancel_while_embedding_stores_none_of_the_files_being_embedded(kb_settings, embedder, make_file):
    """Cancel waits for one model batch (128 chunks), not for a whole group of files (512):
    the files whose chunks were being embedded are reported cancelled and nothing of them stays."""
    import dataclasses
    import threading

    # one entry a chunk: 200 short chunks embed in a fifth of the time of 200 full ones
    kb = KnowledgeBase.open(dataclasses.replace(kb_settings, chunk_tokens=32, chunk_overlap=0), embedder=embedder)
    entries = (f"Entry {i}: grey herons hunt fish number {i} at dawn, standing still in the shallow water "
               f"of the estuary before they strike." for i in range(200))
    files = [make_file("long.md", "\n\n".join(entries)), make_file("short.md", "Egrets nest in colonies.")]
    cancel = threading.Event()

    def progress(p):
        if p.chunks_embedded >= 1 and not cancel.is_set():  # Cancel, once the first batch is embedded
            assert p.chunks_embedded < p.chunks_total  # more than one batch: it lands mid-work
            cancel.set()

    outcomes = kb.add_files(files, progress=progress, cancel=cancel)
    assert [o.status for o in outcomes] == ["cancelled", "cancelled"]
    assert kb.documents() == [] and kb.search("herons hunt fish", k=5) == []
    kb.close()


def test_same_name_new_content_can_replace_the_old_version_or_keep_both(kb, make_file, tmp_path):
    first = make_file("tides.md", "High water at the north quay is at 06:40.")
    kb.add_files([first])
    old_id = kb.documents()[0].id
    newer = tmp_path / "v2"
    newer.mkdir()
    (newer / "tides.md").write_text("High water at the north quay is at 07:15 after the dredging.")
    replaced = kb.add_files([newer / "tides.md"], same_name="replace")[0]
    assert (replaced.status, replaced.code, replaced.params) == ("replaced", "replaced", {"id": old_id})
    assert [(d.id, d.name) for d in kb.documents()] == [(replaced.document_id, "tides.md")]
    assert all("06:40" not in p.text for p in kb.search("high water north quay", k=10))
    with kb.engine.connect() as conn:  # the old version's chunks are gone, not only hidden
        assert conn.execute(sa.select(sa.func.count()).select_from(Chunk).where(
            Chunk.document_id == old_id)).scalar() == 0
    (newer / "tides.md").write_text("High water at the north quay is at 07:30 in spring.")
    kept = kb.add_files([newer / "tides.md"])[0]  # "keep both" is the default
    assert kept.status == "added" and len(kb.documents()) == 2
    with pytest.raises(InvalidQuery, match="same_name"):
        kb.add_files([first], same_name="overwrite")
