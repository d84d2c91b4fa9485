"""`manage.py seed_demo`: demo data for a newcomer, and how to log in.

Creates (once) a partner with a campus (3 buildings x 4 rooms x 2 cameras), live entries with
their LIVE_ENTRY resources, template media entries, a 15-week semester of weekly lectures and a
reading-week blackout whose lectures are cancelled. Every scheduling object is written through
`calendar_app.scheduling`. Runs on every `make run`, so a second run only re-prints the login:
the data is skipped when the partner already has resources. The admin password is set when the
user is created (and printed then) or when DEMO_ADMIN_PASSWORD is given; otherwise it is left as
it is, so a password someone chose survives restarts.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from calendar_app import clock, feed_tokens, scheduling, writes
from calendar_app.models import (
    AuditEntry,
    Entry,
    EntryType,
    EventType,
    FeedToken,
    Membership,
    Partner,
    RecurrenceType,
    ResourceType,
    ScheduleEvent,
    ScheduleResource,
)

DEFAULT_PARTNER_ID = 100
PARTNER_NAME = "Demo University"
PARTNER_ZONE = "Europe/London"
ADMIN_USERNAME = "admin"
# Printed instead of the password on later runs, which leave it alone.
PASSWORD_KEPT = (
    "unchanged (printed by the first run; to set a new one: DEMO_ADMIN_PASSWORD=... make run,\n"
    "              or .venv/bin/python manage.py changepassword admin)"
)

SEMESTER_WEEKS = 15
WEEKS_BEFORE_TODAY = 3  # the semester started three weeks before this week's Monday
READING_WEEK = 7  # zero-based week of the semester: the middle one
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")

BUILDINGS = (("a", "Lovelace Building"), ("b", "Turing Building"), ("c", "Franklin Building"))
ROOM_NUMBERS = ("101", "102", "201", "202")
# Seats per room number: ground-floor halls, upstairs seminar rooms; each building a few more
# than the one before, so a search by capacity finds some rooms and not others.
ROOM_CAPACITIES = (120, 60, 40, 16)
CAMERAS_PER_ROOM = 2
# Time slots of a room's courses, one course per slot: they never overlap in a room, whatever
# the day, so lectures never collide on a room or a camera.
SLOTS = ((time(9, 0), 90), (time(11, 0), 90), (time(14, 0), 120))
COURSES = (
    ("CS101", "Introduction to Programming"), ("MA110", "Linear Algebra"),
    ("PH120", "Classical Mechanics"), ("CH101", "General Chemistry"),
    ("BI110", "Cell Biology"), ("EC101", "Principles of Economics"),
    ("HI130", "Modern European History"), ("PS101", "Introduction to Psychology"),
    ("CS210", "Data Structures"), ("MA210", "Real Analysis"),
    ("PH230", "Electromagnetism"), ("CH240", "Organic Chemistry"),
    ("BI220", "Genetics"), ("EC230", "Econometrics"),
    ("LI101", "Introduction to Linguistics"), ("PL110", "Logic and Argument"),
    ("CS320", "Operating Systems"), ("MA320", "Probability Theory"),
    ("PH310", "Quantum Mechanics"), ("EN201", "Thermodynamics"),
    ("EN110", "Engineering Drawing"), ("AR101", "History of Architecture"),
    ("MU120", "Music Theory"), ("LA201", "Contract Law"),
    ("ME101", "Human Anatomy"), ("ST210", "Statistical Inference"),
    ("CS330", "Computer Networks"), ("GE101", "Physical Geography"),
    ("SO110", "Introduction to Sociology"), ("PO201", "Comparative Politics"),
)  # fmt: skip


@dataclass
class Room:
    number: str
    resource: ScheduleResource
    cameras: list[ScheduleResource] = field(default_factory=list)
    live: ScheduleResource | None = None  # the live-entry resource of a streamed room
    live_entry: Entry | None = None


@dataclass
class Summary:
    buildings: int = 0
    rooms: int = 0
    cameras: int = 0
    live_entries: int = 0
    series: int = 0
    cancelled: int = 0
    semester_start: date | None = None
    reading_week: date | None = None


class Command(BaseCommand):
    help = "Load demo data (partner, admin user, campus, semester timetable) and print the login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner-id", type=int, default=DEFAULT_PARTNER_ID)
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where the site is served")
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            help="YYYY-MM-DD the semester is placed around (default: today in the partner's zone)",
        )

    def handle(self, *args, partner_id: int, today: date | None, url: str, **options) -> None:
        now = clock.now()  # the one clock read; everything below takes it as an argument
        partner = ensure_partner(partner_id, now)
        password = ensure_admin(partner)
        if ScheduleResource.objects.for_partner(partner).exists():
            self.stdout.write(f"Demo data for partner {partner.pk} already present: nothing to create.")
        else:
            if today is None:
                today = now.astimezone(partner.zone).date()
            actor = writes.Actor(
                partner=partner, now=now, user_id="seed_demo", source=AuditEntry.Source.SYSTEM
            )
            s = seed(actor, today)
            self.stdout.write(
                f"Demo data for partner {partner.pk}: {s.buildings} buildings, {s.rooms} rooms, "
                f"{s.cameras} cameras, {s.live_entries} live entries, {s.series} weekly series "
                f"from {s.semester_start} ({SEMESTER_WEEKS} weeks; reading week {s.reading_week}, "
                f"{s.cancelled} lectures cancelled)."
            )
        self.stdout.write(
            f"\nCalendar:     {url.rstrip('/')}/  (sign in below)\n"
            f"Admin:        {url.rstrip('/')}/admin/\n"
            f"  username:   {ADMIN_USERNAME}\n"
            f"  password:   {password or PASSWORD_KEPT}\n"
            f"Kaltura API:  {url.rstrip('/')}/api_v3/  (serviceUrl {url.rstrip('/')})\n"
            f"iCal feed:    {url.rstrip('/')}/feeds/{ensure_feeds(partner, now).token}.ics  (the first room; "
            "every room has one, see the Feeds page)\n"
            f"Partner id:   {partner.pk}\n"
            f"Admin secret: {partner.admin_secret}\n"
        )


def ensure_feeds(partner: Partner, now: datetime) -> FeedToken:
    """A feed token for every room and building (kept across runs); the first room's is returned."""
    places = list(
        ScheduleResource.objects.for_partner(partner)
        .filter(type=ResourceType.LOCATION)
        .order_by("pk")
        .select_related("feed")
    )
    feed_tokens.ensure(partner, places, now)
    first_room = next((place for place in places if place.parent_id is not None), places[0])
    return first_room.feed


