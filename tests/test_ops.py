"""Ops: requests are counted and timed, Prometheus text is well-formed, limits hold."""

import re
import threading

import pytest

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
