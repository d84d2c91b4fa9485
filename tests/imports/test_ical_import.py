"""iCal bulk import (docs/kaltura-compatibility.md §5): one result per VEVENT, rows independent,
partner-scoped, idempotent, and our own export re-imports onto the rows it came from."""

from __future__ import annotations

import re
import string
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendar_app import batch_scheduling, fragments, ical, scheduling, writes
from calendar_app.imports import ical_read
from calendar_app.imports.ical_apply import import_calendar
from calendar_app.imports.row_results import FileRefused
from calendar_app.models import (
    AuditEntry,
    ClassificationType,
    Entry,
    EntryType,
    EventStatus,
    EventType,
    Partner,
    RecurrenceType,
    ScheduleEvent,
    ScheduleEventResource,
)
from tests.conftest import at

BERLIN = "Europe/Berlin"
# A VTIMEZONE with Central European rules under a name no zone database knows.
CAMPUS_ZONE = """BEGIN:VTIMEZONE
TZID:Campus Time
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE"""


def vevent(*lines: str, uid: str = "lecture-1@uni.example", summary: str = "Lecture", **times: str) -> str:
    """A VEVENT: UID, SUMMARY, DTSTART/DTEND (UTC unless given), then `lines` as written."""
    start = times.get("start", "DTSTART:20261007T070000Z")
    end = times.get("end", "DTEND:20261007T083000Z")
    parts = ["BEGIN:VEVENT", f"UID:{uid}" if uid else "", f"SUMMARY:{summary}" if summary else "", start, end]
    return "\r\n".join(p for p in [*parts, *lines, "END:VEVENT"] if p)


def calendar(*components: str, head: str = "") -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Uni//Timetable//EN",
        head,
        *components,
        "END:VCALENDAR",
    ]
    return ("\r\n".join(line for line in lines if line) + "\r\n").encode()


def upload(actor, *components: str, head: str = "", **options):
    return import_calendar(actor, calendar(*components, head=head), **options)


def outcome(results) -> list[tuple[str, str, str]]:
    return [(r.action, r.status, r.code) for r in results]


def stored(uid: str = "lecture-1@uni.example") -> ScheduleEvent:
    return ScheduleEvent.objects.exclude(recurrence_type=RecurrenceType.RECURRENCE).get(ical_uid=uid)


def local(moment, zone: str = BERLIN) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def refusal(actor, data: bytes, **limits) -> str:
    with pytest.raises(FileRefused) as error:
        import_calendar(actor, data, **limits)
    return error.value.code


def export(events) -> bytes:
    """What scheduleEvent.list format=ical serves for these events."""
    events = list(events)
    return ical.calendar(ical.vevents(events), zones=ical.series_zones(events, scheduling.limits().horizon))


def occurrences(series) -> list[ScheduleEvent]:
    return list(series.occurrences.order_by("original_start"))


# ---------------------------------------------------------------- adding


def test_it_adds_an_event_per_vevent_keeping_the_uid(actor):
    results = upload(actor, vevent(uid="a@uni"), vevent(uid="b@uni"))
    assert outcome(results) == [("add", "ok", "")] * 2
    event = ScheduleEvent.objects.get(pk=results[1].object_id)
    assert (event.reference_id, event.ical_uid) == ("b@uni", "b@uni")
    assert (event.start, event.end) == (at("2026-10-07 07:00"), at("2026-10-07 08:30"))


def test_it_reports_each_vevent_by_index_uid_and_properties(actor):
    results = upload(actor, vevent(uid="a@uni"), vevent(uid="b@uni", summary="Physics\\, part 2"))
    assert [(r.line, r.reference_id) for r in results] == [(0, "a@uni"), (1, "b@uni")]
    assert results[1].row["SUMMARY"] == "Physics, part 2"
    assert results[1].row["DTSTART"] == "20261007T070000Z"


def test_it_reads_the_text_properties_unescaped(actor):
    upload(
        actor,
        vevent(
            "DESCRIPTION:Line one\\nline two\\; with \\, commas",
            "LOCATION:Hall 1",
            "ORGANIZER;CN=Prof:mailto:prof@uni.example",
            "CONTACT:Desk 42",
            "COMMENT:bring slides",
            "PRIORITY:3",
            "CLASS:CONFIDENTIAL",
            "GEO:52.5;13.4",
            "CATEGORIES:math,physics",
            summary="Intro\\, part 1",
        ),
    )
    event = stored()
    assert (event.summary, event.description) == ("Intro, part 1", "Line one\nline two; with , commas")
    assert (event.location, event.organizer, event.contact, event.comment) == (
        "Hall 1", "prof@uni.example", "Desk 42", "bring slides"
    )  # fmt: skip
    assert (event.priority, event.classification_type) == (3, ClassificationType.CONFIDENTIAL)
    assert (event.geo_latitude, event.geo_longitude, event.tags) == (52.5, 13.4, "math,physics")


def test_it_reads_the_kaltura_properties(actor):
    upload(
        actor,
        vevent(
            "X-KALTURA-TAGS:physics,exam",
            "CATEGORIES:math",
            "X-KALTURA-TEMPLATE-ENTRY-ID:0_tmpl0001",
            "X-KALTURA-ENTRY-IDS:0_abc,0_def",
            "X-KALTURA-CATEGORY-IDS:12,13",
        ),
    )
    event = stored()
    assert (event.tags, event.template_entry_id) == ("physics,exam", "0_tmpl0001")  # over CATEGORIES
    assert (event.entry_ids, event.category_ids) == ("0_abc,0_def", "12,13")


def test_it_ignores_the_files_sequence(actor):
    upload(actor, vevent("SEQUENCE:7"))
    assert stored().sequence == scheduling.next_sequence(1)


def test_x_kaltura_type_picks_the_type_else_the_default(actor):
    upload(actor, vevent("X-KALTURA-TYPE:2", uid="live"), vevent(uid="plain"), default_type=EventType.MEETING)
    assert (stored("live").type, stored("plain").type) == (EventType.LIVE_STREAM, EventType.MEETING)


def test_it_refuses_an_unknown_type(actor):
    (result,) = upload(actor, vevent("X-KALTURA-TYPE:9"))
    assert (result.status, result.code) == ("error", "INVALID_ENUM_VALUE")
    assert result.reason.startswith("X-KALTURA-TYPE:")


def test_it_links_the_resources_named(actor, make_resource):
    room, camera = make_resource("Hall 1"), make_resource("Cam 1")
    (result,) = upload(actor, vevent(f"X-KALTURA-RESOURCE-IDS:{room.pk},{camera.pk}"))
    assert scheduling.resource_ids_of(stored()) == sorted([room.pk, camera.pk])
    assert result.object_id == stored().pk


def test_a_bad_resource_id_fails_its_row_only(actor, make_resource, outsider, outsider_partner):
    room = make_resource("Hall 1")
    theirs = scheduling.create_resource(outsider, {"type": 1, "name": "Their room"})
    results = upload(
        actor,
        vevent(f"X-KALTURA-RESOURCE-IDS:{room.pk}", uid="good-1"),
        vevent(f"X-KALTURA-RESOURCE-IDS:{room.pk},{theirs.pk}", uid="foreign"),
        vevent("X-KALTURA-RESOURCE-IDS:999999", uid="missing"),
        vevent("X-KALTURA-RESOURCE-IDS:12a", uid="garbled"),
        vevent(uid="good-2"),
    )
    assert [r.status for r in results] == ["ok", "error", "error", "error", "ok"]
    assert {r.code for r in results[1:4]} == {"RESOURCE_NOT_FOUND"}
    assert str(theirs.pk) in results[1].reason
    assert not ScheduleEvent.objects.filter(reference_id__in=["foreign", "missing", "garbled"]).exists()
    assert not ScheduleEventResource.objects.filter(resource=theirs).exists()