def ensure_partner(partner_id: int, now: datetime) -> Partner:
    partner, _ = Partner.objects.get_or_create(
        pk=partner_id,
        defaults={
            "name": PARTNER_NAME,
            "admin_secret": Partner.new_secret(),
            "secret": Partner.new_secret(),
            "time_zone": PARTNER_ZONE,
            "created_at": now,
            "updated_at": now,
        },
    )
    return partner


def ensure_admin(partner: Partner) -> str | None:
    """The superuser `admin`, an admin of the partner. Returns the password it set, to print: a new
    one for a new user (or one without a usable password), DEMO_ADMIN_PASSWORD when that is set;
    otherwise None, and the password stays what it was."""
    user, created = get_user_model().objects.get_or_create(
        username=ADMIN_USERNAME, defaults={"email": "admin@example.com"}
    )
    password = os.environ.get("DEMO_ADMIN_PASSWORD") or None
    if password is None and (created or not user.has_usable_password()):
        password = secrets.token_urlsafe(12)
    user.is_active = user.is_staff = user.is_superuser = True
    if password is not None:
        user.set_password(password)
    user.save()
    Membership.objects.update_or_create(user=user, partner=partner, defaults={"role": Membership.Role.ADMIN})
    return password


@transaction.atomic
def seed(actor: writes.Actor, today: date) -> Summary:
    """Everything or nothing: a half-seeded partner would be skipped by the next run."""
    summary = Summary()
    zone = actor.partner.zone
    rooms = build_campus(actor, summary)
    templates = build_entries(actor, rooms, summary)
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=WEEKS_BEFORE_TODAY)
    summary.semester_start = monday
    series = build_timetable(actor, rooms, templates, monday, zone, summary)
    summary.reading_week = monday + timedelta(weeks=READING_WEEK)
    build_reading_week(actor, series, summary.reading_week, zone, summary)
    return summary


def build_campus(actor: writes.Actor, summary: Summary) -> list[Room]:
    rooms = []
    for b, (letter, building_name) in enumerate(BUILDINGS, start=1):
        building = scheduling.create_resource(
            actor,
            {
                "type": ResourceType.LOCATION,
                "name": building_name,
                "system_name": f"bldg-{letter}",
                "description": "Demo building",
                "tags": "demo,building",
            },
        )
        summary.buildings += 1
        for r, number in enumerate(ROOM_NUMBERS, start=1):
            room = Room(
                number,
                scheduling.create_resource(
                    actor,
                    {
                        "type": ResourceType.LOCATION,
                        "name": f"{building_name.split()[0]} {number}",
                        "system_name": f"bldg-{letter}-{number}",
                        "parent_id": building.pk,
                        "description": f"Lecture room {number}, {building_name}",
                        "tags": "demo,room",
                        "capacity": ROOM_CAPACITIES[r - 1] + 10 * (b - 1),
                    },
                ),
            )
            summary.rooms += 1
            for c in range(1, CAMERAS_PER_ROOM + 1):
                camera = scheduling.create_resource(
                    actor,
                    {
                        "type": ResourceType.CAMERA,
                        "name": f"{room.resource.name} camera {c}",
                        "system_name": f"bldg-{letter}-{number}-cam{c}",
                        "parent_id": room.resource.pk,
                        "stream_url": f"rtsp://10.0.{b}.{r * 10 + c}/stream",
                        "tags": "demo,camera",
                    },
                )
                room.cameras.append(camera)
                summary.cameras += 1
            rooms.append(room)
    return rooms


