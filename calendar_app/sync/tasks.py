"""Celery tasks of the sync (names pinned: they outlive module moves in queued messages)."""

from __future__ import annotations

from celery import shared_task

from calendar_app import clock
from calendar_app.models import KalturaConnection
from calendar_app.sync import queue, reconcile
from calendar_app.sync.client import UpstreamError, client_for
from scheduler_site.celery import DATABASE_RETRY


# acks_late: a worker killed mid-push leaves the message to be delivered again; the claim
# makes the second delivery a no-op while the first is still RUNNING.
@shared_task(name="calendar_app.tasks.sync_apply", acks_late=True, **DATABASE_RETRY)
def sync_apply(op_id: int) -> None:
    queue.run(op_id)


@shared_task(name="calendar_app.tasks.sync_recover", **DATABASE_RETRY)
def sync_recover() -> int:
    return queue.recover(clock.now())


@shared_task(name="calendar_app.tasks.sync_reconcile")
def sync_reconcile() -> dict[str, dict[str, int]]:
    """Nightly: every syncing partner's drift, counted and kept on its connection (admin shows
    it); repairing is an admin's decision (kaltura_reconcile --repair). An upstream that does
    not answer is noted on its connection and does not stop the others."""
    found = {}
    for connection in KalturaConnection.objects.filter(enabled=True).select_related("partner"):
        try:
            report = reconcile.reconcile(connection, client_for(connection))
        except UpstreamError as error:
            reconcile.save_failure(connection, error)
            continue
        reconcile.save(connection, report)
        found[str(connection.partner_id)] = report.counts()
    return found
