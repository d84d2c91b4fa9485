"""What a booking's push to the upstream Kaltura is doing, as its details panel shows it.

An occurrence is pushed by its series' operation unless it was written on its own (outbox.py),
so its state is made of both: the series' operations and its own. Of those, a failure wins (it
stops the object's queue until an admin retries it), then a push still to come, then the last
one done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from calendar_app.models import KalturaConnection, ScheduleEvent, SyncOperation, UpstreamObject

Status = SyncOperation.Status
SYNCED, PENDING, FAILED = "synced", "pending", "failed"
OPEN = (Status.FAILED, Status.RUNNING, Status.PENDING)


@dataclass(frozen=True)
class SyncState:
    label: str  # SYNCED, PENDING or FAILED
    when: datetime | None  # synced or failed at; for a pending push, when it is next tried
    upstream_id: str | None  # the event's upstream id, once known
    error_code: str = ""
    error: str = ""
    op_id: int | None = None  # the operation the state comes from: the one an admin retries
    attempts: int = 0

    @property
    def retrying(self) -> bool:
        """A pending push that already failed for a reason that may pass (the upstream away)."""
        return self.label == PENDING and self.attempts > 0 and bool(self.error)


def state_of(event: ScheduleEvent) -> SyncState | None:
    """The booking's sync state; None when its partner has no upstream or it was never queued
    (made before sync was set up, or of a type that is not pushed)."""
    if not KalturaConnection.objects.filter(partner_id=event.partner_id).exists():
        return None
    ops = _operations(event)
    upstream_id = (
        UpstreamObject.objects.for_partner(event.partner_id)
        .filter(kind=UpstreamObject.Kind.EVENT, local_id=str(event.pk))
        .values_list("upstream_id", flat=True)
        .first()
    )
    # An object has at most one operation of each open status, so this reads a few rows.
    open_ops = sorted(ops.filter(status__in=OPEN), key=lambda op: (OPEN.index(op.status), -op.pk))
    if open_ops:
        op = open_ops[0]
        failed = op.status == Status.FAILED
        return SyncState(
            label=FAILED if failed else PENDING,
            when=op.finished_at if failed else op.next_attempt_at,
            upstream_id=upstream_id, error_code=op.error_code, error=op.error, op_id=op.pk,
            attempts=op.attempts,
        )  # fmt: skip
    done = ops.filter(status=Status.DONE).order_by("-finished_at", "-pk").first()
    if done is None:
        return None
    return SyncState(SYNCED, done.finished_at, upstream_id, op_id=done.pk, attempts=done.attempts)


def operation_of(event: ScheduleEvent, op_id: int) -> SyncOperation | None:
    """Operation `op_id` if it pushes this booking (its own or its series'), else None."""
    return _operations(event).filter(pk=op_id).first()


def _operations(event: ScheduleEvent):
    pushed_by = [event.pk] if event.parent_id is None else [event.pk, event.parent_id]
    return SyncOperation.objects.for_partner(event.partner_id).filter(
        kind=SyncOperation.Kind.EVENT, object_id__in=pushed_by
    )
