"""Benchmark of the staff calendar's week view: grid.build, and the page if it is there.

    .venv/bin/python bench/week_view.py                  # SQLite: bench/data/bench.sqlite3
    .venv/bin/python bench/week_view.py --iterations 500 --rebuild

The week is a building's: 50 rooms below it, each with a camera and a live entry (151 resources,
150 of them columns beside the building's own), and 2,000 events in one week (2026-09-07, the
partner in Europe/Berlin): 60% occurrences of weekly lecture series (10 weeks, the bench week
the fifth; 2% of those cancelled), singles (recordings, meetings, live streams, a few over
midnight, a few with no resource, many overlapping a lecture), 5 blackouts. Everything is written
through scheduling.py as partner 9000003, beside the other bench partners; it is built once and
reused while its parameters (recorded in the partner's name) match.

Timed, after warm-up calls, with perf_counter around one in-process call, DEBUG off:
- grid.build for the week (7 days, every column) and for one day (the Wednesday);
- if the URL name calendar:week resolves, a whole GET of it (?date=the Monday: since #19 the room
  week, the first room's seven days; bench/timeline_view.py times the many-rooms page) through
  django.test.Client, logged in as "bench-admin" (an admin Membership of the partner): the view,
  its template and the middleware, no network.
Each line also gives the number of SQL queries one call makes (CaptureQueriesContext).

Then, over real HTTP against `runserver --nothreading` with DEBUG off (bench/api.py's `served`),
signed in with a session cookie, the two requests staff wait for: the week page (target: server
time <= 150 ms) and the conflict check a drag sends as it crosses a booked lecture (target: round
trip <= 50 ms). One httpx client with keep-alive, as a browser tab has.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import _django  # noqa: F401  (sets up Django; keep it first)
import api
import httpx
from api import machine, served
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from generate import drop
from run import save_json, stats, timed

from calendar_app import batch_scheduling, scheduling, writes
from calendar_app.models import (
    AuditEntry,
    EventStatus,
    EventType,
    Membership,
    Partner,
    RecurrenceType,
    ResourceType,
    ScheduleEvent,
)  # fmt: skip
from calendar_app.web import grid

PARTNER_ID = 9_000_003
PARTNER_NAME = "Week view bench"
ZONE = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 9, 7)
NOW = datetime(2026, 9, 9, 10, 30, tzinfo=ZONE).astimezone(UTC)  # Wednesday morning: a now-line
SERIES_WEEKS, WEEKS_BEFORE = 10, 4
SLOTS = [(8, 15), (10, 0), (11, 45), (13, 30), (15, 15), (17, 0)]  # 90-minute lectures, Mon-Fri
# (start, hours) after the bench week's Monday 00:00 local: partner-wide closures.
BLACKOUTS = [(7, 1), (2 * 24 + 12, 1), (4 * 24 + 18, 12), (5 * 24 + 20, 2), (6 * 24, 6)]
TARGET_MS = 100
PAGE_TARGET_MS = 150
CHECK_TARGET_MS = 50
USER = "bench-admin"
PASSWORD = "bench-admin-password"


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def marker(rooms: int, events: int, seed: int) -> str:
    return f"{PARTNER_NAME} [rooms={rooms} events={events} seed={seed} week={MONDAY}]"


def ensure(rooms: int, events: int, seed: int, rebuild: bool) -> Partner:
    """The bench partner with these parameters: the one in the database, else built anew."""
    name = marker(rooms, events, seed)
    partner = Partner.objects.filter(pk=PARTNER_ID).first()
    if partner is not None and partner.name == name and not rebuild:
        print(f"reusing partner {PARTNER_ID} ({name})")
        return partner
    drop(PARTNER_ID)
    began = time.perf_counter()
    with transaction.atomic():  # never half a dataset under the final name
        partner = build(rooms, events, random.Random(seed))
        partner.name = name
        partner.save(update_fields=["name"])
    print(f"built partner {PARTNER_ID} in {time.perf_counter() - began:.1f} s ({name})")
    return partner


def build(rooms: int, events: int, rng: random.Random) -> Partner:
    partner = Partner.objects.create(
        pk=PARTNER_ID, name=PARTNER_NAME, admin_secret=Partner.new_secret(), secret=Partner.new_secret(),
        time_zone=str(ZONE),
    )  # fmt: skip
    actor = writes.Actor(partner, NOW, "bench", AuditEntry.Source.SYSTEM)
    equipment = make_rooms(actor, rooms)
    lectures = min(round(events * 0.6), rooms * len(SLOTS) * 5)
    occurrences = make_series(actor, equipment, lectures, rng)
    for occurrence in rng.sample(occurrences, len(occurrences) // 50):
        scheduling.cancel_event(actor, occurrence)
    make_singles(actor, equipment, events - lectures - len(BLACKOUTS), rng)
    for hours, length in BLACKOUTS:
        start = local(MONDAY, 0) + timedelta(hours=hours)
        end = start + timedelta(hours=length)
        scheduling.create_event(
            actor, {"type": EventType.BLACKOUT, "summary": "Closed", "start": start, "end": end}
        )
    return partner


def make_rooms(actor: writes.Actor, rooms: int) -> list[tuple[int, int, int]]:
    """(room, camera, live entry) ids, under one building."""

    def create(type: int, name: str, parent: int, **extra) -> int:
        data = {"type": type, "name": name, "parent_id": parent, **extra}
        return scheduling.create_resource(actor, data).pk

    building = scheduling.create_resource(actor, {"type": ResourceType.LOCATION, "name": "Main building"}).pk
    equipment = []
    for n in range(1, rooms + 1):
        room = create(ResourceType.LOCATION, f"Room {n:03d}", building)
        camera = create(ResourceType.CAMERA, f"Camera {n:03d}", room)
        live = create(ResourceType.LIVE_ENTRY, f"Live {n:03d}", room, entry_id=f"0_wv{n:06d}")
        equipment.append((room, camera, live))
    return equipment


def make_series(actor: writes.Actor, equipment: list, count: int, rng: random.Random) -> list[int]:
    """`count` weekly lecture series in free slots of the rooms; the ids of their bench-week
    occurrences. One in five is live streamed (room, camera and live entry)."""
    free = [(rooms, day, slot) for rooms in equipment for day in range(5) for slot in SLOTS]
    first_week = MONDAY - timedelta(weeks=WEEKS_BEFORE)
    window = (local(MONDAY, 0), local(MONDAY + timedelta(days=7), 0))
    ids = []
    for (room, camera, live), day, (hour, minute) in rng.sample(free, count):
        streamed = rng.random() < 0.2
        start = local(first_week + timedelta(days=day), hour, minute)
        series = scheduling.create_event(
            actor,
            {
                "type": EventType.LIVE_STREAM if streamed else EventType.RECORD,
                "summary": f"Lecture {len(ids) + 1}", "start": start, "end": start + timedelta(minutes=90),
                "recurrence_type": RecurrenceType.RECURRING,
                "recurrence": {"frequency": "weeks", "count": SERIES_WEEKS, "time_zone": str(ZONE)},
            },
            resource_ids=[room, camera, live] if streamed else [room, camera],
        )  # fmt: skip
        ids.extend(series.occurrences.overlapping(*window).values_list("pk", flat=True))
    return ids


def make_singles(actor: writes.Actor, equipment: list, count: int, rng: random.Random) -> None:
    """Recordings, meetings and live streams anywhere in the week, so many overlap a lecture;
    2% run over midnight, 1% have no resource. One create_events call, as an import makes them."""
    rows = []
    for n in range(count):
        room, camera, live = rng.choice(equipment)
        kind, resources = rng.choice(
            [(EventType.RECORD, (room, camera))] * 3
            + [(EventType.MEETING, (room,)), (EventType.LIVE_STREAM, (room, camera, live))]
        )
        day = MONDAY + timedelta(days=rng.randrange(7))
        start = local(day, rng.randrange(7, 21), rng.choice((0, 15, 30, 45)))
        minutes = rng.choice((45, 60, 90, 120))
        if n % 50 == 0:
            start, minutes = local(day, 22, 30), 180
        if n % 100 == 1:
            resources = ()
        data = {
            "type": kind,
            "summary": f"Event {n + 1}",
            "start": start,
            "end": start + timedelta(minutes=minutes),
        }
        rows.append(batch_scheduling.NewEvent(data, resources))
    for result in batch_scheduling.create_events(actor, rows):
        if not isinstance(result, int):
            raise SystemExit(f"a single event was refused: {result}")


def shown_events(partner: Partner) -> int:
    """Events the week view can show: in the week, not series rows, not deleted."""
    start, end = local(MONDAY, 0), local(MONDAY + timedelta(days=7), 0)
    rows = ScheduleEvent.objects.for_partner(partner).overlapping(start, end)
    rows = rows.filter(status__in=(EventStatus.ACTIVE, EventStatus.CANCELLED))
    return rows.exclude(recurrence_type=RecurrenceType.RECURRING).count()


def timed_with_queries(call: Callable[[], object], iterations: int, warmup: int) -> tuple[list[float], int]:
    """Samples in ms, and the number of queries of one call."""
    samples = timed(call, iterations, warmup)
    with CaptureQueriesContext(connection) as queries:
        call()
    return samples, len(queries)


def page(partner: Partner) -> Callable[[], object] | None:
    """A GET of the week page as an admin of the partner, or None while the page does not exist."""
    try:
        path = reverse("calendar:week")
    except NoReverseMatch:
        return None
    user, _ = get_user_model().objects.get_or_create(username=USER)
    Membership.objects.update_or_create(user=user, partner=partner, defaults={"role": Membership.Role.ADMIN})
    client = Client()
    client.force_login(user)
    url = f"{path}?date={MONDAY:%Y-%m-%d}"

    def get() -> object:
        # secure: DEBUG off redirects plain HTTP to https.
        response = client.get(url, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: HTTP {response.status_code}")
        return response

    return get


def sign_in(client: httpx.Client, partner: Partner) -> None:
    """Sign the bench admin in through the login form, as a browser does: the server has a
    SECRET_KEY of its own, so a session made in this process would not be valid there."""
    user, _ = get_user_model().objects.get_or_create(username=USER)
    user.set_password(PASSWORD)
    user.save()
    Membership.objects.update_or_create(user=user, partner=partner, defaults={"role": Membership.Role.ADMIN})
    api.sign_in(client, USER, PASSWORD)


def booked_slot(partner: Partner) -> dict[str, str]:
    """The query a drag sends while it crosses the Wednesday's first booked lecture: its room, and
    the 90 minutes from 15 minutes before it."""
    lecture = (
        ScheduleEvent.objects.for_partner(partner)
        .filter(type=EventType.RECORD, status=EventStatus.ACTIVE, recurrence_type=RecurrenceType.RECURRENCE)
        .filter(start__gte=local(MONDAY + timedelta(days=2), 0), resource_links__isnull=False)
        .order_by("start")
        .values_list("start", "resource_links__resource_id")
        .first()
    )
    start, room = lecture
    minute = start.astimezone(ZONE).hour * 60 + start.astimezone(ZONE).minute - 15
    return {"day": str(MONDAY + timedelta(days=2)), "start": minute, "end": minute + 90, "resources": room}


def over_http(partner: Partner, iterations: int, warmup: int) -> dict[str, dict]:
    """p50/p95 of the week page and the drag check, each a whole request on loopback."""
    requests = {
        "HTTP week page": (reverse("calendar:week"), {"date": str(MONDAY)}),
        "HTTP drag check": (reverse("calendar:check"), booked_slot(partner)),
    }
    results = {}
    with served("runserver") as url, httpx.Client(base_url=url) as client:
        sign_in(client, partner)
        for name, (path, params) in requests.items():

            def call(path=path, params=params) -> object:
                response = client.get(path, params=params)
                if response.status_code != 200:
                    raise SystemExit(f"GET {path}: HTTP {response.status_code}")
                return response

            samples = timed(call, iterations, warmup)
            results[name] = stats(samples)
            if name == "HTTP drag check":
                results[name]["conflicts"] = int(call().headers["X-Conflicts"])
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--events", type=int, default=2000, help="events in the week (default 2,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rebuild", action="store_true", help="build the partner anew even if it is there")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)

    call_command("migrate", verbosity=0)
    partner = ensure(args.rooms, args.events, args.seed, args.rebuild)
    # Every resource a column of its own (the toolbar's "Show" with all types ticked): the widest
    # grid, as this bench has measured it since #5; the default folds equipment into rooms.
    every = frozenset(ResourceType)
    week = grid.Query(partner, MONDAY, 7, NOW, resource_types=every)
    built = grid.build(week)
    placed = sum(len(cell) for day in built.cells for cell in day)
    print(f"database: {_django.describe_database()}\nmachine:  {machine()}")
    print(
        f"week:     {shown_events(partner):,} events, {len(built.columns)} columns, {placed:,} boxes placed, "
        f"{sum(map(len, built.blackouts))} blackout bands, {len(built.unassigned)} unassigned"
    )
    calls = {
        "grid.build, week": lambda: grid.build(week),
        "grid.build, day": lambda: grid.build(
            grid.Query(partner, MONDAY + timedelta(days=2), 1, NOW, resource_types=every)
        ),
    }
    get = page(partner)
    if get is None:
        print("GET calendar:week: skipped, the URL name does not resolve (no web calendar yet)")
    else:
        calls["GET calendar:week"] = get
    print(f"  {'':<20}{'p50':>10}{'p95':>10}{'n':>6}{'queries':>9}")
    summary = {}
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):  # the Client's host
        for name, call in calls.items():
            samples, queries = timed_with_queries(call, args.iterations, args.warmup)
            s = summary[name] = {**stats(samples), "queries": queries}
            print(f"  {name:<20}{s['p50_ms']:>8.1f}ms{s['p95_ms']:>8.1f}ms{s['n']:>6}{queries:>9}")
    met = "met" if summary["grid.build, week"]["p50_ms"] < TARGET_MS else "MISSED"
    print(f"target: grid.build of the week, p50 < {TARGET_MS} ms: {met}")
    if get is not None:
        for name, s in over_http(partner, args.iterations, args.warmup).items():
            summary[name] = s
            extra = f"  ({s['conflicts']} conflict(s) found)" if "conflicts" in s else ""
            print(f"  {name:<20}{s['p50_ms']:>8.1f}ms{s['p95_ms']:>8.1f}ms{s['n']:>6}{extra}")
        for name, target in (("HTTP week page", PAGE_TARGET_MS), ("HTTP drag check", CHECK_TARGET_MS)):
            met = "met" if summary[name]["p50_ms"] <= target else "MISSED"
            print(f"target: {name}, p50 <= {target} ms: {met}")
    save_json(args.json, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
