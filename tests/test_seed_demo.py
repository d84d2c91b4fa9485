"""`manage.py seed_demo`: the newcomer's demo data, and the login it prints."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from calendar_app import clock, scheduling
from calendar_app.models import (
    AuditEntry,
    Entry,
    EntryType,
    EventStatus,
    EventType,
    FeedToken,
    Membership,
    Partner,
    RecurrenceType,
    ResourceType,
    ScheduleEvent,
    ScheduleResource,
)

TODAY = "2026-09-16"  # a Wednesday: the semester starts three Mondays before, on 2026-08-24
LONDON = ZoneInfo("Europe/London")


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", today=date.fromisoformat(TODAY), stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def output(db) -> str:
    return seed()


def resources(kind: int):
    return ScheduleResource.objects.for_partner(100).filter(type=kind)


def series_rows():
    return ScheduleEvent.objects.for_partner(100).filter(recurrence_type=RecurrenceType.RECURRING)


def counts() -> dict[str, int]:
    models = (Partner, ScheduleResource, ScheduleEvent, Entry, Membership, AuditEntry, get_user_model())
    return {model.__name__: model.objects.count() for model in models}


def test_it_builds_three_buildings_of_four_rooms_of_two_cameras(output):
    locations = resources(ResourceType.LOCATION)
    buildings = locations.filter(parent=None)
    assert sorted(buildings.values_list("system_name", flat=True)) == ["bldg-a", "bldg-b", "bldg-c"]
    rooms = locations.filter(parent__in=buildings)
    assert rooms.count() == 12 == locations.count() - 3
    assert all(room.system_name.startswith(room.parent.system_name + "-") for room in rooms)
    cameras = resources(ResourceType.CAMERA)
    assert cameras.count() == 24
    assert all(camera.parent.parent.parent_id is None for camera in cameras)
    assert {room.children.count() for room in rooms} == {2}
    camera = cameras.get(system_name="bldg-a-101-cam1")
    assert camera.parent.system_name == "bldg-a-101"
    assert re.fullmatch(r"rtsp://10\.0\.\d+\.\d+/stream", camera.stream_url)


def test_it_gives_each_live_entry_its_endpoints_and_resource(output):
    live = Entry.objects.for_partner(100).filter(type=EntryType.LIVE_STREAM)
    assert live.count() == 3
    assert all(e.primary_rtmp_endpoint.startswith("rtmp://") and e.secondary_rtsp_endpoint for e in live)
    assert all(e.stream_name and e.stream_username and e.stream_password for e in live)
    linked = resources(ResourceType.LIVE_ENTRY).values_list("entry_id", flat=True)
    assert sorted(linked) == sorted(live.values_list("pk", flat=True))


def test_it_schedules_weekly_lectures_of_fifteen_occurrences_from_three_weeks_ago(output):
    entries = dict(Entry.objects.for_partner(100).values_list("pk", "type"))
    series = list(series_rows())
    assert len(series) == 30
    assert {s.type for s in series} == {EventType.RECORD, EventType.LIVE_STREAM}
    for s in series:
        assert s.occurrences.count() == 15
        assert s.recurrence["frequency"] == "weeks" and s.time_zone == "Europe/London"
        live = s.type == EventType.LIVE_STREAM
        assert entries[s.template_entry_id] == (EntryType.LIVE_STREAM if live else EntryType.MEDIA)
        linked = ScheduleResource.objects.filter(pk__in=scheduling.resource_ids_of(s))
        rooms = [r for r in linked if r.type == ResourceType.LOCATION]
        assert len(rooms) == 1 and rooms[0].parent_id is not None
        assert [r.parent_id for r in linked if r.type == ResourceType.CAMERA] == [rooms[0].pk]
        assert any(r.type == ResourceType.LIVE_ENTRY for r in linked) == (s.type == EventType.LIVE_STREAM)
    first = min(s.start for s in series).astimezone(LONDON)
    assert first.date() == date(2026, 8, 24)


def test_it_blacks_out_a_reading_week_and_cancels_its_lectures(output):
    blackout = ScheduleEvent.objects.for_partner(100).get(type=EventType.BLACKOUT)
    start, end = blackout.start.astimezone(LONDON), blackout.end.astimezone(LONDON)
    assert (start.weekday(), start.hour, start.minute) == (0, 0, 0)
    assert end.date() - start.date() == timedelta(days=7) and end.hour == 0
    assert date(2026, 8, 24) < start.date() < date(2026, 8, 24) + timedelta(weeks=14)
    in_week = ScheduleEvent.objects.filter(parent__isnull=False).overlapping(blackout.start, blackout.end)
    assert in_week.count() == 30
    assert set(in_week.values_list("status", flat=True)) == {EventStatus.CANCELLED}
    assert ScheduleEvent.objects.filter(status=EventStatus.CANCELLED).count() == 30


def test_it_books_no_lecture_that_collides_with_anything(output):
    for series in series_rows():
        assert scheduling.conflicts_of(series) == []


def test_it_prints_a_password_the_admin_can_log_in_with(output):
    password = re.search(r"password:\s+(\S+)", output).group(1)
    user = authenticate(username="admin", password=password)
    assert user is not None and user.is_superuser and user.is_staff
    assert Membership.objects.get(user=user, partner_id=100).role == Membership.Role.ADMIN
    partner = Partner.objects.get(pk=100)
    assert "http://127.0.0.1:8000/admin/" in output
    assert re.search(r"Partner id:\s+100\b", output) and partner.admin_secret in output


def test_it_takes_the_password_from_demo_admin_password(db, monkeypatch):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "correct horse battery staple")
    assert "correct horse battery staple" in seed()
    assert authenticate(username="admin", password="correct horse battery staple") is not None


def test_it_is_idempotent(output):
    before = counts()
    again = seed()
    assert counts() == before
    secret = Partner.objects.get(pk=100).admin_secret
    assert secret in output and secret in again
    password = re.search(r"password:\s+(\S+)", output).group(1)
    assert authenticate(username="admin", password=password) is not None


def printed_password(output: str) -> str:
    return re.search(r"password:\s+(\S+)", output).group(1)


def test_it_keeps_the_admin_password_on_later_runs(output):
    password = printed_password(output)
    again = seed()
    assert password not in again
    assert "password:   unchanged (printed by the first run" in again
    assert "DEMO_ADMIN_PASSWORD=... make run" in again and "manage.py changepassword admin" in again
    assert authenticate(username="admin", password=password) is not None


def test_it_keeps_a_password_the_admin_chose(output):
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("chosen by the admin")
    admin.save()
    seed()
    assert authenticate(username="admin", password="chosen by the admin") is not None


def test_it_sets_demo_admin_password_on_a_later_run(output, monkeypatch):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "correct horse battery staple")
    assert "password:   correct horse battery staple" in seed()
    assert authenticate(username="admin", password="correct horse battery staple") is not None
    assert authenticate(username="admin", password=printed_password(output)) is None


def test_it_gives_an_admin_without_a_usable_password_a_new_one(db):
    admin = get_user_model().objects.create(username="admin")
    admin.set_unusable_password()
    admin.save()
    password = printed_password(seed())
    assert authenticate(username="admin", password=password) is not None


def test_it_seeds_another_partner_by_id(db):
    output = seed(partner_id=4242)
    assert "Partner id:   4242" in output
    assert ScheduleResource.objects.for_partner(4242).count() == 3 + 12 + 24 + 3


def test_it_prints_a_room_feed_that_serves_its_lectures(output, client):
    path = re.search(r"iCal feed: +http://[^/]+(/feeds/\S+\.ics)", output).group(1)
    with clock.pinned(datetime(2026, 9, 16, 8, tzinfo=UTC)):
        response = client.get(path)
    assert response.status_code == 200
    assert response.content.count(b"BEGIN:VEVENT") > 0
    assert FeedToken.objects.for_partner(100).count() == resources(ResourceType.LOCATION).count()
