"""Finding a free room (calendar_app/free_rooms.py): which rooms, which equipment, which dates are
busy, by conflicts.py's definition. Alice's university is in Europe/Berlin; NOW is 2026-09-01."""

from __future__ import annotations

from datetime import date, time
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from calendar_app import free_rooms, scheduling
from calendar_app.errors import ValidationFailed
from calendar_app.free_rooms import Needs, Once, Search, Weekly
from calendar_app.kaltura_api.services.schedule_resource import render_resource
from calendar_app.models import EventType, ResourceType, ScheduleResource
from tests.conftest import at

BERLIN = "Europe/Berlin"
MONDAY = date(2026, 9, 7)
NINE = Once(MONDAY, time(9), time(10, 30))


@pytest.fixture
def building(make_resource):
    return make_resource("Turing Building")


@pytest.fixture
def hall(make_resource, building):
    return make_resource("Turing 101", parent_id=building.pk, capacity=120, tags="lecture-hall, accessible")


@pytest.fixture
def seminar(make_resource, building):
    return make_resource("Turing 201", parent_id=building.pk, capacity=20, tags="seminar")


@pytest.fixture
def cameras(make_resource, hall):
    return [make_resource(f"Turing 101 camera {n}", ResourceType.CAMERA, parent_id=hall.pk) for n in (1, 2)]


def book(make_event, start: str, minutes: int, resources, **extra):
    return make_event(start, minutes, zone=BERLIN, resources=resources, allow_conflicts=True, **extra)


def names(matches) -> list[str]:
    return [m.room.name for m in matches]


def search(partner, when=NINE, **needs) -> free_rooms.Result:
    building = needs.pop("building", None)
    return free_rooms.find(Search(partner, when, Needs(**needs), building))


def test_it_lists_rooms_not_buildings(partner, hall, seminar):
    assert names(search(partner).free) == ["Turing 101", "Turing 201"]


def test_a_room_says_where_it_is(partner, hall):
    [match] = search(partner).free
    assert match.room.place == "Turing Building"


def test_a_booked_room_is_busy_on_that_date(partner, hall, seminar, make_event):
    book(make_event, "2026-09-07 10:00", 60, [hall])
    result = search(partner)
    assert names(result.free) == ["Turing 201"]
    assert [m.busy_days(partner.zone) for m in result.busy] == [[MONDAY]]


def test_a_booking_begun_before_the_slot_makes_it_busy(partner, hall, make_event):
    book(make_event, "2026-09-06 23:00", 11 * 60, [hall])  # the evening before, until 10:00
    assert names(search(partner).busy) == ["Turing 101"]


def test_back_to_back_bookings_leave_it_free(partner, hall, make_event):
    book(make_event, "2026-09-07 08:00", 60, [hall])
    book(make_event, "2026-09-07 10:30", 60, [hall])
    assert names(search(partner).free) == ["Turing 101"]


def test_cancelled_bookings_do_not_count(partner, actor, hall, make_event):
    scheduling.cancel_event(actor, book(make_event, "2026-09-07 09:00", 60, [hall]).pk)
    assert names(search(partner).free) == ["Turing 101"]


def test_a_blackout_makes_every_room_busy(partner, hall, seminar, make_event):
    book(make_event, "2026-09-07 00:00", 24 * 60, [], type=EventType.BLACKOUT)
    result = search(partner)
    assert result.free == [] and names(result.busy) == ["Turing 101", "Turing 201"]


def test_a_meeting_of_several_days_makes_the_room_busy(partner, hall, make_event):
    book(make_event, "2026-09-05 09:00", 3 * 24 * 60, [hall], type=EventType.MEETING)
    assert names(search(partner).busy) == ["Turing 101"]


def test_a_camera_need_takes_a_free_camera(partner, hall, seminar, cameras, make_event):
    book(make_event, "2026-09-07 09:00", 60, [cameras[0]])
    [match] = search(partner, camera=True).free
    assert match.room == search(partner).free[0].room and match.equipment[0].id == cameras[1].pk


def test_a_room_whose_cameras_are_all_busy_is_busy(partner, hall, cameras, make_event):
    book(make_event, "2026-09-07 09:00", 60, cameras)
    result = search(partner, camera=True)
    assert result.free == [] and names(result.busy) == ["Turing 101"]


def test_a_live_entry_need_keeps_rooms_that_have_one(partner, hall, seminar, make_resource):
    make_resource("Turing 201 live", ResourceType.LIVE_ENTRY, parent_id=seminar.pk)
    [match] = search(partner, live_entry=True).free
    assert match.room.name == "Turing 201" and match.equipment[0].type == ResourceType.LIVE_ENTRY


def test_capacity_keeps_rooms_with_enough_seats(partner, hall, seminar, make_resource):
    make_resource("Storeroom", capacity=None)
    assert names(search(partner, capacity=50).free) == ["Turing 101"]


def test_every_tag_must_be_there_whatever_the_case(partner, hall, seminar):
    assert names(search(partner, tags=("Accessible", "lecture-hall")).free) == ["Turing 101"]
    assert search(partner, tags=("accessible", "seminar")).free == []


