"""The partner setting prevent_conflicts: refused atomically, race-free, and 'book anyway'."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from calendar_app import scheduling
from calendar_app.errors import ConflictDetected
from calendar_app.models import EventStatus, EventType, ScheduleEvent, ScheduleEventResource
from tests.conftest import at


@pytest.fixture
def room(make_resource):
    return make_resource("Room 101")


def test_a_colliding_booking_is_refused_with_the_other_event(strict, room, make_event):
    booked = make_event("2026-09-07 09:00", 60, resources=[room])
    with pytest.raises(ConflictDetected) as error:
        make_event("2026-09-07 09:30", 60, resources=[room])
    assert error.value.code == "SCHEDULE_EVENT_RESOURCE_CONFLICT"
    assert error.value.error_args == {"EVENT_IDS": str(booked.pk)}
    assert ScheduleEvent.objects.count() == 1


def test_a_booking_inside_a_blackout_is_refused(strict, room, make_event):
    make_event("2026-09-07 00:00", 24 * 60, type=EventType.BLACKOUT)
    with pytest.raises(ConflictDetected) as error:
        make_event("2026-09-07 09:00", 60, resources=[room])
    assert error.value.code == "SCHEDULE_EVENT_BLACKOUT_CONFLICT"


def test_a_blackout_over_existing_bookings_is_allowed(strict, room, make_event):
    make_event("2026-09-07 09:00", 60, resources=[room])
    assert make_event("2026-09-07 00:00", 24 * 60, type=EventType.BLACKOUT).pk


def test_book_anyway_overrides_the_setting(strict, room, make_event):
    make_event("2026-09-07 09:00", 60, resources=[room])
    assert make_event("2026-09-07 09:30", 60, resources=[room], allow_conflicts=True).pk


def test_without_the_setting_conflicts_are_allowed_as_in_kaltura(partner, room, make_event):
    make_event("2026-09-07 09:00", 60, resources=[room])
    assert make_event("2026-09-07 09:30", 60, resources=[room]).pk


def test_a_series_with_one_colliding_occurrence_is_refused_whole(strict, room, make_event, make_series):
    make_event("2026-09-21 09:00", 60, zone="Europe/Berlin", resources=[room])
    with pytest.raises(ConflictDetected) as error:
        make_series("2026-09-07 09:00", 60, count=15, resources=[room])
    assert [c.window.start for c in error.value.conflicts] == [at("2026-09-21 09:00", "Europe/Berlin")]
    assert ScheduleEvent.objects.count() == 1
    assert ScheduleEventResource.objects.count() == 1


def test_moving_into_a_collision_is_refused_and_changes_nothing(actor, strict, room, make_event):
    make_event("2026-09-07 09:00", 60, resources=[room])
    other = make_event("2026-09-07 11:00", 60, resources=[room])
    with pytest.raises(ConflictDetected):
        scheduling.update_event(
            actor, other.pk, {"start": at("2026-09-07 09:30"), "end": at("2026-09-07 10:30")}
        )
    other.refresh_from_db()
    assert other.start == at("2026-09-07 11:00")


def test_moving_an_event_within_its_own_slot_is_not_a_conflict(actor, strict, room, make_event):
    event = make_event("2026-09-07 09:00", 60, resources=[room])
    scheduling.update_event(actor, event.pk, {"end": at("2026-09-07 10:30")})


def test_linking_a_busy_resource_is_refused(actor, strict, room, make_event):
    make_event("2026-09-07 09:00", 60, resources=[room])
    other = make_event("2026-09-07 09:00", 60)
    with pytest.raises(ConflictDetected):
        scheduling.link_resource(actor, other.pk, room.pk)
    assert not ScheduleEventResource.objects.filter(event=other).exists()


def test_occurrences_of_one_series_do_not_collide_with_each_other(actor, strict, room, make_series):
    series = make_series("2026-09-07 09:00", 60, count=5, resources=[room])
    scheduling.update_event(actor, series.pk, {"summary": "Renamed"})
    assert series.occurrences.filter(status=EventStatus.ACTIVE).count() == 5


def _race(target, contenders: int) -> list[object]:
    """Run `target` in several threads at once, each with its own database connection."""
    barrier, results = threading.Barrier(contenders), []

    def run(number: int) -> None:
        try:
            barrier.wait()
            results.append(target(number))
        except Exception as error:  # noqa: BLE001 - the outcome is what we assert on
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_conflicting_bookings_leave_exactly_one(strict, room, make_event):
    outcomes = _race(lambda n: make_event("2026-09-07 09:00", 60 + n, resources=[room]), 8)
    assert sum(isinstance(o, ScheduleEvent) for o in outcomes) == 1
    assert all(isinstance(o, ScheduleEvent | ConflictDetected) for o in outcomes), outcomes
    assert ScheduleEvent.objects.filter(status=EventStatus.ACTIVE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_series_and_booking_leave_exactly_one(strict, room, make_event, make_series):
    def book(n: int):
        if n % 2:
            return make_event("2026-10-05 09:30", 30, zone="Europe/Berlin", resources=[room])
        return make_series("2026-09-07 09:00", 60, count=10, resources=[room])

    outcomes = _race(book, 6)
    assert sum(isinstance(o, ScheduleEvent) for o in outcomes) == 1, outcomes


@pytest.mark.django_db(transaction=True)
def test_concurrent_blackout_and_booking_never_both_win(strict, room, make_event):
    def book(n: int):
        if n % 2:
            return make_event("2026-09-07 00:00", 24 * 60, type=EventType.BLACKOUT)
        return make_event("2026-09-07 09:00", 60, resources=[room])

    outcomes = _race(book, 6)
    blackouts = ScheduleEvent.objects.filter(type=EventType.BLACKOUT).count()
    bookings = ScheduleEvent.objects.exclude(type=EventType.BLACKOUT).count()
    assert blackouts == 3, outcomes
    # A booking may only have won if it committed before any blackout existed.
    assert bookings <= 1
    if bookings:
        booking = ScheduleEvent.objects.exclude(type=EventType.BLACKOUT).get()
        first_blackout = ScheduleEvent.objects.filter(type=EventType.BLACKOUT).order_by("pk").first()
        assert booking.pk < first_blackout.pk
