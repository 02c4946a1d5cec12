"""Deployment and ops: per-request structured logs, counters, latency histograms, limits.

One :class:`Ops` per process, passed to the studio. The System tab reads :meth:`Ops.snapshot`;
monitoring scrapes :meth:`Ops.prometheus`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field

from knowledge.errors import UserError
from studio.errors import Busy, StudioError

log = logging.getLogger("inkstone.requests")

# Latency histogram bucket bounds in seconds (Prometheus convention: cumulative, plus +Inf).
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


@dataclass(frozen=True)
class Limits:
    # Longest request text accepted, in characters (a pasted chapter is fine; a book is not).
    max_prompt_chars: int = 8000
    # Upper bound on max_new_tokens a request may ask for.
    max_new_tokens: int = 1024
    # Text generations running at once; on a 2-core CPU more only makes each slower.
    max_concurrent_generations: int = 1
    # Image generations running at once, apart from text: a picture (tens of seconds on a CPU)
    # never holds up a draft, nor a draft a picture. One: a diffusion pipeline fills the cores alone.
    max_concurrent_images: int = 1
    # How long a request waits for a free generation slot before it is told the studio is busy.
    queue_timeout_s: float = 120.0


@dataclass
class RequestLog:
    """Timings and facts of one request, written as one JSON log line when it ends."""

    action: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    stages: dict[str, float] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def stage(self, name: str):
        began = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = round(self.stages.get(name, 0.0) + time.perf_counter() - began, 4)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


class Ops:
    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._slots = {"text": threading.BoundedSemaphore(self.limits.max_concurrent_generations),
                       "image": threading.BoundedSemaphore(self.limits.max_concurrent_images)}
        self._waiting = 0
        self.counters: dict[tuple[str, str], int] = {}
        self.histograms: dict[str, list[int]] = {}
        self.latency_sums: dict[str, float] = {}
        self.recent_errors: deque[dict] = deque(maxlen=50)

    # --- limits -----------------------------------------------------------------------------

    def check_prompt(self, text: str) -> None:
        if len(text) > self.limits.max_prompt_chars:
            raise StudioError(f"The request is {len(text)} characters long; the limit is "
                              f"{self.limits.max_prompt_chars}. Shorten it, or add long material "
                              "to the knowledge base and refer to it.", code="prompt_too_long",
                              length=len(text), limit=self.limits.max_prompt_chars)

    @contextmanager
    def generation_slot(self, kind: str = "text"):
        """Hold one of the concurrent slots of ``kind`` ("text" or "image": each has its own
        limit); raise :class:`Busy` after the timeout."""
        slots = self._slots[kind]
        with self._lock:
            self._waiting += 1
        try:
            acquired = slots.acquire(timeout=self.limits.queue_timeout_s)
        finally:
            with self._lock:
                self._waiting -= 1
        if not acquired:
            raise Busy("The studio is busy with other drafts; try again in a minute.", code="busy")
        try:
            yield
        finally:
            slots.release()

    @property
    def waiting(self) -> int:
        return self._waiting

    # --- requests ---------------------------------------------------------------------------

    @contextmanager
    def request(self, action: str):
        """Time a request; count and log it with its outcome when it ends."""
        entry = RequestLog(action)
        status = "ok"
        try:
            yield entry
        except UserError as exc:  # the writer's input (a bad id, a limit), not a fault: no traceback
            status = "rejected"
            entry.facts["error"] = str(exc)
            raise
        except GeneratorExit:
            status = "abandoned"  # the consumer stopped reading (the writer left or pressed stop)
            raise
        except Exception as exc:
            status = "error"
            entry.facts["error"] = f"{type(exc).__name__}: {exc}"
            log.exception("request %s (%s) failed", entry.id, action)
            raise
        finally:
            if entry.facts.get("cancelled"):
                status = "cancelled"
            self.observe(action, status, entry.elapsed)
            if status in ("error", "rejected"):
                self.recent_errors.append({"time": time.time(), "status": status, "request": entry.id,
                                           "action": action, "error": entry.facts.get("error")})
            log.info(json.dumps({"request": entry.id, "action": action, "status": status,
                                 "seconds": round(entry.elapsed, 4), "stages": entry.stages,
                                 **entry.facts}, ensure_ascii=False, default=str))

    def observe(self, action: str, status: str, seconds: float) -> None:
        """Count a request; time it unless it was rejected (a refusal takes microseconds and
        would make drafts look fast)."""
        with self._lock:
            self.counters[(action, status)] = self.counters.get((action, status), 0) + 1
            if status == "rejected":
                return
            buckets = self.histograms.setdefault(action, [0] * (len(BUCKETS) + 1))
            position = next((i for i, bound in enumerate(BUCKETS) if seconds <= bound), len(BUCKETS))
            buckets[position] += 1
            self.latency_sums[action] = self.latency_sums.get(action, 0.0) + seconds

    # --- reading ----------------------------------------------------------------------------

    def snapshot(self) -> dict:
        """Counters, latency percentiles (from the histogram) and recent errors, for the UI."""
        with self._lock:
            latencies = {}
            for action, buckets in self.histograms.items():
                total = sum(buckets)
                latencies[action] = {"count": total,
                                     "mean_s": round(self.latency_sums[action] / total, 3),
                                     "p50_le_s": _bucket_quantile(buckets, 0.5),
                                     "p95_le_s": _bucket_quantile(buckets, 0.95)}
            return {"requests": {f"{a}/{s}": n for (a, s), n in sorted(self.counters.items())},
                    "latency": latencies, "waiting": self._waiting,
                    "recent_errors": [{**e, "time": _readable(e["time"])} for e in list(self.recent_errors)[-10:]]}

    def errors_since(self, seconds: float) -> int:
        """Requests that failed unexpectedly (not refusals) in the last ``seconds``."""
        since = time.time() - seconds
        with self._lock:
            return sum(1 for e in self.recent_errors if e["status"] == "error" and e["time"] >= since)

    def prometheus(self) -> str:
        """The metrics in Prometheus text exposition format."""
        lines = ["# HELP inkstone_requests_total Requests by action and outcome.",
                 "# TYPE inkstone_requests_total counter"]
        with self._lock:
            for (action, status), count in sorted(self.counters.items()):
                lines.append(f'inkstone_requests_total{{action="{action}",status="{status}"}} {count}')
            lines += ["# HELP inkstone_request_seconds Request latency.",
                      "# TYPE inkstone_request_seconds histogram"]
            for action, buckets in sorted(self.histograms.items()):
                running = 0
                for bound, count in zip([*BUCKETS, "+Inf"], buckets):
                    running += count
                    lines.append(f'inkstone_request_seconds_bucket{{action="{action}",le="{bound}"}} {running}')
                lines.append(f'inkstone_request_seconds_sum{{action="{action}"}} {self.latency_sums[action]:.6f}')
                lines.append(f'inkstone_request_seconds_count{{action="{action}"}} {running}')
            lines += ["# HELP inkstone_generations_waiting Requests waiting for a generation slot.",
                      "# TYPE inkstone_generations_waiting gauge",
                      f"inkstone_generations_waiting {self._waiting}"]
        return "\n".join(lines) + "\n"


def _readable(epoch: float) -> str:
    """A moment for people, in UTC: ``2025-11-29 11:40:02 UTC``."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def _bucket_quantile(buckets: list[int], q: float) -> float | None:
    """Upper bound of the bucket holding the q-quantile (None past the last bound)."""
    total = sum(buckets)
    running = 0
    for bound, count in zip([*BUCKETS, None], buckets):
        running += count
        if running >= q * total:
            return bound
    return None
