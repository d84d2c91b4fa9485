"""Expansion of Kaltura recurrences in the series' own zone, and RRULE round trips."""

from __future__ import annotations

import itertools
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


def test_neither_count_nor_until_is_an_open_ended_rule():
    rule = recurrence.parse({"frequency": "weeks"}, default_zone="UTC")
    assert rule.open_ended
    assert "count" not in rule.as_dict() and "until" not in rule.as_dict()
    assert recurrence.to_rrule(rule) == "FREQ=WEEKLY"
    assert not recurrence.parse({"frequency": "weeks", "count": 2}, default_zone="UTC").open_ended


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
    st.just({}),  # open-ended
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


# ---------------------------------------------------------------- open-ended rules

SMALL = recurrence.Limits(max_occurrences=12, horizon=timedelta(days=70))


def materialise(start: str, now: str, zone: str = "UTC", limits=SMALL, **fields):
    rule = recurrence.parse(fields, default_zone=zone)
    return recurrence.materialise(rule, at(start, zone), limits, at(now, zone))


def test_an_open_ended_rule_is_cut_at_the_horizon_not_refused():
    made = materialise("2026-09-07 09:00", "2026-09-01 00:00", frequency="weeks")
    assert len(made.starts) == 11  # 70 days of Mondays, both ends
    assert made.until == at("2026-09-07 09:00") + SMALL.horizon
    assert made.gap is None


def test_an_open_ended_rule_is_cut_at_the_cap_and_marked_at_its_last_slot():
    made = materialise("2026-09-07 09:00", "2026-09-01 00:00", frequency="days")
    assert len(made.starts) == 12
    assert made.until == made.starts[-1] == at("2026-09-18 09:00")


def test_an_old_series_gets_its_start_and_its_future_but_not_the_past_between():
    made = materialise("2020-01-06 09:00", "2026-09-01 00:00", frequency="weeks")
    assert made.starts[:2] == [at("2020-01-06 09:00"), at("2020-01-13 09:00")]
    assert at("2026-09-07 09:00") in made.starts and at("2026-08-31 09:00") not in made.starts
    assert len(made.starts) == 21
    assert made.gap == (at("2020-01-06 09:00") + SMALL.horizon, at("2026-09-01 00:00"))
    assert made.until == at("2026-09-01 00:00") + SMALL.horizon


def test_the_window_from_now_keeps_the_rules_interval():
    made = materialise("2026-01-05 09:00", "2026-09-01 00:00", frequency="weeks", interval=2)
    future = [s for s in made.starts if s > at("2026-09-01 00:00")]
    assert future[0] == at("2026-09-14 09:00")  # 36 weeks after 5 January, not 35
    assert {(b - a).days for a, b in itertools.pairwise(future)} == {14}


def test_the_window_from_now_keeps_nine_oclock_across_the_autumn_change():
    made = materialise("2025-01-06 09:00", "2026-10-20 00:00", "Europe/Berlin", frequency="weeks")
    future = [s for s in made.starts if s > at("2026-10-20 00:00")]
    assert local(future[:2], "Europe/Berlin") == ["2026-10-26 09:00 CET", "2026-11-02 09:00 CET"]
    assert local(made.starts[:1], "Europe/Berlin") == ["2025-01-06 09:00 CET"]


def test_an_extension_adds_what_time_brings_and_nothing_twice():
    rule = recurrence.parse({"frequency": "weeks"}, default_zone="UTC")
    start = at("2026-09-07 09:00")
    first = recurrence.materialise(rule, start, SMALL, start)
    later = recurrence.extension(rule, start, SMALL, at("2026-09-22 00:00"), first.until)
    assert later.starts == [at("2026-11-23 09:00"), at("2026-11-30 09:00")]
    assert recurrence.extension(rule, start, SMALL, at("2026-09-22 00:00"), later.until).starts == []


def test_an_extension_makes_at_most_the_cap_from_now():
    rule = recurrence.parse({"frequency": "hours"}, default_zone="UTC")
    start = at("2026-09-07 09:00")
    first = recurrence.materialise(rule, start, SMALL, start)
    later = recurrence.extension(rule, start, SMALL, at("2026-09-07 12:30"), first.until)
    assert first.until == at("2026-09-07 20:00")
    assert [s.hour for s in later.starts] == [21, 22, 23, 0]
    assert later.until == at("2026-09-08 00:00")


def test_an_open_ended_rule_that_produces_nothing_is_refused():
    with pytest.raises(ValidationFailed) as error:
        materialise(
            "2026-01-01 09:00", "2026-01-01 00:00", frequency="years", by_month="2", by_month_day="30"
        )
    assert error.value.code == "RECURRENCE_EMPTY"


def test_a_fast_forwarded_window_is_quick_for_an_hourly_rule_begun_long_ago():
    began = time.perf_counter()
    made = materialise("2000-01-01 00:30", "2026-09-01 00:00", limits=LIMITS, frequency="hours", interval=7)
    assert time.perf_counter() - began < 0.5
    assert all((s - at("2000-01-01 00:30")) % timedelta(hours=7) == timedelta(0) for s in made.starts)


