"""Signs of life of the background processes, kept where /healthz can read them (health.py).

Each Celery worker writes "alive at T" every HEARTBEAT_SECONDS from a thread of its own, and the
beat writes the time each time it sends a periodic task. They write to the "health" cache
(settings.py: Redis when REDIS_URL is set, files for `make run`, else this process's memory),
which every web process reads. This module imports nothing of the models: scheduler_site/celery.py
imports it before Django is set up.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from django.core.cache import caches

from calendar_app import clock

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 15
# A worker's last heartbeat is kept this long after it stops, so /healthz can still say how long
# ago it was seen; a name silent longer leaves the roster.
REMEMBER_SECONDS = 24 * 3600
ROSTER = "workers"
BEAT = "beat:last-run"
_in_beat = False


def record_worker(name: str, now: datetime) -> None:
    cache = caches["health"]
    cache.set(f"worker:{name}", now, REMEMBER_SECONDS)
    roster = cache.get(ROSTER) or []
    if name not in roster:
        # Two workers joining at once may each write the roster without the other: the one left
        # out adds itself again at its next heartbeat, well within the staleness limit.
        cache.set(ROSTER, sorted({*roster, name}), REMEMBER_SECONDS)


def worker_beats() -> dict[str, datetime]:
    """Each worker's last heartbeat; workers silent past REMEMBER_SECONDS are forgotten."""
    cache = caches["health"]
    names = cache.get(ROSTER) or []
    found = cache.get_many([f"worker:{name}" for name in names])
    return {name: found[f"worker:{name}"] for name in names if f"worker:{name}" in found}


def start_worker_heartbeat(name: str) -> threading.Thread:
    """Called once the worker is ready: a daemon thread that writes until the process ends."""
    thread = threading.Thread(target=_beat_forever, args=(name,), name="health-heartbeat", daemon=True)
    thread.start()
    return thread


def _beat_forever(name: str) -> None:
    while True:
        try:
            record_worker(name, clock.now())
        except Exception:  # Redis away: the next beat tries again, and /healthz says it is stale
            log.warning("worker heartbeat not recorded", exc_info=True)
        time.sleep(HEARTBEAT_SECONDS)


def beat_started(**signal) -> None:
    """beat_init: this process is the beat (`celery beat`, or the one `worker --beat` forks)."""
    global _in_beat
    _in_beat = True
    record_beat()


def record_beat(**signal) -> None:
    """before_task_publish: every process publishes tasks; only the beat's sends are its runs."""
    if not _in_beat:
        return
    try:
        caches["health"].set(BEAT, clock.now(), REMEMBER_SECONDS)
    except Exception:  # the message itself goes on regardless; /healthz shows the gap
        log.warning("beat's run not recorded", exc_info=True)


def last_beat() -> datetime | None:
    return caches["health"].get(BEAT)
