"""Kaltura recurrence fields <-> RRULE, and expansion into occurrence start times.

Expansion runs on wall-clock times in the series' own zone, so a 09:00 lecture stays at 09:00
across DST; the result is converted to UTC. A local time that does not exist (spring forward)
moves forward by the gap, an ambiguous one (fall back) takes the first instant: exactly what
PEP 495 gives for `fold=0`.

A rule with neither COUNT nor UNTIL is open-ended: it is never refused for its length, but made a
window at a time (`materialise`, `extension`), and a beat task adds the next slots as time passes
(scheduling.extend_series).

A recurrence may also name extra dates (`rdates`, RFC 5545's RDATE, from imports: the Kaltura API
has no such field), added to the rule's slots, or standing alone with the start when there is
no rule (a VEVENT with DTSTART and RDATEs and no RRULE).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from dataclasses import dataclass, field
from datetime import MAXYEAR, UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule

from calendar_app.clock import from_unix
from calendar_app.errors import ValidationFailed

FREQUENCIES = {
    "seconds": rrule.SECONDLY,
    "minutes": rrule.MINUTELY,
    "hours": rrule.HOURLY,
    "days": rrule.DAILY,
    "weeks": rrule.WEEKLY,
    "months": rrule.MONTHLY,
    "years": rrule.YEARLY,
}
RRULE_FREQ_NAMES = {
    "seconds": "SECONDLY",
    "minutes": "MINUTELY",
    "hours": "HOURLY",
    "days": "DAILY",
    "weeks": "WEEKLY",
    "months": "MONTHLY",
    "years": "YEARLY",
}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAYS_IN_A_MONTH = 5
_BYDAY = re.compile(r"^([+-]?[1-9][0-9]?)?(MO|TU|WE|TH|FR|SA|SU)$")

# Kaltura field -> (RRULE part, dateutil keyword, allowed range, zero allowed).
INT_LISTS = {
    "by_second": ("BYSECOND", "bysecond", 0, 59, True),
    "by_minute": ("BYMINUTE", "byminute", 0, 59, True),
    "by_hour": ("BYHOUR", "byhour", 0, 23, True),
    "by_month_day": ("BYMONTHDAY", "bymonthday", -31, 31, False),
    "by_year_day": ("BYYEARDAY", "byyearday", -366, 366, False),
    "by_week_number": ("BYWEEKNO", "byweekno", -53, 53, False),
    "by_month": ("BYMONTH", "bymonth", 1, 12, False),
    "by_offset": ("BYSETPOS", "bysetpos", -366, 366, False),
}
DAY_FILTERS = ("by_month", "by_month_day", "by_year_day", "by_week_number")
SUB_DAILY = frozenset({"seconds", "minutes", "hours"})
# Seconds in one period of a sub-daily rule, and the BY parts that add times inside a period
# (the others only let a period through or not).
PERIOD_SECONDS = {"hours": 3600, "minutes": 60, "seconds": 1}
EXPANDING = {"hours": ("by_minute", "by_second"), "minutes": ("by_second",), "seconds": ()}
DAY_SECONDS = 86_400
# The time an expansion may take, well under the second a request may spend on it: the costs
# below were measured on a quiet machine, and a busy one takes up to twice as long.
MAX_SECONDS = 0.25
# dateutil walks a sub-daily rule period by period: it skips a period its own unit's list
# (BYSECOND of a secondly rule) leaves out in about 0.1 µs, and stops at each other one to test
# the rest, about 1.3 µs (measured: 135 ns a period for 09:00:00 only, 1.3 µs for 09:07:xx).
SKIP_COST, STOP_COST = 0.1e-6, 1.3e-6
TIME_PARTS = ("by_hour", "by_minute", "by_second")
OWN_PART = {"hours": "by_hour", "minutes": "by_minute", "seconds": "by_second"}
# The Gregorian calendar repeats, weekdays and leap days included, every 400 years.
CALENDAR_CYCLE_YEARS = 400
PERIODS_PER_CYCLE = {"days": 146_097, "weeks": 20_871, "months": 4_800, "years": 400}
# dateutil picks each BYSETPOS position in each period on its own: measured 0.41 µs a position
# in a daily period, 0.65 µs in a monthly one, 3.3 µs in a yearly one (it scans the period's
# days for every position), about 0.4 µs + 8 ns a day of the period.
POSITION_COST = {"days": 0.41e-6, "weeks": 0.46e-6, "months": 0.65e-6, "years": 3.3e-6}
FIELDS = (
    "name", "frequency", "until", "time_zone", "count", "interval", "by_day", "week_start_day",
    *INT_LISTS, "rdates",
)  # fmt: skip
# What a recurrence of extra dates alone (no frequency) may have besides them.
DATES_ONLY_FIELDS = frozenset({"name", "time_zone", "rdates", "frequency"})
LAST_UNIX_SECOND = 253_402_300_799  # 9999-12-31 23:59:59 UTC, the last a datetime holds
MAX_INTERVAL = 1000


@dataclass(frozen=True)
class Recurrence:
    """A validated Kaltura recurrence (field names in snake_case; `until` in Unix seconds).
    `frequency` is empty only for a recurrence of extra dates alone (`rdates`, Unix seconds,
    sorted, once each)."""

    frequency: str
    count: int | None = None
    until: int | None = None
    interval: int = 1
    time_zone: str = ""
    name: str = ""
    by_day: str = ""
    week_start_day: str = "MO"
    int_lists: dict[str, tuple[int, ...]] = field(default_factory=dict)
    rdates: tuple[int, ...] = ()

    @property
    def open_ended(self) -> bool:
        """A rule with neither COUNT nor UNTIL: it repeats for ever (iCal's RRULE without either)."""
        return bool(self.frequency) and self.count is None and self.until is None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.frequency:
            out |= {
                "frequency": self.frequency,
                "interval": self.interval,
                "week_start_day": self.week_start_day,
            }
        for key in ("count", "until", "time_zone", "name", "by_day"):
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = value
        for key, values in self.int_lists.items():
            out[key] = ",".join(map(str, values))
        if self.rdates:
            out["rdates"] = list(self.rdates)
        return out


@dataclass(frozen=True)
class Limits:
    max_occurrences: int
    horizon: timedelta


@dataclass(frozen=True)
class Materialised:
    """The slots made of a series (UTC starts, in order) and, for an open-ended one, `until`:
    the instant up to which its slots exist (the next extension makes those after it). `gap`:
    the span between the slots made from the series' start and those made from now, which is
    not made (nobody books the past); a regeneration leaves the rows there as they are."""

    starts: list[datetime]
    until: datetime | None = None
    gap: tuple[datetime, datetime] | None = None


def parse(data: dict[str, Any], *, default_zone: str) -> Recurrence:
    """Validate Kaltura recurrence fields; raise ValidationFailed naming the bad field."""
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ValidationFailed(f"recurrence.{sorted(unknown)[0]}", "unknown recurrence field")
    frequency = data.get("frequency")
    rdates = _rdates(data.get("rdates"))
    if frequency in (None, "") and rdates:
        return _dates_only(data, rdates, default_zone)
    if frequency in (None, ""):
        raise ValidationFailed(
            "recurrence.frequency", "frequency is required", code="PROPERTY_VALIDATION_CANNOT_BE_NULL"
        )
    if frequency not in FREQUENCIES:
        raise ValidationFailed(
            "recurrence.frequency",
            f"frequency must be one of {', '.join(FREQUENCIES)}",
            code="INVALID_ENUM_VALUE",
        )
    count, until = data.get("count"), data.get("until")
    # Neither is an open-ended series (we go further than Kaltura, which refuses it); both
    # would be two ends.
    if count is not None and until is not None:
        raise ValidationFailed(
            "recurrence.until",
            "at most one of until and count may be set",
            code="PROPERTY_VALIDATION_ALL_MUST_BE_NULL_BUT_ONE",
            args={"PROP_NAME": "until / count"},
        )
    return Recurrence(
        frequency=frequency,
        count=_positive_int("count", count, 1, None) if count is not None else None,
        until=_positive_int("until", until, 0, None) if until is not None else None,
        interval=_positive_int("interval", data.get("interval") or 1, 1, MAX_INTERVAL),
        time_zone=_zone_name(data.get("time_zone") or default_zone),
        name=str(data.get("name") or "")[:256],
        by_day=_by_day(data.get("by_day") or ""),
        week_start_day=_week_start(data.get("week_start_day") or "MO"),
        int_lists={key: _int_list(key, data[key]) for key in INT_LISTS if data.get(key) not in (None, "")},
        rdates=rdates,
    )


def _rdates(value: Any) -> tuple[int, ...]:
    """Extra dates: a list of Unix seconds (UTC instants), kept sorted and once each."""
    if value in (None, ""):
        return ()
    if not isinstance(value, list | tuple):
        raise ValidationFailed("recurrence.rdates", "extra dates must be a list of Unix seconds")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= LAST_UNIX_SECOND:
            raise ValidationFailed("recurrence.rdates", f"{item!r} is not a time in Unix seconds")
    return tuple(sorted(set(value)))


def _dates_only(data: dict[str, Any], rdates: tuple[int, ...], default_zone: str) -> Recurrence:
    """A recurrence without a rule: the start and the extra dates are its slots."""
    for key in sorted(set(data) - DATES_ONLY_FIELDS):
        if data[key] not in (None, ""):
            raise ValidationFailed(
                f"recurrence.{key}", "a recurrence without a frequency has only extra dates"
            )
    return Recurrence(
        frequency="",
        time_zone=_zone_name(data.get("time_zone") or default_zone),
        name=str(data.get("name") or "")[:256],
        rdates=rdates,
    )


def _positive_int(name: str, value: Any, low: int, high: int | None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"recurrence.{name}", f"{name} must be an integer") from None
    if number < low or (high is not None and number > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ValidationFailed(f"recurrence.{name}", f"{name} must be {bounds}")
    return number


def _zone_name(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ValidationFailed("recurrence.time_zone", f"unknown time zone {name!r}") from None
    return name


def _by_day(value: str) -> str:
    tokens = [t.strip().upper() for t in str(value).split(",") if t.strip()]
    for token in tokens:
        match = _BYDAY.match(token)
        if not match or (match.group(1) and abs(int(match.group(1))) > 53):
            raise ValidationFailed("recurrence.by_day", f"invalid day {token!r} (e.g. MO, +1MO, -1FR)")
    return ",".join(dict.fromkeys(tokens))  # a day twice is the same day: dateutil would test it twice


def _week_start(value: str) -> str:
    day = str(value).strip().upper()
    if day not in WEEKDAYS:
        raise ValidationFailed("recurrence.week_start_day", "must be one of " + ",".join(WEEKDAYS))
    return day


def _int_list(key: str, value: Any) -> tuple[int, ...]:
    _, _, low, high, zero_ok = INT_LISTS[key]
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    numbers = []
    for item in items:
        try:
            number = int(str(item).strip())
        except ValueError:
            raise ValidationFailed(f"recurrence.{key}", f"{item!r} is not an integer") from None
        if not low <= number <= high or (number == 0 and not zero_ok):
            raise ValidationFailed(f"recurrence.{key}", f"{number} is outside {low}..{high}")
        numbers.append(number)
    # Once each, in the order given: dateutil tests every position of BYSETPOS for every period,
    # so "1,1,1,…" ten thousand times would cost as much as ten thousand positions.
    return tuple(dict.fromkeys(numbers))


def _day_numbers(by_day: str) -> list[int]:
    """The numbers of numbered days: "MO,+2TU,-1FR" -> [2, -1]."""
    matches = (_BYDAY.match(token) for token in filter(None, by_day.split(",")))
    return [int(match.group(1)) for match in matches if match and match.group(1)]


def _weekdays(by_day: str) -> list[rrule.weekday]:
    days = []
    for token in filter(None, by_day.split(",")):
        match = _BYDAY.match(token)
        assert match  # validated in parse()
        day = getattr(rrule, match.group(2))
        days.append(day(int(match.group(1))) if match.group(1) else day)
    return days


def to_rrule(rec: Recurrence) -> str:
    """The RRULE value (without 'RRULE:'); UNTIL in UTC as RFC 5545 requires with a zoned DTSTART."""
    parts = [f"FREQ={RRULE_FREQ_NAMES[rec.frequency]}"]
    if rec.count is not None:
        parts.append(f"COUNT={rec.count}")
    if rec.until is not None:
        parts.append(f"UNTIL={from_unix(rec.until):%Y%m%dT%H%M%SZ}")
    if rec.interval != 1:
        parts.append(f"INTERVAL={rec.interval}")
    if rec.by_day:
        parts.append(f"BYDAY={rec.by_day.replace('+', '')}")
    for key, values in rec.int_lists.items():
        parts.append(f"{INT_LISTS[key][0]}={','.join(map(str, values))}")
    if rec.week_start_day != "MO":
        parts.append(f"WKST={rec.week_start_day}")
    return ";".join(parts)


def from_rrule(value: str, *, time_zone: str) -> dict[str, Any]:
    """An RRULE value -> Kaltura recurrence fields (not yet validated: pass the result to parse)."""
    by_part = {v[0]: k for k, v in INT_LISTS.items()}
    names = {v: k for k, v in RRULE_FREQ_NAMES.items()}
    out: dict[str, Any] = {"time_zone": time_zone}
    for part in value.removeprefix("RRULE:").split(";"):
        key, _, val = part.partition("=")
        key = key.strip().upper()
        if key == "FREQ":
            out["frequency"] = names.get(val.upper(), val)
        elif key == "COUNT":
            out["count"] = val
        elif key == "UNTIL":
            out["until"] = _parse_until(val, time_zone)
        elif key == "INTERVAL":
            out["interval"] = val
        elif key == "BYDAY":
            out["by_day"] = val
        elif key == "WKST":
            out["week_start_day"] = val
        elif key in by_part:
            out[by_part[key]] = val
        else:
            raise ValidationFailed("recurrence", f"unsupported RRULE part {key!r}")
    return out


def _parse_until(value: str, time_zone: str) -> int:
    text = value.strip().upper()
    try:
        if len(text) == 8:  # a DATE: the whole day counts
            moment = datetime.strptime(text, "%Y%m%d") + timedelta(days=1, seconds=-1)
        else:
            moment = datetime.strptime(text.rstrip("Z"), "%Y%m%dT%H%M%S")
    except ValueError:
        raise ValidationFailed("recurrence.until", f"invalid UNTIL {value!r}") from None
    zone = UTC if text.endswith("Z") else ZoneInfo(time_zone)
    return int(moment.replace(tzinfo=zone).timestamp())


def expand(
    rec: Recurrence, start: datetime, limits: Limits, *, now: datetime | None = None
) -> list[datetime]:
    """UTC start times of the occurrences of a series whose first slot is at or after `start`:
    `materialise`'s starts (an open-ended series' window from `now` included when given)."""
    return materialise(rec, start, limits, now or start).starts


def materialise(rec: Recurrence, start: datetime, limits: Limits, now: datetime) -> Materialised:
    """The slots a save of the series makes.

    A bounded series (COUNT or UNTIL) is refused (ValidationFailed) when longer than the limits
    rather than truncated. An open-ended one is never refused for its length: it gets Kaltura's
    materialisation, its first slots from `start`, at most max_occurrences within the horizon,
    and, when `now` is later, the window from now (`extension`), so a series that began years
    ago still has its future; the past between the two is not made. A rule that produces
    nothing is refused: RECURRENCE_EMPTY.

    Extra dates (`rdates`) at or after `start` are added to the rule's slots (COUNT counts the
    rule's only, as in RFC 5545); without a rule, the slots are `start` and those dates. They
    must lie within the horizon, and there may be at most max_occurrences of them.
    """
    extra = _extra_dates(rec, start, limits)
    if not rec.frequency:
        return Materialised(sorted({start, *extra}))
    if not rec.open_ended:
        starts = sorted({*_bounded(rec, start, limits), *extra})
        if len(starts) > limits.max_occurrences:
            raise _too_many(limits)
        return Materialised(starts)
    head = _window(rec, start, start, limits, check=True)
    if not head.starts:
        raise _empty(limits)
    assert head.until is not None  # a window always says how far it reaches
    tail = extension(rec, start, limits, now, head.until)
    since = max(now, start)
    gap = (head.until, since) if since > head.until else None
    return Materialised(sorted({*head.starts, *tail.starts, *extra}), tail.until, gap)


def _extra_dates(rec: Recurrence, start: datetime, limits: Limits) -> set[datetime]:
    if len(rec.rdates) > limits.max_occurrences:
        raise _too_many(limits)
    if rec.rdates and rec.rdates[-1] > (start + limits.horizon).timestamp():
        raise ValidationFailed(
            "recurrence.rdates",
            f"an extra date may be at most {limits.horizon.days} days after the series start",
            code="RECURRENCE_TOO_LONG",
        )
    first = start.timestamp()
    return {from_unix(moment) for moment in rec.rdates if moment >= first}


def extension(
    rec: Recurrence, start: datetime, limits: Limits, now: datetime, made_until: datetime
) -> Materialised:
    """The slots of an open-ended series (first slot `start`) to add at `now`, when those up to
    `made_until` exist: the window from now (at most max_occurrences, within the horizon) after
    `made_until`. Run again at the same `now`, it adds nothing."""
    window = _window(rec, start, max(now, start), limits)
    assert window.until is not None
    return Materialised(
        [moment for moment in window.starts if moment > made_until], max(made_until, window.until)
    )


def _window(
    rec: Recurrence, start: datetime, since: datetime, limits: Limits, *, check: bool = False
) -> Materialised:
    """The first max_occurrences slots of the rule (first slot `start`) from `since` to
    `since` + horizon, and how far that reaches: the last slot when the cap cut it, else the
    horizon. `check`: refuse a rule too costly to expand first (the first window of a save)."""
    zone = ZoneInfo(rec.time_zone)
    end = since + limits.horizon
    local_start, local_since, local_end = (_local(moment, zone) for moment in (start, since, end))
    wanted = limits.max_occurrences
    if check:
        _check_rule(rec, local_start, local_end, wanted)
    rule, dtstart = _fast_forward(rec, local_start, local_since)
    local_times = _times(rule, rule.frequency, dtstart, local_end, wanted, after=local_since)
    starts = [to_utc(moment, zone) for moment in local_times]
    return Materialised(starts, starts[-1] if len(starts) == wanted else end)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _check_rule(rec: Recurrence, start: datetime, until: datetime, wanted: int) -> None:
    _check_terminates(rec, start, until)
    if rec.frequency in SUB_DAILY:
        _check_sub_daily(rec, start, until, wanted)
    else:
        _check_positions(rec)


def _bounded(rec: Recurrence, start: datetime, limits: Limits) -> list[datetime]:
    zone = ZoneInfo(rec.time_zone)
    horizon_end = start + limits.horizon
    # Compared as Unix seconds: `until` comes from any caller, and may be past the year 9999.
    if rec.until is not None and rec.until > horizon_end.timestamp():
        raise ValidationFailed(
            "recurrence.until",
            f"a series may run at most {limits.horizon.days} days from its start",
            code="RECURRENCE_TOO_LONG",
        )
    if rec.count is not None and rec.count > limits.max_occurrences:
        raise _too_many(limits)
    until = from_unix(rec.until) if rec.until is not None else horizon_end
    local_start, local_until = _local(start, zone), _local(until, zone)
    wanted = rec.count if rec.count is not None else limits.max_occurrences + 1
    _check_rule(rec, local_start, local_until, wanted)
    local_times = _times(rec, rec.frequency, local_start, local_until, wanted)
    if not local_times:
        raise _empty(limits)
    if rec.count is None and len(local_times) > limits.max_occurrences:
        raise _too_many(limits)
    if rec.count is not None and len(local_times) < rec.count:
        raise ValidationFailed(
            "recurrence.count",
            f"only {len(local_times)} of {rec.count} occurrences fall within "
            f"{limits.horizon.days} days of the series start",
            code="RECURRENCE_TOO_LONG",
        )
    return [to_utc(moment, zone) for moment in local_times]


def _fast_forward(rec: Recurrence, dtstart: datetime, since: datetime) -> tuple[Recurrence, datetime]:
    """The same rule started at the beginning of its last period at or before `since`: its slots
    from there on are the original's, without walking every period since `dtstart` (an hourly
    rule begun five years ago: 44,000 periods, each hour the beat extends it). dateutil takes
    the parts a rule leaves out (the time of day, a weekly rule's weekday, a monthly rule's day)
    from DTSTART, so they are written out from the original first; the phase of INTERVAL is
    kept by moving a whole number of intervals. Local (naive) wall-clock times."""
    if since <= dtstart:
        return rec, dtstart
    step = rec.interval
    if rec.frequency in SUB_DAILY:
        seconds = PERIOD_SECONDS[rec.frequency] * step
        moved = dtstart + timedelta(seconds=(since - dtstart) // timedelta(seconds=seconds) * seconds)
        if rec.frequency == "hours":
            later = moved.replace(minute=0, second=0)
        else:
            later = moved.replace(second=0) if rec.frequency == "minutes" else moved
    elif rec.frequency == "days":
        days = (since.date() - dtstart.date()).days // step * step
        later = datetime.combine(dtstart.date() + timedelta(days=days), datetime.min.time())
    elif rec.frequency == "weeks":
        week_start = WEEKDAYS.index(rec.week_start_day)
        first = dtstart.date() - timedelta(days=(dtstart.weekday() - week_start) % 7)
        weeks = (since.date() - first).days // 7 // step * step
        later = datetime.combine(first + timedelta(weeks=weeks), datetime.min.time())
    elif rec.frequency == "months":
        months = ((since.year - dtstart.year) * 12 + since.month - dtstart.month) // step * step
        year, month = divmod(dtstart.year * 12 + dtstart.month - 1 + months, 12)
        later = datetime(year, month + 1, 1)
    else:
        later = datetime((since.year - dtstart.year) // step * step + dtstart.year, 1, 1)
    if later <= dtstart:
        return rec, dtstart
    return _explicit(rec, dtstart), later


def _explicit(rec: Recurrence, dtstart: datetime) -> Recurrence:
    """`rec` with the parts dateutil would take from `dtstart` written out (rrule.__init__)."""
    lists = dict(rec.int_lists)
    coarser = list(FREQUENCIES).index(rec.frequency)  # seconds 0 ... years 6
    for key, value, finest in (
        ("by_hour", dtstart.hour, 3),
        ("by_minute", dtstart.minute, 2),
        ("by_second", dtstart.second, 1),
    ):
        if coarser >= finest:
            lists.setdefault(key, (value,))
    by_day = rec.by_day
    if not (by_day or lists.keys() & {"by_week_number", "by_year_day", "by_month_day"}):
        if rec.frequency == "years":
            lists.setdefault("by_month", (dtstart.month,))
            lists["by_month_day"] = (dtstart.day,)
        elif rec.frequency == "months":
            lists["by_month_day"] = (dtstart.day,)
        elif rec.frequency == "weeks":
            by_day = WEEKDAYS[dtstart.weekday()]
    return dataclasses.replace(rec, by_day=by_day, int_lists=lists)


def _times(
    rec: Recurrence,
    frequency: str,
    dtstart: datetime,
    until: datetime,
    wanted: int,
    after: datetime | None = None,
    **only: Any,
) -> list[datetime]:
    """The first `wanted` times of the rule (see _rule) from `dtstart` (or `after`) to `until`.

    dateutil checks UNTIL only when a time matches, so a rule that matches nothing more walks
    period by period to the year 9999: 5.8 s for a daily rule on 30 February from 2026. The
    calendar repeats every 400 years, so the rule is run as many cycles later as fit before
    9999 and its times moved back: the same times, and any such walk ends within 400 years
    (0.3 s for that daily rule, 0.05 s for a monthly one). dateutil's ValueError is its word
    for a rule that can never match (an hourly rule every 2 hours at an hour of the other
    parity), raised building the rule or on the way.
    """
    years = CALENDAR_CYCLE_YEARS * ((MAXYEAR - until.year) // CALENDAR_CYCLE_YEARS)
    try:
        rule = _rule(rec, frequency, _years_later(dtstart, years), _years_later(until, years), **only)
        times = iter(rule)
        if after is not None:
            first = _years_later(after, years)
            times = itertools.dropwhile(lambda moment: moment < first, times)
        return [_years_later(moment, -years) for moment in itertools.islice(times, wanted)]
    except ValueError as error:
        raise _empty() from error


def _years_later(moment: datetime, years: int) -> datetime:
    # Never ValueError: 400-year steps keep 29 February a leap day.
    return moment.replace(year=moment.year + years)


def _rule(rec: Recurrence, frequency: str, dtstart: datetime, until: datetime, **only) -> rrule.rrule:
    parts = only or {INT_LISTS[k][1]: v for k, v in rec.int_lists.items()}
    return rrule.rrule(
        FREQUENCIES[frequency],
        dtstart=dtstart,
        interval=1 if only else rec.interval,
        until=until,
        byweekday=_weekdays(rec.by_day) or None,
        wkst=getattr(rrule, rec.week_start_day),
        cache=False,
        **parts,
    )


def _check_terminates(rec: Recurrence, start: datetime, until: datetime) -> None:
    """Refuse rules that would match nothing for years before dateutil walks them (see _times):
    measured 120 s for an hourly rule with BYSETPOS=2 and 2.5 s for a daily rule on 30 February
    before that walk was cut to 400 years; a daily rule's day filters are still tried a year at
    a time first, which finds 30 February empty in milliseconds."""
    day_filters = [k for k in DAY_FILTERS if k in rec.int_lists]
    numbered = any(len(day) > 2 for day in rec.by_day.split(",") if day)
    if rec.frequency in SUB_DAILY and (day_filters or rec.by_day or "by_offset" in rec.int_lists):
        raise ValidationFailed(
            "recurrence",
            "hourly and finer rules cannot filter by day or position",
            code="RECURRENCE_UNSUPPORTED",
        )
    if rec.frequency in ("days", "weeks") and numbered:
        raise ValidationFailed(
            "recurrence.by_day", "numbered days (+1MO, -1FR) need a monthly or yearly rule"
        )
    in_a_month = rec.frequency == "months" or "by_month" in rec.int_lists
    if in_a_month and any(abs(n) > WEEKDAYS_IN_A_MONTH for n in _day_numbers(rec.by_day)):
        # Never there, and dateutil fails on +34MO in a monthly rule (IndexError).
        raise ValidationFailed(
            "recurrence.by_day", f"a month has at most {WEEKDAYS_IN_A_MONTH} of each weekday"
        )
    if rec.frequency not in ("days", "weeks"):
        return
    if "by_offset" in rec.int_lists:
        times = math.prod(len(rec.int_lists.get(k, (0,))) for k in ("by_hour", "by_minute", "by_second"))
        days = len(rec.by_day.split(",")) if rec.frequency == "weeks" and rec.by_day else 1
        if max(abs(p) for p in rec.int_lists["by_offset"]) > days * times:
            raise _empty()
    if day_filters or rec.by_day:
        # The same day filters stepped a year at a time: cheap even when nothing matches.
        filters: dict[str, Any] = {INT_LISTS[k][1]: rec.int_lists[k] for k in day_filters}
        day_start = start.replace(hour=0, minute=0, second=0)
        if not _times(rec, "years", day_start, until, 1, **filters, byhour=0):
            raise _empty()


def _check_positions(rec: Recurrence) -> None:
    """Refuse more BYSETPOS positions than dateutil can try, in every period of a 400-year walk
    (see _times), within MAX_SECONDS: 732 positions on a daily rule every 7 days took 6.4 s.
    Allows 4 positions on a daily rule every day, 26 on a weekly one, 80 on a monthly one and
    189 on a yearly one."""
    positions = len(rec.int_lists.get("by_offset", ()))
    periods = PERIODS_PER_CYCLE[rec.frequency] / rec.interval
    if positions * periods * POSITION_COST[rec.frequency] > MAX_SECONDS:
        raise ValidationFailed(
            "recurrence.by_offset",
            f"too many positions for a rule by {rec.frequency}: use fewer, or a coarser frequency",
            code="RECURRENCE_UNSUPPORTED",
        )


def _check_sub_daily(rec: Recurrence, start: datetime, until: datetime, wanted: int) -> None:
    """Refuse a sub-daily rule that never matches, or so rarely that dateutil would spend more
    than MAX_SECONDS looking for its times (a secondly rule kept to 09:00:00 looks at 86,400
    periods a day: 9 s for a thousand days). Such a rule filters times of day only
    (_check_terminates refuses day filters), and the times of day its periods start at repeat
    every `cycle` periods, so one cycle tells both how often it matches and what that costs."""
    unit = PERIOD_SECONDS[rec.frequency]
    per_day = DAY_SECONDS // unit
    cycle = per_day // math.gcd(rec.interval, per_day)
    first = (start.hour * 3600 + start.minute * 60 + start.second) // unit
    passing, stops = _passing(rec, first * unit, rec.interval * unit, cycle)
    if not passing:
        raise _empty()
    per_period = math.prod(len(rec.int_lists.get(key, (0,))) for key in EXPANDING[rec.frequency])
    in_window = (until - start) // timedelta(seconds=unit * rec.interval) // cycle + 1
    to_find = math.ceil(wanted / (passing * per_period)) + 1
    cycle_cost = stops * STOP_COST + (cycle - stops) * SKIP_COST
    if min(in_window, to_find) * cycle_cost > MAX_SECONDS:
        raise ValidationFailed(
            "recurrence",
            f"matches too rarely for a rule by {rec.frequency}: use a coarser frequency "
            "(a daily rule with byHour, byMinute and bySecond)",
            code="RECURRENCE_UNSUPPORTED",
        )


def _passing(rec: Recurrence, first: int, step: int, cycle: int) -> tuple[int, int]:
    """Of the `cycle` periods starting `first`, `first + step`, … seconds into a day: how many
    pass the rule's filters at its own level and above (BYHOUR for an hourly rule; BYHOUR and
    BYMINUTE for a minutely one), and at how many dateutil stops to test them (those its own
    level's list lets through; all of them without one). At most 86,400: a few milliseconds."""
    allowed = [_allowed(rec, key, size) for key, size in zip(TIME_PARTS, (24, 60, 60), strict=True)]
    own = TIME_PARTS.index(OWN_PART[rec.frequency])
    passing = stops = 0
    for k in range(cycle):
        moment = (first + k * step) % DAY_SECONDS
        parts = (moment // 3600, moment // 60 % 60, moment % 60)
        stops += allowed[own][parts[own]]
        passing += allowed[0][parts[0]] and allowed[1][parts[1]] and allowed[2][parts[2]]
    return passing, stops


def _allowed(rec: Recurrence, key: str, size: int) -> list[bool]:
    """Which values of a time part (hours 0..23, …) the rule's periods may start at."""
    values = None if key in EXPANDING[rec.frequency] else rec.int_lists.get(key)
    return [values is None or value in values for value in range(size)]


def _empty(limits: Limits | None = None) -> ValidationFailed:
    within = f" within {limits.horizon.days} days of its start" if limits else ""
    return ValidationFailed(
        "recurrence", f"the recurrence produces no occurrences{within}", code="RECURRENCE_EMPTY"
    )


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    # fold=0: a nonexistent time keeps the offset from before the gap (so it lands after it),
    # an ambiguous one takes the first of its two instants.
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _too_many(limits: Limits) -> ValidationFailed:
    return ValidationFailed(
        "recurrence",
        f"a series may have at most {limits.max_occurrences} occurrences",
        code="RECURRENCE_TOO_LONG",
    )
