"""Find a free room (issue #19): the rooms free at a time, or for every date of a weekly pattern
over a term, that have what a booking needs (a camera, a live entry, seats, tags), in a building.

A room is an active location with no active location below it: the places people sit in, not
the buildings and floors that hold them (booking a building books none of its rooms). A room is
free for a slot when neither it nor the equipment the booking would take has an active booking
overlapping the slot, and no blackout does: conflicts.py's definition (half-open overlap, active
rows that are not series rows, blackouts partner-wide), so what is listed free books without a
conflict. A series books one set of resources, so a needed camera (or live entry) is one camera
free on every date, the same one throughout.

Queries, whatever the campus: the partner's resources; the bookings of the pattern's slots, in
chunks of CHUNK slots (one query per chunk); the meetings longer than a day; the blackouts.
Recordings and live streams last at most a day (scheduling.MAX_SINGLE_DURATION) and so do most
meetings, so a slot's bookings are found among those starting at most a day before it, on the
events' (partner, status, start) index: about a day's bookings per slot rather than the term's
(bench/free_rooms.py). Meetings may be longer (an imported conference), hence their own query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F, FloatField, Func
from django.db.models.expressions import RawSQL

from calendar_app import recurrence, scheduling
from calendar_app.conflicts import Window, overlaps
from calendar_app.errors import ValidationFailed
from calendar_app.models import (
    EventType,
    Partner,
    ResourceStatus,
    ResourceType,
    ScheduleEvent,
    ScheduleResource,
)

MAX_SLOTS = 500  # dates a weekly pattern may have: a two-year, five-days-a-week timetable
CHUNK = 100  # slots per query (SQLite allows 500 parts in a UNION)
SHORT = timedelta(days=1)  # what a slot's own query looks back for; longer meetings apart
EQUIPMENT = (ResourceType.CAMERA, ResourceType.LIVE_ENTRY)


@dataclass(frozen=True)
class Once:
    """One slot: a local date, and wall-clock times in the partner's zone (an end of 00:00 is
    the next midnight, as the booking panel has it)."""

    day: date
    start: time
    end: time


@dataclass(frozen=True)
class Weekly:
    """Every `weekdays` (recurrence.WEEKDAYS codes: "MO", ...) from `first` to `last`, at the
    same wall-clock times in the partner's zone across DST."""

    weekdays: tuple[str, ...]
    start: time
    end: time
    first: date
    last: date


@dataclass(frozen=True)
class Needs:
    camera: bool = False
    live_entry: bool = False
    capacity: int | None = None  # at least this many seats
    tags: tuple[str, ...] = ()  # every one of them among the room's tags (case aside)


@dataclass(frozen=True)
class Search:
    partner: Partner
    when: Once | Weekly
    needs: Needs = Needs()
    building: int | None = None  # a location: only the rooms below it, at any depth


@dataclass(frozen=True)
class Room:
    id: int
    name: str
    place: str  # the locations above it, outermost first ("Turing Building")
    capacity: int | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Piece:
    """A camera or live entry of a room."""

    id: int
    name: str
    type: int


@dataclass(frozen=True)
class Match:
    """A room and the equipment a booking of it would take (what the needs ask for), and the
    slots on which it, that equipment or a blackout is busy (empty when free throughout)."""

    room: Room
    equipment: tuple[Piece, ...]
    busy: tuple[Window, ...] = ()

    def busy_days(self, zone: ZoneInfo) -> list[date]:
        return sorted({window.start.astimezone(zone).date() for window in self.busy})


@dataclass(frozen=True)
class Result:
    slots: list[Window]  # UTC, in order
    free: list[Match]  # free for every slot, by place and name
    busy: list[Match] = field(default_factory=list)  # fewest busy slots first, then place and name


def slots(partner: Partner, when: Once | Weekly) -> list[Window]:
    """The UTC slots a search is about: as recurrence.py expands a weekly booking, so each is a
    slot the booking made from the search would occupy. ValidationFailed names the search's
    field: end, weekdays or last (beyond MAX_SLOTS dates or the horizon, or none at all)."""
    zone = partner.zone
    if when.end <= when.start and when.end != time(0):
        raise ValidationFailed("end", "must be after the start")
    if isinstance(when, Once):
        return [_first(when.day, when, zone)]
    starts = _weekly_starts(when, zone)
    # Every occurrence lasts as long as the first (scheduling.windows_for): across a DST
    # change it keeps its length, not its wall-clock end.
    first = _first(starts[0].astimezone(zone).date(), when, zone)
    return [Window(start, start + (first.end - first.start)) for start in starts]


