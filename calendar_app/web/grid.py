"""The view model of the staff web calendar (docs/architecture.md): the week and day views.

`build(query)` returns everything the templates print: the days, the resources as columns
grouped by location, the events placed in each day's column with their lanes and conflict
flags, the blackout bands, the now-line. No HTTP, no templates, no clock: `now` comes in.

Positions are local wall-clock minutes from local midnight in the partner's zone, so a 09:00
lecture sits on the 09:00 line whatever the UTC offset. Three queries whatever the data size
(resources, the window's events with their links, blackouts), read as tuples: this is the page
staff open first (bench/week_view.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db.models import Func

from calendar_app.conflicts import overlaps
from calendar_app.models import (
    EventStatus,
    EventType,
    Partner,
    RecurrenceType,
    ResourceStatus,
    ResourceType,
    ScheduleEvent,
    ScheduleEventQuerySet,
    ScheduleResource,
)
from calendar_app.scheduling import MAX_SINGLE_DURATION

DAY_MINUTES = 24 * 60
SNAP_MINUTES = 15  # the grid's rows; bookings made on the grid snap to them
OTHER_RESOURCES = "Other resources"

SHOWN_STATUSES = (EventStatus.ACTIVE, EventStatus.CANCELLED)
NOT_SERIES = (RecurrenceType.NONE, RecurrenceType.RECURRENCE)  # a series row stands for its occurrences
COLUMN_EVENT_TYPES = tuple(t for t in EventType if t != EventType.BLACKOUT)
# The write path refuses longer bookings of these types (blackouts are not among them), so an
# event overlapping the window starts at most this long before it: a bounded range on the
# (partner, status, start) index instead of every event since the partner began.
LONGEST_BOOKING = max(MAX_SINGLE_DURATION[t] for t in COLUMN_EVENT_TYPES)
# Within a group: the location itself, then its cameras, then its live entries.
COLUMN_RANK = {ResourceType.LOCATION: 0, ResourceType.CAMERA: 1, ResourceType.LIVE_ENTRY: 2}


@dataclass(frozen=True)
class Query:
    partner: Partner
    first_day: date  # local date in the partner's time zone
    days: int  # 1 (day view) or 7 (week view)
    now: datetime  # aware; only for the now-line and "today"
    location_id: int | None = None  # this location's group and the groups of locations below it
    resource_types: frozenset[int] = frozenset(ResourceType)  # which resource types are columns

    def __post_init__(self) -> None:
        if self.days not in (1, 7):
            raise ValueError(f"a grid shows 1 or 7 days, not {self.days}")
        if self.now.tzinfo is None:
            raise ValueError("now must be an aware datetime")


def first_day(day: date, days: int) -> date:
    """The first day shown with `day`: the week view starts on Monday, the day view on the day."""
    return day - timedelta(days=day.weekday()) if days == 7 else day


class Resource(NamedTuple):
    id: int
    name: str
    type: int
    parent_id: int | None


# Groups and columns point at each other; they compare by identity and print without the cycle.
@dataclass(frozen=True, eq=False)
class Group:
    location: Resource | None  # None for "Other resources"
    name: str
    columns: list[Column]


@dataclass(frozen=True, eq=False)
class Column:
    resource: Resource
    index: int  # position in Grid.columns and in each day's row of Grid.cells
    group: Group = field(repr=False)

    @property
    def label(self) -> str:
        """The name without the group's: under "Franklin 101", "Franklin 101 camera 1" reads
        "camera 1", and the location's own column "Room" (the group's head names it)."""
        prefix = self.group.name
        name = self.resource.name
        if self.resource.type == ResourceType.LOCATION:
            return "Room" if self.group.location and self.group.location.id == self.resource.id else name
        if name.startswith(prefix) and name != prefix:
            return name[len(prefix) :].lstrip(" -–·:") or name
        return name


@dataclass(frozen=True)
class Day:
    index: int
    date: date
    label: str  # "Mon 7 Sep"
    is_today: bool
    start: datetime  # UTC instant of local midnight
    end: datetime  # the next local midnight: 23 or 25 hours later on DST days


class Row(NamedTuple):
    minute: int  # from local midnight
    label: str  # "09:00" on the hour, "" otherwise


class Placed(NamedTuple):
    """One event in one column on one day."""

    event_id: int
    summary: str
    type: int  # EventType
    status: int  # EventStatus.ACTIVE or CANCELLED (drawn struck through)
    is_occurrence: bool
    parent_id: int | None
    start: datetime  # local
    end: datetime  # local
    top: int  # minutes from local midnight, clipped to the day
    height: int
    continues_before: bool  # began on an earlier day
    continues_after: bool  # goes on into the next day
    lane: int  # 0-based position among the overlapping events of this column and day
    lanes: int  # how many lanes the cluster of overlapping events it belongs to needs
    in_conflict: bool  # with another active event of this column, or with a blackout

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED


class Band(NamedTuple):
    """A blackout on one day, drawn across all columns."""

    event_id: int
    summary: str
    start: datetime  # local
    end: datetime  # local
    top: int
    height: int
    continues_before: bool
    continues_after: bool


class Unassigned(NamedTuple):
    """An event in the window with no resource at all: no column shows it."""

    event_id: int
    summary: str
    type: int
    status: int
    start: datetime  # local
    end: datetime  # local


class NowLine(NamedTuple):
    day_index: int
    minute: int


class LocationOption(NamedTuple):
    id: int
    name: str
    depth: int  # 0 for a top-level location, 1 for a room in a building ...


@dataclass(frozen=True)
class Grid:
    query: Query
    zone: ZoneInfo
    start: datetime  # UTC: local midnight of the first day
    end: datetime  # UTC: local midnight after the last day
    days: list[Day]
    rows: list[Row]
    groups: list[Group]
    columns: list[Column]
    cells: list[list[list[Placed]]]  # [day index][column index] -> events, by top then lane
    blackouts: list[list[Band]]  # [day index]
    now_line: NowLine | None
    unassigned: list[Unassigned]
    is_empty_partner: bool  # no active resource at all: the first-run screen
    locations: list[LocationOption]  # the location filter's choices, in tree order

    def day_cells(self) -> list[tuple[Day, list[tuple[Column, list[Placed]]], list[Band]]]:
        """Per day: (day, [(column, its events)], blackout bands), for templates that cannot index."""
        return [
            (day, list(zip(self.columns, self.cells[day.index], strict=True)), self.blackouts[day.index])
            for day in self.days
        ]


def build(query: Query) -> Grid:
    zone = query.partner.zone
    days = _days(query, zone)
    start, end = days[0].start, days[-1].end
    resources = _resources(query.partner)
    groups = _groups(resources, query.location_id, query.resource_types)
    columns = [column for group in groups for column in group.columns]
    blackouts = _blackouts(query.partner, start, end)
    by_resource, unassigned = _events(query.partner, start, end)
    return Grid(
        query=query,
        zone=zone,
        start=start,
        end=end,
        days=days,
        rows=_rows(),
        groups=groups,
        columns=columns,
        cells=_cells(by_resource, columns, blackouts, days, zone),
        blackouts=_bands(blackouts, days, zone),
        now_line=_now_line(query.now, days, zone),
        unassigned=[_unassigned(event, zone) for event in sorted(unassigned, key=_by_start)],
        is_empty_partner=not resources,
        locations=_location_options(resources),
    )


# ---------------------------------------------------------------- days and times


def _days(query: Query, zone: ZoneInfo) -> list[Day]:
    today = query.now.astimezone(zone).date()
    dates = [query.first_day + timedelta(days=n) for n in range(query.days + 1)]
    midnights = [_midnight(day, zone) for day in dates]
    return [
        Day(n, day, f"{day:%a} {day.day} {day:%b}", day == today, midnights[n], midnights[n + 1])
        for n, day in enumerate(dates[:-1])
    ]


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # Where midnight itself is skipped by a DST change, fold=0 takes the offset before it,
    # which lands on the instant the day begins.
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _minute(local: datetime) -> int:
    return local.hour * 60 + local.minute


def _rows() -> list[Row]:
    return [
        Row(minute, f"{minute // 60:02d}:00" if minute % 60 == 0 else "")
        for minute in range(0, DAY_MINUTES, SNAP_MINUTES)
    ]


def _now_line(now: datetime, days: list[Day], zone: ZoneInfo) -> NowLine | None:
    for day in days:
        if day.start <= now < day.end:
            return NowLine(day.index, _minute(now.astimezone(zone)))
    return None


class _Segment(NamedTuple):
    """The part of an event (or blackout) that falls on one day, in wall-clock minutes."""

    day: int
    top: int
    height: int
    continues_before: bool
    continues_after: bool


def _segments(
    start: datetime, end: datetime, start_local: datetime, end_local: datetime, days: list[Day]
) -> list[_Segment]:
    """The days [start, end) touches within the window (a zero-length event: its start's day);
    the event overlaps the window.

    Top and bottom are the wall-clock minutes of start and end, so the height is the wall-clock
    difference: 01:30-03:30 is 120 minutes tall on both DST days, although it lasts one hour when
    clocks go forward and three when they go back. The grid's time axis is the wall clock, and
    this keeps the box between the labels of the times it shows. An end whose wall-clock time
    comes before the start's (inside the repeated hour when clocks go back) gives height 0,
    never a negative one.
    """
    first_date = days[0].date
    first = max(0, (start_local.date() - first_date).days)
    last = min(len(days) - 1, (end_local.date() - first_date).days)
    if last > first and end == days[last].start:  # ends at a midnight: nothing of it on that day
        last -= 1
    segments = []
    for day in days[first : last + 1]:
        top = 0 if start < day.start else _minute(start_local)
        bottom = DAY_MINUTES if end >= day.end else _minute(end_local)
        segments.append(_Segment(day.index, top, max(bottom - top, 0), start < day.start, end > day.end))
    return segments


# ---------------------------------------------------------------- resources, groups, columns


def _resources(partner: Partner) -> list[Resource]:
    rows = ScheduleResource.objects.for_partner(partner).filter(status=ResourceStatus.ACTIVE)
    return [Resource(*row) for row in rows.values_list("pk", "name", "type", "parent_id")]


def _children(resources: list[Resource]) -> dict[int | None, list[Resource]]:
    """Each resource's active children by name. A resource whose parent is not active (disabled
    or deleted) counts as a top-level one: its cameras stay visible, among "Other resources"."""
    ids = {r.id for r in resources}
    children: dict[int | None, list[Resource]] = defaultdict(list)
    for resource in sorted(resources, key=_by_name):
        children[resource.parent_id if resource.parent_id in ids else None].append(resource)
    return children


def _by_name(resource: Resource) -> tuple[str, int]:
    return resource.name.casefold(), resource.id


def _equipment(root: int | None, children: dict[int | None, list[Resource]]) -> list[Resource]:
    """The cameras and live entries under `root`, through any non-location resources between
    them; a location below starts its own group."""
    found, stack = [], list(children[root])
    while stack:
        resource = stack.pop()
        if resource.type != ResourceType.LOCATION:
            found.append(resource)
            stack.extend(children[resource.id])
    return found


def _groups(resources: list[Resource], location_id: int | None, types: frozenset[int]) -> list[Group]:
    children = _children(resources)
    locations = sorted((r for r in resources if r.type == ResourceType.LOCATION), key=_by_name)
    if location_id is not None:
        wanted = {location_id} | _below(location_id, children)
        locations = [r for r in locations if r.id in wanted]
    members = [([r, *_equipment(r.id, children)], r, r.name) for r in locations]
    if location_id is None:
        members.append((_equipment(None, children), None, OTHER_RESOURCES))
    groups: list[Group] = []
    index = 0
    for resources_of, location, name in members:
        shown = sorted((r for r in resources_of if r.type in types), key=_column_order)
        if shown:
            group = Group(location, name, [])
            group.columns.extend(Column(r, index + n, group) for n, r in enumerate(shown))
            groups.append(group)
            index += len(shown)
    return groups


def _column_order(resource: Resource) -> tuple[int, str, int]:
    return COLUMN_RANK[ResourceType(resource.type)], *_by_name(resource)


def _below(root: int, children: dict[int | None, list[Resource]]) -> set[int]:
    found, stack = set(), list(children[root])
    while stack:
        resource = stack.pop()
        found.add(resource.id)
        stack.extend(children[resource.id])
    return found


def _location_options(resources: list[Resource]) -> list[LocationOption]:
    """Active locations depth-first, each level by name; depth counts locations only."""
    children = _children(resources)
    options: list[LocationOption] = []

    def visit(parent: int | None, depth: int) -> None:
        for resource in children[parent]:
            is_location = resource.type == ResourceType.LOCATION
            if is_location:
                options.append(LocationOption(resource.id, resource.name, depth))
            visit(resource.id, depth + is_location)

    visit(None, 0)
    return options


# ---------------------------------------------------------------- events and blackouts


class _Event(NamedTuple):
    """A row of the events query; times in UTC."""

    pk: int
    summary: str
    type: int
    status: int
    recurrence_type: int
    parent_id: int | None
    start: datetime
    end: datetime


# The columns of _Event, in its order.
EVENT_FIELDS = ("pk", "summary", "type", "status", "recurrence_type", "parent_id", "start", "end")


class _OffTheIndexes(Func):
    """A column as it is; on SQLite written `+column`, the unary plus SQLite documents as a no-op
    on any value that keeps a term off the indexes. Without ANALYZE statistics SQLite otherwise
    takes the (partner, end) index for `end > ?` and reads every event that ends after the
    window starts: the partner's whole future. PostgreSQL plans by its statistics."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


