"""What the web calendar asks before it books: the conflicts of a proposed slot in words staff
can act on (which resource, which event, which blackout), and for a recurring booking the state
of each occurrence. No HTTP here; views turn requests into a `Proposal`.

Conflicts are conflicts.py's, over the slots scheduling.windows_for expands (what
scheduling.check_proposal does): the same answer the save will give, so a warning shown while
dragging is the refusal the save would meet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from calendar_app import conflicts, recurrence, scheduling, writes
from calendar_app.conflicts import Conflict, ConflictType, Window
from calendar_app.models import (
    EventStatus,
    EventType,
    Partner,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)

FREE, CONFLICT, BLACKOUT = "free", "conflict", "blackout"
# The dates the calendar takes: any booking's, and far enough from date.min and date.max that
# a week's midnights in UTC, the day after an end date, and the weeks around a page exist.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(9000, 12, 31)


@dataclass(frozen=True)
class Proposal:
    """An unsaved booking: scheduling.create_event's `data` and resources. `ignore_ids` leaves
    out the event being moved (and, for a series, its occurrences)."""

    data: dict[str, Any]
    resource_ids: tuple[int, ...] = ()
    ignore_ids: tuple[int, ...] = field(default=())


class Clash(NamedTuple):
    """One stored event a proposal collides with, as a warning line."""

    event_id: int
    summary: str
    is_blackout: bool
    resources: tuple[str, ...]  # the shared resources' names; empty for a blackout
    start: datetime  # local
    end: datetime  # local


class OccurrenceCheck(NamedTuple):
    start: datetime  # local
    end: datetime  # local
    utc_start: datetime  # the value a "skip" checkbox sends back
    state: str  # FREE, CONFLICT or BLACKOUT
    clashes: list[Clash]


def local_to_utc(day: date, clock_time: time, zone: ZoneInfo) -> datetime:
    """A wall time in the partner's zone as a UTC instant (recurrence.to_utc's DST rule)."""
    return recurrence.to_utc(datetime.combine(day, clock_time), zone)


def clashes(actor: writes.Actor, proposal: Proposal, skip: Collection[datetime] = ()) -> list[Clash]:
    """Every stored event the proposal collides with, once, by start: over each occurrence but
    those starting at `skip` (UTC; the dates a recurring booking leaves out)."""
    if proposal.data["type"] == EventType.BLACKOUT:
        return []  # never refused: nothing to warn about
    skipped = set(skip)
    found = _conflicts(actor, proposal, scheduling.windows_for(actor, proposal.data))
    unique = {c.event.pk: c for c in found if c.window.start not in skipped}
    return describe(actor.partner, list(unique.values()), proposal.resource_ids)


def occurrences(actor: writes.Actor, proposal: Proposal) -> list[OccurrenceCheck]:
    """Each slot the proposal would occupy, free or not, with what it collides with."""
    windows = scheduling.windows_for(actor, proposal.data)
    found = _conflicts(actor, proposal, windows)
    lines = {line.event_id: line for line in describe(actor.partner, found, proposal.resource_ids)}
    per_window: dict[Any, list[Clash]] = defaultdict(list)
    for conflict in found:
        per_window[conflict.window].append(lines[conflict.event.pk])
    zone = actor.partner.zone
    checks = []
    for window in windows:
        hits = per_window.get(window, [])
        state = BLACKOUT if any(h.is_blackout for h in hits) else CONFLICT if hits else FREE
        checks.append(
            OccurrenceCheck(
                window.start.astimezone(zone), window.end.astimezone(zone), window.start, state, hits
            )
        )
    return checks


def of_event(partner: Partner, event: ScheduleEvent) -> list[Clash]:
    """What a stored event collides with now; nothing for one not active, or for a blackout
    (never refused, so never warned about)."""
    if event.status != EventStatus.ACTIVE or event.type == EventType.BLACKOUT:
        return []
    return describe(partner, scheduling.conflicts_of(event), scheduling.resource_ids_of(event))


def describe(partner: Partner, found: Collection[Conflict], resource_ids: Collection[int]) -> list[Clash]:
    """Warning lines for conflicts, one per colliding event, by start: the resources each shares
    with the proposal, by name. One query for the links of all the colliding events."""
    if not found:
        return []
    ids = {c.event.pk for c in found}
    shared: dict[int, list[str]] = defaultdict(list)
    links = (
        ScheduleEventResource.objects.filter(event_id__in=ids, resource_id__in=list(resource_ids))
        .order_by("resource__name")
        .values_list("event_id", "resource__name")
    )
    for event_id, name in links:
        shared[event_id].append(name)
    zone = partner.zone
    lines = {}
    for conflict in found:
        event = conflict.event
        is_blackout = event.type == EventType.BLACKOUT
        lines[event.pk] = Clash(
            event.pk, event.summary, is_blackout, () if is_blackout else tuple(shared[event.pk]),
            event.start.astimezone(zone), event.end.astimezone(zone),
        )  # fmt: skip
    return sorted(lines.values(), key=lambda line: (line.start, line.event_id))


def resource_names(partner: Partner, resource_ids: Collection[int]) -> list[str]:
    return list(
        ScheduleResource.objects.for_partner(partner)
        .filter(pk__in=list(resource_ids))
        .order_by("name")
        .values_list("name", flat=True)
    )


def _conflicts(actor: writes.Actor, proposal: Proposal, windows: list[Window]) -> list[Conflict]:
    """scheduling.check_proposal for windows already expanded (expanding a rule is the costly part),
    and nothing for a blackout, which is never refused."""
    if proposal.data["type"] == EventType.BLACKOUT:
        return []
    return conflicts.find(
        actor.partner, windows, proposal.resource_ids, ConflictType.BOTH, proposal.ignore_ids
    )
