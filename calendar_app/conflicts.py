"""The one definition of a conflict (docs/architecture.md, "Conflicts"), used by the API, the UI, imports
and enforcement.

Two events conflict when both are ACTIVE, neither is a series row, their half-open intervals
[start, end) overlap, and they share a resource (a resource conflict) or one of them is a
blackout (a blackout conflict: blackouts are partner-wide).
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db import connection
from django.db.models import F

from calendar_app.models import (
    EventStatus,
    EventType,
    Partner,
    RecurrenceType,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)


class ConflictType(enum.IntEnum):
    # Kaltura's ScheduleEventConflictType.
    RESOURCE = 1
    BLACKOUT = 2
    BOTH = 3


@dataclass(frozen=True, order=True)
class Window:
    start: datetime
    end: datetime


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Whether half-open [a_start, a_end) and [b_start, b_end) share an instant: back-to-back
    slots do not. (In SQL: ScheduleEventQuerySet.overlapping and _overlapping below.)"""
    return a_start < b_end and b_start < a_end


@dataclass(frozen=True)
class Conflict:
    window: Window  # the proposed slot that collides
    event: ScheduleEvent  # the stored event it collides with

    @property
    def is_blackout(self) -> bool:
        return self.event.type == EventType.BLACKOUT


def find(
    partner: Partner,
    windows: Iterable[Window],
    resource_ids: Collection[int],
    conflict_type: ConflictType = ConflictType.BOTH,
    ignore_ids: Collection[int] = (),
) -> list[Conflict]:
    """Every (window, stored event) pair that conflicts, ordered by window then event start.

    One query fetches the candidates' (id, start, end) in the windows' overall span; matching
    them to the windows happens here, so a 1,000-occurrence probe costs one query, not 1,000.
    A second query loads the events that do collide. `ignore_ids` excludes those events and
    the occurrences of those that are series.
    """
    ordered = sorted(windows)
    if not ordered:
        return []
    pairs = _match(ordered, _candidates(partner, ordered, resource_ids, conflict_type, ignore_ids))
    if not pairs:
        return []
    events = ScheduleEvent.objects.for_partner(partner).in_bulk({slot.pk for _, slot in pairs})
    return [Conflict(window, events[slot.pk]) for window, slot in pairs]


class _Slot(NamedTuple):
    pk: int
    start: datetime
    end: datetime


def _candidates(partner, windows, resource_ids, conflict_type, ignore_ids) -> list[_Slot]:
    """Resource and blackout candidates as the two halves of a UNION, each with its own index.

    A single `id IN (links) OR type = blackout` filter cannot use the links' index: SQLite and
    PostgreSQL then walk every event of the partner that starts before the span ends (bench/:
    580 ms on SQLite, ~70 ms on PostgreSQL at 1M events; 2 ms as a UNION).
    """
    span_start = windows[0].start
    span_end = max(w.end for w in windows)
    events = ScheduleEvent.objects.bookable().overlapping(span_start, span_end)
    if ignore_ids:
        ignored = list(ignore_ids)
        events = events.exclude(pk__in=ignored).exclude(parent_id__in=ignored)
    halves = []
    if conflict_type in (ConflictType.RESOURCE, ConflictType.BOTH) and resource_ids:
        # Driven by the links' (resource, event) index, then each event by primary key: the cost
        # follows the resources' bookings, not the partner's. Without ANALYZE statistics SQLite
        # takes an equality on an index's first column for ~10 rows, so `partner_id = ?` would
        # make every partner-led index look best. So links are picked by resource alone and the
        # partner is checked as `partner_id + 0`, SQLite's documented way to keep a term off
        # the indexes; another partner's resource id thus finds nothing.
        linked = ScheduleEventResource.objects.filter(resource_id__in=resource_ids).values("event_id")
        halves.append(events.alias(owner=F("partner_id") + 0).filter(owner=partner.pk, pk__in=linked))
    if conflict_type in (ConflictType.BLACKOUT, ConflictType.BOTH):
        halves.append(events.for_partner(partner).filter(type=EventType.BLACKOUT))
    if not halves:
        return []
    rows = [half.values_list("pk", "start", "end") for half in halves]
    return [_Slot(*row) for row in rows[0].union(*rows[1:])]


