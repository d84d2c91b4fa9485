"""scheduleEvent.getConflicts, blackoutConflicts, and (we go further) a partner that refuses
conflicting bookings, through the official client."""

from __future__ import annotations

import pytest
from KalturaClient.Plugins.Schedule import KalturaRecordScheduleEvent, KalturaScheduleEventConflictType

from tests.kaltura_api.builders import (
    HOUR,
    add_event,
    add_resource,
    blackout,
    error_code,
    error_of,
    event_ids,
    ids,
    link,
    links,
    location,
    record,
    series,
)

RESOURCE = KalturaScheduleEventConflictType.RESOURCE_CONFLICT
BLACKOUT = KalturaScheduleEventConflictType.BLACKOUT_CONFLICT
BOTH = KalturaScheduleEventConflictType.BOTH


@pytest.fixture
def booked(admin_client, room, soon):
    """Hall 1 is booked from `soon` for an hour."""
    return add_event(admin_client, record(soon, summary="Booked"), room)


@pytest.fixture
def conflicts(admin_client):
    def find(resources, probe, ignore=NotImplemented, kind=RESOURCE) -> list[int]:
        resource_ids = ",".join(str(r.id) for r in resources)
        found = admin_client.schedule.scheduleEvent.getConflicts(resource_ids, probe, ignore, kind)
        assert found.totalCount == len(found.objects)
        return ids(found)

    return find


@pytest.fixture
def preventing(partner):
    partner.prevent_conflicts = True
    partner.save(update_fields=["prevent_conflicts"])
    return partner


# ---------------------------------------------------------------- getConflicts


def test_it_finds_an_overlapping_booking(conflicts, room, booked, soon):
    assert conflicts([room], record(soon + 30 * 60)) == [booked.id]


def test_another_resource_is_free(admin_client, conflicts, booked, soon):
    other = add_resource(admin_client, location("Hall 2"))
    assert conflicts([other], record(soon)) == []


def test_it_checks_any_of_the_resources(admin_client, conflicts, room, booked, soon):
    other = add_resource(admin_client, location("Hall 2"))
    assert conflicts([other, room], record(soon)) == [booked.id]


def test_back_to_back_is_no_conflict(conflicts, room, booked, soon):
    assert conflicts([room], record(soon + HOUR)) == []
    assert conflicts([room], record(soon - HOUR)) == []


def test_a_cancelled_booking_is_no_conflict(admin_client, conflicts, room, booked, soon):
    admin_client.schedule.scheduleEvent.cancel(booked.id)
    assert conflicts([room], record(soon)) == []


def test_a_deleted_booking_is_no_conflict(admin_client, conflicts, room, booked, soon):
    admin_client.schedule.scheduleEvent.delete(booked.id)
    assert conflicts([room], record(soon)) == []


def test_a_resource_check_leaves_blackouts_out(admin_client, conflicts, room, soon):
    add_event(admin_client, blackout(soon, 8 * 60))
    assert conflicts([room], record(soon), kind=RESOURCE) == []


def test_a_blackout_check_finds_blackouts_on_any_resource(admin_client, conflicts, room, booked, soon):
    holiday = add_event(admin_client, blackout(soon - HOUR, 8 * 60))
    assert conflicts([room], record(soon), kind=BLACKOUT) == [holiday.id]


def test_both_finds_bookings_and_blackouts(admin_client, conflicts, room, booked, soon):
    holiday = add_event(admin_client, blackout(soon - HOUR, 8 * 60))
    assert sorted(conflicts([room], record(soon), kind=BOTH)) == sorted([booked.id, holiday.id])


def test_another_partners_blackout_is_no_conflict(outsider_client, conflicts, room, soon):
    add_event(outsider_client, blackout(soon - HOUR, 8 * 60))
    assert conflicts([room], record(soon), kind=BOTH) == []


def test_a_recurring_probe_checks_every_occurrence(admin_client, conflicts, room, soon):
    third_week = add_event(admin_client, record(soon + 14 * 86_400 + 30 * 60), room)
    assert conflicts([room], series(soon, count=3, zone="UTC")) == [third_week.id]
    assert conflicts([room], series(soon, count=2, zone="UTC")) == []


def test_a_series_conflicts_through_its_occurrences(admin_client, conflicts, room, soon):
    stored = add_event(admin_client, series(soon, count=3, zone="UTC"), room)
    found = conflicts([room], record(soon + 7 * 86_400))
    assert len(found) == 1 and stored.id not in found
    assert admin_client.schedule.scheduleEvent.get(found[0]).parentId == stored.id


def test_it_ignores_the_given_events(conflicts, room, booked, soon):
    assert conflicts([room], record(soon), str(booked.id)) == []


def test_ignoring_a_series_ignores_its_occurrences(admin_client, conflicts, room, booked, soon):
    stored = add_event(admin_client, series(soon + 30 * 60, count=3, zone="UTC"), room)
    assert conflicts([room], record(soon), f"{stored.id},{booked.id}") == []


