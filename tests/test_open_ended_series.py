"""Open-ended series (neither count nor until): made to the horizon, marked, extended as time
passes (scheduling.extend_series, the beat's tasks.extend_open_series), edited like any series."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from django.conf import settings
from django.test import override_settings

from calendar_app import clock, ical, scheduling, tasks, writes
from calendar_app.errors import NotFound
from calendar_app.models import AuditEntry, EventStatus, EventType, ScheduleEvent, ScheduleEventResource
from tests.conftest import NOW, at

BERLIN = "Europe/Berlin"
# Four weeks ahead, so that a few days of time bring a new weekly occurrence.
SHORT = override_settings(SCHEDULE_MAX_HORIZON_DAYS=28)


def occurrences(series, status=None) -> list[ScheduleEvent]:
    rows = series.occurrences.exclude(status=EventStatus.DELETED).order_by("original_start")
    return list(rows if status is None else rows.filter(status=status))


def local_days(rows) -> list[str]:
    return [o.start.astimezone(ZoneInfo(BERLIN)).strftime("%m-%d %H:%M") for o in rows]


def later(actor, days: float) -> writes.Actor:
    return writes.Actor(actor.partner, actor.now + timedelta(days=days), source=AuditEntry.Source.SYSTEM)


def audits(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


@pytest.fixture
def room(make_resource):
    return make_resource("Room 1")


# ---------------------------------------------------------------- the save


def test_an_open_ended_series_is_made_to_the_horizon_and_marked(make_series):
    series = make_series()  # weekly from Monday 2026-09-07, no end
    horizon = timedelta(days=settings.SCHEDULE_MAX_HORIZON_DAYS)
    assert len(occurrences(series)) == 157  # three years and a day of Mondays
    assert series.materialized_until == at("2026-09-07 09:00", BERLIN) + horizon
    assert "count" not in series.recurrence and "until" not in series.recurrence


def test_a_bounded_series_is_not_marked(make_series):
    assert make_series(count=3).materialized_until is None


@override_settings(SCHEDULE_MAX_OCCURRENCES=10)
def test_an_open_ended_series_is_cut_at_the_cap_not_refused(make_series):
    series = make_series(frequency="days")
    assert len(occurrences(series)) == 10
    assert series.materialized_until == occurrences(series)[-1].start


def test_an_old_series_gets_its_first_slots_and_its_future_not_the_past_between(make_series):
    series = make_series("2020-01-06 09:00")  # imported on 2026-09-01 (NOW)
    days = {o.start.date().isoformat() for o in occurrences(series)}
    assert {"2020-01-06", "2022-12-26", "2026-09-07", "2029-08-27"} <= days
    assert "2025-01-06" not in days and "2026-08-31" not in days
    assert series.materialized_until == NOW + timedelta(days=settings.SCHEDULE_MAX_HORIZON_DAYS)


@SHORT
def test_a_probe_of_an_open_ended_rule_has_the_slots_a_save_makes(actor, make_series):
    proposal = {"start": at("2026-09-07 09:00", BERLIN), "end": at("2026-09-07 10:30", BERLIN)}
    proposal |= {"recurrence_type": 1, "recurrence": {"frequency": "weeks", "time_zone": BERLIN}}
    windows = scheduling.windows_for(actor, proposal, probe=True)
    assert [w.start for w in windows] == [o.start for o in occurrences(make_series())]


# ---------------------------------------------------------------- the extension


@SHORT
def test_time_brings_the_next_occurrences(actor, make_series):
    series = make_series()
    assert local_days(occurrences(series))[-1] == "10-05 09:00"
    made = scheduling.extend_series(later(actor, 21), series.pk)
    assert local_days(made) == ["10-12 09:00", "10-19 09:00"]
    series.refresh_from_db()
    assert series.materialized_until == NOW + timedelta(days=21 + 28)


@SHORT
def test_extending_twice_at_one_moment_makes_them_once(actor, make_series):
    series = make_series()
    scheduling.extend_series(later(actor, 21), series.pk)
    assert scheduling.extend_series(later(actor, 21), series.pk) == []
    assert len(occurrences(series)) == 7
    assert len(audits("extend")) == 1


@SHORT
def test_new_occurrences_follow_the_series(actor, make_series, room):
    series = make_series(resources=[room], summary="Physics")
    made = scheduling.extend_series(later(actor, 21), series.pk)
    assert {o.summary for o in made} == {"Physics"}
    linked = ScheduleEventResource.objects.filter(event__in=made, resource=room)
    assert linked.count() == len(made) == 2


@SHORT
def test_occurrences_made_later_keep_nine_oclock_across_the_autumn_change(actor, make_series):
    series = make_series("2026-09-28 09:00")
    made = scheduling.extend_series(later(actor, 55), series.pk)  # 26 October: clocks went back
    assert local_days(made) == ["10-26 09:00", "11-02 09:00", "11-09 09:00", "11-16 09:00", "11-23 09:00"]
    assert [o.start.hour for o in made[:1]] == [8]  # 09:00 CET is 08:00 UTC


@SHORT
@override_settings(SCHEDULE_MAX_OCCURRENCES=5)
def test_an_extension_makes_at_most_the_cap_from_now(actor, make_series):
    series = make_series("2026-09-07 09:00", frequency="days")
    made = scheduling.extend_series(later(actor, 10), series.pk)  # 2026-09-11 08:00
    assert local_days(made) == ["09-12 09:00", "09-13 09:00", "09-14 09:00", "09-15 09:00", "09-16 09:00"]


@SHORT
def test_a_colliding_new_occurrence_is_made_cancelled_where_conflicts_are_prevented(
    strict, make_series, make_event, room
):
    series = make_series(resources=[room])
    other = make_event("2026-10-12 09:30", 30, zone=BERLIN, resources=[room])
    made = scheduling.extend_series(later(strict, 21), series.pk)
    assert [(o.status, o.is_exception, o.overridden_fields) for o in made] == [
        (EventStatus.CANCELLED, True, ["status"]),
        (EventStatus.ACTIVE, False, []),
    ]
    (entry,) = audits("extend")
    assert entry.after["skipped"] == [{"start": "2026-10-12T07:00:00Z", "conflicts_with": [other.pk]}]


@SHORT
def test_a_colliding_new_occurrence_is_booked_where_conflicts_are_allowed(
    actor, make_series, make_event, room
):
    series = make_series(resources=[room])
    other = make_event("2026-10-12 09:30", 30, zone=BERLIN, resources=[room])
    made = scheduling.extend_series(later(actor, 21), series.pk)
    assert {o.status for o in made} == {EventStatus.ACTIVE}
    assert audits("extend")[0].after["booked_anyway"][0]["conflicts_with"] == [other.pk]


@SHORT
def test_a_blackout_series_is_extended_over_bookings(strict, make_series, make_event, room):
    make_event("2026-10-12 09:30", 30, zone=BERLIN, resources=[room])
    series = make_series(type=EventType.BLACKOUT)
    made = scheduling.extend_series(later(strict, 21), series.pk)
    assert {o.status for o in made} == {EventStatus.ACTIVE}


@SHORT
@pytest.mark.parametrize("end", [scheduling.cancel_event, scheduling.delete_event])
def test_a_cancelled_or_deleted_series_is_not_extended(actor, make_series, end):
    series = make_series()
    end(actor, series.pk)
    try:
        assert scheduling.extend_series(later(actor, 14), series.pk) == []
    except NotFound:
        assert end is scheduling.delete_event
    assert series.occurrences.count() == 5


@SHORT
def test_a_bounded_series_is_not_extended(actor, make_series):
    series = make_series(count=2)
    assert scheduling.extend_series(later(actor, 14), series.pk) == []


@SHORT
def test_another_partner_cannot_extend_a_series(actor, outsider, make_series):
    series = make_series()
    with pytest.raises(NotFound):
        scheduling.extend_series(writes.Actor(outsider.partner, actor.now + timedelta(days=14)), series.pk)
    assert len(occurrences(series)) == 5


# ---------------------------------------------------------------- the beat


@SHORT
def test_the_beat_extends_every_due_series_of_every_partner(actor, outsider, make_series):
    alices, bounded = make_series(), make_series(count=2)
    charlies = make_series(who=outsider)
    with clock.pinned(NOW + timedelta(days=21)):
        assert tasks.extend_open_series.delay().get() == 2
    assert len(occurrences(alices)) == len(occurrences(charlies)) == 7
    assert len(occurrences(bounded)) == 2
    assert {e.source for e in audits("extend")} == {AuditEntry.Source.SYSTEM}


@SHORT
def test_the_beat_leaves_a_series_made_to_within_a_day_of_the_horizon(actor, make_series):
    make_series()
    assert scheduling.extend_due(NOW + timedelta(hours=23)) == []


@SHORT
def test_one_broken_series_does_not_stop_the_others(actor, make_series, caplog):
    broken, sound = make_series(), make_series("2026-09-08 09:00")
    ScheduleEvent.objects.filter(pk=broken.pk).update(recurrence={"frequency": "fortnightly"})
    assert scheduling.extend_due(NOW + timedelta(days=14)) == [sound.pk]
    assert f"extending series {broken.pk} failed" in caplog.text


def test_the_beat_runs_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["extend-open-series"]
    assert (entry["task"], entry["schedule"]) == ("calendar_app.tasks.extend_open_series", 3600.0)


# ---------------------------------------------------------------- edits


@SHORT
def test_new_times_regenerate_with_the_same_rule(actor, make_series):
    series = make_series()
    scheduling.update_event(later(actor, 21), series.pk, {"start": at("2026-09-07 10:00", BERLIN)})
    series.refresh_from_db()
    assert local_days(occurrences(series)) == [f"{d} 10:00" for d in ("09-07", "09-14", "09-21", "09-28",
                                                                      "10-05", "10-12", "10-19")]  # fmt: skip
    assert series.materialized_until == NOW + timedelta(days=21 + 28)


@SHORT
def test_an_edit_leaves_the_past_between_the_first_slots_and_now_as_it_was(actor, make_series):
    series = make_series()
    for days in (14, 35):
        scheduling.extend_series(later(actor, days), series.pk)
    scheduling.update_event(later(actor, 50), series.pk, {"start": at("2026-09-07 10:00", BERLIN)})
    assert local_days(occurrences(series)) == [
        *("09-07 10:00", "09-14 10:00", "09-21 10:00", "09-28 10:00", "10-05 10:00"),  # from the start
        *("10-12 09:00", "10-19 09:00"),  # the past the edit did not make: kept
        *("10-26 10:00", "11-02 10:00", "11-09 10:00", "11-16 10:00"),  # from now (21 October)
    ]


@SHORT
def test_an_end_makes_it_a_bounded_series(actor, make_series):
    series = make_series()
    recurrence = {**series.recurrence, "count": 3}
    scheduling.update_event(actor, series.pk, {"recurrence": recurrence})
    series.refresh_from_db()
    assert series.materialized_until is None
    assert len(occurrences(series)) == 3


# ---------------------------------------------------------------- iCal


def test_its_vevent_has_an_unbounded_rrule_that_calendars_expand_to_its_slots(make_series):
    series = make_series("2026-10-05 09:00")  # across the autumn change
    document = ical.calendar(
        [ical.vevent(series, [])], zones=ical.series_zones([series], timedelta(days=1096))
    )
    assert b"RRULE:FREQ=WEEKLY\r\n" in document
    year = (at("2026-09-01 00:00"), at("2027-09-01 00:00"))
    expanded = recurring_ical_events.of(icalendar.Calendar.from_ical(document)).between(*year)
    stored = [o.start for o in occurrences(series) if o.start < year[1]]
    assert [e["DTSTART"].dt.astimezone(UTC) for e in expanded] == stored
    assert len(stored) == 48


@SHORT
def test_its_time_zone_is_written_a_horizon_past_its_occurrences(actor, make_series):
    series = make_series("2020-01-06 09:00")
    _, last = ical.series_zones([series], timedelta(days=28))[BERLIN]
    assert last == (NOW + timedelta(days=28 + 28)).date()


@SHORT
def test_a_day_that_brings_no_occurrence_moves_the_mark_unaudited(actor, make_series):
    series = make_series()
    assert scheduling.extend_series(later(actor, 8), series.pk) == []  # Wednesday 9 September
    series.refresh_from_db()
    assert series.materialized_until == NOW + timedelta(days=8 + 28)
    assert audits("extend") == []
