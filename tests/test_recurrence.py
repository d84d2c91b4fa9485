"""Expansion of Kaltura recurrences in the series' own zone, and RRULE round trips."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from calendar_app import recurrence
from calendar_app.errors import ValidationFailed
from tests.conftest import at

LIMITS = recurrence.Limits(max_occurrences=1000, horizon=timedelta(days=3 * 365 + 1))


def expand(start: str, zone: str = "UTC", limits=LIMITS, **fields):
    rule = recurrence.parse(fields, default_zone=zone)
    return recurrence.expand(rule, at(start, zone), limits)


def local(moments, zone: str) -> list[str]:
    return [m.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z") for m in moments]


def test_it_keeps_a_berlin_lecture_at_nine_across_the_autumn_change():
    starts = expand("2026-10-19 09:00", "Europe/Berlin", frequency="weeks", count=3)
    assert local(starts, "Europe/Berlin") == [
        "2026-10-19 09:00 CEST",
        "2026-10-26 09:00 CET",
        "2026-11-02 09:00 CET",
    ]
    assert [s.hour for s in starts] == [7, 8, 8]  # UTC moves, wall clock does not


def test_it_keeps_a_new_york_lecture_at_nine_across_the_spring_change():
    starts = expand("2026-03-02 09:00", "America/New_York", frequency="weeks", count=2)
    assert local(starts, "America/New_York") == ["2026-03-02 09:00 EST", "2026-03-09 09:00 EDT"]
    assert [s.hour for s in starts] == [14, 13]


def test_it_moves_a_nonexistent_local_time_forward_by_the_gap():
    starts = expand("2026-03-28 02:30", "Europe/Berlin", frequency="days", count=3)
    assert local(starts, "Europe/Berlin") == [
        "2026-03-28 02:30 CET",
        "2026-03-29 03:30 CEST",  # 02:30 does not exist that night
        "2026-03-30 02:30 CEST",
    ]


def test_it_takes_the_first_instant_of_an_ambiguous_local_time():
    starts = expand("2026-10-31 01:30", "America/New_York", frequency="days", count=2)
    assert local(starts, "America/New_York")[1] == "2026-11-01 01:30 EDT"
    assert starts[1] == at("2026-11-01 05:30")


def test_it_includes_the_leap_day():
    starts = expand("2028-02-28 10:00", frequency="days", count=3)
    assert [s.date().isoformat() for s in starts] == ["2028-02-28", "2028-02-29", "2028-03-01"]


def test_it_skips_years_without_a_leap_day_for_a_yearly_feb_29_rule():
    starts = expand("2028-02-29 10:00", frequency="years", until=int(at("2031-01-31 00:00").timestamp()))
    assert [s.date().isoformat() for s in starts] == ["2028-02-29"]


def test_it_expands_monthly_last_friday():
    starts = expand("2026-09-01 14:00", "Europe/Berlin", frequency="months", by_day="-1FR", count=4)
    assert [s.date().isoformat() for s in starts] == [
        "2026-09-25",
        "2026-10-30",
        "2026-11-27",
        "2026-12-25",
    ]


def test_it_expands_monthly_first_monday():
    starts = expand("2026-09-01 14:00", frequency="months", by_day="+1MO", count=3)
    assert [s.date().isoformat() for s in starts] == ["2026-09-07", "2026-10-05", "2026-11-02"]


def test_it_expands_by_offset_as_bysetpos():
    starts = expand("2026-09-01 09:00", frequency="months", by_day="MO,TU,WE,TH,FR", by_offset="-1", count=2)
    assert [s.date().isoformat() for s in starts] == ["2026-09-30", "2026-10-30"]


def test_it_expands_by_month_day_and_by_month():
    starts = expand("2026-01-01 09:00", frequency="years", by_month="3,9", by_month_day="15", count=3)
    assert [s.date().isoformat() for s in starts] == ["2026-03-15", "2026-09-15", "2027-03-15"]


def test_it_honours_interval_and_several_week_days():
    starts = expand("2026-09-07 09:00", frequency="weeks", interval=2, by_day="MO,TH", count=4)
    assert [s.date().isoformat() for s in starts] == [
        "2026-09-07",
        "2026-09-10",
        "2026-09-21",
        "2026-09-24",
    ]


def test_it_starts_at_the_first_matching_day_not_the_given_start():
    starts = expand("2026-09-08 09:00", frequency="weeks", by_day="MO", count=1)
    assert starts == [at("2026-09-14 09:00")]


def test_count_gives_exactly_that_many():
    assert len(expand("2026-09-07 09:00", frequency="weeks", count=15)) == 15


def test_until_is_inclusive():
    until = int(at("2026-09-21 09:00").timestamp())
    starts = expand("2026-09-07 09:00", frequency="weeks", until=until)
    assert [s.date().isoformat() for s in starts] == ["2026-09-07", "2026-09-14", "2026-09-21"]


def test_it_refuses_both_count_and_until():
    with pytest.raises(ValidationFailed) as error:
        expand("2026-09-07 09:00", frequency="weeks", count=2, until=1_800_000_000)
    assert error.value.code == "PROPERTY_VALIDATION_ALL_MUST_BE_NULL_BUT_ONE"


def test_it_refuses_neither_count_nor_until():
    with pytest.raises(ValidationFailed) as error:
        expand("2026-09-07 09:00", frequency="weeks")
    assert error.value.code == "PROPERTY_VALIDATION_ALL_MUST_BE_NULL_BUT_ONE"


def test_it_refuses_more_occurrences_than_the_cap():
    with pytest.raises(ValidationFailed) as error:
        expand("2026-09-07 09:00", frequency="days", count=1001)
    assert error.value.code == "RECURRENCE_TOO_LONG"
    assert "1000" in error.value.message


def test_it_refuses_an_until_rule_that_would_pass_the_cap():
    small = recurrence.Limits(max_occurrences=10, horizon=LIMITS.horizon)
    until = int(at("2027-01-31 00:00").timestamp())
    with pytest.raises(ValidationFailed) as error:
        expand("2026-09-07 09:00", limits=small, frequency="weeks", until=until)
    assert "at most 10 occurrences" in error.value.message


def test_it_refuses_a_series_past_the_horizon():
    until = int(at("2030-09-07 00:00").timestamp())
    with pytest.raises(ValidationFailed) as error:
        expand("2026-09-07 09:00", frequency="months", until=until)
    assert error.value.field == "recurrence.until"
    assert error.value.code == "RECURRENCE_TOO_LONG"


def test_it_refuses_a_count_that_runs_past_the_horizon():
    with pytest.raises(ValidationFailed) as error:
        expand("2026-09-07 09:00", frequency="years", count=5)
    assert "only 4 of 5" in error.value.message


def test_it_refuses_a_minutely_rule_on_30_february_without_walking_to_9999():
    with pytest.raises(ValidationFailed) as error:
        expand("2026-01-01 09:00", frequency="minutes", by_month="2", by_month_day="30", count=5)
    assert error.value.code == "RECURRENCE_UNSUPPORTED"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"frequency": "fortnightly", "count": 2}, "recurrence.frequency"),
        ({"frequency": "weeks", "count": 2, "by_day": "XX"}, "recurrence.by_day"),
        ({"frequency": "weeks", "count": 2, "time_zone": "Mars/Olympus"}, "recurrence.time_zone"),
        ({"frequency": "weeks", "count": 0}, "recurrence.count"),
        ({"frequency": "weeks", "count": 2, "by_month": "13"}, "recurrence.by_month"),
        ({"frequency": "weeks", "count": 2, "interval": "x"}, "recurrence.interval"),
        ({"frequency": "weeks", "count": 2, "colour": "red"}, "recurrence.colour"),
    ],
)
def test_it_names_the_bad_field(fields, field):
    with pytest.raises(ValidationFailed) as error:
        recurrence.parse(fields, default_zone="UTC")
    assert error.value.field == field


def test_it_writes_an_rrule():
    rule = recurrence.parse(
        {"frequency": "months", "count": 4, "by_day": "-1FR", "interval": 2, "week_start_day": "SU"},
        default_zone="UTC",
    )
    assert recurrence.to_rrule(rule) == "FREQ=MONTHLY;COUNT=4;INTERVAL=2;BYDAY=-1FR;WKST=SU"


def test_it_reads_an_rrule_back():
    fields = recurrence.from_rrule(
        "FREQ=WEEKLY;UNTIL=20261214T235959Z;BYDAY=MO,WE;BYSETPOS=1", time_zone="Europe/Berlin"
    )
    rule = recurrence.parse(fields, default_zone="UTC")
    assert rule.frequency == "weeks"
    assert rule.until == int(at("2026-12-14 23:59:59").timestamp())
    assert recurrence.to_rrule(rule) == "FREQ=WEEKLY;UNTIL=20261214T235959Z;BYDAY=MO,WE;BYSETPOS=1"


def test_it_reads_a_local_until_in_the_series_zone():
    fields = recurrence.from_rrule("FREQ=DAILY;UNTIL=20260907", time_zone="Europe/Berlin")
    assert fields["until"] == int(at("2026-09-07 23:59:59", "Europe/Berlin").timestamp())


def test_it_refuses_an_unsupported_rrule_part():
    with pytest.raises(ValidationFailed):
        recurrence.from_rrule("FREQ=DAILY;COUNT=2;BYEASTER=1", time_zone="UTC")


@pytest.mark.parametrize(
    "fields",
    [
        {"frequency": "days", "by_month": "2", "by_month_day": "30"},
        {"frequency": "days", "by_offset": "2"},
        {"frequency": "weeks", "by_day": "MO", "by_offset": "5"},
        {"frequency": "days", "by_hour": "9,10", "by_minute": "0", "by_offset": "3"},
    ],
)
def test_it_refuses_a_daily_or_weekly_rule_that_never_matches(fields):
    with pytest.raises(ValidationFailed) as error:
        expand("2026-01-05 09:00", count=3, **fields)
    assert error.value.code == "RECURRENCE_EMPTY"


@pytest.mark.parametrize("frequency", ["hours", "minutes", "seconds"])
def test_it_refuses_day_filters_on_sub_daily_rules(frequency):
    with pytest.raises(ValidationFailed) as error:
        expand("2026-01-05 09:00", frequency=frequency, by_offset="2", count=3)
    assert error.value.code == "RECURRENCE_UNSUPPORTED"


def test_it_refuses_numbered_days_on_a_weekly_rule():
    with pytest.raises(ValidationFailed) as error:
        expand("2026-01-05 09:00", frequency="weeks", by_day="+1MO", count=3)
    assert error.value.field == "recurrence.by_day"


def test_it_expands_a_daily_rule_filtered_to_one_month():
    starts = expand("2026-01-05 09:00", frequency="days", by_month="2", by_day="MO", count=2)
    assert [s.date().isoformat() for s in starts] == ["2026-02-02", "2026-02-09"]


def test_it_expands_an_hourly_rule_with_hours():
    starts = expand("2026-01-05 08:00", frequency="hours", by_hour="9,11", count=3)
    assert [s.strftime("%d %H") for s in starts] == ["05 09", "05 11", "06 09"]
