"""The view model of the staff web calendar (docs/architecture.md): the week and day views.

`build(query)` returns everything the templates print: the days, the resources as columns
grouped by building, the events placed in each day's column with their lanes and conflict
flags, the blackout bands, the now-line. No HTTP, no templates, no clock: `now` comes in.

A column is a room by default: its cameras and live entries are folded into it (a booking on
the room and its camera shows once, marked with the camera), unless their types are asked for
as columns of their own. Conflicts stay per real resource: bookings on two cameras of one room
at once do not conflict, two on the room do.

Positions are local wall-clock minutes from local midnight in the partner's zone, so a 09:00
lecture sits on the 09:00 line whatever the UTC offset. Three queries whatever the data size
(resources, the window's events with their links, blackouts), read as tuples: this is the page
staff open first (bench/week_view.py).

The timeline of a campus (300 rooms) builds only its first screenful of rows (`eager_rows`):
the other groups come with their heads and no rows, and the page loads each when it comes into
view, one group a request (`part`). Events are then read for the built rows' resources only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db.models import Func, Q

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
from calendar_app.scheduling import MAX_SINGLE_DURATION, limits

DAY_MINUTES = 24 * 60
SNAP_MINUTES = 15  # the grid's rows; bookings made on the grid snap to them
OTHER_RESOURCES = "Other resources"

SHOWN_STATUSES = (EventStatus.ACTIVE, EventStatus.CANCELLED)
MAX_LANES = 2  # side by side in a column at most; the rest behind "+N more" (calendar.css: 60 px a lane)
ROOMS = frozenset({ResourceType.LOCATION})  # the default columns: rooms, their equipment folded in
NOT_SERIES = (RecurrenceType.NONE, RecurrenceType.RECURRENCE)  # a series row stands for its occurrences
COLUMN_EVENT_TYPES = tuple(t for t in EventType if t != EventType.BLACKOUT)
# The write path refuses longer bookings of these types (blackouts are not among them), so an
# event overlapping the window starts at most this long before it: a bounded range on the
# (partner, status, start) index instead of every event since the partner began. Imports alone
# may write a longer one, and only a meeting (imports/ical_apply.py: up to the series horizon):
# those are read apart, on the (partner, type, start) index (_events).
LONGEST_BOOKING = max(MAX_SINGLE_DURATION[t] for t in COLUMN_EVENT_TYPES)
LONG_TYPE = EventType.MEETING
# Within a group: the location itself, then its cameras, then its live entries.
COLUMN_RANK = {ResourceType.LOCATION: 0, ResourceType.CAMERA: 1, ResourceType.LIVE_ENTRY: 2}


@dataclass(frozen=True)
class Query:
    partner: Partner
    first_day: date  # local date in the partner's time zone
    days: int  # 1 (day view) or 7 (week view)
    now: datetime  # aware; only for the now-line and "today"
    location_id: int | None = None  # this location's columns and those of the locations below it
    resource_types: frozenset[int] = ROOMS  # the types that are columns; the others fold into rooms
    show_cancelled: bool = False
    one_location: bool = False  # the room week: only location_id's own column(s); none: the first room
    max_lanes: int = MAX_LANES
    eager_rows: int | None = None  # build the groups' rows up to about this many; None: all of them
    part: str | None = None  # build only this group's rows (Group.key): a lazily loaded building

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

    @property
    def is_location(self) -> bool:
        return self.type == ResourceType.LOCATION


# Groups and columns point at each other; they compare by identity and print without the cycle.
@dataclass(frozen=True, eq=False)
class Group:
    location: Resource | None  # a building, a room without one, or None for "Other resources"
    name: str
    columns: list[Column]

    @property
    def key(self) -> str:
        """The group's name in the page (folding, lazy loading): "loc-<building id>" or "other"."""
        return f"loc-{self.location.id}" if self.location else "other"


