"""The Celery app. The broker is Redis when REDIS_URL is set, a file queue when TASK_QUEUE_DIR is
(the embedded default); otherwise tasks run eagerly in-process (settings.py)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import (
    beat_init,
    before_task_publish,
    task_failure,
    task_postrun,
    task_prerun,
    worker_ready,
)
from django.db import OperationalError

from calendar_app import heartbeats, metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler_site.settings")

app = Celery("scheduler_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks are found through CELERY_IMPORTS (settings.py): each lives beside the work it does.

# Tasks that only touch the database retry when it is briefly unavailable (a lock, a restart).
DATABASE_RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@worker_ready.connect
def recover_on_start(sender, **kwargs) -> None:
    """A worker that starts may be the one that stopped mid-job: settle what it left (stale jobs
    ended, lost tasks and sync pushes sent again) now rather than at the next periodic run."""
    sender.app.send_task("calendar_app.tasks.recover_bulk_uploads")
    sender.app.send_task("calendar_app.tasks.sync_recover")


# Health (calendar_app/heartbeats.py, read by /healthz): a worker writes a heartbeat from a thread
# of its own; the beat (`celery beat`, or the process `worker --beat` forks for it) notes each
# periodic task it sends.
@worker_ready.connect
def start_heartbeat(sender, **kwargs) -> None:
    heartbeats.start_worker_heartbeat(sender.hostname)


beat_init.connect(heartbeats.beat_started, weak=False)
before_task_publish.connect(heartbeats.record_beat, weak=False)

# Metrics (calendar_app/metrics.py), in the process that runs the task.
task_prerun.connect(metrics.task_started, weak=False)
task_postrun.connect(metrics.task_finished, weak=False)
task_failure.connect(metrics.task_failed, weak=False)
