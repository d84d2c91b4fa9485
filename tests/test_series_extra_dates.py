"""Series with extra dates (RFC 5545 RDATE, as imports pass them: `rdates`, Unix seconds): their
occurrences, edits, extension and iCal export (checked with recurring_ical_events)."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from django.test import override_settings

from calendar_app import ical, scheduling, writes
from calendar_app.models import EventStatus, ScheduleEvent
from tests.conftest import at

BERLIN = "Europe/Berlin"


def unix(text: str, zone: str = BERLIN) -> int:
    return int(at(text, zone).timestamp())


def local_starts(series) -> list[str]:
    rows = series.occurrences.exclude(status=EventStatus.DELETED).order_by("original_start")
    return [o.start.astimezone(ZoneInfo(BERLIN)).strftime("%m-%d %H:%M") for o in rows]


def dates_only(make_event, start: str, *dates: str, **extra) -> ScheduleEvent:
    rule = {"time_zone": BERLIN, "rdates": [unix(d) for d in dates]}
    return make_event(start, 90, zone=BERLIN, recurrence_type=1, recurrence=rule, **extra)


def expanded(series: ScheduleEvent) -> list:
    """The series' VEVENT as a calendar app expands it, over the next year (UTC starts)."""
    document = ical.calendar(
        [ical.vevent(series, [])], zones=ical.series_zones([series], timedelta(days=1096))
    )
    window = (at("2026-09-01 00:00"), at("2027-09-01 00:00"))
    found = recurring_ical_events.of(icalendar.Calendar.from_ical(document)).between(*window)
    return sorted(e["DTSTART"].dt.astimezone(UTC) for e in found)


def stored(series: ScheduleEvent) -> list:
    return list(series.occurrences.order_by("original_start").values_list("start", flat=True))


def test_a_series_of_extra_dates_alone_has_its_start_and_those_dates(make_event):
    series = dates_only(make_event, "2026-09-07 09:00", "2026-09-20 14:00", "2026-09-09 09:00")
    assert local_starts(series) == ["09-07 09:00", "09-09 09:00", "09-20 14:00"]
    assert series.start == at("2026-09-07 09:00", BERLIN)
    assert "frequency" not in series.recurrence and series.materialized_until is None


def test_extra_dates_join_the_rules_occurrences(make_series):
    series = make_series(count=2, rdates=[unix("2026-09-09 11:00")], summary="Physics")
    assert local_starts(series) == ["09-07 09:00", "09-09 11:00", "09-14 09:00"]
    assert set(series.occurrences.values_list("summary", flat=True)) == {"Physics"}


def test_an_edit_of_the_times_keeps_the_extra_dates(actor, make_series):
    series = make_series(count=2, rdates=[unix("2026-09-09 11:00")])
    scheduling.update_event(actor, series.pk, {"start": at("2026-09-07 10:00", BERLIN)})
    assert local_starts(series) == ["09-07 10:00", "09-09 11:00", "09-14 10:00"]


@override_settings(SCHEDULE_MAX_OCCURRENCES=3)
def test_an_extension_leaves_an_extra_date_the_rule_also_has(actor, make_series):
    series = make_series(frequency="days", rdates=[unix("2026-09-12 09:00")])
    assert local_starts(series) == ["09-07 09:00", "09-08 09:00", "09-09 09:00", "09-12 09:00"]
    later = writes.Actor(actor.partner, actor.now + timedelta(days=10))  # 11 September, 10:00
    made = scheduling.extend_series(later, series.pk)
    assert [o.start for o in made] == [at("2026-09-13 09:00", BERLIN), at("2026-09-14 09:00", BERLIN)]
    assert local_starts(series)[3:] == ["09-12 09:00", "09-13 09:00", "09-14 09:00"]


def test_its_vevent_has_rdates_and_no_rrule_and_expands_to_its_occurrences(make_event):
    series = dates_only(make_event, "2026-10-19 09:00", "2026-10-26 09:00", "2026-11-02 13:00")
    document = ical.vevent(series, []).to_ical()
    assert b"RRULE" not in document and b"RDATE:20261026T080000Z,20261102T120000Z" in document
    assert expanded(series) == stored(series)


def test_a_rule_with_extra_dates_expands_to_its_occurrences_across_dst(make_series):
    series = make_series("2026-10-19 09:00", count=4, rdates=[unix("2026-10-28 16:00")])
    assert expanded(series) == stored(series)
    assert len(stored(series)) == 5


def test_an_open_ended_rule_with_extra_dates_expands_to_its_occurrences(make_series):
    series = make_series("2026-09-07 09:00", by_day="MO", rdates=[unix("2026-12-23 10:00")])
    occurrences = [s for s in stored(series) if s < at("2027-09-01 00:00")]
    assert expanded(series) == occurrences