def find(search: Search) -> Result:
    windows = slots(search.partner, search.when)
    rooms, equipment = _rooms(search)
    wanted = _wanted_types(search.needs)
    pieces = {room.id: [p for p in equipment[room.id] if p.type in wanted] for room in rooms}
    resource_ids = {room.id for room in rooms} | {p.id for found in pieces.values() for p in found}
    busy = _busy(search.partner, windows, resource_ids)
    closed = _blackouts(search.partner, windows)
    matches = [_match(room, pieces[room.id], wanted, busy, closed, windows) for room in rooms]
    free = sorted((m for m in matches if not m.busy), key=lambda m: _by_place(m.room))
    taken = sorted((m for m in matches if m.busy), key=lambda m: (len(m.busy), *_by_place(m.room)))
    return Result(windows, free, taken)


# ---------------------------------------------------------------- the slots


def _first(day: date, when: Once | Weekly, zone: ZoneInfo) -> Window:
    """The slot on `day`, each end from its wall-clock time as the booking form converts it."""
    end_day = day + timedelta(days=1) if when.end == time(0) else day
    start = recurrence.to_utc(datetime.combine(day, when.start), zone)
    return Window(start, recurrence.to_utc(datetime.combine(end_day, when.end), zone))


def _weekly_starts(when: Weekly, zone: ZoneInfo) -> list[datetime]:
    if not when.weekdays:
        raise ValidationFailed("weekdays", "Pick at least one day of the week.")
    if when.last < when.first:
        raise ValidationFailed("last", "must not be before the first date")
    first = datetime.combine(when.first, when.start)
    # Through the end of the last day, as the booking form's "until" says it.
    until = recurrence.to_utc(datetime.combine(when.last + timedelta(days=1), time(0)), zone)
    rule = {
        "frequency": "weeks",
        "by_day": ",".join(when.weekdays),
        "until": int(until.timestamp()) - 1,
        "time_zone": zone.key,
    }
    cap = recurrence.Limits(MAX_SLOTS, scheduling.limits().horizon)
    try:
        parsed = recurrence.parse(rule, default_zone=zone.key)
        return recurrence.expand(parsed, recurrence.to_utc(first, zone), cap)
    except ValidationFailed as error:
        if error.code == "RECURRENCE_EMPTY":
            raise ValidationFailed("weekdays", "None of these days falls between the dates.") from None
        if error.code == "RECURRENCE_TOO_LONG":
            raise ValidationFailed(
                "last",
                f"At most {MAX_SLOTS} dates within {cap.horizon.days} days: shorten the term.",
            ) from None
        raise


# ---------------------------------------------------------------- rooms and their equipment


def _rooms(search: Search) -> tuple[list[Room], dict[int, list[Piece]]]:
    """The rooms that meet the needs (but for being free), and each room's equipment by name."""
    rows = (
        ScheduleResource.objects.for_partner(search.partner)
        .filter(status=ResourceStatus.ACTIVE)
        .values_list("pk", "name", "type", "parent_id", "capacity", "tags")
    )
    by_id = {row[0]: row for row in rows}
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, _, _, parent, _, _ in by_id.values():
        children[parent if parent in by_id else None].append(pk)
    below = _below(search.building, children) if search.building is not None else None
    rooms, equipment = [], {}
    for pk, name, kind, _, capacity, tags in by_id.values():
        if kind != ResourceType.LOCATION or (below is not None and pk not in below):
            continue
        if any(by_id[child][2] == ResourceType.LOCATION for child in children[pk]):
            continue  # a building or a floor: its rooms are the places
        room = Room(pk, name, _place(pk, by_id), capacity, _tags(tags))
        equipment[pk] = sorted(_equipment(pk, by_id, children), key=lambda p: (p.name.casefold(), p.id))
        if _meets(room, equipment[pk], search.needs):
            rooms.append(room)
    return rooms, equipment


def _below(root: int, children: dict[int | None, list[int]]) -> set[int]:
    found, stack = set(), list(children[root])
    while stack:
        pk = stack.pop()
        found.add(pk)
        stack.extend(children[pk])
    return found


def _equipment(room: int, by_id: dict, children: dict[int | None, list[int]]) -> list[Piece]:
    """The cameras and live entries under `room`, through any non-location resource between
    (grid.py's rule: a location below would be a room of its own)."""
    found, stack = [], list(children[room])
    while stack:
        pk, name, kind = by_id[stack.pop()][:3]
        if kind != ResourceType.LOCATION:
            if kind in EQUIPMENT:
                found.append(Piece(pk, name, kind))
            stack.extend(children[pk])
    return found


def _place(pk: int, by_id: dict) -> str:
    names: list[str] = []
    parent = by_id[pk][3]
    while parent in by_id and len(names) < 20:  # a cycle cannot happen (scheduling.py); bounded anyway
        names.append(by_id[parent][1])
        parent = by_id[parent][3]
    return " / ".join(reversed(names))


def _tags(text: str) -> tuple[str, ...]:
    return tuple(tag.strip() for tag in (text or "").split(",") if tag.strip())


