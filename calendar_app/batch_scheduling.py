"""Batch creation for imports. create_event spends a transaction, an audit row and several
queries on each event: right for the API, far too slow for a 10,000-event iCal import
(bench/ical_import.py). create_events applies the same rules to many new single events and
writes them a chunk at a time, one write envelope (writes.py) per chunk, through bulk_sql.
Series still go through create_event: their occurrences make each one a batch of its own.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, models

from calendar_app import bulk_sql, conflicts, writes
from calendar_app.conflicts import Conflict, Window
from calendar_app.errors import ConflictDetected, DatabaseRefused, NotFound, SchedulingError
from calendar_app.models import (
    AuditEntry,
    EventType,
    Partner,
    RecurrenceType,
    ScheduleEvent,
    ScheduleEventResource,
)
from calendar_app.scheduling import (
    OnConflict,
    clean_new_event,
    create_event,
    live_resources,
    next_sequence,
    single_end,
)
from calendar_app.writes import Actor

CREATE_CHUNK = 500


@dataclass(frozen=True)
class NewEvent:
    """One event to create: create_event's arguments."""

    data: dict[str, Any]
    resource_ids: tuple[int, ...] = ()
    ical_uid: str = ""
    longest: timedelta | None = None  # the cap on its length instead of its type's (check_span)


def create_events(
    actor: Actor, rows: Sequence[NewEvent], *, on_conflict: OnConflict = OnConflict.PARTNER
) -> list[int | SchedulingError]:
    """create_event for each row, in order: the new event's id, or the error that refused it.

    The rows written (the event, its links, its audit entry) are create_event's, and the rows
    are checked as if created one after the other: a row may conflict with an earlier one.
    Each chunk of single events is one transaction; should the database refuse a chunk anyway,
    its rows are retried one by one, so a bad row never takes the others with it.
    """
    results: list[int | SchedulingError | None] = [None] * len(rows)
    pending: dict[int, tuple[NewEvent, dict[str, Any]]] = {}
    for index, row in enumerate(rows):
        try:
            _, values = clean_new_event(row.data)
        except SchedulingError as error:
            results[index] = error
            continue
        if values["recurrence_type"] == RecurrenceType.RECURRING:
            _flush(actor, pending, results, on_conflict)
            results[index] = _create_one(actor, row, on_conflict)
            continue
        pending[index] = (row, values)
        if len(pending) == CREATE_CHUNK:
            _flush(actor, pending, results, on_conflict)
    _flush(actor, pending, results, on_conflict)
    return results  # type: ignore[return-value]  # every slot is filled by now


def _flush(actor: Actor, pending: dict, results: list, on_conflict: OnConflict) -> None:
    if not pending:
        return
    chunk = dict(pending)
    pending.clear()
    try:
        done = _create_chunk(actor, chunk, on_conflict)
    except DatabaseError:
        # The chunk's transaction is rolled back: nothing of it was written.
        done = {index: _create_one(actor, row, on_conflict) for index, (row, _) in chunk.items()}
    for index, result in done.items():
        results[index] = result


def _create_one(actor: Actor, row: NewEvent, on_conflict: OnConflict) -> int | SchedulingError:
    try:
        return create_event(
            actor, row.data, resource_ids=row.resource_ids, on_conflict=on_conflict,
            ical_uid=row.ical_uid, longest=row.longest,
        ).pk  # fmt: skip
    except SchedulingError as error:
        return error
    except DatabaseError as error:
        return DatabaseRefused(str(error))


@dataclass
class _Pending:
    """A checked new single event: its columns by attname, and its resources."""

    columns: dict[str, Any]
    resource_ids: list[int]

    @property
    def window(self) -> Window:
        return Window(self.columns["start"], self.columns["end"])

    @property
    def is_blackout(self) -> bool:
        return self.columns["type"] == EventType.BLACKOUT


def _create_chunk(
    actor: Actor, chunk: dict[int, tuple[NewEvent, dict[str, Any]]], on_conflict: OnConflict
) -> dict[int, int | SchedulingError]:
    """create_event's steps for single events, each done once for the chunk, in its order:
    resources, times, lock, the rows, then (as _enforce does) their conflicts, which take the
    refused rows out again before the transaction commits, and the audit entries."""
    results: dict[int, int | SchedulingError] = {}
    clashes: dict[int, list[int]] = {}
    with writes.envelope(actor, render=False):
        wanted = {pk for row, _ in chunk.values() for pk in row.resource_ids}
        live = set(live_resources(actor.partner, wanted).values_list("pk", flat=True))
        accepted: dict[int, _Pending] = {}
        for index, (row, values) in chunk.items():
            try:
                accepted[index] = _pending(actor, row, values, live)
            except SchedulingError as error:
                results[index] = error
        enforce = accepted and on_conflict.refuses(actor.partner)
        if enforce:
            blackout = any(p.is_blackout for p in accepted.values())
            linked = {pk for p in accepted.values() for pk in p.resource_ids}
            conflicts.lock_for_write(actor.partner, linked, blackout=blackout)
        _insert_rows(actor, list(accepted.values()))
        if enforce:
            clashes = _chunk_conflicts(actor.partner, accepted)
            refused = {index: accepted.pop(index) for index in clashes}
            gone = [p.columns["id"] for p in refused.values()]
            ScheduleEventResource.objects.filter(event_id__in=gone).delete()
            ScheduleEvent.objects.filter(pk__in=gone).delete()
            results.update(_conflict_errors(actor.partner, refused, clashes))
        _insert_audit(actor, list(accepted.values()))
    results.update({index: p.columns["id"] for index, p in accepted.items()})
    return results


