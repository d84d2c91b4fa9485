"""Celery tasks of the core's own periodic work. Names are pinned: the beat schedule names them."""

from __future__ import annotations

from celery import shared_task

from calendar_app import clock, scheduling
from scheduler_site.celery import DATABASE_RETRY


@shared_task(name="calendar_app.tasks.extend_open_series", **DATABASE_RETRY)
def extend_open_series() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): open-ended series get the occurrences that time brings
    within the horizon. Returns how many series were extended."""
    return len(scheduling.extend_due(clock.now()))