def _meets(room: Room, equipment: list[Piece], needs: Needs) -> bool:
    kinds = {piece.type for piece in equipment}
    if needs.camera and ResourceType.CAMERA not in kinds:
        return False
    if needs.live_entry and ResourceType.LIVE_ENTRY not in kinds:
        return False
    if needs.capacity is not None and (room.capacity is None or room.capacity < needs.capacity):
        return False
    has = {tag.casefold() for tag in room.tags}
    return all(tag.casefold() in has for tag in needs.tags)


def _wanted_types(needs: Needs) -> tuple[int, ...]:
    return tuple(t for t, wanted in zip(EQUIPMENT, (needs.camera, needs.live_entry), strict=True) if wanted)


def _by_place(room: Room) -> tuple[str, str, int]:
    return room.place.casefold(), room.name.casefold(), room.id


# ---------------------------------------------------------------- bookings and blackouts


def _busy(partner: Partner, windows: list[Window], resource_ids: Collection[int]) -> dict[int, set[int]]:
    """For each of `resource_ids` with a booking in some slot: the indexes of those slots."""
    busy: dict[int, set[int]] = defaultdict(set)
    for resource_id, index in _booked_slots(partner, windows):
        if resource_id in resource_ids:
            busy[resource_id].add(index)
    for resource_id, start, end in _long_meetings(partner, windows):
        if resource_id in resource_ids:
            busy[resource_id].update(_hit(windows, start, end))
    return busy


def _booked_slots(partner: Partner, windows: list[Window]) -> Iterable[tuple[int, int]]:
    """(resource, slot index) for each link of a booking overlapping a slot that starts at most
    SHORT before it. A UNION of one indexed range per slot: OR-ed ranges make SQLite walk the
    partner's every event (bench: 310 ms against 50 ms). The slot's number is a bare parameter:
    as Value(n, IntegerField()) Django would convert it on each of ~10,000 rows (10 ms)."""
    events = ScheduleEvent.objects.for_partner(partner).bookable()
    for low in range(0, len(windows), CHUNK):
        parts = [
            events.overlapping(w.start, w.end)
            .filter(start__gte=w.start - SHORT, resource_links__isnull=False)
            .values_list("resource_links__resource_id", RawSQL("%s", [low + n]))
            for n, w in enumerate(windows[low : low + CHUNK])
        ]
        yield from parts[0].union(*parts[1:], all=True)


def _long_meetings(partner: Partner, windows: list[Window]) -> list[tuple[int, datetime, datetime]]:
    """(resource, start, end) of the meetings longer than SHORT overlapping the slots' span,
    which _booked_slots may miss (recordings and live streams never last longer)."""
    rows = (
        ScheduleEvent.objects.for_partner(partner)
        .bookable()
        .filter(type=EventType.MEETING, resource_links__isnull=False)
        .overlapping(windows[0].start, max(w.end for w in windows))
        .alias(days=_Days(F("end"), F("start")))
        .filter(days__gt=SHORT / timedelta(days=1))
        .values_list("resource_links__resource_id", "start", "end")
    )
    return list(rows)


class _Days(Func):
    """end - start in days. `end > start + interval` costs SQLite a Python function call per
    row (Django's django_format_dtdelta): 65 ms for the bench's 12,000 meetings, 20 ms so."""

    arg_joiner = ") - julianday("
    template = "(julianday(%(expressions)s))"
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)"
        return self.as_sql(compiler, connection, template=template, arg_joiner=" - ", **extra)


def _blackouts(partner: Partner, windows: list[Window]) -> set[int]:
    """The indexes of the slots a blackout overlaps (blackouts close every resource)."""
    rows = (
        ScheduleEvent.objects.for_partner(partner)
        .bookable()
        .filter(type=EventType.BLACKOUT)
        .overlapping(windows[0].start, max(w.end for w in windows))
        .values_list("start", "end")
    )
    return {index for start, end in rows for index in _hit(windows, start, end)}


def _hit(windows: list[Window], start: datetime, end: datetime) -> list[int]:
    return [n for n, w in enumerate(windows) if overlaps(w.start, w.end, start, end)]


def _match(
    room: Room,
    pieces: list[Piece],
    wanted: tuple[int, ...],
    busy: dict[int, set[int]],
    closed: set[int],
    windows: list[Window],
) -> Match:
    """The room with, of each wanted kind, its piece busy on the fewest slots (the first by name
    among equals), and the slots on which any of them or a blackout is busy."""
    taken = set(busy.get(room.id, ())) | closed
    chosen = []
    for kind in wanted:
        candidates = [p for p in pieces if p.type == kind]
        best = min(candidates, key=lambda p: len(busy.get(p.id, ())))  # min keeps the first of equals
        chosen.append(best)
        taken |= busy.get(best.id, set())
    return Match(room, tuple(chosen), tuple(windows[n] for n in sorted(taken)))