def test_a_refused_row_leaves_no_trace(actor):
    before = AuditEntry.objects.count()
    too_long = vevent("X-KALTURA-TYPE:1", end="DTEND:20261009T070000Z")  # two days, asked to record
    (result,) = upload(actor, too_long)
    assert (result.status, result.code) == ("error", "MAX_SCHEDULE_DURATION_REACHED")
    assert result.reason.startswith("DTEND:")
    assert not ScheduleEvent.objects.exists() and AuditEntry.objects.count() == before


def test_it_audits_each_new_event(actor):
    results = upload(actor, vevent(uid="a"), vevent(uid="b"))
    created = AuditEntry.objects.filter(action="create", object_type="ScheduleEvent", source="api")
    assert sorted(int(a.object_id) for a in created) == sorted(r.object_id for r in results)


def test_of_two_vevents_with_one_uid_the_later_wins_and_the_other_is_left_out_with_a_reason(actor):
    results = upload(actor, vevent(summary="First"), vevent(summary="Second"))
    assert outcome(results) == [("", "ok", "SUPERSEDED"), ("add", "ok", "")]
    assert "VEVENT 1" in results[0].reason and stored().summary == "Second"


def test_of_two_vevents_with_one_uid_the_higher_sequence_wins_wherever_it_stands(actor):
    results = upload(actor, vevent("SEQUENCE:3", summary="Newer"), vevent("SEQUENCE:1", summary="Older"))
    assert outcome(results) == [("add", "ok", ""), ("", "ok", "SUPERSEDED")]
    assert stored().summary == "Newer"


def test_a_vevent_without_uid_gets_one_made_from_it_and_a_reimport_changes_nothing(actor):
    data = calendar(vevent(uid=""), vevent(uid=""), vevent(uid="", summary="Other"))
    first = import_calendar(actor, data)
    assert outcome(first) == [("add", "ok", "")] * 3
    uids = [r.reference_id for r in first]
    assert len(set(uids)) == 3 and all(uid.startswith("made-") for uid in uids)
    assert all("has no UID" in r.warnings[0] for r in first)
    again = import_calendar(actor, data.replace(b"VERSION:2.0", b"VERSION:2.0\r\nX-WR-CALNAME:Again"))
    assert [r.reference_id for r in again] == uids
    assert outcome(again) == [("update", "ok", "UNCHANGED")] * 3


def test_a_vevent_without_summary_is_untitled_with_a_warning(actor):
    (result,) = upload(actor, vevent(summary=""))
    assert (result.status, stored().summary) == ("ok", "(no title)")
    assert result.warnings == ["The VEVENT has no SUMMARY: it is called '(no title)'."]


def test_a_bare_vevent_file_is_read_as_one_calendar(actor):
    results = import_calendar(actor, vevent().encode())
    assert outcome(results) == [("add", "ok", "")] and "no VCALENDAR" in results[0].warnings[0]


def test_a_file_with_neither_vcalendar_nor_vevent_is_refused(actor):
    assert refusal(actor, b"BEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\n") == "ICAL_NOT_ICALENDAR"


def test_an_end_before_the_start_is_read_the_other_way_round(actor):
    (result,) = upload(actor, vevent(start="DTSTART:20261007T083000Z", end="DTEND:20261007T070000Z"))
    assert result.status == "ok" and "the other way round" in result.warnings[0]
    assert (stored().start.hour, stored().end.hour) == (7, 8)


def test_a_date_start_with_a_time_end_starts_at_midnight_in_the_end_zone(actor):
    (result,) = upload(actor, vevent(start="DTSTART;VALUE=DATE:20261007", end="DTEND:20261007T083000Z"))
    assert result.status == "ok" and "read as midnight" in result.warnings[0]
    assert (stored().start, stored().end) == (at("2026-10-07 00:00", "UTC"), at("2026-10-07 08:30", "UTC"))


# ---------------------------------------------------------------- times


def test_a_tzid_names_an_iana_zone(actor):
    upload(
        actor,
        vevent(
            start="DTSTART;TZID=America/New_York:20261007T090000",
            end="DTEND;TZID=America/New_York:20261007T100000",
        ),
    )
    assert local(stored().start, "America/New_York") == "2026-10-07 09:00"


def test_a_tzid_may_be_a_windows_zone_name(actor):
    upload(
        actor,
        vevent(
            start="DTSTART;TZID=W. Europe Standard Time:20261207T090000",
            end="DTEND;TZID=W. Europe Standard Time:20261207T100000",
        ),
    )
    assert stored().start == at("2026-12-07 09:00", BERLIN)


def test_a_tzid_may_be_defined_by_a_vtimezone_in_the_file(actor):
    upload(
        actor,
        CAMPUS_ZONE,
        vevent(
            start="DTSTART;TZID=Campus Time:20260707T090000",
            end="DTEND;TZID=Campus Time:20260707T100000",
            uid="summer",
        ),
        vevent(
            start="DTSTART;TZID=Campus Time:20261207T090000",
            end="DTEND;TZID=Campus Time:20261207T100000",
            uid="winter",
        ),
    )
    assert stored("summer").start == at("2026-07-07 07:00")
    assert stored("winter").start == at("2026-12-07 08:00")


def test_a_series_in_a_vtimezone_of_the_file_repeats_in_the_matching_iana_zone(actor):
    upload(
        actor,
        CAMPUS_ZONE,
        vevent(
            "RRULE:FREQ=WEEKLY;COUNT=6",
            start="DTSTART;TZID=Campus Time:20261012T090000",
            end="DTEND;TZID=Campus Time:20261012T103000",
        ),
    )
    series = stored()
    assert series.time_zone == BERLIN  # the partner's zone, first of the zones that agree
    assert {local(o.start)[-5:] for o in occurrences(series)} == {"09:00"}


def test_a_vtimezone_does_not_outlive_its_file(actor):
    upload(
        actor,
        CAMPUS_ZONE,
        vevent(
            uid="first",
            start="DTSTART;TZID=Campus Time:20260707T090000",
            end="DTEND;TZID=Campus Time:20260707T100000",
        ),
    )
    # icalendar remembers VTIMEZONEs for the whole process; a file that does not define the
    # zone must not be read with another file's definition.
    (result,) = upload(
        actor,
        vevent(
            uid="second",
            start="DTSTART;TZID=Campus Time:20260707T090000",
            end="DTEND;TZID=Campus Time:20260707T100000",
        ),
    )
    assert (result.status, result.code) == ("ok", "")
    assert "names no known zone" in result.warnings[0]  # read as floating, not as the other file's


def test_an_unknown_tzid_is_read_in_the_partners_zone_with_a_warning(actor):
    (result,) = upload(actor, vevent(uid="mars", start="DTSTART;TZID=Mars/Olympus_Mons:20261007T090000"))
    assert (result.status, stored("mars").start) == ("ok", at("2026-10-07 09:00", BERLIN))
    assert "Mars/Olympus_Mons" in result.warnings[0]


