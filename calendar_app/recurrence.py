"""Kaltura recurrence fields <-> RRULE, and expansion into occurrence start times.

Expansion runs on wall-clock times in the series' own zone, so a 09:00 lecture stays at 09:00
across DST; the result is converted to UTC. A local time that does not exist (spring forward)
moves forward by the gap, an ambiguous one (fall back) takes the first instant: exactly what
PEP 495 gives for `fold=0`.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
FIELDS = (
    "name", "frequency", "until", "time_zone", "count", "interval", "by_day", "week_start_day",
    *INT_LISTS,
)  # fmt: skip
MAX_INTERVAL = 1000


@dataclass(frozen=True)
class Recurrence:
    """A validated Kaltura recurrence (field names in snake_case; `until` in Unix seconds)."""

    frequency: str
    count: int | None = None
    until: int | None = None
    interval: int = 1
    time_zone: str = ""
    name: str = ""
    by_day: str = ""
    week_start_day: str = "MO"
    int_lists: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
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
        return out


@dataclass(frozen=True)
class Limits:
    max_occurrences: int
    horizon: timedelta


def parse(data: dict[str, Any], *, default_zone: str) -> Recurrence:
    """Validate Kaltura recurrence fields; raise ValidationFailed naming the bad field."""
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ValidationFailed(f"recurrence.{sorted(unknown)[0]}", "unknown recurrence field")
    frequency = data.get("frequency")
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
    if (count is None) == (until is None):
        raise ValidationFailed(
            "recurrence.until",
            "exactly one of until and count must be set",
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
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed("recurrence.time_zone", f"unknown time zone {name!r}") from None
    return name


def _by_day(value: str) -> str:
    tokens = [t.strip().upper() for t in str(value).split(",") if t.strip()]
    for token in tokens:
        match = _BYDAY.match(token)
        if not match or (match.group(1) and abs(int(match.group(1))) > 53):
            raise ValidationFailed("recurrence.by_day", f"invalid day {token!r} (e.g. MO, +1MO, -1FR)")
    return ",".join(tokens)


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
    return tuple(numbers)


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


def expand(rec: Recurrence, start: datetime, limits: Limits) -> list[datetime]:
    """UTC start times of the occurrences of a series whose first slot is at or after `start`.

    Refuses (ValidationFailed) a series longer than the limits rather than truncating it.
    """
    zone = ZoneInfo(rec.time_zone)
    local_start = start.astimezone(zone).replace(tzinfo=None)
    horizon_end = start + limits.horizon
    if rec.until is not None and from_unix(rec.until) > horizon_end:
        raise ValidationFailed(
            "recurrence.until",
            f"a series may run at most {limits.horizon.days} days from its start",
            code="RECURRENCE_TOO_LONG",
        )
    if rec.count is not None and rec.count > limits.max_occurrences:
        raise _too_many(limits)
    until = from_unix(rec.until) if rec.until is not None else horizon_end
    local_until = until.astimezone(zone).replace(tzinfo=None)
    _check_terminates(rec, local_start, local_until)
    rule = _rule(rec, rec.frequency, local_start, local_until)
    wanted = rec.count if rec.count is not None else limits.max_occurrences + 1
    try:
        local_times = list(itertools.islice(rule, wanted))
    except ValueError as error:  # dateutil's word for a time-of-day combination that never occurs
        raise _empty() from error
    if rec.count is None and len(local_times) > limits.max_occurrences:
        raise _too_many(limits)
    if rec.count is not None and len(local_times) < rec.count:
        raise ValidationFailed(
            "recurrence.count",
            f"only {len(local_times)} of {rec.count} occurrences fall within "
            f"{limits.horizon.days} days of the series start",
            code="RECURRENCE_TOO_LONG",
        )
    if not local_times:
        raise _empty()
    return [to_utc(moment, zone) for moment in local_times]


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
    """Refuse rules that would match nothing for years. dateutil checks UNTIL only when it yields,
    so such a rule walks period by period to the year 9999: measured 120 s for an hourly rule
    with BYSETPOS=2 and 2.5 s for a daily rule on 30 February. Monthly and yearly walks stay
    under 0.4 s, so they are left to the limits below."""
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
    if rec.frequency not in ("days", "weeks"):
        return
    if "by_offset" in rec.int_lists:
        times = math.prod(len(rec.int_lists.get(k, (0,))) for k in ("by_hour", "by_minute", "by_second"))
        days = len(rec.by_day.split(",")) if rec.frequency == "weeks" and rec.by_day else 1
        if max(abs(p) for p in rec.int_lists["by_offset"]) > days * times:
            raise _empty()
    if day_filters or rec.by_day:
        # The same day filters stepped a year at a time: cheap even when nothing matches.
        filters = {INT_LISTS[k][1]: rec.int_lists[k] for k in day_filters}
        day_start = start.replace(hour=0, minute=0, second=0)
        if next(iter(_rule(rec, "years", day_start, until, **filters, byhour=0)), None) is None:
            raise _empty()


def _empty() -> ValidationFailed:
    return ValidationFailed("recurrence", "the recurrence produces no occurrences", code="RECURRENCE_EMPTY")


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