@dataclass(frozen=True, eq=False)
class Column:
    resource: Resource
    index: int  # position in Grid.columns and in each day's row of Grid.cells
    group: Group = field(repr=False)
    room: Resource | None = None  # the location a camera or live entry belongs to
    folded: tuple[Resource, ...] = ()  # equipment shown in this room's column, not in its own

    @property
    def label(self) -> str:
        """A room by its name; equipment with its room's, so no two heads read "camera 1":
        "Franklin 101 camera 1" under Franklin 101 reads "Franklin 101 · cam 1"."""
        if self.resource.is_location or self.room is None:
            return self.resource.name
        return f"{self.room.name} · {equipment_label(self.resource, self.room)}"


def equipment_label(resource: Resource, room: Resource) -> str:
    """A camera or live entry's name short, within its room: "Franklin 101 camera 1" -> "cam 1"."""
    name = resource.name
    if name.casefold().startswith(room.name.casefold()) and len(name) > len(room.name):
        name = name[len(room.name) :].lstrip(" -–·:") or name
    return name.replace("camera", "cam").replace("Camera", "Cam")


@dataclass(frozen=True)
class Day:
    index: int
    date: date
    label: str  # "Mon 7 Sep"
    is_today: bool
    start: datetime  # UTC instant of local midnight
    end: datetime  # the next local midnight: 23 or 25 hours later on DST days
    is_past: bool = False  # over before now (today is not: the now-line shades its past part)


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
    lanes: int  # how many lanes its cluster of overlapping events takes, at most Query.max_lanes
    in_conflict: bool  # on one of its resources with another active event, or with a blackout
    equipment: tuple[str, ...] = ()  # the folded cameras and live entries it uses: "cam 1"
    overflow: bool = False  # its cluster needs more lanes than shown: listed under "+N more"

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
    location_id: int | None = None  # the location shown: the query's, or the room week's first room
    building_id: int | None = None  # that location's building (the day view of the room week's room)
    lazy: frozenset[str] = frozenset()  # the keys of the groups whose rows were not built (no cells)

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
    blackouts = _blackouts(query.partner, start, end)
    children = _children(resources)
    location_id = _location_shown(query, resources, children)
    lazy, shown = _built(resources, children, query, location_id)
    by_resource, unassigned = _events(query.partner, start, end, query.show_cancelled, shown)
    groups = _groups(resources, children, query, location_id, frozenset(by_resource))
    columns = [column for group in groups for column in group.columns]
    built = [column for column in columns if column.group.key not in lazy]
    return Grid(
        query=query,
        zone=zone,
        start=start,
        end=end,
        days=days,
        rows=_rows(),
        groups=groups,
        columns=columns,
        cells=_cells(by_resource, built, len(columns), blackouts, days, zone, query.max_lanes),
        blackouts=_bands(blackouts, days, zone),
        now_line=_now_line(query.now, days, zone),
        unassigned=[_unassigned(event, zone) for event in sorted(unassigned, key=_by_start)],
        is_empty_partner=not resources,
        locations=_location_options(children),
        location_id=location_id,
        building_id=_building_of(location_id, resources),
        lazy=lazy,
    )


def _built(
    resources: list[Resource], children: Children, query: Query, location_id: int | None
) -> tuple[frozenset[str], frozenset[int] | None]:
    """The keys of the groups left unbuilt, and the resources whose events the built rows show
    (None: every resource's, the whole page). Worked out before the events are read, as if every
    building had a column of its own (it has one only with bookings of its own, which the events
    tell): the set may hold a building more, never a resource less."""
    if query.part is None and query.eager_rows is None and location_id is None:
        return frozenset(), None
    every_building = frozenset(r.id for r in resources if r.is_location)
    groups = _groups(resources, children, query, location_id, every_building)
    lazy = _lazy(groups, query)
    if not lazy and location_id is None:
        return lazy, None  # all built
    built = [c for g in groups if g.key not in lazy for c in g.columns]
    return lazy, frozenset(r.id for c in built for r in (c.resource, *c.folded))


