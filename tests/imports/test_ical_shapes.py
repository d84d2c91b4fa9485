"""The shapes real calendar files take (issue #18), generated: whatever the shape, the events an
import stores are those `recurring_ical_events` computes from the same file over a year, as
the corpus (tests/data/ical_corpus) is compared (tests/imports/corpus.py).

Shapes: times in UTC, in an IANA TZID, floating or all-day, next to DST changes; DTEND,
DURATION or neither; RRULEs bounded by COUNT or UNTIL or open-ended; RDATE as DATE, DATE-TIME
or PERIOD; EXDATE; overrides written before or after their series, with a RECURRENCE-ID in the
series' own form or in UTC, or with no series at all; no UID, no SUMMARY; a VEVENT alone in its
file; one UID twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from calendar_app.imports.ical_apply import import_calendar
from tests.imports import corpus

# The days around the DST changes of the zones used, and some plain ones.
DAYS = [date(2026, 3, d) for d in (6, 8, 27, 28, 29)] + [date(2026, 10, d) for d in (23, 24, 25, 31)]
DAYS += [date(2026, 11, 1), date(2026, 1, 15), date(2026, 6, 30), date(2026, 12, 31)]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "floating", "date"]
PERIODS = {"DAILY": timedelta(days=1), "WEEKLY": timedelta(days=7)}


@dataclass(frozen=True)
class Shape:
    zone: str
    day: date
    hour: int
    minutes: int  # its length: minutes, or days for an all-day event
    end_as: str  # "DTEND", "DURATION" or "none"
    rule: str  # "", "COUNT", "UNTIL" or "OPEN"
    frequency: str
    rdates: int
    exdate: bool
    override: str  # "", "before", "after" or "alone"
    override_utc: bool
    uid: bool
    summary: bool

    @property
    def all_day(self) -> bool:
        return self.zone == "date"


SHAPES = st.builds(
    Shape,
    zone=st.sampled_from(ZONES),
    day=st.sampled_from(DAYS),
    hour=st.integers(0, 23),
    minutes=st.sampled_from([0, 30, 90, 240]),
    end_as=st.sampled_from(["DTEND", "DURATION", "none"]),
    rule=st.sampled_from(["", "COUNT", "UNTIL", "OPEN"]),
    frequency=st.sampled_from(list(PERIODS)),
    rdates=st.integers(0, 2),
    exdate=st.booleans(),
    override=st.sampled_from(["", "before", "after", "alone"]),
    override_utc=st.booleans(),
    uid=st.booleans(),
    summary=st.booleans(),
)


def _value(shape: Shape, moment: datetime) -> tuple[str, str]:
    """(parameters, value) of a DATE or DATE-TIME property in the shape's form."""
    if shape.all_day:
        return ";VALUE=DATE", f"{moment:%Y%m%d}"
    if shape.zone == "floating":
        return "", f"{moment:%Y%m%dT%H%M%S}"
    if shape.zone == "UTC":
        return "", f"{moment:%Y%m%dT%H%M%S}Z"
    return f";TZID={shape.zone}", f"{moment:%Y%m%dT%H%M%S}"


def _line(name: str, shape: Shape, moment: datetime) -> str:
    params, value = _value(shape, moment)
    return f"{name}{params}:{value}"


def _utc_line(name: str, shape: Shape, moment: datetime) -> str:
    """The same instant in UTC: a RECURRENCE-ID as Outlook and Google write one."""
    zone = ZoneInfo("Europe/Berlin" if shape.zone == "floating" else shape.zone)
    return f"{name}:{moment.replace(tzinfo=zone).astimezone(UTC):%Y%m%dT%H%M%SZ}"


def vevent(shape: Shape, lines: list[str], uid: str) -> str:
    head = ["BEGIN:VEVENT", "DTSTAMP:20260101T000000Z"]
    head += [f"UID:{uid}"] if shape.uid else []
    head += ["SUMMARY:Lecture"] if shape.summary else []
    return "\r\n".join([*head, *lines, "END:VEVENT"])


def times(shape: Shape, start: datetime) -> list[str]:
    lines = [_line("DTSTART", shape, start)]
    length = timedelta(days=shape.minutes // 90 + 1) if shape.all_day else timedelta(minutes=shape.minutes)
    if shape.end_as == "DTEND":
        lines.append(_line("DTEND", shape, start + length))
    elif shape.end_as == "DURATION":
        lines.append(f"DURATION:P{length.days}D" if shape.all_day else f"DURATION:PT{shape.minutes}M")
    return lines


def file_of(shape: Shape) -> bytes:
    start = datetime.combine(shape.day, datetime.min.time()).replace(hour=0 if shape.all_day else shape.hour)
    step = PERIODS[shape.frequency]
    lines = times(shape, start)
    if shape.rule:
        bound = {"COUNT": ";COUNT=5", "UNTIL": f";UNTIL={start + 4 * step:%Y%m%dT%H%M%S}Z", "OPEN": ""}
        if shape.rule == "UNTIL" and shape.all_day:
            bound["UNTIL"] = f";UNTIL={start + 4 * step:%Y%m%d}"
        lines.append(f"RRULE:FREQ={shape.frequency}{bound[shape.rule]}")
    # Not on the overridden day: the reference drops an RDATE on the date of an override.
    for n in range(shape.rdates):
        lines.append(
            _line("RDATE", shape, start + timedelta(days=3 + 3 * n, hours=0 if shape.all_day else 1))
        )
    if shape.exdate and shape.rule:
        lines.append(_line("EXDATE", shape, start + step))
    components = [vevent(shape, lines, "series@shapes")]
    if shape.override and shape.rule and shape.uid:
        slot = start + 2 * step
        # In UTC only for a zoned series: a floating slot is an instant only once read in a zone
        # (ours: the partner's), and the reference compares the two as written.
        in_utc = shape.override_utc and shape.zone not in ("date", "floating")
        recurrence_id = _utc_line if in_utc else _line
        moved = [recurrence_id("RECURRENCE-ID", shape, slot), *times(shape, slot + timedelta(hours=2))]
        override = vevent(shape, moved, "series@shapes")
        components = {
            "before": [override, *components],
            "after": [*components, override],
            "alone": [override],
        }[shape.override]
    return ("\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//shapes//EN", *components,
                         "END:VCALENDAR"]) + "\r\n").encode()  # fmt: skip


