"""Generate the benchmark dataset: one partner, a campus of resources, ~1,000,000 event rows.

    .venv/bin/python bench/generate.py                      # 1M rows, 2,000 resources
    .venv/bin/python bench/generate.py --occurrences 50000 --resources 200
    .venv/bin/python bench/generate.py --reset              # drop the bench partner, regenerate

Targets DATABASE_URL (unset: bench/data/bench.sqlite3), migrating it first. Everything lives
under one partner (id 9000001), so --reset removes exactly what this script wrote.

The shape is the write path's own. Resources go through scheduling.create_resource. Events
are too many for scheduling.create_event (1M rows would take hours), so they are built in
memory by the write path's own planning functions (scheduling.plan_event, plan_occurrence,
change_occurrence) and written with bulk_create, with the links and audit rows create_event,
cancel_event and update_event would write. Before writing, `verify_shape` creates, cancels and
moves a series through scheduling.py inside a rolled-back transaction and compares every
column with what the generator writes for the same input; any drift stops the run.

The mix (defaults): 94% of the rows are weekly lecture series (a series row plus 15
occurrences, 60 or 90 minutes, two 15-week semesters a year, Europe/Berlin, in a room's free
weekly slot, linked to the room and a camera, live-streamed ones also to the room's live
entry); lectures on public holidays are cancelled, 1% of the others cancelled and 0.3% moved
one by one, 1.5% of series cancelled and 0.5% deleted whole; 6% are single events (guest
lectures, meetings, live events); German public holidays and the Christmas closure are
partner-wide blackouts. Deterministic for a given --seed and empty database.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

import _django  # noqa: F401  (sets up Django; keep it first)
from dateutil.easter import easter
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max

from calendar_app import scheduling, writes
from calendar_app.models import (
    AuditEntry,
    Entry,
    EntryType,
    EventStatus,
    EventType,
    Membership,
    Partner,
    RecurrenceType,
    ResourceType,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)

PARTNER_ID = 9_000_001
PARTNER_NAME = "Bench University"
ZONE_NAME = "Europe/Berlin"
ZONE = ZoneInfo(ZONE_NAME)
FIRST_YEAR = 2021
SEMESTER_WEEKS = 15
SERIES_ROWS = 1 + SEMESTER_WEEKS
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")
# A room's weekly grid: 5 days x 6 slots of 1 h 45 (90 min lecture + 15 min break).
SLOTS = tuple(clock_time(h, m) for h, m in ((8, 15), (10, 0), (11, 45), (13, 45), (15, 30), (17, 15)))
GRID = len(WEEKDAYS) * len(SLOTS)
MAX_SERIES_PER_ROOM_SEMESTER = GRID - 2
TYPICAL_SERIES_PER_ROOM_SEMESTER = 7
EVENING = clock_time(19, 0)  # singles that find their grid slot taken move here
ROOMS_PER_BUILDING = 20
LIVE_SHARE = 0.085  # of the resources: live-entry resources, one per streamed room
SINGLE_SHARE = 0.06  # of the rows
SERIES_CANCELLED, SERIES_DELETED = 0.015, 0.005
OCCURRENCE_CANCELLED, OCCURRENCE_MOVED = 0.01, 0.003
SINGLE_CANCELLED = 0.03
BATCH_ROWS = 20_000  # event rows per transaction; memory stays bounded by this
USER = "scheduler@bench.invalid"
SUBJECTS = (
    ("CS", ("Programming", "Data Structures", "Operating Systems", "Databases", "Networks")),
    ("MA", ("Linear Algebra", "Analysis", "Probability", "Numerics", "Topology")),
    ("PH", ("Mechanics", "Electromagnetism", "Quantum Mechanics", "Optics", "Statistical Physics")),
    ("CH", ("General Chemistry", "Organic Chemistry", "Physical Chemistry", "Biochemistry")),
    ("BI", ("Cell Biology", "Genetics", "Ecology", "Microbiology")),
    ("EC", ("Microeconomics", "Macroeconomics", "Econometrics", "Finance")),
    ("LA", ("Contract Law", "Constitutional Law", "Criminal Law", "EU Law")),
    ("HI", ("Ancient History", "Medieval History", "Modern History")),
    ("EN", ("Thermodynamics", "Fluid Dynamics", "Control Systems", "Materials")),
    ("ME", ("Anatomy", "Physiology", "Pharmacology", "Pathology")),
    ("PS", ("Cognitive Psychology", "Social Psychology", "Methods")),
    ("LI", ("Phonetics", "Syntax", "Semantics")),
)  # fmt: skip


# ---------------------------------------------------------------- plan


@dataclass
class Room:
    resource_id: int
    name: str
    cameras: list[int]
    weight: float
    live_id: int | None = None  # the LIVE_ENTRY resource of a streamed room
    live_entry_id: str = ""


@dataclass
class Semester:
    index: int
    name: str
    start: date  # Monday of the first lecture week

    @property
    def end(self) -> date:
        return self.start + timedelta(weeks=SEMESTER_WEEKS)


@dataclass
class Campus:
    rooms: list[Room]
    templates: dict[str, str]  # "record"/"live" -> template entry id
    resources: int = 0


@dataclass
class Counts:
    series: int = 0
    occurrences: int = 0
    singles: int = 0
    blackouts: int = 0
    cancelled: int = 0
    moved: int = 0
    series_cancelled: int = 0
    series_deleted: int = 0
    links: int = 0
    audit: int = 0

    @property
    def rows(self) -> int:
        return self.series + self.occurrences + self.singles + self.blackouts


def semesters_for(years: int) -> list[Semester]:
    out = []
    for year in range(FIRST_YEAR, FIRST_YEAR + years):
        out.append(Semester(len(out), f"SS{year}", date.fromisocalendar(year, 16, 1)))
        out.append(Semester(len(out), f"WS{year}", date.fromisocalendar(year, 42, 1)))
    return out


def blackout_days(years: int, rng: random.Random) -> list[tuple[str, date, date]]:
    """(summary, first day, day after the last) of the partner-wide closures."""
    out = []
    for year in range(FIRST_YEAR, FIRST_YEAR + years):
        sunday = easter(year)
        out += [
            ("New Year's Day", date(year, 1, 1), date(year, 1, 2)),
            ("Easter closure", sunday - timedelta(days=2), sunday + timedelta(days=2)),
            ("Labour Day", date(year, 5, 1), date(year, 5, 2)),
            ("Ascension Day", sunday + timedelta(days=39), sunday + timedelta(days=40)),
            ("Whit Monday", sunday + timedelta(days=50), sunday + timedelta(days=51)),
            ("Day of German Unity", date(year, 10, 3), date(year, 10, 4)),
            ("Christmas closure", date(year, 12, 24), date(year + 1, 1, 1)),
        ]
        maintenance = date(year, 8, 1) + timedelta(days=rng.randrange(28))
        out.append(("Network maintenance", maintenance, maintenance + timedelta(days=1)))
    return sorted(out, key=lambda b: b[1])


def local(day: date, at: clock_time) -> datetime:
    """A wall-clock time in the partner's zone, as the aware UTC instant the API would pass."""
    return datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)