def _lazy(groups: list[Group], query: Query) -> frozenset[str]:
    """The groups past the first screenful (whole groups, at least one), or all but `part`."""
    if query.part is not None:
        return frozenset(g.key for g in groups if g.key != query.part)
    if query.eager_rows is None:
        return frozenset()
    rows, lazy = 0, set()
    for group in groups:
        if lazy or (rows and rows + len(group.columns) > query.eager_rows):
            lazy.add(group.key)
        rows += len(group.columns)
    return frozenset(lazy)


# ---------------------------------------------------------------- days and times


def _days(query: Query, zone: ZoneInfo) -> list[Day]:
    today = query.now.astimezone(zone).date()
    dates = [query.first_day + timedelta(days=n) for n in range(query.days + 1)]
    midnights = [_midnight(day, zone) for day in dates]
    return [
        Day(n, day, f"{day:%a} {day.day} {day:%b}", day == today, midnights[n], midnights[n + 1], day < today)
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


Children = dict[int | None, list[Resource]]  # by parent id (None: the top level), by name


def _children(resources: list[Resource]) -> Children:
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


def _location_shown(query: Query, resources: list[Resource], children: Children) -> int | None:
    """The location whose columns are shown: the query's; in the room week, where a building
    would mean dozens of columns a day, its first room, and with none chosen the partner's."""
    root = query.location_id
    if not query.one_location:
        return root
    within = None if root is None else {root} | _below(root, children)
    rooms = sorted((r for r in _rooms(resources) if within is None or r.id in within), key=_by_name)
    return rooms[0].id if rooms else root


def _rooms(resources: list[Resource]) -> list[Resource]:
    """Locations with no location below them."""
    parents = {r.parent_id for r in resources if r.is_location}
    return [r for r in resources if r.is_location and r.id not in parents]


def _building_of(location_id: int | None, resources: list[Resource]) -> int | None:
    location = next((r for r in resources if r.id == location_id), None)
    parent = next((r for r in resources if location and r.id == location.parent_id), None)
    return parent.id if parent and parent.is_location else location_id


def _groups(
    resources: list[Resource],
    children: Children,
    query: Query,
    location_id: int | None,
    booked: frozenset[int],
) -> list[Group]:
    """Buildings (a location's parent location) with their rooms as columns, by name; a room
    without a building is a group of its own; equipment without a room under "Other resources".
    A building's own column is shown where it has equipment or bookings of its own."""
    by_id = {r.id: r for r in resources}
    locations = [r for r in sorted(resources, key=_by_name) if r.is_location]
    if location_id is not None:
        wanted = {location_id} if query.one_location else {location_id} | _below(location_id, children)
        locations = [r for r in locations if r.id in wanted]
    heads: dict[Resource, list[Resource]] = {}  # a group's location -> the locations with a column
    for location in locations:
        parent = by_id.get(location.parent_id) if location.parent_id is not None else None
        has_rooms = any(child.is_location for child in children[location.id])
        if has_rooms:
            heads.setdefault(location, [])
            if location.id in booked or _equipment(location.id, children):
                heads[location].insert(0, location)
        else:
            heads.setdefault(parent if parent is not None and parent.is_location else location, []).append(
                location
            )
    members = [
        (head, head.name, [(r, _equipment(r.id, children)) for r in rooms]) for head, rooms in heads.items()
    ]
    members.sort(key=lambda member: _by_name(member[0]))
    if location_id is None:
        members.append((None, OTHER_RESOURCES, [(None, _equipment(None, children))]))
    return _numbered(members, query.resource_types)


Member = tuple[Resource | None, str, list[tuple[Resource | None, list[Resource]]]]


def _numbered(members: list[Member], types: frozenset[int]) -> list[Group]:
    """The groups with their columns numbered in display order: each room, then the equipment
    whose types are columns; the other equipment folds into the room's column. Without a room
    to fold into (unticked rooms, or "Other resources"), it is shown only if its type is."""
    groups: list[Group] = []
    index = 0
    for head, name, rooms in members:
        group = Group(head, name, [])
        for room, equipment in rooms:
            own = sorted((r for r in equipment if r.type in types), key=_column_order)
            folded = tuple(sorted((r for r in equipment if r.type not in types), key=_column_order))
            if room is not None and room.type in types:
                group.columns.append(Column(room, index, group, None, folded))
                index += 1
            elif room is None and ResourceType.LOCATION in types:
                own = sorted(equipment, key=_column_order)  # nothing to fold into: their own columns
            for resource in own:
                group.columns.append(Column(resource, index, group, room))
                index += 1
        if group.columns:
            groups.append(group)
    return groups


def _column_order(resource: Resource) -> tuple[int, str, int]:
    return COLUMN_RANK[resource.type], *_by_name(resource)  # an int finds its IntEnum key


def _below(root: int, children: dict[int | None, list[Resource]]) -> set[int]:
    found, stack = set(), list(children[root])
    while stack:
        resource = stack.pop()
        found.add(resource.id)
        stack.extend(children[resource.id])
    return found


def _location_options(children: Children) -> list[LocationOption]:
    """Active locations depth-first, each level by name; depth counts locations only."""
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


def _events(
    partner: Partner, start: datetime, end: datetime, cancelled: bool, shown: frozenset[int] | None = None
) -> tuple[dict[int, list[_Event]], list[_Event]]:
    """The shown events in the window by resource id, and those with no resource at all: one
    query, the links LEFT JOINed (an event without any comes back once, with resource NULL).
    With `shown`, only the links to those resources (and the events with no link at all): the
    rows of a screenful of rooms, not of the campus.

    Its two halves each read a bounded range of an index: every type starting at most
    LONGEST_BOOKING before the window, and the long type (imported meetings) starting up to the
    series horizon before it, a few hundred rows at most (bench/week_view.py).

    The first half asks nothing of an event that its (partner, status, start, end, recurrence)
    index does not hold, so SQLite reads an event's row only once its links match: asking for
    its type too (to leave the blackouts out, done below instead) read every event of the window
    from the table, 26 ms instead of 10 for the bench campus's first screen
    (bench/timeline_view.py)."""
    statuses = SHOWN_STATUSES if cancelled else (EventStatus.ACTIVE,)
    fields = (*EVENT_FIELDS, "resource_links__resource_id")
    recent = _in_window(
        partner, start, end, status__in=statuses, recurrence_type__in=NOT_SERIES,
        start__gte=start - LONGEST_BOOKING,
    )  # fmt: skip
    long_ones = _in_window(
        partner, start, end, type=LONG_TYPE, status__in=statuses, recurrence_type__in=NOT_SERIES,
        start__gte=start - limits().horizon,
    ).filter(start__lt=start - LONGEST_BOOKING)  # fmt: skip
    if shown is not None:
        links = Q(resource_links__resource_id__in=shown) | Q(resource_links__isnull=True)
        recent, long_ones = recent.filter(links), long_ones.filter(links)
    rows = recent.values_list(*fields).union(long_ones.values_list(*fields), all=True)
    events: dict[int, _Event] = {}  # one tuple per event, however many links it comes back with
    by_resource: dict[int, list[_Event]] = defaultdict(list)
    unassigned = []
    for row in rows:
        if row[2] == EventType.BLACKOUT:  # bands, not boxes (_blackouts)
            continue
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
    width: int,
    blackouts: list[_Event],
    days: list[Day],
    zone: ZoneInfo,
    max_lanes: int,
) -> list[list[list[Placed]]]:
    """Each day's row of `width` cells, those of `columns` (the built ones) filled."""
    cells: list[list[list[Placed]]] = [[[] for _ in range(width)] for _ in days]
    cuts: dict[int, _Cut] = {}
    for column in columns:
        events, equipment = _column_events(column, by_resource)
        conflicted = set().union(
            *(_resource_conflicts(by_resource.get(r.id, [])) for r in (column.resource, *column.folded))
        )
        per_day: dict[int, list[tuple[_Cut, _Segment]]] = defaultdict(list)
        for event in events:
            if event.pk not in cuts:
                cuts[event.pk] = _cut(event, days, zone, blackouts)
            for segment in cuts[event.pk].segments:
                per_day[segment.day].append((cuts[event.pk], segment))
        for day, placed in per_day.items():
            cells[day][column.index] = _lay_out(placed, conflicted, equipment, max_lanes)
    return cells