def _in_window(partner: Partner, start: datetime, end: datetime, **terms) -> ScheduleEventQuerySet:
    """The partner's events overlapping [start, end) (half-open, as ScheduleEventQuerySet.overlapping)
    that satisfy `terms`, found by an index on their start."""
    return (
        ScheduleEvent.objects.for_partner(partner)
        .alias(ends=_OffTheIndexes("end"))
        .filter(start__lt=end, ends__gt=start, **terms)
    )


def _events(partner: Partner, start: datetime, end: datetime) -> tuple[dict[int, list[_Event]], list[_Event]]:
    """The shown events in the window by resource id, and those with no resource at all: one
    query, the links LEFT JOINed (an event without any comes back once, with resource NULL)."""
    rows = _in_window(
        partner, start, end,
        status__in=SHOWN_STATUSES, recurrence_type__in=NOT_SERIES, type__in=COLUMN_EVENT_TYPES,
        start__gte=start - LONGEST_BOOKING,
    ).values_list(*EVENT_FIELDS, "resource_links__resource_id")  # fmt: skip
    events: dict[int, _Event] = {}  # one tuple per event, however many links it comes back with
    by_resource: dict[int, list[_Event]] = defaultdict(list)
    unassigned = []
    for row in rows:
        event = events.get(row[0])
        if event is None:
            event = events[row[0]] = _Event(*row[:-1])
        if row[-1] is None:
            unassigned.append(event)
        else:
            by_resource[row[-1]].append(event)
    return by_resource, unassigned