def _moved_across_a_change(shape: Shape) -> bool:
    """An override moved to a clock time its zone skips or has twice (02:00-03:00 on the nights
    clocks change), or so that it spans the change."""
    if shape.zone not in ("Europe/Berlin", "America/New_York", "floating"):
        return False
    zone = ZoneInfo("Europe/Berlin" if shape.zone == "floating" else shape.zone)
    wall = datetime.combine(shape.day, datetime.min.time()).replace(hour=shape.hour)
    moved = wall + 2 * PERIODS[shape.frequency] + timedelta(hours=2)
    ends = moved + timedelta(minutes=shape.minutes)
    offsets = {
        moment.replace(tzinfo=zone, fold=fold).utcoffset() for moment in (moved, ends) for fold in (0, 1)
    }
    return len(offsets) > 1


def _exact_length(shape: Shape) -> timedelta:
    """The VEVENT's exact length: DTEND's instant less DTSTART's (a DURATION of minutes is exact)."""
    length = timedelta(minutes=shape.minutes)
    if shape.end_as == "DURATION" or shape.zone == "UTC":
        return length
    zone = ZoneInfo("Europe/Berlin" if shape.zone == "floating" else shape.zone)
    wall = datetime.combine(shape.day, datetime.min.time()).replace(hour=shape.hour)
    return (wall + length).replace(tzinfo=zone).astimezone(UTC) - wall.replace(tzinfo=zone).astimezone(UTC)


def _override_start(shape: Shape) -> datetime | None:
    """Where the override (which has its own times) starts, in UTC."""
    if not (shape.override and shape.rule and shape.uid):
        return None
    zone = ZoneInfo({"floating": "Europe/Berlin"}.get(shape.zone, shape.zone))
    wall = datetime.combine(shape.day, datetime.min.time()).replace(hour=shape.hour)
    return (wall + 2 * PERIODS[shape.frequency] + timedelta(hours=2)).replace(tzinfo=zone).astimezone(UTC)


@given(shape=SHAPES)
def test_each_shape_imports_as_a_calendar_client_shows_it(actor, shape):
    if shape.rule and shape.override and _moved_across_a_change(shape):
        # An override moved into the gap is as long as its own times say, not its series'
        # length; the test's expectation (below) gives every instance the series' length.
        return
    data = file_of(shape)
    calendars = corpus.reference_calendars(data)
    span = corpus.window(calendars)
    expected = Counter(moments for moments, _ in corpus.expected_spans(calendars, span))
    if not shape.all_day and shape.end_as != "none":
        # RFC 5545 §3.8.5.3: a DTEND gives every instance the same exact length (only days of a
        # DURATION are nominal, and the shapes' timed DURATIONs are minutes); the reference
        # keeps the wall-clock end instead, an hour off across a DST change.
        length, moved = _exact_length(shape), _override_start(shape)
        expected = Counter(
            {(start, end if start == moved else start + length): n for (start, end), n in expected.items()}
        )
    with transaction.atomic():
        results = import_calendar(actor, data)
        stored = Counter(corpus.stored_spans(actor.partner, span))
        transaction.set_rollback(True)
    assert [(r.status, r.code) for r in results if r.status == "error"] == []
    assert stored == expected, data.decode()


@given(shape=SHAPES)
def test_a_bare_vevent_imports_as_its_calendar_would(actor, shape):
    one = file_of(Shape(**{**shape.__dict__, "override": ""}))
    bare = one.split(b"PRODID:-//shapes//EN\r\n")[1].rsplit(b"END:VCALENDAR", 1)[0]
    with transaction.atomic():
        results = import_calendar(actor, bare)
        alone = Counter(corpus.stored_spans(actor.partner, corpus.window(corpus.reference_calendars(one))))
        transaction.set_rollback(True)
    with transaction.atomic():
        import_calendar(actor, one)
        whole = Counter(corpus.stored_spans(actor.partner, corpus.window(corpus.reference_calendars(one))))
        transaction.set_rollback(True)
    assert [r.status for r in results] == ["ok"] and alone == whole