def _column_events(
    column: Column, by_resource: dict[int, list[_Event]]
) -> tuple[list[_Event], dict[int, tuple[str, ...]]]:
    """The events of a column's resource and of the equipment folded into it, each once, and by
    event the folded equipment it uses ("cam 1")."""
    events = {event.pk: event for event in by_resource.get(column.resource.id, [])}
    equipment: dict[int, tuple[str, ...]] = {}
    for resource in column.folded:
        label = equipment_label(resource, column.resource)
        for event in by_resource.get(resource.id, []):
            events.setdefault(event.pk, event)
            equipment[event.pk] = (*equipment.get(event.pk, ()), label)
    return list(events.values()), equipment


def _resource_conflicts(events: list[_Event]) -> set[int]:
    """The active events of one resource that overlap another active one of it, by
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


class _Layout(NamedTuple):
    conflicted: set[int]
    equipment: dict[int, tuple[str, ...]]
    max_lanes: int


def _lay_out(
    placed: list[tuple[_Cut, _Segment]],
    conflicted: set[int],
    equipment: dict[int, tuple[str, ...]],
    max_lanes: int,
) -> list[Placed]:
    """Active events side by side in lanes; cancelled ones (when shown) behind them across the
    whole column, taking no lane from a live booking."""
    how = _Layout(conflicted, equipment, max_lanes)
    live = [item for item in placed if item[0].event.status == EventStatus.ACTIVE]
    gone = [
        _placed(cut, segment, 0, 1, how) for cut, segment in placed if cut.event.status != EventStatus.ACTIVE
    ]
    out = _in_lanes(live, how) + gone
    out.sort(key=lambda p: (p.top, p.lane))
    return out


def _in_lanes(placed: list[tuple[_Cut, _Segment]], how: _Layout) -> list[Placed]:
    """Overlapping events of one column and day side by side: clusters of boxes that overlap
    on screen, each event in the first lane free at its top (so a cluster needs as many lanes as
    its most boxes at one moment), every event of a cluster told how many lanes it has. Past
    `max_lanes` lanes (narrower than a box can be read) the rest overflow into "+N more"."""
    placed.sort(key=lambda item: (item[1].top, -(item[1].top + item[1].height), item[0].event.pk))
    out: list[Placed] = []
    cluster: list[tuple[_Cut, _Segment, int]] = []
    lane_ends: list[int] = []  # per lane of the current cluster: where its last box ends
    for cut, segment in placed:
        bottom = segment.top + segment.height
        if cluster and segment.top >= max(lane_ends):
            out.extend(_placed(c, s, lane, len(lane_ends), how) for c, s, lane in cluster)
            cluster, lane_ends = [], []
        lane = next((n for n, lane_end in enumerate(lane_ends) if lane_end <= segment.top), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(bottom)
        else:
            lane_ends[lane] = bottom
        cluster.append((cut, segment, lane))
    out.extend(_placed(c, s, lane, len(lane_ends), how) for c, s, lane in cluster)
    return out


def _placed(cut: _Cut, segment: _Segment, lane: int, lanes: int, how: _Layout) -> Placed:
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
        lanes=min(lanes, how.max_lanes),
        in_conflict=event.pk in how.conflicted or cut.in_blackout,
        equipment=how.equipment.get(event.pk, ()),
        overflow=lane >= how.max_lanes,
    )