def _blackouts(partner: Partner, start: datetime, end: datetime) -> list[_Event]:
    # Blackouts may be long, so no lower bound on their start: the (partner, type, start) index
    # reads the partner's blackouts up to the window's end, a few a year.
    rows = _in_window(
        partner,
        start,
        end,
        type=EventType.BLACKOUT,
        status=EventStatus.ACTIVE,
        recurrence_type__in=NOT_SERIES,
    ).values_list(*EVENT_FIELDS)
    return sorted((_Event(*row) for row in rows), key=_by_start)


def _by_start(event: _Event) -> tuple[datetime, int]:
    return event.start, event.pk


def _local(event: _Event, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return event.start.astimezone(zone), event.end.astimezone(zone)


def _bands(blackouts: list[_Event], days: list[Day], zone: ZoneInfo) -> list[list[Band]]:
    bands: list[list[Band]] = [[] for _ in days]
    for event in blackouts:
        local = _local(event, zone)
        for segment in _segments(event.start, event.end, *local, days):
            # segment[1:]: top, height and the continues flags, in Band's order
            bands[segment.day].append(Band(event.pk, event.summary, *local, *segment[1:]))
    return bands


def _unassigned(event: _Event, zone: ZoneInfo) -> Unassigned:
    return Unassigned(event.pk, event.summary, event.type, event.status, *_local(event, zone))


# ---------------------------------------------------------------- placing events in cells


class _Cut(NamedTuple):
    """An event in local time, cut into days, with its blackout flag: worked out once however
    many columns show it."""

    event: _Event
    start: datetime  # local
    end: datetime  # local
    segments: list[_Segment]
    in_blackout: bool  # an active event overlapping an active blackout


def _cut(event: _Event, days: list[Day], zone: ZoneInfo, blackouts: list[_Event]) -> _Cut:
    start, end = _local(event, zone)
    in_blackout = event.status == EventStatus.ACTIVE and any(
        overlaps(event.start, event.end, b.start, b.end) for b in blackouts
    )
    return _Cut(event, start, end, _segments(event.start, event.end, start, end, days), in_blackout)


def _cells(
    by_resource: dict[int, list[_Event]],
    columns: list[Column],
    blackouts: list[_Event],
    days: list[Day],
    zone: ZoneInfo,
) -> list[list[list[Placed]]]:
    cells: list[list[list[Placed]]] = [[[] for _ in columns] for _ in days]
    cuts: dict[int, _Cut] = {}
    for column in columns:
        events = by_resource.get(column.resource.id, [])
        conflicted = _resource_conflicts(events)
        per_day: dict[int, list[tuple[_Cut, _Segment]]] = defaultdict(list)
        for event in events:
            if event.pk not in cuts:
                cuts[event.pk] = _cut(event, days, zone, blackouts)
            for segment in cuts[event.pk].segments:
                per_day[segment.day].append((cuts[event.pk], segment))
        for day, placed in per_day.items():
            cells[day][column.index] = _lay_out(placed, conflicted)
    return cells


def _resource_conflicts(events: list[_Event]) -> set[int]:
    """The active events of one column that overlap another active one of the column, by
    conflicts.py's definition (half-open: back-to-back is no conflict).

    Only what the window holds is compared: an event running past the window's edge that
    collides with one wholly outside it is not flagged here (the next week's view shows it)."""
    active = sorted((e for e in events if e.status == EventStatus.ACTIVE), key=_by_start)
    found = set()
    for n, event in enumerate(active):
        for other in active[n + 1 :]:
            if other.start >= event.end:
                break  # sorted by start: no later one can overlap this one
            if overlaps(event.start, event.end, other.start, other.end):
                found.update((event.pk, other.pk))
    return found


def _lay_out(placed: list[tuple[_Cut, _Segment]], conflicted: set[int]) -> list[Placed]:
    """Overlapping events of one column and day side by side: clusters of boxes that overlap
    on screen, each event in the first lane free at its top (so a cluster needs as many lanes as
    its most boxes at one moment), every event of a cluster told how many lanes it has."""
    placed.sort(key=lambda item: (item[1].top, -(item[1].top + item[1].height), item[0].event.pk))
    out: list[Placed] = []
    cluster: list[tuple[_Cut, _Segment, int]] = []
    lane_ends: list[int] = []  # per lane of the current cluster: where its last box ends
    for cut, segment in placed:
        bottom = segment.top + segment.height
        if cluster and segment.top >= max(lane_ends):
            out.extend(_placed(c, s, lane, len(lane_ends), conflicted) for c, s, lane in cluster)
            cluster, lane_ends = [], []
        lane = next((n for n, lane_end in enumerate(lane_ends) if lane_end <= segment.top), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(bottom)
        else:
            lane_ends[lane] = bottom
        cluster.append((cut, segment, lane))
    out.extend(_placed(c, s, lane, len(lane_ends), conflicted) for c, s, lane in cluster)
    return out


def _placed(cut: _Cut, segment: _Segment, lane: int, lanes: int, conflicted: set[int]) -> Placed:
    event = cut.event
    return Placed(
        event_id=event.pk,
        summary=event.summary,
        type=event.type,
        status=event.status,
        is_occurrence=event.recurrence_type == RecurrenceType.RECURRENCE,
        parent_id=event.parent_id,
        start=cut.start,
        end=cut.end,
        top=segment.top,
        height=segment.height,
        continues_before=segment.continues_before,
        continues_after=segment.continues_after,
        lane=lane,
        lanes=lanes,
        in_conflict=event.pk in conflicted or cut.in_blackout,
    )
