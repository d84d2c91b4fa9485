"""Prometheus metrics (prometheus_client) beyond the requests django-prometheus' middleware counts:
tasks by name, devices' schedule polls, and queue depths read at scrape time.

With PROMETHEUS_MULTIPROC_DIR set (the stack: several web and Celery processes on one host),
prometheus_client writes every process's values to files there, and a scrape adds them up
(MultiProcessCollector): the metrics a worker process wrote appear on every web process's
/metrics. The variable must be set before the process starts (prometheus_client reads it when
imported). Without it, each process reports its own.

A process that exits leaves its files behind, so its counters and histograms stay in the totals.
None of these metrics is a "live" gauge (one that must forget a dead process), so the web server
needs no hook for a worker's exit.

This module imports nothing of the models: scheduler_site/celery.py imports it before Django is set
up.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
T = TypeVar("T")

# Tasks take from milliseconds (a sync push to a near upstream) to minutes (a 10,000-event import).
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
TASK_SECONDS = Histogram(
    "scheduler_task_duration_seconds",
    "Celery task run time, failures included.",
    ["task"],
    buckets=TASK_BUCKETS,
)
TASK_FAILURES = Counter("scheduler_task_failures", "Celery tasks that raised (retries excluded).", ["task"])
DEVICE_POLLS = Counter(
    "scheduler_device_polls",
    "Schedule polls by capture devices and calendar apps, by kind (api, ical, feed) and answer (200, 304).",
    ["kind", "answer"],
)
_started: dict[str, float] = {}  # task id -> perf_counter at task_prerun, in the process running it


def device_poll(kind: str, unchanged: bool) -> None:
    DEVICE_POLLS.labels(kind=kind, answer="304" if unchanged else "200").inc()


# ---------------------------------------------------------------- Celery signals (scheduler_site/celery.py)


def task_started(task_id: str, **kwargs) -> None:
    _started[task_id] = time.perf_counter()


def task_finished(task_id: str, task, **kwargs) -> None:
    started = _started.pop(task_id, None)
    if started is not None:
        TASK_SECONDS.labels(task=task.name).observe(time.perf_counter() - started)


def task_failed(sender, **kwargs) -> None:
    TASK_FAILURES.labels(task=sender.name).inc()


# ---------------------------------------------------------------- exposition


class QueueDepths(Collector):
    """Queue depths, read when scraped. A reader that fails (the database or Redis down) leaves
    its gauge out of that scrape: a scrape still reports everything else."""

    def __init__(
        self,
        celery_queue: Callable[[], int | None],
        sync_waiting: Callable[[], int],
        bulk_uploads: Callable[[], dict[str, int]],
    ) -> None:
        self.celery_queue, self.sync_waiting, self.bulk_uploads = celery_queue, sync_waiting, bulk_uploads

    def collect(self) -> Iterator[Metric]:
        messages = _read(self.celery_queue)
        if messages is not None:
            yield GaugeMetricFamily(
                "scheduler_celery_queue_messages",
                "Task messages waiting in the broker's default queue.",
                messages,
            )
        waiting = _read(self.sync_waiting)
        if waiting is not None:
            yield GaugeMetricFamily(
                "scheduler_sync_operations_waiting", "Sync operations pending (due or in backoff).", waiting
            )
        jobs = _read(self.bulk_uploads)
        if jobs is not None:
            family = GaugeMetricFamily(
                "scheduler_bulk_uploads",
                "Bulk upload jobs waiting for a worker or processing.",
                labels=["state"],
            )
            for state, count in jobs.items():
                family.add_metric([state], count)
            yield family


def _read(reader: Callable[[], T]) -> T | None:
    try:
        return reader()
    except Exception:
        log.warning("queue depth not read", exc_info=True)
        return None


def exposition(depths: Collector) -> bytes:
    """The text a scrape gets: every process's metrics (or this one's), then the queue depths."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=path)
    else:
        registry = REGISTRY
    now_read = CollectorRegistry()
    now_read.register(depths)
    return generate_latest(registry) + generate_latest(now_read)