def test_it_needs_resource_ids(admin_client, soon):
    error = error_of(admin_client.schedule.scheduleEvent.getConflicts, "", record(soon))
    assert error.code == "PROPERTY_VALIDATION_CANNOT_BE_NULL"
    assert "resourceIds" in error.message


def test_a_probe_may_be_longer_than_a_day(conflicts, room, booked, soon):
    # Kaltura caps what it inserts at 24 hours, never a probe: a week's probe finds the booking.
    week = 7 * 24 * 60
    assert conflicts([room], record(soon - 3 * 24 * HOUR, minutes=week)) == [booked.id]


def test_a_probe_longer_than_the_horizon_is_refused(admin_client, room, soon, settings):
    too_long = (settings.SCHEDULE_MAX_HORIZON_DAYS + 1) * 24 * 60
    call = admin_client.schedule.scheduleEvent.getConflicts
    assert error_code(call, str(room.id), record(soon, minutes=too_long)) == "MAX_SCHEDULE_DURATION_REACHED"


# ---------------------------------------------------------------- blackoutConflicts


def test_an_event_lists_the_blackouts_it_overlaps(admin_client, soon):
    holiday = add_event(admin_client, blackout(soon - HOUR, 8 * 60))
    lecture = add_event(admin_client, record(soon))
    got = admin_client.schedule.scheduleEvent.get(lecture.id)
    assert [b.id for b in got.blackoutConflicts] == [holiday.id]


def test_an_event_outside_blackouts_lists_none(admin_client, soon):
    add_event(admin_client, blackout(soon - 3 * HOUR, 60))
    lecture = add_event(admin_client, record(soon))
    assert admin_client.schedule.scheduleEvent.get(lecture.id).blackoutConflicts == []


# ---------------------------------------------------------------- prevention (we go further)


def test_without_prevention_a_collision_is_saved(admin_client, room, booked, soon):
    second = add_event(admin_client, record(soon), room)
    assert links(admin_client, eventIdEqual=second.id) == [(second.id, room.id)]


def test_a_preventing_partner_refuses_a_colliding_link(admin_client, preventing, room, booked, soon):
    second = add_event(admin_client, record(soon))
    error = error_of(link, admin_client, second.id, room.id)
    assert error.code == "SCHEDULE_EVENT_RESOURCE_CONFLICT"
    assert str(booked.id) in error.message
    assert links(admin_client, eventIdEqual=second.id) == []


def test_a_preventing_partner_refuses_to_move_onto_a_booking(admin_client, preventing, room, booked, soon):
    later = add_event(admin_client, record(soon + 2 * HOUR), room)
    move = KalturaRecordScheduleEvent(startDate=soon, endDate=soon + HOUR)
    assert error_code(admin_client.schedule.scheduleEvent.update, later.id, move) == (
        "SCHEDULE_EVENT_RESOURCE_CONFLICT"
    )
    assert admin_client.schedule.scheduleEvent.get(later.id).startDate == soon + 2 * HOUR


def test_a_preventing_partner_refuses_a_booking_in_a_blackout(admin_client, preventing, soon):
    holiday = add_event(admin_client, blackout(soon - HOUR, 8 * 60))
    error = error_of(admin_client.schedule.scheduleEvent.add, record(soon))
    assert error.code == "SCHEDULE_EVENT_BLACKOUT_CONFLICT"
    assert str(holiday.id) in error.message
    assert event_ids(admin_client) == [holiday.id]


def test_a_preventing_partner_refuses_to_move_into_a_blackout(admin_client, preventing, soon):
    add_event(admin_client, blackout(soon - HOUR, 8 * 60))
    lecture = add_event(admin_client, record(soon + 24 * HOUR))
    move = KalturaRecordScheduleEvent(startDate=soon, endDate=soon + HOUR)
    assert error_code(admin_client.schedule.scheduleEvent.update, lecture.id, move) == (
        "SCHEDULE_EVENT_BLACKOUT_CONFLICT"
    )
    assert admin_client.schedule.scheduleEvent.get(lecture.id).startDate == soon + 24 * HOUR


def test_a_preventing_partner_refuses_a_series_with_one_colliding_occurrence(admin_client, preventing, soon):
    add_event(admin_client, blackout(soon + 7 * 86_400, 60))
    error = error_of(admin_client.schedule.scheduleEvent.add, series(soon, count=3, zone="UTC"))
    assert error.code == "SCHEDULE_EVENT_BLACKOUT_CONFLICT"
    assert len(event_ids(admin_client)) == 1


def test_a_preventing_partner_accepts_back_to_back(admin_client, preventing, room, booked, soon):
    after = add_event(admin_client, record(soon + HOUR), room)
    assert links(admin_client, eventIdEqual=after.id) == [(after.id, room.id)]