def test_a_building_keeps_the_rooms_below_it(partner, hall, make_resource):
    other = make_resource("Franklin Building")
    make_resource("Franklin 1", parent_id=other.pk)
    assert names(search(partner, building=other.pk).free) == ["Franklin 1"]


def test_a_weekly_pattern_lists_the_busy_dates(partner, hall, make_event):
    book(make_event, "2026-09-14 09:00", 60, [hall])
    book(make_event, "2026-09-23 09:00", 60, [hall])
    pattern = Weekly(("MO", "WE"), time(9), time(10), MONDAY, date(2026, 9, 30))
    [match] = search(partner, pattern).busy
    assert match.busy_days(partner.zone) == [date(2026, 9, 14), date(2026, 9, 23)]


def test_fewest_busy_dates_come_first(partner, hall, seminar, make_event):
    book(make_event, "2026-09-07 09:00", 60, [hall])
    book(make_event, "2026-09-14 09:00", 60, [hall])
    book(make_event, "2026-09-14 09:00", 60, [seminar])
    pattern = Weekly(("MO",), time(9), time(10), MONDAY, date(2026, 9, 21))
    assert names(search(partner, pattern).busy) == ["Turing 201", "Turing 101"]


def test_a_pattern_keeps_its_wall_clock_time_across_dst(partner, hall):
    # Berlin leaves summer time on 25 October 2026.
    pattern = Weekly(("MO",), time(9), time(10), date(2026, 10, 19), date(2026, 10, 26))
    slots = free_rooms.slots(partner, pattern)
    assert [s.start for s in slots] == [at("2026-10-19 07:00"), at("2026-10-26 08:00")]


def test_a_booking_in_the_other_clock_hour_after_dst_is_no_clash(partner, hall, make_event):
    book(make_event, "2026-10-26 08:00", 60, [hall])  # Berlin 08:00, an hour before the slot
    pattern = Weekly(("MO",), time(9), time(10), date(2026, 10, 19), date(2026, 10, 26))
    assert names(search(partner, pattern).free) == ["Turing 101"]


def test_too_long_a_pattern_is_refused_on_its_last_date(partner, hall):
    pattern = Weekly(("MO", "TU", "WE", "TH", "FR"), time(9), time(10), MONDAY, date(2028, 9, 1))
    with pytest.raises(ValidationFailed) as refused:
        search(partner, pattern)
    assert refused.value.field == "last"


def test_a_pattern_without_any_date_is_refused_on_its_days(partner, hall):
    pattern = Weekly(("SA",), time(9), time(10), MONDAY, date(2026, 9, 11))
    with pytest.raises(ValidationFailed) as refused:
        search(partner, pattern)
    assert refused.value.field == "weekdays"


def test_an_end_before_the_start_is_refused(partner, hall):
    with pytest.raises(ValidationFailed) as refused:
        search(partner, Once(MONDAY, time(10), time(9)))
    assert refused.value.field == "end"


def test_another_partners_rooms_and_bookings_stay_out(partner, outsider, hall, make_resource, make_event):
    theirs = make_resource("Charlie Hall", who=outsider)
    make_event("2026-09-07 07:00", 60, resources=[theirs], who=outsider)
    assert names(search(partner).free) == ["Turing 101"]


def test_the_queries_do_not_grow_with_the_campus(
    partner, make_resource, make_event, django_assert_max_num_queries
):
    for n in range(30):
        room = make_resource(f"Room {n}", capacity=n)
        make_resource(f"Room {n} camera", ResourceType.CAMERA, parent_id=room.pk)
        book(make_event, "2026-09-14 09:00", 60, [room])
    pattern = Weekly(("MO", "WE"), time(9), time(10), MONDAY, date(2026, 12, 16))
    with django_assert_max_num_queries(4):
        result = search(partner, pattern, camera=True)
    assert len(result.busy) == 30 and len(result.slots) == 30


# ---------------------------------------------------------------- a room's seats


def test_seats_are_written_through_the_write_path(actor, hall):
    assert scheduling.update_resource(actor, hall.pk, {"capacity": 90}).capacity == 90


def test_a_camera_has_no_seats(actor, cameras):
    with pytest.raises(ValidationFailed) as refused:
        scheduling.update_resource(actor, cameras[0].pk, {"capacity": 3})
    assert refused.value.field == "capacity"


def test_seats_stay_off_the_kaltura_wire(hall):
    assert "capacity" not in render_resource(hall)


def test_the_admin_edits_a_rooms_seats(admin_client, partner, hall):
    url = reverse("admin:calendar_app_scheduleresource_change", args=[hall.pk])
    assert 'name="capacity"' in admin_client.get(url).content.decode()
    form = {"name": hall.name, "system_name": "", "description": "", "tags": hall.tags, "capacity": "75"}
    assert admin_client.post(url, {**form, "parent": hall.parent_id}).status_code == 302
    hall.refresh_from_db()
    assert hall.capacity == 75


def test_the_demo_campus_rooms_have_various_seats(db):
    call_command("seed_demo", today=date(2026, 9, 16), stdout=StringIO())
    rooms = ScheduleResource.objects.for_partner(100).filter(type=ResourceType.LOCATION, parent__isnull=False)
    assert len(set(rooms.values_list("capacity", flat=True))) > 4 and None not in rooms.values_list(
        "capacity", flat=True
    )