def test_exdate_in_a_zone_only_the_file_defines_cancels_that_occurrence(actor):
    series = vevent(
        "RRULE:FREQ=WEEKLY;COUNT=3",
        "EXDATE;TZID=Campus Time:20261019T090000",
        start="DTSTART;TZID=Campus Time:20261012T090000",
        end="DTEND;TZID=Campus Time:20261012T103000",
    )
    upload(actor, CAMPUS_ZONE, series)
    statuses = [(local(o.original_start), o.status) for o in occurrences(stored())]
    assert [when for when, status in statuses if status == EventStatus.CANCELLED] == ["2026-10-19 09:00"]


# A zone only the file defines, well and badly (no TZOFFSETFROM): what left jobs PROCESSING.
X_TEST = CAMPUS_ZONE.replace("Campus Time", "X/Test")
X_TEST_BROKEN = X_TEST.replace("TZOFFSETFROM:+0200\n", "")


def in_x_test(uid: str) -> str:
    return vevent(
        uid=uid, start="DTSTART;TZID=X/Test:20261207T090000", end="DTEND;TZID=X/Test:20261207T100000"
    )


def test_a_vtimezone_that_cannot_be_read_fails_the_rows_that_name_it(actor):
    results = upload(actor, X_TEST_BROKEN, in_x_test("a@uni"), in_x_test("b@uni"), vevent(uid="utc@uni"))
    assert outcome(results) == [("add", "error", "ICAL_BAD_VTIMEZONE")] * 2 + [("add", "ok", "")]
    assert "X/Test" in results[0].reason and "TZOFFSETFROM" in results[0].reason


def imported(*uploads) -> list[list[tuple[str, str, datetime | None]]]:
    """Each (actor, file) imported in turn: per file, each row's status, code and stored start.
    Undone afterwards, so each call starts from the same database."""
    with transaction.atomic():
        found = [
            [
                (r.status, r.code, r.object_id and ScheduleEvent.objects.get(pk=r.object_id).start)
                for r in results
            ]
            for results in (import_calendar(who, data) for who, data in uploads)
        ]
        transaction.set_rollback(True)
    return found


def test_a_vtimezone_reads_the_same_whatever_an_earlier_upload_defined(actor, outsider):
    good, broken = calendar(X_TEST, in_x_test("good@uni")), calendar(X_TEST_BROKEN, in_x_test("broken@uni"))
    icalendar.Calendar.from_ical(good)  # icalendar now holds X/Test for the rest of the process
    alone = imported((actor, good)) + imported((actor, broken))
    assert alone == [[("ok", "", at("2026-12-07 08:00"))], [("error", "ICAL_BAD_VTIMEZONE", None)]]
    assert imported((outsider, good), (actor, broken)) == alone
    assert imported((outsider, broken), (actor, good)) == alone[::-1]


def test_a_floating_time_is_read_in_the_partners_zone(actor):
    upload(actor, vevent(start="DTSTART:20261207T090000", end="DTEND:20261207T100000"))
    assert (stored().start, stored().end) == (at("2026-12-07 09:00", BERLIN), at("2026-12-07 10:00", BERLIN))


def test_an_all_day_event_runs_from_local_midnight_to_midnight(actor):
    upload(actor, vevent(start="DTSTART;VALUE=DATE:20261207", end="DTEND;VALUE=DATE:20261208", uid="day"))
    assert (stored("day").start, stored("day").end) == (
        at("2026-12-07 00:00", BERLIN),
        at("2026-12-08 00:00", BERLIN),
    )


def test_an_all_day_event_without_an_end_lasts_the_day(actor):
    upload(actor, vevent(start="DTSTART;VALUE=DATE:20261207", end=""))
    assert stored().end - stored().start == timedelta(days=1)


def test_duration_may_replace_dtend(actor):
    upload(actor, vevent("DURATION:PT1H30M", end=""))
    assert stored().end == at("2026-10-07 08:30")


def test_a_vevent_without_dtstart_fails_its_row(actor):
    (result,) = upload(actor, vevent(start="", end=""))
    assert (result.status, result.code) == ("error", "MISSING_DTSTART")


# ---------------------------------------------------------------- series


def weekly(*lines: str, uid: str = "course-1@uni", count: int = 6, start: str = "20261012T090000") -> str:
    """A weekly 90-minute lecture at 09:00 Berlin time from Monday 12 October 2026."""
    end = start[:9] + "103000"
    return vevent(
        f"RRULE:FREQ=WEEKLY;COUNT={count}",
        *lines,
        uid=uid,
        start=f"DTSTART;TZID={BERLIN}:{start}",
        end=f"DTEND;TZID={BERLIN}:{end}",
    )


def test_an_rrule_makes_a_series_that_keeps_local_time_across_dst(actor):
    (result,) = upload(actor, weekly())
    series = ScheduleEvent.objects.get(pk=result.object_id)
    assert (series.recurrence_type, series.time_zone) == (RecurrenceType.RECURRING, BERLIN)
    starts = [o.start for o in occurrences(series)]
    assert {local(s)[-5:] for s in starts} == {"09:00"}  # the clocks go back on 25 October
    assert (starts[1].hour, starts[2].hour) == (7, 8)  # UTC


def test_a_series_links_its_occurrences_to_the_resources(actor, make_resource):
    room = make_resource("Hall 1")
    upload(actor, weekly(f"X-KALTURA-RESOURCE-IDS:{room.pk}"))
    assert ScheduleEventResource.objects.filter(resource=room).count() == 7  # series + 6


def test_exdate_cancels_those_occurrences(actor):
    upload(actor, weekly(f"EXDATE;TZID={BERLIN}:20261019T090000,20261102T090000"))
    statuses = [(local(o.original_start)[:10], o.status) for o in occurrences(stored("course-1@uni"))]
    cancelled = [day for day, status in statuses if status == EventStatus.CANCELLED]
    assert cancelled == ["2026-10-19", "2026-11-02"] and len(statuses) == 6


def test_recurrence_id_before_its_series_overrides_one_occurrence(actor):
    moved = vevent(
        f"RECURRENCE-ID;TZID={BERLIN}:20261026T090000",
        uid="course-1@uni",
        summary="Lecture (moved)",
        start=f"DTSTART;TZID={BERLIN}:20261026T140000",
        end=f"DTEND;TZID={BERLIN}:20261026T153000",
    )
    results = upload(actor, moved, weekly())
    assert outcome(results) == [("update", "ok", ""), ("add", "ok", "")]
    occurrence = ScheduleEvent.objects.get(pk=results[0].object_id)
    assert (local(occurrence.start), occurrence.summary) == ("2026-10-26 14:00", "Lecture (moved)")
    assert occurrence.parent_id == results[1].object_id and occurrence.is_exception


def test_a_cancelled_recurrence_id_cancels_one_occurrence(actor):
    cancel = vevent(f"RECURRENCE-ID;TZID={BERLIN}:20261026T090000", "STATUS:CANCELLED", uid="course-1@uni")
    results = upload(actor, weekly(), cancel)
    assert outcome(results) == [("add", "ok", ""), ("cancel", "ok", "")]
    assert ScheduleEvent.objects.get(pk=results[1].object_id).status == EventStatus.CANCELLED


def test_an_override_of_a_series_that_failed_says_so(actor):
    broken = weekly(uid="course-1@uni", count=5000)
    override = vevent(f"RECURRENCE-ID;TZID={BERLIN}:20261026T090000", uid="course-1@uni")
    results = upload(actor, broken, override)
    assert outcome(results) == [
        ("add", "error", "RECURRENCE_TOO_LONG"),
        ("update", "error", "SERIES_NOT_IMPORTED"),
    ]