def build_entries(actor: writes.Actor, rooms: list[Room], summary: Summary) -> dict[str, Entry]:
    """Template media entries for recordings, and a live entry for each building's first room."""

    def entry(**values) -> Entry:
        return Entry.objects.create(
            partner=actor.partner, owner_id=ADMIN_USERNAME, created_at=actor.now, updated_at=actor.now,
            **values,
        )  # fmt: skip

    templates = {
        "record": entry(name="Lecture capture template", tags="demo,lecture capture"),
    }
    for room in (r for r in rooms if r.number == ROOM_NUMBERS[0]):
        live = entry(type=EntryType.LIVE_STREAM, name=f"{room.resource.name} live", tags="demo,live")
        host = room.resource.system_name
        live.primary_rtmp_endpoint = f"rtmp://ingest-1.demo.invalid:1935/live/{host}"
        live.secondary_rtmp_endpoint = f"rtmp://ingest-2.demo.invalid:1935/live/{host}"
        live.primary_rtsp_endpoint = f"rtsp://ingest-1.demo.invalid:554/live/{host}"
        live.secondary_rtsp_endpoint = f"rtsp://ingest-2.demo.invalid:554/live/{host}"
        live.stream_name = f"{live.pk}_%i"
        live.stream_username = host
        live.stream_password = secrets.token_hex(8)
        live.save()
        room.live_entry = live
        room.live = scheduling.create_resource(
            actor,
            {
                "type": ResourceType.LIVE_ENTRY,
                "name": live.name,
                "system_name": f"{host}-live",
                "entry_id": live.pk,
                "tags": "demo,live",
            },
        )
        summary.live_entries += 1
    return templates


def build_timetable(
    actor: writes.Actor,
    rooms: list[Room],
    templates: dict[str, Entry],
    monday: date,
    zone: ZoneInfo,
    summary: Summary,
) -> list[ScheduleEvent]:
    """Weekly lectures: 3 courses in the x01 rooms, 2 in the x02 rooms, each in its own time
    slot, filmed by one of the room's cameras; the 09:00 lecture of a streamed room goes live."""
    courses = iter(COURSES)
    series = []
    for index, room in enumerate(rooms):
        for k, (at, minutes) in enumerate(SLOTS[: 3 if room.number.endswith("1") else 2]):
            code, title = next(courses)
            weekday = (index + 2 * k) % len(WEEKDAYS)
            start = datetime.combine(monday + timedelta(days=weekday), at, tzinfo=zone)
            live = room.live_entry is not None and k == 0
            data = {
                "type": EventType.LIVE_STREAM if live else EventType.RECORD,
                "recurrence_type": RecurrenceType.RECURRING,
                "summary": f"{code} {title}",
                "description": f"{title}: weekly lecture" + (", streamed live" if live else ""),
                "start": start,
                "end": start + timedelta(minutes=minutes),
                "recurrence": {
                    "frequency": "weeks",
                    "count": SEMESTER_WEEKS,
                    "by_day": WEEKDAYS[weekday],
                    "time_zone": zone.key,
                },
                "location": room.resource.name,
                "reference_id": f"demo-{code}",
                "tags": "demo,lecture",
                "template_entry_id": templates["record"].pk,
            }
            resources = [room.resource, room.cameras[k % len(room.cameras)]]
            if live:
                # A live event's template is its live entry: devices read the stream endpoints
                # from it (docs/kaltura-compatibility.md §5, X-KALTURA-PRIMARY-RTMP-ENDPOINT and friends).
                data |= {"template_entry_id": room.live_entry.pk, "pre_start_time": 300, "post_end_time": 300}
                resources.append(room.live)
            series.append(scheduling.create_event(actor, data, resource_ids=[r.pk for r in resources]))
            summary.series += 1
    return series


def build_reading_week(
    actor: writes.Actor, series: list[ScheduleEvent], monday: date, zone: ZoneInfo, summary: Summary
) -> None:
    """A blackout from Monday 00:00 to the next Monday 00:00 (partner zone), and the lectures of
    that week cancelled, as a timetabler would: no conflicts left, cancelled occurrences shown."""
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(monday + timedelta(weeks=1), time(0), tzinfo=zone)
    scheduling.create_event(
        actor,
        {
            "type": EventType.BLACKOUT,
            "summary": "Reading week",
            "description": "No lectures: independent study week",
            "start": start,
            "end": end,
            "tags": "demo,blackout",
        },
    )
    week = ScheduleEvent.objects.for_partner(actor.partner).filter(
        parent__in=series, start__lt=end, end__gt=start
    )
    for occurrence_id in week.values_list("pk", flat=True):
        scheduling.cancel_event(actor, occurrence_id)
        summary.cancelled += 1
