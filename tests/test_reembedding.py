"""Switching the library's embedding model: every chunk embedded again (in the background from
Settings), search answering from the old vectors meanwhile, and the new model kept on restart."""

import pytest

from knowledge import KnowledgeBase
from knowledge.embedding import Embedder, packaged_model_path
from knowledge.errors import UserError
from studio.errors import StudioError
from studio.reembedding import Reembedding

NOTES = {"tides.md": "# Tides\n\nTides rise and fall twice a day because the moon pulls on the oceans.",
         "herons.md": "# Herons\n\nGrey herons hunt fish in shallow water at dawn.",
         "潮汐.md": "# 潮汐\n\n潮汐每天涨落两次，因为月球吸引海洋。"}


@pytest.fixture
def library(kb, make_file):
    kb.add_files([make_file(name, text) for name, text in NOTES.items()])
    return kb


def another_model() -> Embedder:
    """The packaged weights under their folder's name: to the library, a different model."""
    return Embedder(str(packaged_model_path()))


def test_search_answers_from_the_old_vectors_while_the_library_is_embedded_again(library, make_file, kb_settings):
    new = another_model()
    seen = []

    def progress(p):
        found = [x.document_name for x in library.search("herons hunting fish", k=1)]
        seen.append((p.chunks_embedded, p.chunks_total, library.embedder.model_id, found))
        with pytest.raises(UserError, match="being embedded again"):
            library.add_files([make_file("late.md", "# Late\n\nA late note.")])

    count = library.switch_embedder(new, progress=progress)
    assert count == 3 and len(seen) == 3
    assert [s[0] for s in seen] == [1, 2, 3] and {s[1] for s in seen} == {3}
    assert all(model == "all-MiniLM-L6-v2" and found == ["herons.md"] for _, _, model, found in seen)
    assert library.embedder is new and library.stats()["embedding_model"] == new.model_id
    assert [x.document_name for x in library.search("herons hunting fish", k=1)] == ["herons.md"]
    library.add_files([make_file("after.md", "# After\n\nFiles go in again.")])
    library.close()
    # a restart with no model set keeps the library's new one (a set one would win, and be checked)
    reopened = KnowledgeBase.open(kb_settings)
    assert reopened.embedder.model_id == new.model_id
    reopened.close()


def test_the_switch_runs_in_the_background_and_reports_its_end(library):
    job = Reembedding(library)
    with pytest.raises(StudioError, match="embedded with all-MiniLM-L6-v2 already"):
        job.start("")
    assert job.start(str(packaged_model_path())).state == "running"
    status = job.wait(timeout=300)
    assert (status.state, status.chunks_done, status.chunks_total) == ("done", 3, 3)
    assert library.embedder.model_id == str(packaged_model_path())


def test_an_embedder_that_cannot_load_is_a_failure_and_search_goes_on(library, tmp_path):
    job = Reembedding(library)
    job.start(str(tmp_path / "no-such-model"))
    status = job.wait(timeout=300)
    assert status.state == "failed" and "could not be loaded" in status.error
    assert library.embedder.model_id == "all-MiniLM-L6-v2"
    assert [x.document_name for x in library.search("herons hunting fish", k=1)] == ["herons.md"]
    assert not library.switching_to