def test_an_event_longer_than_the_upload_type_allows_is_a_meeting(actor):
    (result,) = upload(actor, vevent(end="DTEND:20261012T070000Z"))  # five days, in a recording upload
    assert (result.status, stored().type) == ("ok", EventType.MEETING)
    assert "imported as a meeting" in result.warnings[0]
    assert outcome(upload(actor, vevent(end="DTEND:20261012T070000Z"))) == [("update", "ok", "UNCHANGED")]


def test_an_rrule_without_an_end_is_an_open_ended_series(actor):
    data = calendar(weekly(count=0).replace("RRULE:FREQ=WEEKLY;COUNT=0", "RRULE:FREQ=WEEKLY"))
    (result,) = import_calendar(actor, data)
    series = stored("course-1@uni")
    assert result.status == "ok" and series.recurrence == {
        "frequency": "weeks", "interval": 1, "week_start_day": "MO", "time_zone": BERLIN,
    }  # fmt: skip
    last = series.occurrences.order_by("-start").first()
    assert series.materialized_until is not None and last.start > actor.now + timedelta(days=3 * 365 - 8)
    assert "RRULE:FREQ=WEEKLY\r\n" in export([series]).decode()
    assert outcome(import_calendar(actor, data)) == [("update", "ok", "UNCHANGED")]


def test_a_secondly_monster_is_refused_quickly(actor):
    began = time.perf_counter()
    results = upload(
        actor,
        vevent("RRULE:FREQ=SECONDLY;COUNT=100000000", uid="count"),
        vevent("RRULE:FREQ=SECONDLY;UNTIL=20991231T000000Z", uid="until"),
        vevent("RRULE:FREQ=SECONDLY;UNTIL=20261107T000000Z", uid="month"),
        vevent("RRULE:FREQ=SECONDLY;BYMONTHDAY=31;BYMONTH=2;UNTIL=20271007T000000Z", uid="never"),
    )
    assert time.perf_counter() - began < 2
    assert [r.status for r in results] == ["error"] * 4
    assert {r.code for r in results} <= {"RECURRENCE_TOO_LONG", "RECURRENCE_UNSUPPORTED", "RECURRENCE_EMPTY"}
    assert not ScheduleEvent.objects.exists()


def test_an_unsupported_rrule_part_fails_its_row(actor):
    (result,) = upload(actor, vevent("RRULE:FREQ=WEEKLY;COUNT=3;BYEASTER=1"))
    assert result.status == "error"


def test_an_override_of_a_slot_the_series_does_not_have_is_an_event_of_its_own(actor):
    override = vevent(f"RECURRENCE-ID;TZID={BERLIN}:20261027T090000", uid="course-1@uni")  # a Tuesday
    data = calendar(weekly(), override)
    results = import_calendar(actor, data)
    assert outcome(results) == [("add", "ok", ""), ("add", "ok", "")]
    assert "has no occurrence at 2026-10-27 08:00Z" in results[1].warnings[0]
    assert outcome(import_calendar(actor, data)) == [("update", "ok", "UNCHANGED")] * 2


def test_an_override_of_a_slot_an_older_revision_of_its_series_had_is_left_out(actor):
    override = vevent(f"RECURRENCE-ID;TZID={BERLIN}:20261027T090000", "SEQUENCE:1", uid="course-1@uni")
    results = upload(actor, weekly("SEQUENCE:2"), override)
    assert outcome(results) == [("add", "ok", ""), ("", "ok", "OCCURRENCE_NOT_FOUND")]
    assert "older revision" in results[1].reason and ScheduleEvent.objects.count() == 7


def test_overrides_without_their_series_are_events_of_their_own(actor):
    first = vevent(f"RECURRENCE-ID;TZID={BERLIN}:20261012T090000", uid="course-1@uni")
    second = vevent(
        f"RECURRENCE-ID;TZID={BERLIN}:20261019T090000", uid="course-1@uni",
        start="DTSTART:20261019T070000Z", end="DTEND:20261019T083000Z",
    )  # fmt: skip
    data = calendar(first, second)
    results = import_calendar(actor, data)
    assert outcome(results) == [("add", "ok", ""), ("add", "ok", "")]
    assert all("neither in the file nor stored" in r.warnings[0] for r in results)
    assert outcome(import_calendar(actor, data)) == [("update", "ok", "UNCHANGED")] * 2


def test_a_recurrence_id_given_as_a_date_names_the_occurrence_of_that_day(actor):
    override = vevent(
        "RECURRENCE-ID;VALUE=DATE:20261019", uid="course-1@uni", summary="Moved",
        start=f"DTSTART;TZID={BERLIN}:20261019T140000", end=f"DTEND;TZID={BERLIN}:20261019T153000",
    )  # fmt: skip
    results = upload(actor, weekly(), override)
    assert outcome(results) == [("add", "ok", ""), ("update", "ok", "")]
    assert "read as the occurrence of 2026-10-19" in results[1].warnings[0]
    moved = ScheduleEvent.objects.get(summary="Moved")
    assert (local(moved.start), local(moved.original_start)) == ("2026-10-19 14:00", "2026-10-19 09:00")


def test_this_and_future_moves_every_later_occurrence(actor):
    override = vevent(
        f"RECURRENCE-ID;RANGE=THISANDFUTURE;TZID={BERLIN}:20261026T090000", uid="course-1@uni",
        summary="Afternoon", start=f"DTSTART;TZID={BERLIN}:20261026T140000",
        end=f"DTEND;TZID={BERLIN}:20261026T153000",
    )  # fmt: skip
    results = upload(actor, weekly(), override)
    assert outcome(results) == [("add", "ok", ""), ("update", "ok", "")]
    occurrences = ScheduleEvent.objects.filter(recurrence_type=RecurrenceType.RECURRENCE).order_by("start")
    assert [(local(o.start), o.summary) for o in occurrences] == [
        ("2026-10-12 09:00", "Lecture"), ("2026-10-19 09:00", "Lecture"),
        ("2026-10-26 14:00", "Afternoon"), ("2026-11-02 14:00", "Afternoon"),
        ("2026-11-09 14:00", "Afternoon"), ("2026-11-16 14:00", "Afternoon"),
    ]  # fmt: skip


def test_rdate_adds_its_dates_and_a_period_its_own_length(actor):
    rdates = f"RDATE;TZID={BERLIN}:20261130T090000,20261201T090000"
    period = f"RDATE;VALUE=PERIOD;TZID={BERLIN}:20261202T140000/20261202T170000"
    data = calendar(weekly(rdates, period, count=2))
    (result,) = import_calendar(actor, data)
    occurrences = ScheduleEvent.objects.filter(recurrence_type=RecurrenceType.RECURRENCE).order_by("start")
    assert result.status == "ok" and [(local(o.start), local(o.end)) for o in occurrences] == [
        ("2026-10-12 09:00", "2026-10-12 10:30"), ("2026-10-19 09:00", "2026-10-19 10:30"),
        ("2026-11-30 09:00", "2026-11-30 10:30"), ("2026-12-01 09:00", "2026-12-01 10:30"),
        ("2026-12-02 14:00", "2026-12-02 17:00"),
    ]  # fmt: skip
    assert outcome(import_calendar(actor, data)) == [("update", "ok", "UNCHANGED")]


def test_an_rdate_without_a_rule_makes_a_series_of_its_dates(actor):
    (result,) = upload(actor, vevent("RDATE:20261014T070000Z,20261021T070000Z"))
    series = stored()
    assert result.status == "ok" and series.occurrences.count() == 3
    assert "RRULE" not in export([series]).decode() and "RDATE" in export([series]).decode()


