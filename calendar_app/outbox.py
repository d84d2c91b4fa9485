"""The sync outbox: what a write changed, recorded for the upstream Kaltura in the write's own
transaction (design: "work that must not be lost is a row"), then handed to a worker once
committed. The row is the truth; the task is only a nudge, and a lost one is sent again by
the periodic recovery in calendar_app/sync/tasks.py.

An operation names an object, not a change: applying it pushes the object's current state,
so consecutive changes coalesce into the one PENDING row an object may have (a partial unique
constraint; inserts that meet it are dropped). Links are part of their event's state, and a
series' occurrences part of the series' unless one was written on its own.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from celery import current_app
from django.db import transaction
from django.db.models import Model

from calendar_app import clock
from calendar_app.models import (
    AuditEntry,
    Entry,
    KalturaConnection,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
    SyncOperation,
)

Key = tuple[str, int | str]  # (SyncOperation.Kind, local id: an entry's is text)
TASK = "calendar_app.tasks.sync_apply"
EVENT, RESOURCE, ENTRY = SyncOperation.Kind.EVENT, SyncOperation.Kind.RESOURCE, SyncOperation.Kind.ENTRY
# The order objects are queued and sent in: what an event names (its rooms, its entries) goes
# first, so the event's push finds them upstream rather than waits for them (push.wait_for); a
# live entry resource names its entry, so entries go before resources too.
ORDER = (ENTRY, RESOURCE, EVENT)


def key_of(object_type: str, object_id: int | str, obj: Model | None = None) -> Key | None:
    """The object an audited write touched, as the outbox names it."""
    if object_type == Entry.__name__:
        return (ENTRY, object_id)
    if object_type == ScheduleEvent.__name__:
        return (EVENT, object_id)
    if object_type == ScheduleResource.__name__:
        return (RESOURCE, object_id)
    if object_type == ScheduleEventResource.__name__ and isinstance(obj, ScheduleEventResource):
        return (EVENT, obj.event_id)
    return None


def record(partner_id: int, source: str, now, touched: Collection[Key]) -> None:
    """Queue `touched` for the partner's upstream, if it syncs; called inside the write."""
    if not touched or source == AuditEntry.Source.SYNC:
        return  # what the upstream itself gave us is not sent back to it
    connection = KalturaConnection.objects.filter(partner_id=partner_id, enabled=True).first()
    if connection is None:
        return
    keys = wanted(connection, touched)
    SyncOperation.objects.bulk_create(
        [
            SyncOperation(partner_id=partner_id, kind=kind, object_id=pk, created_at=now, next_attempt_at=now)
            for kind, pk in sorted(keys, key=lambda key: (ORDER.index(key[0]), key[1]))
        ],
        ignore_conflicts=True,  # the object is already queued: one push will carry both changes
    )
    transaction.on_commit(lambda: dispatch(partner_id, keys), robust=True)


def wanted(connection: KalturaConnection, touched: Iterable[Key]) -> set[Key]:
    """The keys the connection syncs: resources if it pushes them, events of its types, and
    entries (events name them, so they go wherever events do)."""
    keys = {key for key in touched if key[0] != RESOURCE or connection.sync_resources}
    if connection.event_types:
        event_ids = [pk for kind, pk in keys if kind == EVENT]
        skipped = ScheduleEvent.objects.filter(pk__in=event_ids).exclude(type__in=connection.event_types)
        keys -= {(EVENT, pk) for pk in skipped.values_list("pk", flat=True)}
    return keys


def dispatch(partner_id: int, keys: Collection[Key], *, countdown: float | None = None) -> None:
    """Send the PENDING operations of `keys` to the workers."""
    ops = SyncOperation.objects.filter(partner_id=partner_id, status=SyncOperation.Status.PENDING)
    for kind in sorted({kind for kind, _ in keys}, key=ORDER.index):
        ids = [pk for k, pk in keys if k == kind]
        mine = ops.filter(kind=kind, object_id__in=ids).order_by("pk")
        send(mine.values_list("pk", flat=True), countdown=countdown)


def send(op_ids: Iterable[int], *, countdown: float | None = None) -> None:
    # By name, so that the core does not import the seam that talks to Kaltura; Celery's own
    # loader imports CELERY_IMPORTS so an eager run (tests, one-off commands) finds the task.
    op_ids = list(op_ids)
    if not op_ids or (countdown is not None and current_app.conf.task_always_eager):
        return  # an eager run cannot wait: the periodic recovery sends it once it is due
    # Marked first: if the broker is down the mark ages, and the recovery sends them again.
    SyncOperation.objects.filter(pk__in=op_ids).update(dispatched_at=clock.now())
    if TASK not in current_app.tasks:  # the loader also runs Django's checks: 7 ms a commit
        current_app.loader.import_default_modules()
    task = current_app.tasks[TASK]
    for op_id in op_ids:
        task.apply_async((op_id,), countdown=countdown)
