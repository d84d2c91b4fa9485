"""The bench campus of issue #19: what a large university's calendar holds, for the benches of the
staff calendar (timeline_view.py, free_rooms.py, drag_conflict.py).

    import _django  # noqa: F401  (first)
    import campus
    c = campus.ensure()          # built once into the bench database, reused while it matches

10 buildings x 30 rooms (300 rooms, capacities 20-400, tags), each room with two cameras; every
tenth room also has a live entry. A 15-week term of weekday lectures (90 minutes, six slots a day)
fills about two thirds of the rooms' slots, the same slots every week as a timetable does, so the
bench week holds ~6,000 bookings; one room in ten is nearly empty, so a search finds free rooms.
Recordings take the room and its first camera, live streams the room, second camera and live entry,
meetings the room alone; 2% are cancelled; a blackout closes the campus one evening.

The bookings are single events written by batch_scheduling.create_events (as an import writes them):
a timetable of 90,000 occurrences as 6,000 series through create_event one by one takes minutes,
and what the calendar reads (one row per occurrence in the window) is the same.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import _django  # noqa: F401  (sets up Django; keep it first)
import api
import httpx
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from generate import drop

from calendar_app import batch_scheduling, scheduling, writes
from calendar_app.models import (
    AuditEntry,
    EventStatus,
    EventType,
    Membership,
    Partner,
    ResourceType,
    ScheduleEvent,
)
from calendar_app.scheduling import OnConflict

PARTNER_ID = 9_000_019
PARTNER_NAME = "Campus bench"
ZONE = ZoneInfo("Europe/Berlin")
TERM_START = date(2026, 9, 7)  # a Monday
WEEKS = 15
MONDAY = TERM_START + timedelta(weeks=7)  # the bench week: mid-term, across no DST change
BUILDINGS, ROOMS_PER_BUILDING = 10, 30
SLOTS = [(8, 15), (10, 0), (11, 45), (13, 30), (15, 15), (17, 0)]  # 90-minute lectures, Mon-Fri
FILL, QUIET_FILL = 0.73, 0.1  # the share of a room's weekly slots booked; QUIET_FILL for every tenth room
TAGS = ["lecture-hall", "seminar", "lab", "accessible"]
CAPACITIES = [20, 30, 40, 60, 80, 120, 200, 400]
# Not week_view.py's bench-admin: a second membership would change which partner its session sees.
USER = "campus-admin"
PASSWORD = "campus-admin-password"
SEED = 19


@dataclass(frozen=True)
class Campus:
    partner: Partner
    monday: date  # the bench week's Monday, local
    term_start: date
    term_end: date  # the term's last day
    username: str = USER
    password: str = PASSWORD


def ensure(rebuild: bool = False) -> Campus:
    """The campus in the bench database, built (a minute or two) when missing or out of date;
    the bench admin signs in with USER / PASSWORD."""
    call_command("migrate", interactive=False, verbosity=0)
    shape = (
        f"buildings={BUILDINGS}x{ROOMS_PER_BUILDING} weeks={WEEKS} fill={FILL} seed={SEED} from={TERM_START}"
    )
    name = f"{PARTNER_NAME} [{shape}]"
    partner = Partner.objects.filter(pk=PARTNER_ID).first()
    if partner is None or partner.name != name or rebuild:
        drop(PARTNER_ID)
        began = time.perf_counter()
        with transaction.atomic():  # never half a campus under the final name
            partner = _build(random.Random(SEED))
            partner.name = name
            partner.save(update_fields=["name"])
        print(f"built the campus (partner {PARTNER_ID}) in {time.perf_counter() - began:.0f} s")
    _admin(partner)
    term_end = TERM_START + timedelta(weeks=WEEKS, days=-1)
    return Campus(partner, MONDAY, TERM_START, term_end)


def sign_in(client: httpx.Client, c: Campus) -> None:
    api.sign_in(client, c.username, c.password)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def _admin(partner: Partner) -> None:
    user, _ = get_user_model().objects.get_or_create(username=USER)
    if not user.check_password(PASSWORD):  # setting it anew would sign out the benches running
        user.set_password(PASSWORD)
        user.save()
    Membership.objects.update_or_create(user=user, partner=partner, defaults={"role": Membership.Role.ADMIN})


class _Room:
    def __init__(self, pk: int, cameras: tuple[int, int], live: int | None, quiet: bool) -> None:
        self.pk, self.cameras, self.live, self.quiet = pk, cameras, live, quiet


def _build(rng: random.Random) -> Partner:
    partner = Partner.objects.create(
        pk=PARTNER_ID, name=PARTNER_NAME, admin_secret=Partner.new_secret(), secret=Partner.new_secret(),
        time_zone=str(ZONE),
    )  # fmt: skip
    actor = writes.Actor(
        partner, local(TERM_START, 0) - timedelta(days=30), "bench", AuditEntry.Source.SYSTEM
    )
    rooms = _rooms(actor, rng)
    results = batch_scheduling.create_events(actor, _timetable(rooms, rng), on_conflict=OnConflict.IGNORE)
    ids = [result for result in results if isinstance(result, int)]
    if len(ids) != len(results):
        raise SystemExit(f"{len(results) - len(ids)} bookings were refused")
    cancelled = rng.sample(ids, len(ids) // 50)
    ScheduleEvent.objects.filter(pk__in=cancelled).update(status=EventStatus.CANCELLED)
    start = local(MONDAY + timedelta(days=2), 19)
    blackout = {
        "type": EventType.BLACKOUT,
        "summary": "Campus closed",
        "start": start,
        "end": start + timedelta(hours=3),
    }
    scheduling.create_event(actor, blackout)
    return partner


def _rooms(actor: writes.Actor, rng: random.Random) -> list[_Room]:
    def create(type: int, name: str, parent: int | None = None, **extra) -> int:
        return scheduling.create_resource(
            actor, {"type": type, "name": name, "parent_id": parent, **extra}
        ).pk

    rooms = []
    for b in range(BUILDINGS):
        building_name = f"Building {chr(ord('A') + b)}"
        building = create(ResourceType.LOCATION, building_name)
        for r in range(1, ROOMS_PER_BUILDING + 1):
            name = f"{building_name[-1]}{r:03d}"
            tags = ",".join(rng.sample(TAGS, rng.randrange(3)))
            capacity = rng.choice(CAPACITIES)
            room = create(ResourceType.LOCATION, name, building, tags=tags, capacity=capacity)
            cameras = (
                create(ResourceType.CAMERA, f"{name} camera 1", room),
                create(ResourceType.CAMERA, f"{name} camera 2", room),
            )
            n = len(rooms)
            live = (
                create(ResourceType.LIVE_ENTRY, f"{name} live", room, entry_id=f"0_cb{n:06d}")
                if n % 10 == 0
                else None
            )
            rooms.append(_Room(room, cameras, live, quiet=n % 10 == 5))
    return rooms


def _timetable(rooms: list[_Room], rng: random.Random) -> list[batch_scheduling.NewEvent]:
    """The same slots every week of the term, as a timetable repeats."""
    rows = []
    for room in rooms:
        slots = [(day, slot) for day in range(5) for slot in SLOTS]
        chosen = rng.sample(slots, round(len(slots) * (QUIET_FILL if room.quiet else FILL)))
        for day, (hour, minute) in chosen:
            kind, resources = _kind(room, rng)
            for week in range(WEEKS):
                start = local(TERM_START + timedelta(weeks=week, days=day), hour, minute)
                data = {"type": kind, "summary": f"Lecture {room.pk}-{day}{hour}", "start": start,
                        "end": start + timedelta(minutes=90)}  # fmt: skip
                rows.append(batch_scheduling.NewEvent(data, resources))
    return rows


def _kind(room: _Room, rng: random.Random) -> tuple[int, tuple[int, ...]]:
    roll = rng.random()
    if room.live is not None and roll < 0.3:
        return EventType.LIVE_STREAM, (room.pk, room.cameras[1], room.live)
    if roll < 0.85:
        return EventType.RECORD, (room.pk, room.cameras[0])
    return EventType.MEETING, (room.pk,)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild", action="store_true")
    campus = ensure(parser.parse_args().rebuild)
    week = ScheduleEvent.objects.for_partner(campus.partner).overlapping(
        local(MONDAY, 0), local(MONDAY + timedelta(days=7), 0)
    )
    print(f"campus ready: partner {campus.partner.pk}, {week.count()} bookings in the week of {MONDAY}")