def test_a_kaltura_export_imports_without_duplicating_occurrences(actor):
    """Kaltura's own export (its iCal writer): occurrences share the series' UID (its
    reference id), repeat its RRULE, have no RECURRENCE-ID, and name it by X-KALTURA-PARENT-ID."""
    series = weekly("X-KALTURA-ID:1001", uid="kaltura-ref-1", count=3)
    copies = [
        weekly(
            f"X-KALTURA-ID:{1002 + n}", "X-KALTURA-PARENT-ID:1001", uid="kaltura-ref-1", count=3, start=day
        )
        for n, day in enumerate(["20261012T090000", "20261019T090000", "20261026T090000"])
    ]
    results = upload(actor, series, *copies)
    assert outcome(results) == [("add", "ok", "")] + [("update", "ok", "UNCHANGED")] * 3
    assert ScheduleEvent.objects.count() == 4  # the series and its three occurrences


def test_a_cancelled_kaltura_occurrence_is_found_by_its_start(actor):
    series = weekly("X-KALTURA-ID:1001", uid="kaltura-ref-1", count=3)
    cancelled = weekly(
        "X-KALTURA-ID:1003", "X-KALTURA-PARENT-ID:1001", "STATUS:CANCELLED", uid="kaltura-ref-1", count=3,
        start="20261019T090000",
    )  # fmt: skip
    results = upload(actor, series, cancelled)
    assert outcome(results) == [("add", "ok", ""), ("cancel", "ok", "")]
    assert [o.status for o in occurrences(stored("kaltura-ref-1"))] == [2, 1, 2]


def weekly_series_of(actor, count: int) -> ScheduleEvent:
    """Another partner's weekly Berlin series, Mondays 09:00-10:30 from 12 October."""
    rule = {"frequency": "weeks", "count": count, "time_zone": BERLIN}
    data = {
        "type": 1,
        "summary": "Theirs",
        "start": at("2026-10-12 09:00", BERLIN),
        "end": at("2026-10-12 10:30", BERLIN),
        "recurrence_type": RecurrenceType.RECURRING,
        "recurrence": rule,
    }
    return scheduling.create_event(actor, data)


def test_occurrences_exported_without_their_series_import_as_single_events(actor, outsider):
    theirs = weekly_series_of(outsider, count=2)
    feed = export(occurrences(theirs))  # what devices read: recurrenceTypeIn=0,2
    first = import_calendar(actor, feed)
    again = import_calendar(actor, feed)
    assert outcome(first) == [("add", "ok", "")] * 2 and {r.reason for r in again} == {"unchanged"}
    mine = ScheduleEvent.objects.filter(partner=actor.partner).order_by("start")
    assert [(e.recurrence_type, e.ical_uid) for e in mine] == [
        (RecurrenceType.NONE, o.ical_uid) for o in occurrences(theirs)
    ]


def test_an_occurrence_naming_a_series_by_x_kaltura_id_is_refused(actor, make_series):
    series = make_series(count=3)
    override = vevent(f"X-KALTURA-ID:{series.pk}", f"RECURRENCE-ID;TZID={BERLIN}:20260914T090000")
    (result,) = upload(actor, override)
    assert (result.status, result.code) == ("error", "NOT_AN_OCCURRENCE")


def test_another_partners_edited_series_imports_with_its_occurrences(actor, outsider):
    theirs = weekly_series_of(outsider, count=3)
    first, second, _ = occurrences(theirs)
    scheduling.cancel_event(outsider, first.pk)
    scheduling.update_event(
        outsider,
        second.pk,
        {
            "summary": "Moved",
            "start": second.start + timedelta(hours=2),
            "end": second.end + timedelta(hours=2),
        },
    )
    results = import_calendar(
        actor, export(ScheduleEvent.objects.filter(partner=outsider.partner).order_by("pk"))
    )
    assert {r.status for r in results} == {"ok"}
    mine = occurrences(ScheduleEvent.objects.get(partner=actor.partner, ical_uid=theirs.ical_uid))
    # The edited two came as overrides under the series' UID; the unedited one under its own.
    assert mine[2].ical_uid == occurrences(theirs)[2].ical_uid
    assert (mine[0].status, mine[1].summary, mine[1].start) == (
        EventStatus.CANCELLED,
        "Moved",
        second.start + timedelta(hours=2),
    )
    assert mine[1].is_exception and not mine[2].is_exception


def test_a_cancelled_override_of_an_unknown_series_cancels_nothing(actor):
    (result,) = upload(
        actor, vevent(f"RECURRENCE-ID;TZID={BERLIN}:20261026T090000", "STATUS:CANCELLED", uid="nope")
    )
    assert (result.action, result.status, result.code) == ("cancel", "ok", "NOTHING_TO_CANCEL")


# ---------------------------------------------------------------- cancelling


def test_status_cancelled_cancels_the_matching_event(actor, make_event):
    event = make_event(reference_id="lecture-1@uni.example")
    (result,) = upload(actor, vevent("STATUS:CANCELLED"))
    event.refresh_from_db()
    assert (result.action, result.status, result.object_id) == ("cancel", "ok", event.pk)
    assert event.status == EventStatus.CANCELLED


def test_method_cancel_cancels_every_event_of_its_calendar(actor, make_event):
    event = make_event(reference_id="lecture-1@uni.example")
    upload(actor, vevent(), head="METHOD:CANCEL")
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED


def test_cancelling_a_series_cancels_its_occurrences(actor):
    upload(actor, weekly())
    upload(actor, vevent("STATUS:CANCELLED", uid="course-1@uni"))
    assert {o.status for o in occurrences(stored("course-1@uni"))} == {EventStatus.CANCELLED}


def test_cancelling_an_unknown_event_creates_nothing(actor):
    (result,) = upload(actor, vevent("STATUS:CANCELLED"))
    assert (result.action, result.status, result.object_id, result.code) == (
        "cancel",
        "ok",
        None,
        "NOTHING_TO_CANCEL",
    )
    assert not ScheduleEvent.objects.exists()


# ---------------------------------------------------------------- matching and updating


def test_x_kaltura_id_updates_that_event(actor, make_event):
    event = make_event(summary="Old")
    (result,) = upload(actor, vevent(f"X-KALTURA-ID:{event.pk}", uid="some-other-uid", summary="New"))
    event.refresh_from_db()
    assert (result.action, result.object_id, event.summary) == ("update", event.pk, "New")
    assert event.sequence == scheduling.next_sequence(scheduling.next_sequence(1))


def test_a_uid_equal_to_a_reference_id_updates_that_event(actor, make_event):
    event = make_event(reference_id="lecture-1@uni.example")
    (result,) = upload(actor, vevent(start="DTSTART:20261008T070000Z", end="DTEND:20261008T080000Z"))
    event.refresh_from_db()
    assert (result.action, result.object_id, event.start) == ("update", event.pk, at("2026-10-08 07:00"))


def test_our_own_export_reimports_onto_the_same_rows(actor, make_event, make_series, make_resource):
    room = make_resource("Hall 1")
    events = [make_event(resources=[room]), make_series(count=3)]
    rows = list(ScheduleEvent.objects.order_by("pk"))
    results = import_calendar(actor, export(rows))
    assert [r.object_id for r in results] == [e.pk for e in rows]
    assert {r.code for r in results} == {"UNCHANGED"}
    assert ScheduleEvent.objects.count() == len(rows) and events


