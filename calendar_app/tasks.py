"""Celery tasks. Each takes ids, never objects, reads the clock at the edge, and calls the module
that does the work: a task is only the way a piece of work reaches a worker."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.db import OperationalError

from calendar_app import bulk_uploads, clock, drop_folders, fragments

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(acks_late=True, **RETRY)
def process_bulk_upload(job_id: int) -> int | None:
    job = bulk_uploads.process(job_id, clock.now())
    return None if job is None else job.status


@shared_task(acks_late=True, **RETRY)
def publish_feeds(partner_id: int, changed_at: str | None = None) -> int:
    """Re-render the stale feed fragments of a partner (those of one write, or all)."""
    at = None if changed_at is None else datetime.fromisoformat(changed_at)
    return fragments.publish(partner_id, at)


@shared_task
def recover_bulk_uploads() -> tuple[int, int]:
    return bulk_uploads.recover(clock.now())


@shared_task
def poll_drop_folders() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): poll the folders that are due. Returns how many."""
    return len(drop_folders.poll_due(clock.now()))
