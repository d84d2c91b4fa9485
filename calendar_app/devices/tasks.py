"""Celery tasks of the devices' core. Names are pinned: queued messages name the task."""

from __future__ import annotations

from celery import shared_task

from calendar_app import clock
from calendar_app.devices import uploads


@shared_task(name="calendar_app.tasks.expire_upload_tokens")
def expire_upload_tokens() -> int:
    """Beat, every 10 minutes: abandoned uploads time out and their files go."""
    return uploads.expire_abandoned(clock.now())