def test_an_absent_property_leaves_the_field_alone_and_an_empty_one_clears_it(actor, make_event):
    make_event(reference_id="lecture-1@uni.example", description="Notes", location="Hall 1")
    upload(actor, vevent("LOCATION:"))
    assert (stored_by_reference().description, stored_by_reference().location) == ("Notes", "")


def stored_by_reference(reference_id: str = "lecture-1@uni.example") -> ScheduleEvent:
    return ScheduleEvent.objects.get(reference_id=reference_id, recurrence_type=RecurrenceType.NONE)


def test_resource_ids_on_an_update_become_the_whole_link_set(actor, make_event, make_resource):
    room, camera, other = make_resource("Hall 1"), make_resource("Cam 1"), make_resource("Hall 2")
    event = make_event(reference_id="lecture-1@uni.example", resources=[room, camera])
    upload(actor, vevent(f"X-KALTURA-RESOURCE-IDS:{camera.pk},{other.pk}"))
    assert scheduling.resource_ids_of(event) == sorted([camera.pk, other.pk])


def test_an_update_cannot_change_the_type(actor, make_event):
    make_event(reference_id="lecture-1@uni.example")
    (result,) = upload(actor, vevent("X-KALTURA-TYPE:2"))
    assert (result.status, result.code) == ("error", "EVENT_TYPE_CANT_CHANGE")


def test_a_series_update_regenerates_its_occurrences(actor):
    upload(actor, weekly(count=4))
    (result,) = upload(actor, weekly(count=6))
    assert (result.action, len(occurrences(stored("course-1@uni")))) == ("update", 6)


# ---------------------------------------------------------------- re-importing


def test_importing_the_same_file_again_changes_nothing(actor, make_resource):
    room = make_resource("Hall 1")
    data = calendar(
        vevent(f"X-KALTURA-RESOURCE-IDS:{room.pk}", "CATEGORIES:a, b", "DESCRIPTION:x", uid="single"),
        weekly(f"EXDATE;TZID={BERLIN}:20261019T090000", f"X-KALTURA-RESOURCE-IDS:{room.pk}"),
        vevent(
            f"RECURRENCE-ID;TZID={BERLIN}:20261026T090000",
            uid="course-1@uni",
            summary="Moved",
            start="DTSTART:20261026T130000Z",
            end="DTEND:20261026T143000Z",
        ),  # fmt: skip
        vevent(f"RECURRENCE-ID;TZID={BERLIN}:20261102T090000", "STATUS:CANCELLED", uid="course-1@uni"),
        vevent("STATUS:CANCELLED", uid="never-there"),
        vevent(uid="all-day", start="DTSTART;VALUE=DATE:20261207", end=""),
    )
    first = import_calendar(actor, data)
    assert {r.status for r in first} == {"ok"}, [(r.code, r.reason) for r in first]
    snapshot = list(
        ScheduleEvent.objects.order_by("pk").values_list("pk", "updated_at", "sequence", "status")
    )
    audits = AuditEntry.objects.count()
    later = writes.Actor(actor.partner, actor.now + timedelta(hours=1), "alice")
    again = import_calendar(later, data)
    assert [r.object_id for r in again] == [r.object_id for r in first]
    assert [r.reason for r in again if r.action == "update"] == ["unchanged"] * 4
    assert (
        list(ScheduleEvent.objects.order_by("pk").values_list("pk", "updated_at", "sequence", "status"))
        == snapshot
    )
    assert AuditEntry.objects.count() == audits


# ---------------------------------------------------------------- tenants


def test_another_partners_kaltura_id_is_never_touched(actor, outsider):
    theirs = scheduling.create_event(
        outsider,
        {"type": 1, "summary": "Theirs", "start": at("2026-10-07 07:00"), "end": at("2026-10-07 08:00")},
    )
    (result,) = upload(actor, vevent(f"X-KALTURA-ID:{theirs.pk}", summary="Mine"))
    theirs.refresh_from_db()
    assert (result.action, theirs.summary, theirs.sequence) == ("add", "Theirs", scheduling.next_sequence(1))
    assert ScheduleEvent.objects.get(pk=result.object_id).partner == actor.partner


def test_another_partners_uid_is_never_touched(actor, outsider):
    data = {"type": 1, "summary": "Theirs", "start": at("2026-10-07 07:00"), "end": at("2026-10-07 08:00")}
    theirs = scheduling.create_event(outsider, {**data, "reference_id": "shared@uid"})
    results = upload(actor, vevent("STATUS:CANCELLED", uid="shared@uid"), vevent(uid=theirs.ical_uid))
    theirs.refresh_from_db()
    assert (theirs.status, theirs.sequence) == (EventStatus.ACTIVE, scheduling.next_sequence(1))
    assert outcome(results) == [("cancel", "ok", "NOTHING_TO_CANCEL"), ("add", "ok", "")]
    mine = ScheduleEvent.objects.filter(partner=actor.partner)
    assert list(mine.values_list("ical_uid", flat=True)) == [theirs.ical_uid]


def test_an_export_of_another_partner_imports_as_new_events(actor, outsider):
    data = {"type": 1, "summary": "Theirs", "start": at("2026-10-07 07:00"), "end": at("2026-10-07 08:00")}
    theirs = scheduling.create_event(outsider, data)
    (result,) = import_calendar(actor, export([theirs]))
    mine = ScheduleEvent.objects.get(pk=result.object_id)
    assert (result.action, mine.partner, mine.ical_uid) == ("add", actor.partner, theirs.ical_uid)


# ---------------------------------------------------------------- conflicts


def test_a_conflicting_row_fails_alone_when_the_partner_prevents_conflicts(strict, make_event, make_resource):
    room = make_resource("Hall 1")
    booked = make_event("2026-10-07 07:00", 60, resources=[room])
    results = upload(
        strict,
        vevent(f"X-KALTURA-RESOURCE-IDS:{room.pk}", uid="clash"),
        vevent(
            f"X-KALTURA-RESOURCE-IDS:{room.pk}",
            uid="free",
            start="DTSTART:20261008T070000Z",
            end="DTEND:20261008T080000Z",
        ),
        vevent(
            f"X-KALTURA-RESOURCE-IDS:{room.pk}",
            uid="clash-in-file",
            start="DTSTART:20261008T073000Z",
            end="DTEND:20261008T090000Z",
        ),
    )
    assert outcome(results) == [
        ("add", "error", "SCHEDULE_EVENT_RESOURCE_CONFLICT"),
        ("add", "ok", ""),
        ("add", "error", "SCHEDULE_EVENT_RESOURCE_CONFLICT"),
    ]
    assert str(booked.pk) in results[0].reason and str(results[1].object_id) in results[2].reason


def test_a_blackout_refuses_bookings_inside_it(strict, make_event, make_resource):
    room = make_resource("Hall 1")
    make_event("2026-10-07 00:00", 24 * 60, type=EventType.BLACKOUT)
    (result,) = upload(strict, vevent(f"X-KALTURA-RESOURCE-IDS:{room.pk}"))
    assert (result.status, result.code) == ("error", "SCHEDULE_EVENT_BLACKOUT_CONFLICT")


# ---------------------------------------------------------------- bad input


def test_ids_too_large_for_the_database_fail_their_row(actor):
    results = upload(
        actor,
        vevent("X-KALTURA-ID:99999999999999999999999", uid="a"),
        vevent("X-KALTURA-RESOURCE-IDS:99999999999999999999999", uid="b"),
        vevent(uid="c"),
    )
    assert outcome(results) == [
        ("add", "error", "ICAL_BAD_PROPERTY"), ("add", "error", "RESOURCE_NOT_FOUND"), ("add", "ok", ""),
    ]  # fmt: skip


