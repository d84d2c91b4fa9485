"""Who writes, and the envelope every write to the schedule runs in.

Every change scheduling.py and batch_scheduling.py make to events, series, links and resources
runs inside `envelope(actor)`, which does in one place what every write owes the rest of the
system, so that no caller can skip a step:

- one transaction: the write applies completely or not at all. A write made inside another one
  joins it (as a savepoint: a failure the caller catches undoes only that part);
- `stamp`: each changed event gets `updated_at = now` and a stale feed fragment, so even a field
  nobody thought of reaches the feeds (fragments.py). Stamping outside an envelope is refused;
- `audit`: who changed what, with the row before and after;
- when the outermost write ends: the stale fragments it left are rendered again (inline when
  few, else by a Celery task after commit) and, once committed, the partner's feed version
  moves; and, still inside the transaction, every object it touched is queued for the
  partner's upstream Kaltura (outbox.py), and its schedule files are asked to be published
  again (publish_requests.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.forms.models import model_to_dict

from calendar_app import fragments, outbox, publish_requests
from calendar_app.models import AuditEntry, Partner, ScheduleEvent

# Derived caches, not what anyone changed: kept out of the audit trail.
NOT_AUDITED = ("ical_fragment", "ical_fragment_of")
# What a stamp sets (for save(update_fields=...)). The time alone is not enough to make a
# fragment stale: two writes may share one `actor.now` (an import, a pinned clock).
STAMP_FIELDS = ("updated_at", "ical_fragment_of")


@dataclass(frozen=True)
class Actor:
    """Who writes, for which partner, and the moment the edge read the clock."""

    partner: Partner
    now: datetime
    user_id: str = ""
    source: str = AuditEntry.Source.SYSTEM


@dataclass
class _Write:
    """The outermost write under way in this context."""

    actor: Actor
    render: bool
    changed: bool = field(default=False)
    touched: set[outbox.Key] = field(default_factory=set)

    def finish(self) -> None:
        if not self.changed:
            return  # nothing was written: the feeds keep their version
        outbox.record(self.actor.partner.pk, self.actor.source, self.actor.now, self.touched)
        publish_requests.request(self.actor.partner.pk, self.actor.now)
        if self.render:
            fragments.changed(self.actor.partner.pk, self.actor.now)
        else:
            fragments.touched(self.actor.partner.pk)


_open: ContextVar[_Write | None] = ContextVar("calendar_app_write", default=None)


@contextmanager
def envelope(actor: Actor, *, render: bool = True) -> Iterator[None]:
    """Run a write to `actor.partner`'s schedule. `render=False` leaves the new rows' feed
    fragments stale for the caller to publish later (an import renders once, after its last
    chunk); cached feeds still see the rows at once."""
    outer = _open.get()
    with transaction.atomic():
        if outer is not None and outer.actor.partner.pk == actor.partner.pk:
            yield  # part of a larger write, which finishes for both
            return
        write = _Write(actor, render)
        token = _open.set(write)
        try:
            yield
            write.finish()
        finally:
            _open.reset(token)


def _note_write(touched: outbox.Key | None = None) -> None:
    """Mark the write under way as having written (to `touched`); refused outside an envelope."""
    write = _open.get()
    if write is None:
        raise RuntimeError("a write to the schedule must run inside writes.envelope()")
    write.changed = True
    if touched is not None:
        write.touched.add(touched)


def stamped(actor: Actor) -> dict[str, Any]:
    """A stamp's column values, for QuerySet.update() over many events."""
    _note_write()
    return {"updated_at": actor.now, "ical_fragment_of": None}


def stamp(actor: Actor, event: ScheduleEvent) -> None:
    for name, value in stamped(actor).items():
        setattr(event, name, value)


def snapshot(obj: Model) -> dict[str, Any]:
    """A row as the audit trail keeps it."""
    return model_to_dict(obj, exclude=NOT_AUDITED)


def audit(actor: Actor, action: str, obj: Model, before: dict[str, Any] | None, *, after: Any = ...) -> None:
    """Record `action` on `obj`; `after` defaults to the row as it is now."""
    _note_write(outbox.key_of(type(obj).__name__, obj.pk, obj))
    audit_entry(actor, action, obj, before, snapshot(obj) if after is ... else after).save()


def audit_entry(actor: Actor, action: str, obj: Model, before: Any, after: Any) -> AuditEntry:
    """The (unsaved) audit row for `action` on `obj`; bench/ builds its dataset with it too."""
    return AuditEntry(**_audit_columns(actor, action, type(obj).__name__, obj.pk, before, after))


def audit_columns(
    actor: Actor, action: str, object_type: str, object_id: int, before: Any, after: Any
) -> dict[str, Any]:
    """An audit row's columns, for a write that inserts its rows in bulk (batch_scheduling.py)."""
    _note_write(outbox.key_of(object_type, object_id))
    return _audit_columns(actor, action, object_type, object_id, before, after)


def _audit_columns(
    actor: Actor, action: str, object_type: str, object_id: Any, before: Any, after: Any
) -> dict[str, Any]:
    return {
        "partner_id": actor.partner.pk,
        "at": actor.now,
        "actor": actor.user_id,
        "source": actor.source,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": before,
        "after": after,
    }
