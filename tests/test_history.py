"""History: every generation stored with its provenance; versions chain and diff; delete works."""

import pytest

from knowledge.db import make_engine
from knowledge import Passage
from knowledge.errors import NotFound
from studio.history import History


def record(history, output, parent_id=None):
    return history.record(kind="text", action="write" if parent_id is None else "rewrite",
                          status="done", request={"prompt": "Write about tides"},
                          brief=None, passages=[Passage(4, 1, "tides.md", "Tides", "notes", "Tides.", None, 0, 6, "", 1.0)],
                          messages=[{"role": "user", "content": "..."}], model_id="m", backend="transformers",
                          settings={"temperature": 0.7, "seed": 5}, seed=5, output=output, cited=[1],
                          timings={"generate": 1.5}, parent_id=parent_id)


def test_round_trip_chain_diff_delete(database_url):
    history = History(make_engine(database_url))
    first = record(history, "Tides rise.\nTides fall.\n")
    second = record(history, "Tides rise twice a day.\nTides fall.\n", parent_id=first)
    third = record(history, "Tides rise twice a day.\nThey fall too.\n", parent_id=second)

    stored = history.get(second)
    assert (stored.parent_id, stored.seed, stored.cited) == (first, 5, [1])
    assert stored.request == {"prompt": "Write about tides"} and stored.passages[0].chunk_id == 4
    assert [r.id for r in history.chain(third)] == [first, second, third]
    assert [r.id for r in history.list()] == [third, second, first]

    diff = history.diff(first, second)
    assert "-Tides rise.\n" in diff and "+Tides rise twice a day.\n" in diff

    history.delete(second)
    assert history.get(third).parent_id is None
    with pytest.raises(NotFound):
        history.get(second)
    with pytest.raises(NotFound):
        history.delete(second)
    for beyond in (0, 2**31, 10**12):  # no row can have it (PostgreSQL ids are 32-bit)
        with pytest.raises(NotFound):
            history.get(beyond)


def test_diff_keeps_a_removed_and_an_added_last_line_apart(database_url):
    history = History(make_engine(database_url))
    first = record(history, "Tides rise.\nTides fall.")  # drafts are stored stripped: no final newline
    second = record(history, "Tides rise.\nThey fall too.")
    lines = history.diff(first, second).splitlines()
    assert "-Tides fall." in lines and "+They fall too." in lines