def test_a_date_out_of_range_fails_its_row(actor):
    (result,) = upload(actor, vevent(start="DTSTART;TZID=Asia/Tokyo:99991231T235900", end=""))
    assert (result.status, result.code) == ("error", "DATE_OUT_OF_RANGE")


def test_it_refuses_a_file_too_large(actor):
    assert refusal(actor, calendar(vevent()), max_bytes=100) == "ICAL_TOO_LARGE"


def test_it_refuses_a_file_that_is_not_icalendar(actor):
    assert refusal(actor, b"Name,Start\nLecture,2026-10-07\n") == "ICAL_NOT_ICALENDAR"
    assert refusal(actor, b"BEGIN:VCARD\r\nFN:Alice\r\nEND:VCARD\r\n") == "ICAL_NOT_ICALENDAR"


def test_it_refuses_a_file_that_is_not_utf8(actor):
    assert (
        refusal(actor, calendar(vevent(summary="Vorlesung")).replace(b"Vorlesung", b"Vorl\xe9sung"))
        == "ICAL_NOT_TEXT"
    )
    assert refusal(actor, calendar(vevent()) + b"\x00") == "ICAL_NOT_TEXT"


def test_it_refuses_a_garbled_file_before_applying_anything(actor):
    data = calendar(vevent()).replace(b"VERSION:2.0", b"this line means nothing")
    assert refusal(actor, data) == "ICAL_MALFORMED"
    assert refusal(actor, calendar(vevent())[:-40]) == "ICAL_MALFORMED"  # cut short
    assert not ScheduleEvent.objects.exists()


def test_a_garbled_line_inside_a_vevent_is_left_out_with_a_warning(actor):
    results = upload(
        actor,
        vevent("this line means nothing", uid="bad"),
        vevent("DTSTAMP:yesterday", "PRIORITY:high", uid="worse"),
        vevent(uid="good"),
    )
    assert outcome(results) == [("add", "ok", "")] * 3
    assert "cannot be read" in results[0].warnings[0]
    assert [w.split(" ")[0] for w in results[1].warnings] == ["DTSTAMP", "PRIORITY"]
    assert stored("worse").priority is None


def test_a_vevent_whose_dtstart_cannot_be_read_is_refused_with_the_reason(actor):
    (result,) = upload(actor, vevent(uid="bad", start="DTSTART:2026-10-07"))
    assert (result.status, result.code) == ("error", "MISSING_DTSTART")
    assert "DTSTART cannot be read" in result.warnings[0]


def test_it_refuses_too_many_events_quickly(actor):
    data = calendar(*[vevent(uid=f"e{n}") for n in range(100_000)])
    began = time.perf_counter()
    assert refusal(actor, data, max_bytes=len(data)) == "ICAL_TOO_MANY_EVENTS"
    assert time.perf_counter() - began < 1


def test_it_refuses_a_file_of_other_components(actor):
    data = calendar(vevent(), *["BEGIN:VTODO\r\nUID:t\r\nEND:VTODO"] * 300)
    assert refusal(actor, data, max_events=3) == "ICAL_TOO_MANY_COMPONENTS"


def test_it_reads_a_file_with_bare_line_feeds(actor):
    results = import_calendar(actor, calendar(vevent()).replace(b"\r\n", b"\n"))
    assert outcome(results) == [("add", "ok", "")]


def test_a_file_without_events_gives_no_results(actor):
    assert import_calendar(actor, calendar()) == []


# ---------------------------------------------------------------- failures nobody foresaw


# Sub-daily rules whose BY-filter never meets the interval from DTSTART (07:00): dateutil refused
# them with a bare ValueError, which stopped the whole file.
NEVER_MATCHING = (
    "FREQ=HOURLY;INTERVAL=2;BYHOUR=1;COUNT=3",
    "FREQ=MINUTELY;INTERVAL=2;BYMINUTE=1;COUNT=3",
    "FREQ=HOURLY;INTERVAL=24;BYHOUR=13;COUNT=2",
)


def test_rrules_dateutil_refuses_never_stop_the_file(actor):
    rules = [vevent(f"RRULE:{rule}", uid=f"rule-{n}@uni") for n, rule in enumerate(NEVER_MATCHING)]
    *odd, fine = upload(actor, *rules, vevent(uid="fine@uni"))
    assert fine.status == "ok" and all(r.status == "ok" or r.code for r in odd)
    made = set(ScheduleEvent.objects.filter(ical_uid__startswith="rule-").values_list("ical_uid", flat=True))
    assert made == {r.reference_id for r in odd if r.status == "ok"}


def test_a_vevent_that_meets_a_bug_fails_alone_leaving_nothing_of_itself(
    actor, make_event, make_resource, monkeypatch
):
    event = make_event(reference_id="lecture-1@uni.example")
    room = make_resource("Hall 1")

    def broken(*args, **kwargs):
        raise RuntimeError("a bug after the event's fields were written")

    monkeypatch.setattr(scheduling, "replace_resources", broken)
    results = upload(
        actor, vevent(f"X-KALTURA-RESOURCE-IDS:{room.pk}", summary="Renamed"), vevent(uid="b@uni")
    )
    assert outcome(results) == [("update", "error", "INTERNAL_ERROR"), ("add", "ok", "")]
    assert "RuntimeError" in results[0].reason and "Traceback" not in results[0].reason
    event.refresh_from_db()
    assert event.summary == "Lecture"


def test_a_vevent_that_cannot_be_read_for_a_bug_fails_alone(actor, monkeypatch):
    real = ical_read._values

    def values(props):
        if str(props.get("SUMMARY")) == "Boom":
            raise KeyError("a bug in reading")
        return real(props)

    monkeypatch.setattr(ical_read, "_values", values)
    results = upload(actor, vevent(uid="a@uni", summary="Boom"), vevent(uid="b@uni"))
    assert outcome(results) == [("add", "error", "INTERNAL_ERROR"), ("add", "ok", "")]


def test_a_batch_of_new_events_that_meets_a_bug_is_applied_again_one_by_one(actor, monkeypatch):
    real = batch_scheduling.create_events

    def create_events(actor, rows, **options):
        if any(row.ical_uid == "bad@uni" for row in rows):
            raise RuntimeError("a bug in one row of the batch")
        return real(actor, rows, **options)

    monkeypatch.setattr(batch_scheduling, "create_events", create_events)
    results = upload(actor, vevent(uid="a@uni"), vevent(uid="bad@uni"), vevent(uid="b@uni"))
    assert outcome(results) == [("add", "ok", ""), ("add", "error", "INTERNAL_ERROR"), ("add", "ok", "")]
    assert sorted(ScheduleEvent.objects.values_list("ical_uid", flat=True)) == ["a@uni", "b@uni"]


# ---------------------------------------------------------------- round trip (property)

# Text as people type it, with what iCal must escape: commas, semicolons, backslashes, newlines.
TEXT = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(["\n", ",", ";", "\\", ":", '"'])
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC")


