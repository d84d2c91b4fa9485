"""Series and occurrences: expansion on save, exceptions that survive series edits, links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from calendar_app import scheduling
from calendar_app.errors import ValidationFailed
from calendar_app.models import EventStatus, RecurrenceType, ScheduleEvent, ScheduleEventResource
from tests.conftest import at

BERLIN = "Europe/Berlin"


def occurrences(series) -> list[ScheduleEvent]:
    return list(series.occurrences.exclude(status=EventStatus.DELETED).order_by("original_start"))


def local_starts(series) -> list[str]:
    from zoneinfo import ZoneInfo

    return [o.start.astimezone(ZoneInfo(BERLIN)).strftime("%m-%d %H:%M") for o in occurrences(series)]


def test_it_saves_one_row_per_occurrence(make_series):
    series = make_series(count=15)
    rows = occurrences(series)
    assert len(rows) == 15
    assert {o.recurrence_type for o in rows} == {RecurrenceType.RECURRENCE}
    assert {o.parent_id for o in rows} == {series.pk}
    assert all(o.end - o.start == timedelta(minutes=90) for o in rows)


def test_the_series_row_holds_the_first_slot(make_series):
    series = make_series("2026-09-08 09:00", by_day="MO", count=3)  # starts on a Tuesday
    assert series.start == at("2026-09-14 09:00", BERLIN)
    assert series.end == at("2026-09-14 10:30", BERLIN)
    assert series.recurrence_type == RecurrenceType.RECURRING


def test_occurrences_inherit_the_series_fields(make_series):
    series = make_series(count=2, summary="Physics")
    assert {(o.summary, o.type, o.partner_id) for o in occurrences(series)} == {
        ("Physics", series.type, series.partner_id)
    }


def test_occurrences_keep_nine_oclock_across_dst(make_series):
    series = make_series("2026-10-19 09:00", count=3)
    assert local_starts(series) == ["10-19 09:00", "10-26 09:00", "11-02 09:00"]


def test_a_series_needs_a_recurrence(make_event):
    with pytest.raises(ValidationFailed) as error:
        make_event(recurrence_type=RecurrenceType.RECURRING)
    assert error.value.field == "recurrence.frequency"


def test_the_recurrence_zone_defaults_to_the_partners(make_event):
    series = make_event(recurrence_type=1, recurrence={"frequency": "days", "count": 2})
    assert series.time_zone == "Europe/Berlin"


@override_settings(SCHEDULE_MAX_OCCURRENCES=10)
def test_the_cap_is_configurable_and_refuses_rather_than_truncates(make_series):
    with pytest.raises(ValidationFailed) as error:
        make_series(count=11)
    assert error.value.code == "RECURRENCE_TOO_LONG"
    assert not ScheduleEvent.objects.exists()


def test_linking_a_series_links_its_occurrences(actor, make_series, make_resource):
    series, room = make_series(count=3), make_resource()
    scheduling.link_resource(actor, series.pk, room.pk)
    linked = set(ScheduleEventResource.objects.filter(resource=room).values_list("event_id", flat=True))
    assert linked == {series.pk, *(o.pk for o in occurrences(series))}


def test_resources_given_at_creation_reach_every_occurrence(make_series, make_resource):
    room = make_resource()
    make_series(count=4, resources=[room])
    assert ScheduleEventResource.objects.filter(resource=room).count() == 5


def test_unlinking_a_series_unlinks_its_occurrences(actor, make_series, make_resource):
    room = make_resource()
    series = make_series(count=3, resources=[room])
    scheduling.unlink_resource(actor, series.pk, room.pk)
    assert not ScheduleEventResource.objects.filter(resource=room).exists()


def test_an_occurrence_with_its_own_room_keeps_it(actor, make_series, make_resource):
    room, other = make_resource(), make_resource()
    series = make_series(count=3, resources=[room])
    one = occurrences(series)[1]
    scheduling.unlink_resource(actor, one.pk, room.pk)
    scheduling.link_resource(actor, one.pk, other.pk)
    scheduling.link_resource(actor, series.pk, make_resource("Camera").pk)
    scheduling.unlink_resource(actor, series.pk, room.pk)
    assert scheduling.resource_ids_of(one) == [other.pk]


def test_a_duplicate_link_is_refused(actor, make_event, make_resource):
    room = make_resource()
    event = make_event(resources=[room])
    with pytest.raises(ValidationFailed) as error:
        scheduling.link_resource(actor, event.pk, room.pk)
    assert error.value.code == "SCHEDULE_EVENT_RESOURCE_ALREADY_EXISTS"


def test_editing_an_occurrence_makes_an_exception(actor, make_series):
    one = occurrences(make_series(count=3))[1]
    scheduling.update_event(actor, one.pk, {"summary": "Guest lecture"})
    one.refresh_from_db()
    assert one.is_exception and one.overridden_fields == ["summary"]


def test_a_series_edit_reaches_plain_occurrences_but_not_what_an_exception_set(actor, make_series):
    series = make_series(count=3, summary="Physics")
    one = occurrences(series)[1]
    scheduling.update_event(actor, one.pk, {"summary": "Guest lecture"})
    scheduling.update_event(actor, series.pk, {"summary": "Physics II", "tags": "phys"})
    assert [(o.summary, o.tags) for o in occurrences(series)] == [
        ("Physics II", "phys"),
        ("Guest lecture", "phys"),
        ("Physics II", "phys"),
    ]


def test_moving_the_series_moves_plain_occurrences_and_keeps_a_moved_one(actor, make_series):
    series = make_series("2026-09-07 09:00", count=3)
    moved = occurrences(series)[1]
    scheduling.update_event(
        actor, moved.pk, {"start": at("2026-09-15 14:00", BERLIN), "end": at("2026-09-15 15:00", BERLIN)}
    )
    scheduling.update_event(
        actor, series.pk, {"start": at("2026-09-07 10:00", BERLIN), "end": at("2026-09-07 11:30", BERLIN)}
    )
    assert local_starts(series) == ["09-07 10:00", "09-15 14:00", "09-21 10:00"]
    assert len(occurrences(series)) == 3


def test_a_cancelled_occurrence_stays_cancelled_when_the_series_moves(actor, make_series):
    series = make_series("2026-09-07 09:00", count=3)
    scheduling.cancel_event(actor, occurrences(series)[1].pk)
    scheduling.update_event(actor, series.pk, {"start": at("2026-09-07 11:00", BERLIN)})
    assert [o.status for o in occurrences(series)] == [2, 1, 2]
    assert local_starts(series) == ["09-07 11:00", "09-14 11:00", "09-21 11:00"]


def test_a_longer_count_adds_occurrences_with_the_series_links(actor, make_series, make_resource):
    room = make_resource()
    series = make_series(count=2, resources=[room])
    scheduling.update_event(actor, series.pk, {"recurrence": {"frequency": "weeks", "count": 4}})
    rows = occurrences(series)
    assert len(rows) == 4
    assert scheduling.resource_ids_of(rows[3]) == [room.pk]


def test_a_shorter_count_removes_plain_occurrences(actor, make_series):
    series = make_series(count=4)
    scheduling.update_event(actor, series.pk, {"recurrence": {"frequency": "weeks", "count": 2}})
    assert len(occurrences(series)) == 2
    assert series.occurrences.count() == 2  # gone, not merely hidden


def test_an_exception_moved_on_its_own_outlives_its_slot(actor, make_series):
    series = make_series("2026-09-07 09:00", count=4)
    last = occurrences(series)[3]
    scheduling.update_event(
        actor, last.pk, {"start": at("2026-09-29 09:00", BERLIN), "end": at("2026-09-29 10:30", BERLIN)}
    )
    scheduling.update_event(actor, series.pk, {"recurrence": {"frequency": "weeks", "count": 2}})
    assert local_starts(series) == ["09-07 09:00", "09-14 09:00", "09-29 09:00"]


def test_changing_the_weekday_replaces_plain_occurrences(actor, make_series):
    series = make_series("2026-09-07 09:00", count=2, by_day="MO")
    scheduling.update_event(
        actor, series.pk, {"recurrence": {"frequency": "weeks", "count": 2, "by_day": "TU"}}
    )
    assert local_starts(series) == ["09-08 09:00", "09-15 09:00"]


def test_a_slot_that_keeps_its_time_keeps_its_exception(actor, make_series):
    series = make_series("2026-09-07 00:00", 60, frequency="days", count=2, by_hour="9,10")
    ten = occurrences(series)[1]
    scheduling.update_event(actor, ten.pk, {"summary": "Ten o'clock special"})
    scheduling.update_event(
        actor, series.pk, {"recurrence": {"frequency": "days", "count": 2, "by_hour": "10,11"}}
    )
    assert [(o.start.astimezone(ten.start.tzinfo).hour, o.summary) for o in occurrences(series)] == [
        (8, "Ten o'clock special"),  # 10:00 Berlin: the same instant, the same occurrence
        (9, "Lecture"),
    ]


def test_cancelling_a_series_cancels_every_occurrence(actor, make_series):
    series = make_series(count=3)
    scheduling.cancel_event(actor, series.pk)
    assert {o.status for o in series.occurrences.all()} == {EventStatus.CANCELLED}


def test_deleting_a_series_deletes_every_occurrence(actor, make_series):
    series = make_series(count=3)
    scheduling.delete_event(actor, series.pk)
    assert {o.status for o in series.occurrences.all()} == {EventStatus.DELETED}


def test_an_occurrence_cannot_be_deleted_only_cancelled(actor, make_series):
    one = occurrences(make_series(count=3))[0]
    with pytest.raises(ValidationFailed) as error:
        scheduling.delete_event(actor, one.pk)
    assert error.value.code == "RECURRENCE_CANT_BE_DELETE"
    assert error.value.error_args == {"ID": one.pk, "PARENT_ID": one.parent_id}


def test_an_occurrence_cannot_become_a_series(actor, make_series):
    one = occurrences(make_series(count=3))[0]
    with pytest.raises(ValidationFailed) as error:
        scheduling.update_event(actor, one.pk, {"recurrence_type": RecurrenceType.RECURRING})
    assert error.value.code == "SCHEDULE_EVENT_TYPE_CANT_BE_UPDATED"


def test_a_single_event_can_become_a_series(actor, make_event, make_resource):
    room = make_resource()
    event = make_event("2026-09-07 09:00", resources=[room])
    scheduling.update_event(
        actor, event.pk, {"recurrence_type": 1, "recurrence": {"frequency": "weeks", "count": 3}}
    )
    assert len(occurrences(event)) == 3
    assert all(scheduling.resource_ids_of(o) == [room.pk] for o in occurrences(event))


def test_a_series_can_become_a_single_event(actor, make_series):
    series = make_series(count=3)
    event = scheduling.update_event(actor, series.pk, {"recurrence_type": RecurrenceType.NONE})
    assert (event.recurrence, series.occurrences.count()) == (None, 0)


def test_a_non_series_cannot_take_a_recurrence(actor, make_event):
    event = make_event()
    with pytest.raises(ValidationFailed) as error:
        scheduling.update_event(actor, event.pk, {"recurrence": {"frequency": "days", "count": 2}})
    assert error.value.field == "recurrence"


def test_saving_a_thousand_occurrences_stays_in_one_transaction(make_series, make_resource):
    series = make_series("2026-09-07 09:00", frequency="days", count=1000, resources=[make_resource()])
    assert series.occurrences.count() == 1000
    assert ScheduleEventResource.objects.count() == 1001