@given(fields=RULES, start=STARTS, periods=st.integers(0, 5000), seconds=st.integers(0, 86_399))
def test_a_rule_fast_forwarded_gives_the_same_times_as_walking_from_its_start(
    fields, start, periods, seconds
):
    """_fast_forward starts the rule at its last period before `since`: the times from `since`
    must be those of the full walk (a few thousand periods on, so that the walk stays quick),
    for every rule expansion accepts."""
    try:
        rule = recurrence.parse({**fields, "time_zone": "UTC"}, default_zone="UTC")
    except ValidationFailed:
        return
    period = timedelta(seconds=recurrence.PERIOD_SECONDS.get(rule.frequency, recurrence.DAY_SECONDS))
    dtstart = start.replace(tzinfo=None, year=min(start.year, 2400))
    since = dtstart + periods * period + timedelta(seconds=seconds) % period
    until = since + 50 * period
    try:
        recurrence._check_rule(rule, dtstart, until, 20)  # what expand refuses first
        walked = recurrence._times(rule, rule.frequency, dtstart, until, 20, after=since)
    except ValidationFailed:
        return
    moved, later = recurrence._fast_forward(rule, dtstart, since)
    assert later <= since
    assert recurrence._times(moved, moved.frequency, later, until, 20, after=since) == walked


# ---------------------------------------------------------------- extra dates (RDATE)


def unix(text: str, zone: str = "UTC") -> int:
    return int(at(text, zone).timestamp())


def test_extra_dates_are_kept_sorted_and_once_each():
    rule = recurrence.parse({"frequency": "weeks", "count": 2, "rdates": [30, 10, 30]}, default_zone="UTC")
    assert rule.rdates == (10, 30)
    assert rule.as_dict()["rdates"] == [10, 30]
    assert "rdates" not in recurrence.parse({"frequency": "weeks", "count": 2}, default_zone="UTC").as_dict()


@pytest.mark.parametrize("rdates", ["1788771600", [1.5], [True], ["1788771600"], [-1], [10**12], {"a": 1}])
def test_extra_dates_must_be_unix_seconds(rdates):
    with pytest.raises(ValidationFailed) as error:
        recurrence.parse({"frequency": "weeks", "count": 2, "rdates": rdates}, default_zone="UTC")
    assert error.value.field == "recurrence.rdates"


def test_extra_dates_alone_need_no_frequency():
    rule = recurrence.parse({"rdates": [unix("2026-09-10 09:00")]}, default_zone="Europe/Berlin")
    assert (rule.frequency, rule.open_ended) == ("", False)
    assert rule.as_dict() == {"time_zone": "Europe/Berlin", "rdates": [unix("2026-09-10 09:00")]}
    assert recurrence.parse(rule.as_dict(), default_zone="UTC") == rule


@pytest.mark.parametrize("part", [{"count": 2}, {"until": 1_800_000_000}, {"by_day": "MO"}, {"interval": 2}])
def test_rule_parts_need_a_frequency(part):
    with pytest.raises(ValidationFailed) as error:
        recurrence.parse({"rdates": [1_800_000_000], **part}, default_zone="UTC")
    assert error.value.field == f"recurrence.{next(iter(part))}"


def test_nothing_at_all_is_still_refused():
    with pytest.raises(ValidationFailed) as error:
        recurrence.parse({"rdates": []}, default_zone="UTC")
    assert error.value.code == "PROPERTY_VALIDATION_CANNOT_BE_NULL"


def test_extra_dates_alone_give_the_start_and_those_dates():
    starts = expand("2026-09-07 09:00", rdates=[unix("2026-09-20 14:00"), unix("2026-09-09 09:00")])
    assert starts == [at("2026-09-07 09:00"), at("2026-09-09 09:00"), at("2026-09-20 14:00")]


def test_extra_dates_join_the_rules_and_count_counts_the_rules_only():
    starts = expand("2026-09-07 09:00", frequency="weeks", count=2, rdates=[unix("2026-09-09 11:00")])
    assert starts == [at("2026-09-07 09:00"), at("2026-09-09 11:00"), at("2026-09-14 09:00")]


def test_an_extra_date_the_rule_has_is_one_slot():
    starts = expand("2026-09-07 09:00", frequency="weeks", count=2, rdates=[unix("2026-09-14 09:00")])
    assert starts == [at("2026-09-07 09:00"), at("2026-09-14 09:00")]


def test_extra_dates_before_the_start_are_not_slots():
    assert expand("2026-09-07 09:00", rdates=[unix("2026-09-01 09:00")]) == [at("2026-09-07 09:00")]


def test_an_extra_date_past_the_horizon_is_refused():
    with pytest.raises(ValidationFailed) as error:
        expand("2026-09-07 09:00", frequency="weeks", count=2, rdates=[unix("2030-09-07 09:00")])
    assert (error.value.field, error.value.code) == ("recurrence.rdates", "RECURRENCE_TOO_LONG")


def test_more_slots_than_the_cap_with_extra_dates_are_refused():
    rdates = [unix("2026-09-08 09:00"), unix("2026-09-09 09:00")]
    with pytest.raises(ValidationFailed) as error:
        expand("2026-09-07 09:00", limits=SMALL, frequency="weeks", count=11, rdates=rdates)
    assert error.value.code == "RECURRENCE_TOO_LONG"


def test_more_extra_dates_than_the_cap_are_refused():
    rdates = [unix("2026-09-08 09:00") + day * 86_400 for day in range(13)]
    with pytest.raises(ValidationFailed) as error:
        expand("2026-09-07 09:00", limits=SMALL, rdates=rdates)
    assert error.value.code == "RECURRENCE_TOO_LONG"


def test_an_open_ended_rule_keeps_its_extra_dates():
    made = materialise(
        "2026-09-07 09:00", "2026-09-01 00:00", frequency="weeks", rdates=[unix("2026-09-09 11:00")]
    )
    assert made.starts[:3] == [at("2026-09-07 09:00"), at("2026-09-09 11:00"), at("2026-09-14 09:00")]
    assert len(made.starts) == 12
