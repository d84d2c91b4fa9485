"""Expansion of Kaltura recurrences in the series' own zone, and RRULE round trips."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# ---------------------------------------------------------------- rules that never or rarely match

# The longest a request may spend expanding one rule (the server answers well within it).
SECONDS = 1.0


def refusal(start: str, **fields) -> ValidationFailed:
    """The refusal of a rule, which must come within SECONDS."""
    began = time.perf_counter()
    with pytest.raises(ValidationFailed) as error:
        expand(start, **fields)
    assert time.perf_counter() - began < SECONDS
    return error.value


@pytest.mark.parametrize(
    ("start", "fields"),
    [
        ("2026-01-05 10:00", {"frequency": "hours", "interval": 2, "by_hour": "1"}),  # odd hour, even start
        ("2026-01-05 10:00", {"frequency": "hours", "interval": 24, "by_hour": "13"}),
        ("2026-01-05 10:00", {"frequency": "minutes", "interval": 2, "by_minute": "1"}),
        ("2026-01-05 09:00", {"frequency": "minutes", "interval": 120, "by_hour": "10"}),
        ("2026-01-05 09:00:00", {"frequency": "seconds", "interval": 2, "by_second": "1"}),
    ],
)
def test_it_refuses_a_sub_daily_rule_whose_filter_it_never_reaches(start, fields):
    """dateutil raises ValueError for these, building the rule or on the way."""
    assert refusal(start, count=3, **fields).code == "RECURRENCE_EMPTY"


@pytest.mark.parametrize(
    "fields",
    [
        {"frequency": "months", "by_month": "2", "by_month_day": "31"},
        {"frequency": "months", "by_day": "MO", "by_offset": "6"},  # a sixth Monday
        {"frequency": "years", "by_month": "2", "by_month_day": "29", "interval": 4},  # never a leap year
        {"frequency": "days", "interval": 7, "by_day": "SU"},  # from a Monday, every Monday
    ],
)
def test_it_refuses_a_rule_that_produces_no_occurrence_rather_than_an_empty_series(fields):
    error = refusal("2026-01-05 09:00", count=3, **fields)
    assert (error.code, error.field) == ("RECURRENCE_EMPTY", "recurrence")


@pytest.mark.parametrize("day", ["+6MO", "-6FR", "+34MO"])
def test_it_refuses_a_numbered_day_no_month_has(day):
    """dateutil finds nothing for +6MO, and fails on +34MO (IndexError)."""
    error = refusal("2026-01-05 09:00", frequency="months", by_day=day, count=3)
    assert error.field == "recurrence.by_day"


def test_it_still_takes_the_fifth_monday_of_a_month():
    starts = expand("2026-01-01 09:00", frequency="months", by_day="+5MO", count=2)
    assert [s.date().isoformat() for s in starts] == ["2026-03-30", "2026-06-29"]


def test_it_refuses_a_secondly_rule_that_matches_once_a_day():
    """86,400 periods a day to find each time: 9 s for a thousand of them before."""
    fields = {"frequency": "seconds", "by_hour": "9", "by_minute": "0", "by_second": "0"}
    assert refusal("2026-01-05 08:00", count=1000, **fields).code == "RECURRENCE_UNSUPPORTED"


def test_it_expands_a_few_times_of_a_rarely_matching_secondly_rule():
    fields = {"frequency": "seconds", "by_hour": "9", "by_minute": "0", "by_second": "0"}
    starts = expand("2026-01-05 08:00", count=2, **fields)
    assert starts == [at("2026-01-05 09:00"), at("2026-01-06 09:00")]


def test_it_refuses_more_positions_than_it_can_try_in_time():
    """dateutil tries every position in every month: 732 of them over 400 years took 2.3 s."""
    positions = ",".join(map(str, range(1, 101)))
    error = refusal(
        "2026-01-05 09:00", frequency="months", by_day="MO,TU,WE,TH,FR", by_offset=positions, count=3
    )
    assert (error.code, error.field) == ("RECURRENCE_UNSUPPORTED", "recurrence.by_offset")


def test_it_keeps_each_value_of_a_list_once():
    rule = recurrence.parse(
        {"frequency": "days", "count": 2, "by_hour": "9,9,10,9", "by_day": "MO,MO"}, default_zone="UTC"
    )
    assert (rule.as_dict()["by_hour"], rule.as_dict()["by_day"]) == ("9,10", "MO")


def test_it_refuses_a_zone_name_too_long_to_be_a_file():
    with pytest.raises(ValidationFailed) as error:
        recurrence.parse({"frequency": "days", "count": 2, "time_zone": "x" * 300}, default_zone="UTC")
    assert error.value.field == "recurrence.time_zone"


def test_it_refuses_an_until_past_the_year_9999_as_too_long():
    assert refusal("2026-01-05 09:00", frequency="days", until=10**15).code == "RECURRENCE_TOO_LONG"


def test_it_expands_the_same_times_a_cycle_of_400_years_later():
    """_times runs rules 400-year cycles later: the calendar, weekdays included, is the same."""
    fields = {"frequency": "months", "by_day": "-1FR", "count": 3}
    later = [s.replace(year=s.year - 400) for s in expand("2426-01-01 09:00", **fields)]
    assert later == expand("2026-01-01 09:00", **fields)


# ---------------------------------------------------------------- any rule

REFUSALS = {
    "INVALID_FIELD_VALUE", "INVALID_ENUM_VALUE", "PROPERTY_VALIDATION_ALL_MUST_BE_NULL_BUT_ONE",
    "RECURRENCE_EMPTY", "RECURRENCE_TOO_LONG", "RECURRENCE_UNSUPPORTED",
}  # fmt: skip


def numbers(low: int, high: int, *, zero: bool = True) -> st.SearchStrategy[str]:
    values = st.integers(low, high) if zero or low > 0 else st.integers(low, -1) | st.integers(1, high)
    return st.lists(values, min_size=1, max_size=12).map(lambda ns: ",".join(map(str, ns)))


WEEKDAY = st.sampled_from(recurrence.WEEKDAYS)
NUMBERED_DAY = st.tuples(st.sampled_from(["", "+1", "-1", "+2", "+5", "-5", "+6", "+20", "-53"]), WEEKDAY)
RULES = st.fixed_dictionaries(
    {"frequency": st.sampled_from(list(recurrence.FREQUENCIES))},
    optional={
        "interval": st.sampled_from([1, 2, 3, 4, 7, 12, 24, 60, 90, 1000]),
        "by_second": numbers(0, 59),
        "by_minute": numbers(0, 59),
        "by_hour": numbers(0, 23),
        "by_day": st.lists(NUMBERED_DAY.map("".join), min_size=1, max_size=4).map(",".join),
        "by_month_day": numbers(-31, 31, zero=False),
        "by_year_day": numbers(-366, 366, zero=False),
        "by_week_number": numbers(-53, 53, zero=False),
        "by_month": numbers(1, 12, zero=False),
        "by_offset": numbers(-366, 366, zero=False),
        "week_start_day": WEEKDAY,
        "time_zone": st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Pacific/Chatham"]),
    },
)
ENDS = st.one_of(
    st.integers(1, 1000).map(lambda count: {"count": count}),
    st.integers(-1, 1200).map(lambda days: {"until_days": days}),
)
# Whole seconds, as the wire sends them (dateutil drops microseconds).
STARTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(8990, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))


# Sub-daily rules filter times of day only: where dateutil fails, or looks for hours.
TIMES_OF_DAY = st.fixed_dictionaries(
    {"frequency": st.sampled_from(sorted(recurrence.SUB_DAILY)), "interval": st.integers(1, 1000)},
    optional={"by_second": numbers(0, 59), "by_minute": numbers(0, 59), "by_hour": numbers(0, 23)},
)


@given(fields=RULES, end=ENDS, start=STARTS)
def test_any_rule_expands_within_the_limits_in_time_or_is_refused_by_name(fields, end, start):
    expands_in_time_or_is_refused(fields, end, start)


@given(fields=TIMES_OF_DAY, end=ENDS, start=STARTS)
def test_any_sub_daily_rule_expands_within_the_limits_in_time_or_is_refused_by_name(fields, end, start):
    expands_in_time_or_is_refused(fields, end, start)


def expands_in_time_or_is_refused(fields: dict, end: dict, start: datetime) -> None:
    if "until_days" in end:
        fields = {**fields, "until": int((start + timedelta(days=end["until_days"])).timestamp())}
    else:
        fields = {**fields, **end}
    began = time.perf_counter()
    try:
        starts = recurrence.expand(recurrence.parse(fields, default_zone="UTC"), start, LIMITS)
    except ValidationFailed as error:
        assert error.code in REFUSALS
    else:
        assert 0 < len(starts) <= LIMITS.max_occurrences
        assert starts == sorted(starts)
        assert start <= starts[0] and starts[-1] <= start + LIMITS.horizon
    assert time.perf_counter() - began < SECONDS
