"""Celery: the schedule files published after changes (debounced) and by the beat
(publishing/files.py). Names are pinned: queued messages and the beat schedule name them."""

from __future__ import annotations

from celery import shared_task

from calendar_app import clock
from calendar_app.publishing import files as publishing
from scheduler_site.celery import DATABASE_RETRY


@shared_task(name="calendar_app.tasks.publish_target", acks_late=True, **DATABASE_RETRY)
def publish_target(target_id: int) -> bool:
    """Sent after a write, `debounce_seconds` later (publish_requests.py): publish unless a newer
    request came meanwhile. Returns whether it published."""
    return publishing.publish_if_quiet(target_id, clock.now()) is not None


@shared_task(name="calendar_app.tasks.publish_due", **DATABASE_RETRY)
def publish_due() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): publish requests whose task was lost or could not
    wait (eager mode), and republish daily so the window moves. Returns how many."""
    return len(publishing.publish_due(clock.now()))
