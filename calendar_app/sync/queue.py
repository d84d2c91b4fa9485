"""The outbox drained: claim an operation, push it, record how it went, hand on to the next.

One object's operations apply one at a time and in order: an operation is claimed only while
no other operation of its object is RUNNING or FAILED (a permanent failure stops that object's
queue until an admin retries it; other objects go on). Claiming is one conditional UPDATE, so a
task delivered twice, or sent again by the recovery, runs the operation once. HTTP calls happen
outside any transaction: no database lock is held while the upstream thinks.

Transient failures (the upstream down, slow, answering 5xx) retry with exponential backoff and
jitter; anything else is permanent and shown on the booking and in admin.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q

from calendar_app import clock, outbox
from calendar_app.models import KalturaConnection, SyncOperation
from calendar_app.sync import push
from calendar_app.sync.client import UpstreamError, client_for

log = logging.getLogger(__name__)
Status = SyncOperation.Status
BLOCKING = (Status.RUNNING, Status.FAILED)


def _same_object(*statuses: int) -> Exists:
    return Exists(
        SyncOperation.objects.filter(
            partner_id=OuterRef("partner_id"), kind=OuterRef("kind"), object_id=OuterRef("object_id"),
            status__in=statuses,
        ).exclude(pk=OuterRef("pk"))
    )  # fmt: skip


def claim(op_id: int, now: datetime) -> SyncOperation | None:
    """Take a due PENDING operation whose object nothing else is pushing; None if it is not ours."""
    taken = (
        SyncOperation.objects.filter(pk=op_id, status=Status.PENDING, next_attempt_at__lte=now)
        .exclude(_same_object(*BLOCKING))
        .update(status=Status.RUNNING, dispatched_at=now, attempts=F("attempts") + 1)
    )
    return SyncOperation.objects.get(pk=op_id) if taken else None


def run(op_id: int) -> None:
    now = clock.now()
    op = claim(op_id, now)
    if op is None:
        return
    connection = KalturaConnection.objects.filter(partner_id=op.partner_id, enabled=True).first()
    if connection is None:
        _release(op, now, "", "")  # sync was turned off: the operation waits for it
        return
    try:
        push.apply(connection, client_for(connection), op)
    except UpstreamError as error:
        if error.transient:
            _retry(op, error)
        else:
            _fail(op, error.code, error.message)
    except Exception as error:  # a bug must stop this object, not the worker or other objects
        log.exception("sync operation %s failed", op.pk)
        _fail(op, "SYNC_INTERNAL_ERROR", f"{type(error).__name__}: {error}")
    else:
        _finish(op, Status.DONE, "", "")
        _hand_on(op)


def backoff(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: exponential, capped, then a random half to all of
    it (so that many objects failing together do not come back together)."""
    ceiling = min(settings.SYNC_RETRY_MAX_SECONDS, settings.SYNC_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


def _retry(op: SyncOperation, error: UpstreamError) -> None:
    delay = backoff(op.attempts)
    if _release(op, clock.now() + timedelta(seconds=delay), error.code, error.message):
        outbox.send([op.pk], countdown=delay)


def _release(op: SyncOperation, not_before: datetime, code: str, message: str) -> bool:
    """Back to PENDING; if a newer change queued the object meanwhile, that row carries on
    instead. True if this row is the one pending."""
    with transaction.atomic():
        newer = SyncOperation.objects.filter(
            partner_id=op.partner_id, kind=op.kind, object_id=op.object_id, status=Status.PENDING
        )
        if newer.exists():
            newer.update(next_attempt_at=not_before, error_code=code, error=message)
            _finish(op, Status.SUPERSEDED, code, message)
            return False
        SyncOperation.objects.filter(pk=op.pk).update(
            status=Status.PENDING, next_attempt_at=not_before, error_code=code, error=message
        )
        return True


def _fail(op: SyncOperation, code: str, message: str) -> None:
    log.warning("sync of %s %s failed for good: %s %s", op.kind, op.object_id, code, message)
    _finish(op, Status.FAILED, code, message)


def _finish(op: SyncOperation, status: int, code: str, message: str) -> None:
    SyncOperation.objects.filter(pk=op.pk).update(
        status=status, finished_at=clock.now(), error_code=code, error=message[:2000]
    )


def _hand_on(op: SyncOperation) -> None:
    """A change that came in while this one ran is pushed next."""
    outbox.dispatch(op.partner_id, [(op.kind, op.object_id)])


def retry(op: SyncOperation) -> None:
    """An admin's retry of a failed operation: it runs again, or the newer one queued behind it."""
    if op.status != Status.FAILED:
        return
    if not _release(op, clock.now(), "", ""):
        SyncOperation.objects.filter(pk=op.pk).update(status=Status.SUPERSEDED)
    outbox.dispatch(op.partner_id, [(op.kind, op.object_id)])


def push_now(connection: KalturaConnection, keys: list[outbox.Key]) -> int:
    """Push these objects in this process (a repair): a failure on record is taken as retried.
    Returns how many were pushed."""
    now = clock.now()
    ops = SyncOperation.objects.for_partner(connection.partner_id)
    pushed = 0
    for kind, pk in keys:
        mine = ops.filter(kind=kind, object_id=pk)
        mine.filter(status=Status.FAILED).update(status=Status.SUPERSEDED, finished_at=now)
        SyncOperation.objects.bulk_create(
            [SyncOperation(partner_id=connection.partner_id, kind=kind, object_id=pk, created_at=now,
                           next_attempt_at=now)],
            ignore_conflicts=True,
        )  # fmt: skip
        mine.filter(status=Status.PENDING).update(next_attempt_at=now)
        pending = mine.filter(status=Status.PENDING).values_list("pk", flat=True).first()
        if pending is not None:
            run(pending)
            pushed += mine.filter(pk=pending, status=Status.DONE).exists()
    return pushed


def recover(now: datetime) -> int:
    """Send again what no worker has: operations a dead worker left RUNNING, and PENDING ones
    whose task was lost (Redis restarted, a broker down at commit). Returns how many."""
    stale = now - timedelta(seconds=settings.SYNC_LOST_AFTER_SECONDS)
    abandoned = now - timedelta(seconds=settings.SYNC_RUNNING_TIMEOUT_SECONDS)
    released = [
        op.pk
        for op in SyncOperation.objects.filter(status=Status.RUNNING, dispatched_at__lt=abandoned)
        if _release(op, now, "SYNC_WORKER_LOST", "the worker pushing this stopped; sent again")
    ]
    due = (
        SyncOperation.objects.filter(status=Status.PENDING, next_attempt_at__lte=stale)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=stale))
        .exclude(_same_object(*BLOCKING))
        .filter(partner__kaltura_connection__enabled=True)
    )
    ids = released + list(due.values_list("pk", flat=True)[: settings.SYNC_RECOVER_BATCH])
    outbox.send(ids)
    return len(ids)
