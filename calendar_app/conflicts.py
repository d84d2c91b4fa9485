"""The one definition of a conflict (design.md, "Conflicts"), used by the API, the UI, imports
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

from django.db import connection
from django.db.models import Q

from calendar_app.models import (
    EventType,
    Partner,
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

    One query fetches the candidates in the windows' overall span; matching each candidate to
    the windows it overlaps happens here, so a 1,000-occurrence probe costs one query, not 1,000.
    `ignore_ids` excludes those events and the occurrences of those that are series.
    """
    ordered = sorted(windows)
    if not ordered:
        return []
    candidates = _candidates(partner, ordered, resource_ids, conflict_type, ignore_ids)
    return _match(ordered, candidates)


def _candidates(partner, windows, resource_ids, conflict_type, ignore_ids) -> list[ScheduleEvent]:
    span_start = windows[0].start
    span_end = max(w.end for w in windows)
    wanted = Q(pk__in=[])
    if conflict_type in (ConflictType.RESOURCE, ConflictType.BOTH) and resource_ids:
        linked = ScheduleEventResource.objects.filter(partner=partner, resource_id__in=resource_ids).values(
            "event_id"
        )
        wanted |= Q(pk__in=linked)
    if conflict_type in (ConflictType.BLACKOUT, ConflictType.BOTH):
        wanted |= Q(type=EventType.BLACKOUT)
    events = ScheduleEvent.objects.for_partner(partner).bookable().overlapping(span_start, span_end)
    events = events.filter(wanted)
    if ignore_ids:
        ignored = list(ignore_ids)
        events = events.exclude(pk__in=ignored).exclude(parent_id__in=ignored)
    return list(events.order_by("start", "pk"))


def _match(windows: Sequence[Window], events: Sequence[ScheduleEvent]) -> list[Conflict]:
    starts = [w.start for w in windows]
    longest = max(w.end - w.start for w in windows)
    found = []
    for event in events:
        # Only windows that start before the event ends and less than `longest` before it
        # starts can overlap it; check those.
        low = bisect.bisect_right(starts, event.start - longest)
        high = bisect.bisect_left(starts, event.end)
        for window in windows[low:high]:
            if window.start < event.end and event.start < window.end:
                found.append(Conflict(window, event))
    found.sort(key=lambda c: (c.window, c.event.start, c.event.pk))
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
