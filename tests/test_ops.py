"""Ops: requests are counted and timed, Prometheus text is well-formed, limits hold."""

import logging
import re
import threading

import pytest

from knowledge.errors import InvalidQuery, NotFound
from studio.errors import Busy, StudioError
from studio.ops import Limits, Ops


def test_requests_are_counted_timed_and_exported():
    ops = Ops()
    with ops.request("write") as log:
        with log.stage("retrieve"):
            pass
    with pytest.raises(StudioError):
        with ops.request("write"):
            raise StudioError("bad input")
    snapshot = ops.snapshot()
    assert snapshot["requests"] == {"write/ok": 1, "write/rejected": 1}
    # a refused request is counted but not timed: it would make drafts look fast
    assert snapshot["latency"]["write"]["count"] == 1
    assert snapshot["recent_errors"][-1]["error"] == "bad input"
    text = ops.prometheus()
    assert 'inkstone_requests_total{action="write",status="ok"} 1' in text
    assert 'inkstone_requests_total{action="write",status="rejected"} 1' in text
    assert 'inkstone_request_seconds_bucket{action="write",le="+Inf"} 1' in text
    assert 'inkstone_request_seconds_count{action="write"} 1' in text


def test_recent_errors_read_as_times_and_only_failures_count_as_errors():
    ops = Ops()
    with pytest.raises(StudioError):
        with ops.request("write"):
            raise StudioError("bad input")
    with pytest.raises(RuntimeError):
        with ops.request("write"):
            raise RuntimeError("model crashed")
    moment = ops.snapshot()["recent_errors"][-1]["time"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", moment), moment
    assert ops.errors_since(3600) == 1


def test_prompt_length_limit():
    ops = Ops(Limits(max_prompt_chars=10))
    ops.check_prompt("short")
    with pytest.raises(StudioError, match="limit is 10"):
        ops.check_prompt("far too long a request")


def test_generation_slots_bound_concurrency():
    ops = Ops(Limits(max_concurrent_generations=1, queue_timeout_s=0.2))
    inside, release = threading.Event(), threading.Event()

    def hold():
        with ops.generation_slot():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    inside.wait(5)
    with pytest.raises(Busy, match="busy"):
        with ops.generation_slot():
            pass
    release.set()
    worker.join()
    with ops.generation_slot():
        pass


def test_text_and_image_jobs_have_their_own_slots():
    ops = Ops(Limits(max_concurrent_generations=1, max_concurrent_images=1, queue_timeout_s=0.2))
    with ops.generation_slot("text"):
        with ops.generation_slot("image"):  # a draft being written does not hold up a picture
            with pytest.raises(Busy):
                with ops.generation_slot("image"):
                    pass
        with pytest.raises(Busy):
            with ops.generation_slot("text"):
                pass


@pytest.mark.parametrize("error", [NotFound("There is no document with id 9", code="no_document", id=9),
                                   InvalidQuery("Unknown collection: 'x'"), StudioError("bad input")])
def test_every_user_error_is_a_rejection_logged_without_a_traceback(error, caplog):
    ops = Ops()
    with caplog.at_level(logging.INFO, logger="inkstone.requests"), pytest.raises(type(error)):
        with ops.request("search"):
            raise error
    assert ops.snapshot()["requests"] == {"search/rejected": 1}
    assert ops.errors_since(3600) == 0
    assert not [r for r in caplog.records if r.exc_info], "a writer's bad id is not a server error"