def _match(windows: Sequence[Window], slots: Sequence[_Slot]) -> list[tuple[Window, _Slot]]:
    starts = [w.start for w in windows]
    longest = max(w.end - w.start for w in windows)
    found = []
    for slot in slots:
        # Only windows that start before the event ends and less than `longest` before it
        # starts can overlap it; check those.
        low = bisect.bisect_right(starts, slot.start - longest)
        high = bisect.bisect_left(starts, slot.end)
        for window in windows[low:high]:
            if overlaps(window.start, window.end, slot.start, slot.end):
                found.append((window, slot))
    found.sort(key=lambda pair: (pair[0], pair[1].start, pair[1].pk))
    return found


def lock_for_write(partner: Partner, resource_ids: Collection[int], *, blackout: bool) -> None:
    """Serialise check-then-write for these resources. Call inside transaction.atomic().

    PostgreSQL: bookings lock their resources' rows and share-lock the partner row, a blackout
    takes the partner row exclusively (it collides with every resource). SQLite: the
    IMMEDIATE transaction mode has already serialised all writers; nothing to do.
    """
    if connection.vendor != "postgresql":
        return
    mode = "UPDATE" if blackout else "SHARE"
    with connection.cursor() as cursor:
        table = Partner._meta.db_table
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR {mode}", [partner.pk])
    if resource_ids:
        locked = ScheduleResource.objects.select_for_update().filter(
            partner=partner, pk__in=sorted(resource_ids)
        )
        list(locked.order_by("pk").values_list("pk", flat=True))


def collisions(partner: Partner, event_ids: Collection[int]) -> list[tuple[int, int]]:
    """(event, other) for each stored booking among `event_ids` and each event it conflicts with
    as defined above; `other` may be another of `event_ids`, never the event itself.

    Two queries for any number of events (bulk imports check a chunk of new rows at once): one
    follows each event's links to the other bookings of the same resources, by the links'
    (resource, event) index as _candidates does; the other finds the partner's blackouts by the
    (partner, type, start) index. The cost follows the resources' bookings, not the partner's."""
    ids = list(event_ids)
    if not ids:
        return []
    # One filter() call each: terms on a multi-valued relation in separate calls would each get
    # a join of their own, multiplying the rows. The partner is compared here, not in SQL: as a
    # term there, SQLite without statistics walks the partner's events instead (see _candidates).
    other = "resource__event_links__event__"
    shared = ScheduleEventResource.objects.filter(
        event_id__in=ids, **_bookable(other), **_overlapping(other, "event__")
    ).values_list("event_id", f"{other}id", f"{other}partner_id")
    blackout = "partner__scheduleevent__"
    closed = ScheduleEvent.objects.filter(
        pk__in=ids,
        **{f"{blackout}type": EventType.BLACKOUT},
        **_bookable(blackout),
        **_overlapping(blackout, ""),
    ).values_list("pk", f"{blackout}id", f"{blackout}partner_id")
    pairs = {(event, hit) for event, hit, owner in [*shared, *closed] if owner == partner.pk and event != hit}
    return sorted(pairs)


def _bookable(prefix: str) -> dict[str, object]:
    """ScheduleEventQuerySet.bookable() for the event at the end of `prefix`; positive terms only,
    since a negated one on a multi-valued relation would become a subquery."""
    return {
        f"{prefix}status": EventStatus.ACTIVE,
        f"{prefix}recurrence_type__in": [RecurrenceType.NONE, RecurrenceType.RECURRENCE],
    }


def _overlapping(prefix: str, of: str) -> dict[str, object]:
    """Half-open overlap of the event at `prefix` with the event at `of` ("" for the row itself)."""
    return {f"{prefix}start__lt": F(f"{of}end"), f"{prefix}end__gt": F(f"{of}start")}
