"""The Celery app. Broker is Redis when REDIS_URL is set; otherwise tasks run eagerly in-process."""

from __future__ import annotations

import os

from celery import Celery
from django.db import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler_site.settings")

app = Celery("scheduler_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks are found through CELERY_IMPORTS (settings.py): each lives beside the work it does.

# Tasks that only touch the database retry when it is briefly unavailable (a lock, a restart).
DATABASE_RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}