def _pending(actor: Actor, row: NewEvent, values: dict[str, Any], live: set[int]) -> _Pending:
    """The new row create_event would save, as columns; refused as create_event refuses it."""
    missing = set(row.resource_ids) - live
    if missing:
        raise NotFound("resource", min(missing))
    start = values["start"]
    end = single_end(values["type"], start, values.get("end"), values, row.longest)
    columns = _new_columns(actor, row.ical_uid)
    columns.update((_ATTNAMES.get(name, name), value) for name, value in values.items())
    columns.update(end=end, duration=int((end - start).total_seconds()))
    return _Pending(columns, sorted(set(row.resource_ids)))


# Field name -> column attribute, for the foreign keys a value may name (parent, linked_to).
_ATTNAMES = {f.name: f.attname for f in ScheduleEvent._meta.concrete_fields if f.name != f.attname}


@functools.cache
def _event_defaults() -> tuple[dict[str, Any], tuple[models.Field, ...]]:
    """A new event's column defaults: the constant ones, and the fields whose default is made
    per row (a new UID, an empty list)."""
    fields_ = [f for f in ScheduleEvent._meta.concrete_fields if not f.primary_key]
    constant = {f.attname: f.get_default() for f in fields_ if not callable(f.default)}
    return constant, tuple(f for f in fields_ if callable(f.default))


def _new_columns(actor: Actor, ical_uid: str) -> dict[str, Any]:
    constant, per_row = _event_defaults()
    columns = dict(constant)
    given = {
        "partner_id": actor.partner.pk,
        "sequence": next_sequence(1),  # rows start at 1; Kaltura bumps on insert
        "created_at": actor.now,
        "updated_at": actor.now,
    }
    if ical_uid:
        given["ical_uid"] = ical_uid
    for field in per_row:
        if field.attname not in given:
            columns[field.attname] = field.get_default()
    columns.update(given)
    return columns


def _insert_rows(actor: Actor, accepted: list[_Pending]) -> None:
    ids = bulk_sql.insert(ScheduleEvent, [p.columns for p in accepted], returning=True)
    for pending, pk in zip(accepted, ids, strict=True):
        pending.columns["id"] = pk
    bulk_sql.insert(
        ScheduleEventResource,
        [
            {
                "partner_id": actor.partner.pk,
                "event_id": p.columns["id"],
                "resource_id": resource_id,
                "created_at": actor.now,
                "updated_at": actor.now,
            }
            for p in accepted
            for resource_id in p.resource_ids
        ],
    )


def _insert_audit(actor: Actor, accepted: list[_Pending]) -> None:
    fields = ScheduleEvent._meta.concrete_fields
    audited = [f for f in fields if f.editable and f.name not in writes.NOT_AUDITED]
    bulk_sql.insert(
        AuditEntry,
        [
            # writes.audit()'s row, with writes.snapshot()'s "after" read from the columns.
            writes.audit_columns(
                actor,
                "create",
                ScheduleEvent.__name__,
                p.columns["id"],
                None,
                {f.name: p.columns[f.attname] for f in audited},
            )  # fmt: skip
            for p in accepted
        ],
    )


def _chunk_conflicts(partner: Partner, rows: dict[int, _Pending]) -> dict[int, list[int]]:
    """The rows _enforce would refuse, had they been created one after the other: those that
    collide with a stored event, or with an earlier row of the chunk that is kept. Blackouts
    are never refused (see _enforce). The rows are stored already (uncommitted), so one
    conflicts.collisions call finds every pair."""
    order = {p.columns["id"]: n for n, p in enumerate(rows.values())}
    bookings = [p.columns["id"] for p in rows.values() if not p.is_blackout]
    hits: dict[int, list[int]] = defaultdict(list)
    for event_id, other in conflicts.collisions(partner, bookings):
        hits[event_id].append(other)
    clashes: dict[int, list[int]] = {}
    refused: set[int] = set()
    for index, row in rows.items():
        me = row.columns["id"]
        # A later row of the chunk is checked against this one, not this one against it.
        found = [o for o in hits.get(me, []) if o not in order or (order[o] < order[me] and o not in refused)]
        if found:
            clashes[index] = found
            refused.add(me)
    return clashes


def _conflict_errors(
    partner: Partner, refused: dict[int, _Pending], clashes: dict[int, list[int]]
) -> dict[int, ConflictDetected]:
    found = {pk for hits in clashes.values() for pk in hits}
    events = ScheduleEvent.objects.for_partner(partner).in_bulk(found)
    return {
        index: ConflictDetected(
            [Conflict(row.window, e) for e in sorted((events[pk] for pk in clashes[index]), key=_by_start)]
        )
        for index, row in refused.items()
    }


def _by_start(event: ScheduleEvent) -> tuple[datetime, int]:
    return event.start, event.pk