@st.composite
def generated_event(draw) -> dict:
    start = draw(st.datetimes(datetime(2026, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC)))
    data = {
        "type": draw(st.sampled_from([EventType.RECORD, EventType.LIVE_STREAM, EventType.MEETING])),
        "summary": draw(st.text(TEXT, min_size=1, max_size=256)),
        "description": draw(st.text(TEXT, max_size=2000)),
        "location": draw(st.text(TEXT, max_size=60)),
        "tags": ",".join(draw(st.lists(st.text(string.ascii_lowercase, min_size=1, max_size=8), max_size=3))),
        "organizer": draw(st.sampled_from(["", "prof@uni.example", "mailto:prof@uni.example", "Prof. Ada"])),
        "start": start.replace(second=0, microsecond=0),
        "end": start.replace(second=0, microsecond=0) + timedelta(minutes=draw(st.integers(1, 600))),
    }
    weekly = draw(st.none() | st.tuples(st.sampled_from(ZONES), st.integers(1, 12)))
    if weekly:
        data["recurrence_type"] = RecurrenceType.RECURRING
        data["recurrence"] = {"frequency": "weeks", "count": weekly[1], "time_zone": weekly[0]}
        # An occurrence edited on its own: cancelled, or moved and renamed.
        data["edit"] = draw(
            st.none()
            | st.tuples(st.just("cancel"), st.integers(0, weekly[1] - 1))
            | st.tuples(
                st.just("move"),
                st.integers(0, weekly[1] - 1),
                st.integers(-300, 300),
                st.text(TEXT, min_size=1, max_size=40),
            )
        )
    return data


def create(actor, data: dict) -> None:
    """The generated event as the API would make it, with its occurrence edit."""
    edit = data.pop("edit", None)
    event = scheduling.create_event(actor, data)
    if edit is None:
        return
    occurrence = occurrences(event)[edit[1]]
    if edit[0] == "cancel":
        scheduling.cancel_event(actor, occurrence.pk)
    else:
        moved = occurrence.start + timedelta(minutes=edit[2])
        changes = {"start": moved, "end": moved + (occurrence.end - occurrence.start), "summary": edit[3]}
        scheduling.update_event(actor, occurrence.pk, changes)


MASKED = re.compile(
    r"^(X-KALTURA-ID|X-KALTURA-PARTNER-ID|X-KALTURA-PARENT-ID|DTSTAMP|LAST-MODIFIED)([;:]).*$", re.M
)


def exported(partner) -> str:
    """The partner's whole list as format=ical, unfolded, with the values that name rows masked,
    its VEVENTs in the order of their text: an edited occurrence goes out under its series' UID,
    so its own (the database's order) is a different one in each partner."""
    body = export(ScheduleEvent.objects.filter(partner=partner))
    text = MASKED.sub(r"\1\2*", body.decode().replace("\r\n ", "")).removesuffix("END:VCALENDAR\r\n")
    head, *events = text.split("BEGIN:VEVENT")
    return head + "".join(sorted(events))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(generated_event(), min_size=1, max_size=4))
def test_an_export_imports_into_another_partner_and_exports_the_same(actor, events):
    with transaction.atomic():
        for data in events:
            create(actor, data)
        fresh = Partner.objects.create(
            id=5001, name="Fresh", admin_secret="a", secret="b", time_zone="Asia/Tokyo"
        )
        results = import_calendar(writes.Actor(fresh, actor.now, "bob"), export_of(actor.partner))
        assert {r.status for r in results} == {"ok"}, [r.reason for r in results if r.status != "ok"]
        assert exported(fresh) == exported(actor.partner)
        transaction.set_rollback(True)


def export_of(partner) -> bytes:
    return export(ScheduleEvent.objects.filter(partner=partner).order_by("pk"))


# Stream credentials as a partner may type them: what iCal TEXT escapes, and line breaks.
SECRET = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(["\n", ",", ";", "\\"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=SECRET, username=SECRET)
def test_stream_credentials_read_back_as_they_are(make_event, password, username):
    entry = Entry(type=EntryType.LIVE_STREAM, stream_password=password, stream_username=username)
    component = ical.vevent(make_event(), [], entry)
    (read,) = icalendar.Calendar.from_ical(ical.calendar([component])).walk("VEVENT")

    def text(name: str) -> str:  # an X- property is read raw: read its value as TEXT, as SUMMARY's
        line = f"BEGIN:VEVENT\r\nSUMMARY:{read[name].to_ical().decode()}\r\nEND:VEVENT\r\n"
        return str(icalendar.Event.from_ical(line.encode())["SUMMARY"])

    assert (text("X-KALTURA-LIVE-STREAM-PASSWORD"), text("X-KALTURA-LIVE-STREAM-USERNAME")) == (
        password,
        username,
    )


def test_an_organizer_address_goes_out_as_a_mailto_uri_once(make_event):
    plain, uri = make_event(organizer="prof@uni.example"), make_event(organizer="mailto:prof@uni.example")
    body = export([plain, uri]).decode()
    assert body.count("ORGANIZER:mailto:prof@uni.example") == 2 and "mailto:mailto:" not in body


def test_an_organizer_that_is_not_an_address_goes_out_as_typed(make_event):
    assert "ORGANIZER:Prof. Ada" in export([make_event(organizer="Prof. Ada")]).decode()


@pytest.mark.parametrize("organizer", ["prof@uni.example", "mailto:prof@uni.example"])
def test_reimporting_an_unchanged_organizer_keeps_the_sequence(actor, make_event, organizer):
    event = make_event(organizer=organizer)
    (result,) = import_calendar(actor, export([event]))
    assert (result.code, ScheduleEvent.objects.get(pk=event.pk).sequence) == ("UNCHANGED", event.sequence)


def test_an_edited_occurrence_carries_its_series_uid(actor):
    upload(actor, weekly(count=3))
    series = stored("course-1@uni")
    moved = scheduling.update_event(actor, occurrences(series)[1].pk, {"summary": "Moved"})
    (vevent_of_moved,) = [
        c for c in icalendar.Calendar.from_ical(export([moved])).walk("VEVENT") if "RECURRENCE-ID" in c
    ]
    assert str(vevent_of_moved["UID"]) == series.ical_uid != moved.ical_uid


def test_a_feed_gives_an_edited_occurrence_its_own_uid(actor):
    upload(actor, weekly(count=3))
    moved = occurrences(stored("course-1@uni"))[1]
    scheduling.update_event(actor, moved.pk, {"summary": "Moved"})
    (fragment,) = fragments.render([ScheduleEvent.objects.get(pk=moved.pk)])
    assert f"UID:{moved.ical_uid}" in fragment.replace("\r\n ", "") and "RECURRENCE-ID" not in fragment


def test_a_series_starting_at_a_clock_time_the_zone_skips_keeps_the_written_time(actor):
    start, end = f"DTSTART;TZID={BERLIN}:20260329T023000", f"DTEND;TZID={BERLIN}:20260329T033000"
    data = calendar(vevent("RRULE:FREQ=DAILY;COUNT=3", start=start, end=end))
    (result,) = import_calendar(actor, data)
    assert result.status == "ok" and "does not exist in Europe/Berlin" in result.warnings[0]
    occurrences = ScheduleEvent.objects.filter(recurrence_type=RecurrenceType.RECURRENCE).order_by("start")
    # RFC 5545 §3.3.5: the skipped time moves forward by the gap; the other days keep 02:30.
    assert [local(o.start) for o in occurrences] == [
        "2026-03-29 03:30",
        "2026-03-30 02:30",
        "2026-03-31 02:30",
    ]
    assert outcome(import_calendar(actor, data)) == [("update", "ok", "UNCHANGED")]


def test_a_file_cut_short_before_end_vcalendar_is_read_to_its_end(actor):
    data = calendar(vevent()).replace(b"END:VCALENDAR\r\n", b"")
    (result,) = import_calendar(actor, data)
    assert result.status == "ok" and "without END:VCALENDAR" in result.warnings[0]