def ical_uid(rng: random.Random) -> str:
    # models.new_ical_uid's shape (uuid4@lecture-scheduler), drawn from the seeded generator.
    return f"{uuid.UUID(int=rng.getrandbits(128), version=4)}@lecture-scheduler"


# ---------------------------------------------------------------- rows, as scheduling.py makes them


class Ids:
    """Explicit primary keys: occurrences need their series' id before anything is written."""

    def __init__(self) -> None:
        self.event = (ScheduleEvent.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self.link = (ScheduleEventResource.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self.audit = (AuditEntry.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def next_event(self) -> int:
        self.event += 1
        return self.event - 1


class Batch:
    """Rows waiting to be written, in insertion order (a series before its occurrences)."""

    def __init__(self, ids: Ids, counts: Counts) -> None:
        self.ids, self.counts = ids, counts
        self.events: list[ScheduleEvent] = []
        self.links: list[ScheduleEventResource] = []
        self.audit: list[AuditEntry] = []

    def event(self, event: ScheduleEvent) -> None:
        self.events.append(event)

    def link(self, actor: writes.Actor, events, resource_ids) -> None:
        # as scheduling.create_event links them
        for event in events:
            for resource_id in resource_ids:
                self.links.append(
                    ScheduleEventResource(
                        id=self.ids.link,
                        partner_id=event.partner_id,
                        event_id=event.pk,
                        resource_id=resource_id,
                        created_at=actor.now,
                        updated_at=actor.now,
                    )
                )
                self.ids.link += 1

    def log(self, actor: writes.Actor, action: str, obj, before, after) -> None:
        entry = writes.audit_entry(actor, action, obj, before, after)
        entry.id = self.ids.audit
        self.audit.append(entry)
        self.ids.audit += 1

    def flush(self) -> None:
        if not self.events:
            return
        with transaction.atomic():
            ScheduleEvent.objects.bulk_create(self.events, batch_size=_batch_size(ScheduleEvent))
            ScheduleEventResource.objects.bulk_create(
                self.links, batch_size=_batch_size(ScheduleEventResource)
            )
            AuditEntry.objects.bulk_create(self.audit, batch_size=_batch_size(AuditEntry))
        self.counts.links += len(self.links)
        self.counts.audit += len(self.audit)
        self.events, self.links, self.audit = [], [], []


def _batch_size(model) -> int:
    # SQLite: 999 parameters a statement; PostgreSQL: 65,535.
    limit = 999 if connection.vendor == "sqlite" else 65_535
    return max(1, limit // len(model._meta.concrete_fields))


def add_event(
    batch: Batch, actor: writes.Actor, data: dict[str, Any], resource_ids, rng: random.Random
) -> tuple[ScheduleEvent, list[ScheduleEvent]]:
    """create_event: the event (or series) row, its occurrences, their links, one audit row."""
    event, starts = scheduling.plan_event(actor, data)
    event.pk = batch.ids.next_event()
    event.ical_uid = ical_uid(rng)
    batch.event(event)
    occurrences = []
    for start in starts:
        occurrence = scheduling.plan_occurrence(actor, event, start)
        occurrence.pk = batch.ids.next_event()
        occurrence.ical_uid = ical_uid(rng)
        occurrences.append(occurrence)
        batch.event(occurrence)
    batch.link(actor, [event, *occurrences], resource_ids)
    batch.log(actor, "create", event, None, writes.snapshot(event))
    return event, occurrences


def cancel(batch: Batch, actor: writes.Actor, event: ScheduleEvent, occurrences=()) -> None:
    """cancel_event on a stored, active event: _set_status, plus the exception mark on an occurrence."""
    set_status(batch, actor, event, EventStatus.CANCELLED, occurrences, "cancel")


def delete(batch: Batch, actor: writes.Actor, series: ScheduleEvent, occurrences) -> None:
    set_status(batch, actor, series, EventStatus.DELETED, occurrences, "delete")


def set_status(batch, actor, event, status, occurrences, action) -> None:
    before = writes.snapshot(event)
    event.status = status
    event.sequence = scheduling.next_sequence(event.sequence)
    event.updated_at = actor.now
    if event.is_series:
        for occurrence in occurrences:
            if occurrence.status != EventStatus.DELETED:  # the SQL update in _set_status
                occurrence.status = status
                occurrence.sequence = (occurrence.sequence + 9) // 10 * 10 + 2
                occurrence.updated_at = actor.now
    if event.is_occurrence:
        scheduling.mark_exception(event, ["status"])
    batch.log(actor, action, event, before, writes.snapshot(event))


def move(batch: Batch, actor: writes.Actor, occurrence: ScheduleEvent, by: timedelta) -> None:
    """update_event(start=..., end=...) on an occurrence: it becomes a 'times' exception."""
    before = writes.snapshot(occurrence)
    # Unsaved: this row is written later, in bulk, stamped as update_event stamps it.
    scheduling.change_occurrence(occurrence, {"start": occurrence.start + by, "end": occurrence.end + by})
    occurrence.updated_at = actor.now
    batch.log(actor, "update", occurrence, before, writes.snapshot(occurrence))


# ---------------------------------------------------------------- the dataset


def build_campus(actor: writes.Actor, total: int, rng: random.Random) -> Campus:
    """Buildings -> rooms -> cameras, and live-entry resources for streamed rooms, `total` in all,
    through scheduling.create_resource (2,000 of them take seconds)."""
    if total < 3:
        raise SystemExit("--resources must be at least 3 (a building, a room, a camera)")
    live = round(total * LIVE_SHARE) if total >= 12 else 0
    budget = total - live
    rooms: list[Room] = []
    building = None
    made = 0

    def create(data) -> ScheduleResource:
        nonlocal made
        made += 1
        return scheduling.create_resource(actor, data)

    while budget - made >= 2 + (len(rooms) % ROOMS_PER_BUILDING == 0):
        if len(rooms) % ROOMS_PER_BUILDING == 0:
            number = len(rooms) // ROOMS_PER_BUILDING + 1
            building = create(
                {
                    "type": ResourceType.LOCATION,
                    "name": f"Building {number}",
                    "system_name": f"b{number:03d}",
                    "description": "Bench building",
                    "tags": "building",
                }
            )
        floor, seat = divmod(len(rooms) % ROOMS_PER_BUILDING, 5)
        label = f"{building.system_name}-{floor + 1}{seat + 1:02d}"
        room = create(
            {
                "type": ResourceType.LOCATION,
                "name": f"{building.name}, room {floor + 1}{seat + 1:02d}",
                "system_name": label,
                "parent_id": building.pk,
                "description": "Lecture room",
                "tags": "room",
            }
        )
        cameras = min(rng.choice((1, 2, 2, 3)), budget - made)
        camera_ids = []
        for c in range(1, cameras + 1):
            camera_ids.append(
                create(
                    {
                        "type": ResourceType.CAMERA,
                        "name": f"{room.name} camera {c}",
                        "system_name": f"{label}-cam{c}",
                        "parent_id": room.pk,
                        "stream_url": f"rtsp://cam-{label}-{c}.bench.invalid/stream",
                        "tags": "camera",
                    }
                ).pk
            )
        rooms.append(Room(room.pk, room.name, camera_ids, rng.uniform(0.3, 1.7)))
    while made < budget:  # the few left over: more cameras for the last room
        c = len(rooms[-1].cameras) + 1
        label = f"{rooms[-1].resource_id}-cam{c}"
        rooms[-1].cameras.append(
            create(
                {
                    "type": ResourceType.CAMERA,
                    "name": f"{rooms[-1].name} camera {c}",
                    "system_name": f"extra-{label}",
                    "parent_id": rooms[-1].resource_id,
                    "tags": "camera",
                }
            ).pk
        )

    def entry(**values) -> Entry:
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        pk = "0_" + "".join(rng.choice(alphabet) for _ in range(8))
        return Entry.objects.create(
            id=pk, partner=actor.partner, owner_id=USER, created_at=actor.now, updated_at=actor.now, **values
        )

    templates = {
        "record": entry(name="Lecture capture template", tags="lecture capture").pk,
        "live": entry(name="Live lecture template", tags="live,lecture capture").pk,
    }
    streamed = rng.sample(rooms, min(live, len(rooms)))
    for n in range(live):
        room = streamed[n] if n < len(streamed) else None
        name = f"{room.name} live" if room else f"Live channel {n + 1}"
        live_entry = entry(type=EntryType.LIVE_STREAM, name=name, tags="live")
        resource = create(
            {
                "type": ResourceType.LIVE_ENTRY,
                "name": name,
                "system_name": f"live-{n + 1:04d}",
                "entry_id": live_entry.pk,
                "tags": "live",
            }
        )
        if room:
            room.live_id, room.live_entry_id = resource.pk, live_entry.pk
    return Campus(rooms, templates, made)


def course(rng: random.Random) -> tuple[str, str]:
    prefix, titles = rng.choice(SUBJECTS)
    return f"{prefix}{rng.randrange(1, 5)}{rng.randrange(10, 100)}", rng.choice(titles)


def plan_load(rooms: list[Room], semesters: list[Semester], series: int, rng) -> Counter:
    """How many series each (room, semester) holds: weighted by the room's popularity, capped
    by its weekly grid."""
    pairs = [(r, s.index) for s in semesters for r in range(len(rooms))]
    cumulative = list(accumulate(rooms[r].weight for r, _ in pairs))
    load: Counter = Counter()
    drawn = 0
    while drawn < series:
        for pair in rng.choices(pairs, cum_weights=cumulative, k=series - drawn):
            if load[pair] < MAX_SERIES_PER_ROOM_SEMESTER:
                load[pair] += 1
                drawn += 1
    return load


def generate(partner: Partner, campus: Campus, target: int, seed: int, counts: Counts, progress) -> None:
    rng = random.Random(seed * 7919 + 1)
    rooms = campus.rooms
    room_cum = list(accumulate(r.weight for r in rooms))
    # Row budget: 94% series (16 rows each), ~8 blackouts a year, singles take the rest.
    series_total = round(target * (1 - SINGLE_SHARE) / SERIES_ROWS)
    years = max(1, round(series_total / (len(rooms) * 2 * TYPICAL_SERIES_PER_ROOM_SEMESTER)))
    while series_total > len(rooms) * 2 * years * MAX_SERIES_PER_ROOM_SEMESTER:
        years += 1
    semesters = semesters_for(years)
    closures = blackout_days(years, rng)
    while series_total and target - series_total * SERIES_ROWS - len(closures) < 0:
        series_total -= 1
    singles_total = max(0, target - series_total * SERIES_ROWS - len(closures))
    closed = {c[1] + timedelta(days=d) for c in closures for d in range((c[2] - c[1]).days)}
    load = plan_load(rooms, semesters, series_total, rng)
    # Periods: a semester and the break after it; singles and blackouts fall into them by date.
    bounds = [s.start for s in semesters]
    span_start, span_end = date(FIRST_YEAR, 1, 1), semesters[-1].end + timedelta(weeks=8)
    singles: list[list[date]] = [[] for _ in semesters]
    days = (span_end - span_start).days
    for _ in range(singles_total):
        day = span_start + timedelta(days=rng.randrange(days))
        if day.weekday() == 6 or (day.weekday() == 5 and rng.random() < 0.7):
            day -= timedelta(days=day.weekday() - 4)  # mostly weekdays
        singles[max(0, bisect_right(bounds, day) - 1)].append(day)
    blackouts: list[list[tuple]] = [[] for _ in semesters]
    for closure in closures:
        blackouts[max(0, bisect_right(bounds, closure[1]) - 1)].append(closure)

    ids = Ids()
    batch = Batch(ids, counts)
    user = {"user_id": USER, "source": AuditEntry.Source.API}
    for semester in semesters:
        planned = local(semester.start, clock_time(9)) - timedelta(weeks=10)
        for summary, first, after in blackouts[semester.index]:
            actor = writes.Actor(partner, local(first, clock_time(0)) - timedelta(days=90), **user)
            data = {
                "type": EventType.BLACKOUT,
                "summary": summary,
                "description": "Campus closed",
                "start": local(first, clock_time(0)),
                "end": local(after, clock_time(0)),
                "tags": "blackout",
            }
            add_event(batch, actor, data, [], rng)
            counts.blackouts += 1
        occupied: dict[int, set[int]] = {}
        for r, room in enumerate(rooms):
            taken = occupied[r] = set(rng.sample(range(GRID), load[(r, semester.index)]))
            for k, cell in enumerate(sorted(taken)):
                day, slot = divmod(cell, len(SLOTS))
                actor = writes.Actor(partner, planned + timedelta(minutes=r * 30 + k), **user)
                add_series(batch, actor, room, campus, semester, day, slot, closed, counts, rng)
            if len(batch.events) >= BATCH_ROWS:
                batch.flush()
                progress(counts)
        for day in sorted(singles[semester.index]):
            add_single(batch, partner, user, campus, rooms, room_cum, semester, occupied, day, counts, rng)
            if len(batch.events) >= BATCH_ROWS:
                batch.flush()
                progress(counts)
    batch.flush()
    progress(counts)


def add_series(batch, actor, room, campus, semester, day, slot, closed, counts, rng) -> None:
    code, title = course(rng)
    start = local(semester.start + timedelta(days=day), SLOTS[slot])
    live = room.live_id is not None and rng.random() < 0.1
    data = {
        "type": EventType.LIVE_STREAM if live else EventType.RECORD,
        "recurrence_type": RecurrenceType.RECURRING,
        "summary": f"{code} {title}",
        "description": f"{title}: weekly lecture, {semester.name}",
        "start": start,
        "end": start + timedelta(minutes=90 if rng.random() < 0.85 else 60),
        "recurrence": {
            "frequency": "weeks",
            "count": SEMESTER_WEEKS,
            "by_day": WEEKDAYS[day],
            "time_zone": ZONE_NAME,
        },
        "location": room.name,
        "reference_id": f"{semester.name}-{code}",
        "owner_id": USER,
        "tags": "lecture",
        "template_entry_id": campus.templates["live" if live else "record"],
    }
    resources = [room.resource_id, room.cameras[slot % len(room.cameras)]]
    if len(room.cameras) > 1 and rng.random() < 0.1:
        resources = [room.resource_id, *room.cameras[:2]]
    if live:
        data |= {"source_entry_id": room.live_entry_id, "pre_start_time": 300, "post_end_time": 300}
        resources.append(room.live_id)
    series, occurrences = add_event(batch, actor, data, resources, rng)
    counts.series += 1
    counts.occurrences += len(occurrences)
    # First the timetabler cancels the lectures on public holidays (a day after planning), then
    # a few courses are dropped whole (a month later, before term), then, in term, a lecture
    # here and there is cancelled or moved a few days ahead.
    planner = writes.Actor(actor.partner, actor.now + timedelta(days=1), USER, actor.source)
    for occurrence in occurrences:
        if occurrence.start.astimezone(ZONE).date() in closed:
            cancel(batch, planner, occurrence)
            counts.cancelled += 1
    fate = rng.random()
    if fate < SERIES_CANCELLED + SERIES_DELETED:
        dropped = writes.Actor(actor.partner, actor.now + timedelta(days=30), USER, actor.source)
        if fate < SERIES_CANCELLED:
            cancel(batch, dropped, series, occurrences)
            counts.series_cancelled += 1
        else:
            delete(batch, dropped, series, occurrences)
            counts.series_deleted += 1
        return
    for occurrence in occurrences:
        if occurrence.status != EventStatus.ACTIVE:
            continue
        when = writes.Actor(actor.partner, occurrence.start - timedelta(days=3), USER, actor.source)
        roll = rng.random()
        if roll < OCCURRENCE_CANCELLED:
            cancel(batch, when, occurrence)
            counts.cancelled += 1
        elif roll < OCCURRENCE_CANCELLED + OCCURRENCE_MOVED:
            by = rng.choice((timedelta(days=1), timedelta(hours=-2), timedelta(hours=2)))
            move(batch, when, occurrence, by)
            counts.moved += 1


def add_single(batch, partner, user, campus, rooms, room_cum, semester, occupied, day, counts, rng) -> None:
    r = min(bisect_right(room_cum, rng.random() * room_cum[-1]), len(rooms) - 1)
    room = rooms[r]
    slot = rng.randrange(len(SLOTS))
    at = SLOTS[slot]
    in_term = semester.start <= day < semester.end and day.weekday() < len(WEEKDAYS)
    if in_term and day.weekday() * len(SLOTS) + slot in occupied.get(r, ()):
        at = EVENING
    start = local(day, at)
    minutes = rng.choices((60, 90, 120, 180), weights=(3, 4, 2, 1))[0]
    kind = rng.choices((EventType.RECORD, EventType.MEETING, EventType.LIVE_STREAM), weights=(5, 3, 2))[0]
    if kind == EventType.LIVE_STREAM and room.live_id is None:
        kind = EventType.RECORD
    code, title = course(rng)
    data = {
        "type": kind,
        "summary": {EventType.MEETING: f"Meeting: {title}"}.get(kind, f"Guest lecture: {title}"),
        "description": "One-off booking",
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "location": room.name,
        "reference_id": f"{semester.name}-{code}-{day:%m%d}",
        "owner_id": USER,
        "template_entry_id": campus.templates["live" if kind == EventType.LIVE_STREAM else "record"],
    }
    resources = [room.resource_id, room.cameras[slot % len(room.cameras)]]
    if kind == EventType.LIVE_STREAM:
        data |= {"source_entry_id": room.live_entry_id, "pre_start_time": 600, "post_end_time": 300}
        resources.append(room.live_id)
    actor = writes.Actor(partner, start - timedelta(days=rng.randrange(2, 60)), **user)
    event, _ = add_event(batch, actor, data, resources, rng)
    counts.singles += 1
    if rng.random() < SINGLE_CANCELLED:
        cancel(batch, writes.Actor(partner, start - timedelta(days=1), **user), event)
        counts.cancelled += 1


# ---------------------------------------------------------------- checks, setup, teardown


class _Rollback(Exception):
    pass


# Feed fragments are a derived cache: the generator leaves them stale, which is a valid state
# (feeds render stale ones themselves; `publish_feeds` fills them in).
COMPARE_SKIP = {"id", "parent", "ical_uid", "ical_fragment", "ical_fragment_of"}


def _rows(events) -> list[dict[str, Any]]:
    out = []
    for event in events:
        row = {f.attname: getattr(event, f.attname) for f in ScheduleEvent._meta.concrete_fields}
        row["parent"] = row.pop("parent_id") is not None
        out.append({k: v for k, v in row.items() if k not in COMPARE_SKIP})
    return out


def _stored(series_id: int):
    series = ScheduleEvent.objects.get(pk=series_id)
    occurrences = list(ScheduleEvent.objects.filter(parent_id=series_id).order_by("original_start"))
    links = sorted(
        (
            0 if link.event_id == series_id else 1 + [o.pk for o in occurrences].index(link.event_id),
            link.resource_id,
            link.partner_id,
            link.created_at,
            link.updated_at,
        )
        for link in ScheduleEventResource.objects.filter(event__in=[series, *occurrences])
    )
    return [series, *occurrences], links


def _audit_rows(rows) -> list[tuple]:
    def clean(snapshot):
        return snapshot and {k: v for k, v in snapshot.items() if k not in COMPARE_SKIP}

    return [(a.action, a.object_type, a.actor, a.source, a.at, clean(a.before), clean(a.after)) for a in rows]


def verify_shape(partner: Partner, campus: Campus) -> None:
    """The generator's rows equal the write path's, column for column (ids and uids aside).
    Runs scheduling.create_event / cancel_event / update_event / cancel_event(series) and the
    generator on the same input in a transaction that is rolled back."""
    room = campus.rooms[0]
    resources = [room.resource_id, room.cameras[0]]
    t0 = datetime(2020, 1, 6, 8, tzinfo=UTC)
    actors = [writes.Actor(partner, t0 + timedelta(hours=h), USER, AuditEntry.Source.API) for h in range(4)]
    start = local(date(2020, 3, 23), SLOTS[1])  # crosses the spring DST change
    data = {
        "type": EventType.RECORD,
        "recurrence_type": RecurrenceType.RECURRING,
        "summary": "Shape check",
        "start": start,
        "end": start + timedelta(minutes=90),
        "recurrence": {"frequency": "weeks", "count": SEMESTER_WEEKS, "by_day": "MO", "time_zone": ZONE_NAME},
        "template_entry_id": campus.templates["record"],
        "location": room.name,
    }
    shift = timedelta(hours=2)
    try:
        with transaction.atomic():
            real = scheduling.create_event(actors[0], dict(data), resource_ids=resources)
            occurrence_ids = list(real.occurrences.order_by("original_start").values_list("pk", flat=True))
            scheduling.cancel_event(actors[1], occurrence_ids[2])
            moved = ScheduleEvent.objects.get(pk=occurrence_ids[4])
            scheduling.update_event(
                actors[2], moved.pk, {"start": moved.start + shift, "end": moved.end + shift}
            )
            scheduling.cancel_event(actors[3], real.pk)
            expected_rows, expected_links = _stored(real.pk)
            expected_audit = _audit_rows(AuditEntry.objects.order_by("-pk")[:4])

            counts = Counts()
            batch = Batch(Ids(), counts)
            series, occurrences = add_event(batch, actors[0], dict(data), resources, random.Random(0))
            cancel(batch, actors[1], occurrences[2])
            move(batch, actors[2], occurrences[4], shift)
            cancel(batch, actors[3], series, occurrences)
            first_audit = batch.audit[0].pk
            batch.flush()
            got_audit = _audit_rows(AuditEntry.objects.filter(pk__gte=first_audit).order_by("-pk"))
            got_rows, got_links = _stored(series.pk)
            problems = []
            for n, (want, got) in enumerate(zip(_rows(expected_rows), _rows(got_rows), strict=True)):
                for key in want:
                    if want[key] != got[key]:
                        problems.append(f"row {n} {key}: write path {want[key]!r}, generator {got[key]!r}")
            if expected_links != got_links:
                problems.append(f"links differ: {expected_links[:4]}... vs {got_links[:4]}...")
            if expected_audit != got_audit:
                problems.append(f"audit rows differ: {expected_audit} vs {got_audit}")
            if problems:
                raise SystemExit(
                    "generator rows differ from scheduling.py's (scheduling.py changed: update add_event"
                    " / set_status / move in bench/generate.py to match):\n  " + "\n  ".join(problems[:20])
                )
            raise _Rollback
    except _Rollback:
        pass


def migrate() -> None:
    call_command("migrate", interactive=False, verbosity=0)


def bench_partner() -> Partner | None:
    return Partner.objects.filter(pk=PARTNER_ID).first()


def dataset_info(partner: Partner | None) -> dict[str, str] | None:
    """The parameters a complete dataset recorded in its partner name, or None."""
    if partner is None or not partner.name.startswith(PARTNER_NAME + " ["):
        return None
    inside = partner.name[len(PARTNER_NAME) + 2 : -1]
    return dict(part.split("=", 1) for part in inside.split(" "))


def drop(partner_id: int = PARTNER_ID) -> None:
    """Delete everything of the bench partner with plain SQL (the ORM's cascade would load 1M rows)."""
    tables = [
        AuditEntry,
        ScheduleEventResource,
        ScheduleEvent,
        ScheduleResource,
        Entry,
        Membership,
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE partner_id = %s", [partner_id])
        cursor.execute(f"DELETE FROM {Partner._meta.db_table} WHERE id = %s", [partner_id])


def finish(analyze: bool) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            models = [ScheduleEvent, ScheduleEventResource, AuditEntry, ScheduleResource]
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
            # What autovacuum would do shortly after a bulk load: statistics and visibility map.
            for model in models:
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        elif analyze:
            cursor.execute("ANALYZE")


def sqlite_has_stats() -> bool:
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone()[0]:
            return False
        cursor.execute("SELECT count(*) FROM sqlite_stat1")
        return cursor.fetchone()[0] > 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--occurrences", type=int, default=1_000_000, help="event rows in all (default 1M)")
    parser.add_argument("--resources", type=int, default=2000, help="resources in all (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reset", action="store_true", help="drop an existing bench dataset first")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="SQLite: run ANALYZE afterwards (the app never does; PostgreSQL is always analysed)",
    )
    args = parser.parse_args(argv)
    if args.occurrences < 1:
        parser.error("--occurrences must be positive")

    began = time.perf_counter()
    print(f"database: {_django.describe_database()}")
    migrate()
    existing = bench_partner()
    info = dataset_info(existing)
    if existing is not None and (args.reset or info is None):
        print("dropping the existing bench dataset" + ("" if info else " (incomplete)") + " ...", flush=True)
        drop()
        existing = info = None
    if info is not None:
        print(f"bench dataset already present: {existing.name}\n(use --reset to regenerate)")
        return 0
    others = Partner.objects.exclude(pk=PARTNER_ID).count()
    if others:
        print(f"note: this database holds {others} other partner(s); their rows stay and are not counted")

    now = datetime(2020, 11, 2, 9, tzinfo=UTC)
    partner = Partner.objects.create(
        id=PARTNER_ID,
        name=f"{PARTNER_NAME} (generating)",
        admin_secret=Partner.new_secret(),
        secret=Partner.new_secret(),
        time_zone=ZONE_NAME,
        created_at=now,
        updated_at=now,
    )
    rng = random.Random(args.seed)
    actor = writes.Actor(partner, now, USER, AuditEntry.Source.API)
    with transaction.atomic():
        campus = build_campus(actor, args.resources, rng)
    print(
        f"resources: {campus.resources} ({len(campus.rooms)} rooms, "
        f"{sum(len(r.cameras) for r in campus.rooms)} cameras, "
        f"{sum(r.live_id is not None for r in campus.rooms)} streamed) "
        f"in {time.perf_counter() - began:.1f} s",
        flush=True,
    )
    verify_shape(partner, campus)
    print("shape check: generator rows match scheduling.create_event/cancel_event/update_event", flush=True)

    counts = Counts()
    started = time.perf_counter()
    shown = [0.0, 0]

    def progress(c: Counts) -> None:
        elapsed = time.perf_counter() - started
        if (elapsed - shown[0] >= 10 or c.rows >= args.occurrences) and c.rows != shown[1]:
            shown[:] = [elapsed, c.rows]
            rate = c.rows / elapsed if elapsed else 0
            print(
                f"  {c.rows:>9,} / {args.occurrences:,} event rows  {elapsed:6.1f} s  ({rate:,.0f} rows/s)",
                flush=True,
            )

    generate(partner, campus, args.occurrences, args.seed, counts, progress)
    written = time.perf_counter() - started
    tidy = time.perf_counter()
    finish(args.analyze)
    tidied = time.perf_counter() - tidy
    partner.name = (
        f"{PARTNER_NAME} [rows={counts.rows} resources={campus.resources} seed={args.seed} "
        f"series={counts.series} occurrences={counts.occurrences} singles={counts.singles} "
        f"blackouts={counts.blackouts}]"
    )
    Partner.objects.filter(pk=PARTNER_ID).update(name=partner.name)
    total = time.perf_counter() - began
    finished = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE" if args.analyze else ""
    print(
        f"event rows: {counts.rows:,} = {counts.series:,} series + {counts.occurrences:,} occurrences"
        f" + {counts.singles:,} single events + {counts.blackouts:,} blackouts\n"
        f"  cancelled: {counts.cancelled:,} occurrences and singles one by one, {counts.series_cancelled:,}"
        f" series whole; deleted: {counts.series_deleted:,} series; moved: {counts.moved:,} occurrences\n"
        f"  {counts.links:,} resource links, {counts.audit:,} audit rows\n"
        f"written in {written:.1f} s ({counts.rows / written:,.0f} event rows/s)"
        + (f", {finished} {tidied:.1f} s" if finished else "")
        + f"; generation took {total:.1f} s in all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
