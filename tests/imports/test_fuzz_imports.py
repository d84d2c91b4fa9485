"""Fuzzing both bulk formats through the job, as an upload is processed: whatever the file, the job
ends, every row is reported ok or error with a code, the rows reported ok are in the database and
the rows reported error left nothing of themselves. Seeds: files our builders write and calendars
icalendar ships for its own tests; mutations: bytes flipped, lines dropped, repeated or cut,
property values replaced by odd ones, bad RRULEs and VTIMEZONEs. `pytest
--hypothesis-profile=fuzz tests/imports/test_fuzz_imports.py` runs 5,000 examples of each."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import icalendar
import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from calendar_app.imports import jobs
from calendar_app.models import BulkUpload, RecurrenceType, ScheduleEvent, ScheduleResource
from tests.imports.test_ical_import import CAMPUS_ZONE, calendar, vevent, weekly
from tests.imports.test_resource_csv import COLUMNS, line

# A shipped seed names its zones as Evolution and Thunderbird do; icalendar warns that it guesses.
pytestmark = pytest.mark.filterwarnings("ignore:Timezone .* is a globally unique TZID")

# ---------------------------------------------------------------- what the mutations put in

# Recurrence rules dateutil or our limits refuse, the ones that left jobs PROCESSING first.
BAD_RRULES = [
    "FREQ=HOURLY;INTERVAL=2;BYHOUR=1;COUNT=3",
    "FREQ=MINUTELY;INTERVAL=2;BYMINUTE=1;COUNT=3",
    "FREQ=HOURLY;INTERVAL=24;BYHOUR=13;COUNT=2",
    "FREQ=SECONDLY;INTERVAL=2;BYSECOND=1;COUNT=2",
    "FREQ=SECONDLY;COUNT=100000000",
    "FREQ=DAILY;COUNT=99999999999999999999999",
    "FREQ=DAILY;COUNT=-1",
    "FREQ=DAILY;COUNT=0",
    "FREQ=DAILY;INTERVAL=0;COUNT=3",
    "FREQ=WEEKLY;BYDAY=XX;COUNT=3",
    "FREQ=WEEKLY;BYDAY=53MO;COUNT=3",
    "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2;COUNT=2",
    "FREQ=MONTHLY;BYSETPOS=400;BYDAY=MO;COUNT=3",
    "FREQ=YEARLY;BYWEEKNO=60;COUNT=2",
    "FREQ=YEARLY;BYYEARDAY=-400;COUNT=2",
    "FREQ=DAILY;UNTIL=19000101T000000Z",
    "FREQ=DAILY;UNTIL=garbage",
    "FREQ=DAILY;UNTIL=99991231",
    "FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z",
    "FREQ=NEVER;COUNT=3",
    "COUNT=3",
    "FREQ=DAILY;;COUNT=3;=;X=1",
]
# VTIMEZONEs with a TZID no zone database knows, each broken its own way.
GOOD_ZONE = CAMPUS_ZONE.replace("Campus Time", "X/Test")
BAD_ZONES = [
    GOOD_ZONE.replace("TZOFFSETFROM:+0200\n", ""),
    GOOD_ZONE.replace("TZOFFSETFROM:+0200", "TZOFFSETFROM:+9999"),
    GOOD_ZONE.replace("TZOFFSETFROM:+0100", ""),
    GOOD_ZONE.replace("TZOFFSETTO:+0200", "TZOFFSETTO:garbage"),
    GOOD_ZONE.replace("DTSTART:19701025T030000", "DTSTART:garbage"),
    GOOD_ZONE.replace("DTSTART:19700329T020000\n", ""),
    GOOD_ZONE.replace("RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "RRULE:FREQ=YEARLY;BYMONTH=13"),
    GOOD_ZONE.replace("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "RRULE:FREQ=HOURLY;INTERVAL=2;BYHOUR=1"),
    "BEGIN:VTIMEZONE\nTZID:X/Test\nEND:VTIMEZONE",
    "BEGIN:VTIMEZONE\nTZID:X/Test\nBEGIN:STANDARD\nEND:STANDARD\nEND:VTIMEZONE",
]
ODD_VALUES = [
    "",
    " ",
    "\\",
    ";;;",
    ",,,",
    "x" * 70_000,
    "\U0001f600" * 300,
    "99999999999999999999999",
    "-1",
    "0",
    "19000101T000000Z",
    "00010101T000000",
    "99991231T235959Z",
    "20261007T250000",
    "20260230",
    "P99999999D",
    "-PT1H",
    "mailto:",
    "1;2;3",
    "\\n" * 500,
]
ICAL_PROPERTIES = [
    "DTSTART", "DTSTART;TZID=X/Test", "DTSTART;TZID=Europe/Berlin", "DTSTART;VALUE=DATE", "DTEND",
    "DTEND;TZID=X/Test", "DURATION", "RRULE", "EXDATE", "EXDATE;TZID=X/Test", "RECURRENCE-ID",
    "RECURRENCE-ID;RANGE=THISANDFUTURE", "RDATE", "UID", "SUMMARY", "DESCRIPTION", "STATUS", "CLASS",
    "PRIORITY", "GEO", "CATEGORIES", "ORGANIZER", "X-KALTURA-ID", "X-KALTURA-PARENT-ID",
    "X-KALTURA-TYPE", "X-KALTURA-RESOURCE-IDS", "X-KALTURA-TAGS", "X-KALTURA-ENTRY-IDS",
    "X-KALTURA-TEMPLATE-ENTRY-ID",
]  # fmt: skip
CSV_VALUES = [*ODD_VALUES, "1", "2", "3", "6", "location", "camera", "live_entry", "hall", "room-1", "a.b"]

# ---------------------------------------------------------------- seeds

SHIPPED = Path(icalendar.__file__).parent / "tests" / "calendars"
# Real-world producers and zone rules: Google, Thunderbird, Fiji's DST, forward references, ...
SHIPPED_SEEDS = (
    "america_new_york.ics",
    "america_new_york_forward_reference.ics",
    "pacific_fiji.ics",
    "timezoned.ics",
    "multiple_timezones.ics",
    "issue_722_timezone_transition_ambiguity.ics",
    "issue_313_globally_unique_tzid.ics",
    "issue_1231_recurrence.ics",
    "issue_218_bad_tzid.ics",
    "rfc_5545_RDATE_example.ics",
    "big_bad_calendar.ics",
    "alarm_google_future.ics",
)


def _shipped() -> list[bytes]:
    return [(SHIPPED / name).read_bytes() for name in SHIPPED_SEEDS if (SHIPPED / name).exists()]


def _built() -> list[bytes]:
    override = vevent(
        "RECURRENCE-ID;TZID=Europe/Berlin:20261026T090000",
        uid="course-1@uni",
        start="DTSTART;TZID=Europe/Berlin:20261026T140000",
        end="DTEND;TZID=Europe/Berlin:20261026T153000",
    )
    campus = vevent(
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "EXDATE;TZID=X/Test:20261019T090000",
        uid="campus@uni",
        start="DTSTART;TZID=X/Test:20261012T090000",
        end="DTEND;TZID=X/Test:20261012T100000",
    )
    # What left jobs PROCESSING: rules dateutil refuses, and a VTIMEZONE without TZOFFSETFROM.
    refused = [vevent(f"RRULE:{rule}", uid=f"rule-{n}@uni") for n, rule in enumerate(BAD_RRULES[:3])]
    return [
        calendar(*refused, vevent(uid="fine@uni")),
        calendar(BAD_ZONES[0], campus, vevent(uid="c@uni", start="DTSTART;TZID=X/Test:20261007T090000")),
        calendar(vevent(uid="a@uni"), vevent(uid="b@uni", summary="Physics\\, part 2")),
        calendar(weekly(), override, vevent("STATUS:CANCELLED", uid="gone@uni")),
        calendar(GOOD_ZONE, campus, vevent(uid="c@uni", start="DTSTART;TZID=X/Test:20261007T090000")),
        calendar(vevent(uid="d@uni"), head="METHOD:CANCEL"),
    ]


ICAL_SEEDS = _built() + _shipped()
CSV_SEEDS = [
    "\n".join(
        [
            f"*{COLUMNS}",
            line(name="Building A", systemName="bldg-a"),
            line(name="Room 101", systemName="room-101", parentType="location", parentSystemName="bldg-a"),
            line(name="Cam 1", type="camera", systemName="cam-1", parentSystemName="room-101"),
            line(action="2", systemName="room-101", description="renamed"),
            line(action="6", systemName="hall", name="Hall"),
            line(action="3", systemName="cam-1"),
        ]
    ).encode(),
    b"*name,type,systemName,streamUrl,entryId\nLive,live_entry,live-1,,0_abcdefgh\nCam,camera,c2,rtsp://x/y,\n",
    b'\xef\xbb\xbf*action,name,tags\r\n1,"Lab, big","math, physics"\r\n\r\n1,Hall,\r\n',
]

# ---------------------------------------------------------------- mutations


def _lines(data: bytes) -> list[bytes]:
    return data.replace(b"\r\n", b"\n").split(b"\n")


# Most mutations keep the file readable as a whole, so that its rows are what gets tested; a few
# break its structure, which must fail the job cleanly.
MUTATIONS = ["row"] * 6 + ["replace"] * 2 + ["drop"] * 2 + ["repeat"] * 2 + ["insert", "flip", "cut"]
# A flipped byte is mostly one that means something to the format.
FLIPS = st.sampled_from(b' :;,="\\\r\n\t0123456789TZPW+-/*') | st.integers(0, 255)


def _content(rows: list[bytes]) -> list[int]:
    """The lines between the first and the last that are no component's BEGIN or END (in a CSV:
    the data)."""
    last = max((n for n, row in enumerate(rows) if row.strip()), default=0)
    inside = range(1, last + 1 if rows and not rows[last].upper().startswith(b"END:") else last)
    return [n for n in inside if not rows[n].upper().startswith((b"BEGIN:", b"END:"))] or [0]


@st.composite
def mutated(
    draw, seeds: list[bytes], lines: st.SearchStrategy[bytes], breaking: st.SearchStrategy[bytes]
) -> bytes:
    """A seed with one to four mutations: `lines` put into rows (after a VEVENT's BEGIN, or a CSV's
    header) or in place of a line; lines dropped or repeated; rarely `breaking` lines inserted,
    a byte flipped or the file cut short. The first line, which says what the file is, stays."""
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        rows = _lines(data)
        content = draw(st.sampled_from(_content(rows)))
        kind = draw(st.sampled_from(MUTATIONS))
        if kind == "flip" and data:
            past_first = data.find(b"\n") + 1
            position = draw(st.integers(past_first if past_first < len(data) else 0, len(data) - 1))
            data = data[:position] + bytes([draw(FLIPS)]) + data[position + 1 :]
            continue
        if kind == "cut":
            data = data[: draw(st.integers(0, len(data)))]
            continue
        if kind == "row":
            starts = [n + 1 for n, row in enumerate(rows) if row.upper() == b"BEGIN:VEVENT"] or [1]
            rows.insert(draw(st.sampled_from(starts)), draw(lines))
        elif kind == "replace":
            rows[content] = draw(lines)
        elif kind == "drop":
            del rows[content]
        elif kind == "repeat":  # a line, or a run of them (a whole VEVENT, say)
            rows[content:content] = rows[content : content + draw(st.integers(1, 12))] * draw(
                st.integers(1, 3)
            )
        else:
            rows.insert(draw(st.integers(1, max(len(rows) - 1, 1))), draw(breaking))
        data = draw(st.sampled_from([b"\r\n", b"\n"])).join(rows)
    return data


def _ical_line(name: str, value: str) -> bytes:
    return f"{name}:{value}".encode()


ICAL_LINES = st.one_of(
    st.builds(_ical_line, st.sampled_from(ICAL_PROPERTIES), st.sampled_from(ODD_VALUES)),
    st.builds(_ical_line, st.just("RRULE"), st.sampled_from(BAD_RRULES)),
    st.sampled_from([zone.encode() for zone in BAD_ZONES]),
    st.just(GOOD_ZONE.encode()),
    st.builds(_ical_line, st.sampled_from(ICAL_PROPERTIES), st.text(max_size=30)),
)
ICAL_BREAKING = st.sampled_from(
    [b"BEGIN:VEVENT", b"END:VEVENT", b"BEGIN:VTIMEZONE", b"END:VCALENDAR", b" folded", b"BEGIN:", b"END:X"]
)


def _csv_line(cells: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue().encode()


CSV_LINES = st.one_of(
    st.builds(_csv_line, st.lists(st.sampled_from(CSV_VALUES), max_size=10)),
    st.builds(_csv_line, st.lists(st.text(max_size=12), max_size=10)),
)
CSV_BREAKING = st.sampled_from([b'"', b'1,"open', b"*name,name", b"*bogus", b"\x00", b"*" + COLUMNS.encode()])

# ---------------------------------------------------------------- what must hold


def processed(actor, kind: str, data: bytes) -> BulkUpload:
    """The file submitted and processed, as the eager task does after commit."""
    job = jobs.submit(actor, kind, data, file_name="fuzz")
    assert jobs.process(job.pk, actor.now) is not None
    job.refresh_from_db()
    assert job.status in jobs.DONE, job.get_status_display()
    results = jobs.results(job)
    assert len(results) == job.num_processed and len({r.line for r in results}) == len(results)
    assert all(r.status == "ok" or (r.status == "error" and r.code) for r in results), results
    assert "Traceback" not in job.error and all("Traceback" not in r.reason for r in results)
    if job.status in (BulkUpload.Status.FINISHED, BulkUpload.Status.FINISHED_PARTIALLY):
        assert job.num_rows == len(results) and not job.error_code
    return job


def ok_ids(job: BulkUpload) -> set[int]:
    return {r.object_id for r in jobs.results(job) if r.status == "ok" and r.object_id is not None}


@given(data=mutated(ICAL_SEEDS, ICAL_LINES, ICAL_BREAKING))
def test_any_ical_file_ends_its_job_with_each_row_applied_or_left_out(actor, data):
    with transaction.atomic():
        job = processed(actor, BulkUpload.Kind.EVENTS_ICAL, data)
        events = ScheduleEvent.objects.for_partner(actor.partner)
        named = ok_ids(job)
        assert named <= set(events.values_list("pk", flat=True))  # rows reported ok exist
        made = events.exclude(recurrence_type=RecurrenceType.RECURRENCE).values_list("pk", flat=True)
        assert set(made) <= named  # ... and rows reported error left nothing
        transaction.set_rollback(True)


@given(data=mutated(CSV_SEEDS, CSV_LINES, CSV_BREAKING))
def test_any_resource_csv_ends_its_job_with_each_row_applied_or_left_out(actor, data):
    with transaction.atomic():
        job = processed(actor, BulkUpload.Kind.RESOURCES_CSV, data)
        stored = set(ScheduleResource.objects.for_partner(actor.partner).values_list("pk", flat=True))
        assert stored == ok_ids(job)
        transaction.set_rollback(True)
