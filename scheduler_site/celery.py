"""The Celery app. The broker is Redis when REDIS_URL is set, a file queue when TASK_QUEUE_DIR is
(the embedded default); otherwise tasks run eagerly in-process (settings.py)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_ready
from django.db import OperationalError

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
