"""Is the service well? The checks behind /healthz (web/monitoring.py), and the queue depths the
metrics report at scrape time (metrics.py).

Each check is a probe (it reads the world: the database, Redis, the heartbeats) judged by a pure
function of what it read and `now`. The probes run side by side in threads and the report waits
for them at most HEALTH_TIMEOUT_SECONDS: a database or Redis that hangs fails its own check, and
the answer still comes back. A failed probe names its exception's class only: the message of a
refused connection names hosts and users, and /healthz is public.

The report is the whole deployment's, across partners (like the sync's recovery): it counts rows,
it never shows one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import connection, connections
from django.db.models import Count, Min

from calendar_app import heartbeats
from calendar_app.models import BulkUpload, SyncOperation

log = logging.getLogger(__name__)
Probe = Callable[[], "Check"]
# Redis answers a PING in well under a millisecond; a second is a Redis in trouble.
REDIS_TIMEOUT = 1.0


@dataclass(frozen=True)
class Check:
    ok: bool
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.facts}


IN_PROCESS = Check(True, {"note": "tasks run in-process"})


@dataclass(frozen=True)
class Report:
    checks: dict[str, Check]

    @property
    def failed(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check.ok]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "fail" if self.failed else "ok",
            "failed": self.failed,
            "checks": {name: check.as_dict() for name, check in self.checks.items()},
        }


def report(now: datetime, *, eager: bool) -> Report:
    """Every check at `now`; `eager`: tasks run in the process that sends them (no worker, no beat)."""
    probes: dict[str, Probe] = {
        "database": database,
        "redis": lambda: redis_ping(settings.REDIS_URL),
        "worker": lambda: IN_PROCESS if eager else workers(now, heartbeats.worker_beats()),
        "beat": lambda: IN_PROCESS if eager else beat(now, heartbeats.last_beat()),
        "sync_queue": lambda: sync_queue(now, *sync_backlog()),
    }
    return Report(run_all(probes, settings.HEALTH_TIMEOUT_SECONDS))


def run_all(probes: dict[str, Probe], timeout: float) -> dict[str, Check]:
    pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="health")
    futures = {name: pool.submit(_guarded, name, probe) for name, probe in probes.items()}
    done, _ = wait(futures.values(), timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)  # a hung probe is left to its own timeout
    late = Check(False, {"error": f"no answer within {timeout:g} s"})
    return {name: future.result() if future in done else late for name, future in futures.items()}


def _guarded(name: str, probe: Probe) -> Check:
    try:
        return probe()
    except Exception as error:
        log.warning("health check %s failed", name, exc_info=True)
        return Check(False, {"error": type(error).__name__})
    finally:
        connections.close_all()  # this thread's own connections, opened by the probe


# ---------------------------------------------------------------- probes


def database() -> Check:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check(True, {"ms": _ms_since(started)})


def redis_ping(url: str) -> Check:
    if not url:
        return Check(True, {"note": "not used"})
    started = time.perf_counter()
    with _redis(url) as client:
        client.ping()
    return Check(True, {"ms": _ms_since(started)})


def sync_backlog() -> tuple[int, datetime | None]:
    """How many sync operations wait, and the earliest time one was due: one query on the index
    (status, next_attempt_at)."""
    found = SyncOperation.objects.filter(status=SyncOperation.Status.PENDING).aggregate(
        pending=Count("pk"), due=Min("next_attempt_at")
    )
    return found["pending"], found["due"]


def bulk_backlog() -> dict[str, int]:
    """Bulk upload jobs waiting for a worker and being processed (index on status)."""
    Status = BulkUpload.Status
    states = {"waiting": (Status.PENDING, Status.QUEUED), "processing": (Status.PROCESSING,)}
    counts = dict(
        BulkUpload.objects.filter(status__in=[s for group in states.values() for s in group])
        .values_list("status")
        .annotate(Count("pk"))
        .order_by()
    )
    return {state: sum(counts.get(s, 0) for s in group) for state, group in states.items()}


def celery_queue_length(url: str, queue: str) -> int | None:
    """Messages waiting in the broker's queue (kombu's Redis transport keeps one list per queue);
    None without Redis."""
    if not url:
        return None
    with _redis(url) as client:
        return int(client.llen(queue))


def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)


# ---------------------------------------------------------------- judgements


def workers(now: datetime, beats: dict[str, datetime]) -> Check:
    """At least one worker wrote a heartbeat within HEALTH_WORKER_STALE_SECONDS."""
    stale = settings.HEALTH_WORKER_STALE_SECONDS
    ages = [_seconds(now, at) for at in beats.values()]
    fresh = [age for age in ages if age <= stale]
    facts = {"last_seen_seconds": min(ages) if ages else None, "workers": len(fresh)}
    return Check(bool(fresh), facts)


def beat(now: datetime, last_run: datetime | None) -> Check:
    """The beat sent a periodic task (or started) within HEALTH_BEAT_STALE_SECONDS."""
    age = None if last_run is None else _seconds(now, last_run)
    return Check(age is not None and age <= settings.HEALTH_BEAT_STALE_SECONDS, {"last_run_seconds": age})


def sync_queue(now: datetime, pending: int, due: datetime | None) -> Check:
    """No operation has waited past its due time for longer than HEALTH_SYNC_STALE_SECONDS. One in
    its backoff after a failure is not late: it waits on purpose."""
    overdue = 0 if due is None else max(0, _seconds(now, due))
    facts = {"oldest_pending_seconds": overdue, "pending": pending}
    return Check(overdue <= settings.HEALTH_SYNC_STALE_SECONDS, facts)


def _seconds(now: datetime, then: datetime) -> int:
    return int((now - then).total_seconds())


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
