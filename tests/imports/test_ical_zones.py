"""Time zones of imported calendars (calendar_app/imports/ical_zones.py, issue #18 item 3): what
each TZID, floating time and X-WR-TIMEZONE reads as, in UTC, and the guess a row is warned of.
The partner's zone is Europe/Berlin."""

from __future__ import annotations

import icalendar

from calendar_app.imports import ical_read
from calendar_app.imports.ical_apply import import_calendar
from calendar_app.imports.ical_zones import Zones
from calendar_app.models import EventStatus
from tests.conftest import at
from tests.imports.corpus import CORPUS_DIR
from tests.imports.test_ical_import import CAMPUS_ZONE, calendar, local, occurrences, stored, vevent

BERLIN = "Europe/Berlin"


def read_one(*components: str, head: str = "", partner) -> ical_read.Item:
    (item,) = ical_read.read(partner, calendar(*components, head=head))
    assert item.error is None, item.error
    return item


def at_nine(tzid: str, day: str = "20261007", *lines: str) -> str:
    """A VEVENT from 09:00 to 10:00 on `day` in `tzid` ("" for a floating time)."""
    param = f";TZID={tzid}" if tzid else ""
    return vevent(*lines, start=f"DTSTART{param}:{day}T090000", end=f"DTEND{param}:{day}T100000")


# ---------------------------------------------------------------- names a zone database knows


def test_a_windows_zone_name_is_read_without_a_guess(partner):
    item = read_one(at_nine("Eastern Standard Time"), partner=partner)
    assert item.start.at == at("2026-10-07 09:00", "America/New_York")
    assert (item.start.zone, item.start.guess) == ("America/New_York", "")


def test_an_outlook_display_name_is_read_in_the_zone_of_a_city_it_names(partner):
    item = read_one(at_nine('"(UTC-05:00) Bogota, Lima, Quito, Rio Branco"'), partner=partner)
    assert item.start.at == at("2026-10-07 14:00")
    assert item.end == at("2026-10-07 15:00")
    assert item.warnings == [
        'TZID "(UTC-05:00) Bogota, Lima, Quito, Rio Branco" read as America/Bogota, '
        "the zone of a city it names."
    ]


def test_a_display_name_is_read_only_where_a_city_has_the_offset_it_states(partner):
    item = read_one(at_nine('"(UTC+05:00) Bogota"'), partner=partner)
    assert item.start.at == at("2026-10-07 09:00", BERLIN)
    assert "names no known zone" in item.start.guess


def test_a_vtimezone_of_the_file_wins_over_a_display_name(partner):
    zone = CAMPUS_ZONE.replace("Campus Time", "(UTC-05:00) Bogota")
    item = read_one(zone, at_nine('"(UTC-05:00) Bogota"', "20261207"), partner=partner)
    assert item.start.at == at("2026-12-07 08:00")  # the file's Central European rules
    assert item.start.guess == ""


# ---------------------------------------------------------------- names nobody defines


def test_an_unknown_tzid_is_read_in_the_partners_zone_with_a_guess(partner):
    item = read_one(at_nine('"Western/Central Europe"'), partner=partner)
    assert (item.start.at, item.end) == (at("2026-10-07 09:00", BERLIN), at("2026-10-07 10:00", BERLIN))
    assert item.warnings == [
        'TZID "Western/Central Europe" names no known zone and the file defines none: '
        "read in the partner's zone Europe/Berlin."
    ]


def test_an_unknown_tzid_is_read_in_the_calendars_x_wr_timezone(partner):
    item = read_one(at_nine("Foo"), head="X-WR-TIMEZONE:America/New_York", partner=partner)
    assert item.start.at == at("2026-10-07 09:00", "America/New_York")
    assert item.start.guess.endswith("read in the calendar's X-WR-TIMEZONE America/New_York.")


def test_a_series_in_an_unknown_tzid_repeats_in_the_zone_it_was_read_in(partner):
    series = at_nine("Foo", "20261019", "RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE:20261026T080000Z")
    item = read_one(series, partner=partner)
    assert item.series_zone == BERLIN
    assert item.exdates == [at("2026-10-26 09:00", BERLIN)]  # after the change to winter time


def test_a_series_in_a_vtimezone_no_iana_zone_agrees_with_is_refused_with_its_reason(partner):
    odd = CAMPUS_ZONE.replace("+0100", "+0117").replace("+0200", "+0217")
    (item,) = ical_read.read(
        partner, calendar(odd, at_nine('"Campus Time"', "20261012", "RRULE:FREQ=DAILY;COUNT=3"))
    )
    assert item.error.code == "UNKNOWN_TIME_ZONE"
    assert "'Campus Time'" in item.error.message and "agrees with no IANA zone" in item.error.message


# ---------------------------------------------------------------- floating times and X-WR-TIMEZONE


def test_a_floating_time_is_read_in_the_partners_zone_without_a_guess(partner):
    item = read_one(at_nine(""), partner=partner)
    assert (item.start.at, item.start.guess, item.warnings) == (at("2026-10-07 09:00", BERLIN), "", [])


def test_a_floating_time_is_read_in_the_calendars_x_wr_timezone_with_a_guess(partner):
    item = read_one(at_nine(""), head="X-WR-TIMEZONE:America/New_York", partner=partner)
    assert (item.start.at, item.end) == (at("2026-10-07 13:00"), at("2026-10-07 14:00"))
    assert item.warnings == ["A floating time is read in the calendar's X-WR-TIMEZONE America/New_York."]


def test_an_x_wr_timezone_nobody_knows_is_ignored_and_said(partner):
    item = read_one(at_nine(""), head="X-WR-TIMEZONE:Mars/Base", partner=partner)
    assert item.start.at == at("2026-10-07 09:00", BERLIN)
    assert item.warnings == [
        "A floating time is read in the partner's zone Europe/Berlin: "
        'X-WR-TIMEZONE "Mars/Base" names no known zone.'
    ]


def test_an_all_day_date_stays_in_the_partners_zone_under_x_wr_timezone(partner):
    day = vevent(start="DTSTART;VALUE=DATE:20261007", end="DTEND;VALUE=DATE:20261008")
    item = read_one(day, head="X-WR-TIMEZONE:America/New_York", partner=partner)
    assert (item.start.at, item.end) == (at("2026-10-07 00:00", BERLIN), at("2026-10-08 00:00", BERLIN))
    assert item.warnings == []


def test_a_utc_series_repeats_at_the_x_wr_timezones_wall_time(partner):
    # 09:00 in New York (EDT), weekly across the change to EST on 1 November, as
    # recurring_ical_events expands a Google export.
    series = vevent(
        "RRULE:FREQ=WEEKLY;COUNT=3", start="DTSTART:20261026T130000Z", end="DTEND:20261026T140000Z"
    )
    item = read_one(series, head="X-WR-TIMEZONE:America/New_York", partner=partner)
    assert (item.start.at, item.series_zone, item.warnings) == (
        at("2026-10-26 13:00"),
        "America/New_York",
        [],
    )
    assert item.start.wall.hour == 9


def test_each_calendar_of_a_file_reads_floating_times_in_its_own_x_wr_timezone():
    data = calendar(at_nine(""), head="X-WR-TIMEZONE:America/New_York") + calendar(
        at_nine(""), head="X-WR-TIMEZONE:Asia/Tokyo"
    )
    new_york, tokyo = icalendar.Calendar.from_ical(data, multiple=True)
    zones = Zones(BERLIN, [new_york, tokyo])
    starts = [
        zones.for_calendar(c).moment(c.walk("VEVENT")[0]["DTSTART"], "DTSTART").at for c in (new_york, tokyo)
    ]
    assert starts == [at("2026-10-07 09:00", "America/New_York"), at("2026-10-07 09:00", "Asia/Tokyo")]
    # The file as a whole names no one X-WR-TIMEZONE: the partner's zone.
    assert zones.moment(new_york.walk("VEVENT")[0]["DTSTART"], "DTSTART").at == at("2026-10-07 09:00", BERLIN)


def test_khals_series_in_a_tzid_nobody_defines_reads_as_khal_reads_it(actor):
    # tests/data/ical_corpus/khal__event_dtr_no_tz_exdatez.ics: DTSTART;TZID="LOLOLOL" 10:00,
    # monthly six times, EXDATE 2012-06-03 08:00Z. khal's own test expects five occurrences at
    # 10:00 in Berlin, June's cancelled; recurring_ical_events reads the series in UTC, keeping six.
    (result,) = import_calendar(actor, (CORPUS_DIR / "khal__event_dtr_no_tz_exdatez.ics").read_bytes())
    assert 'TZID "LOLOLOL" names no known zone' in result.warnings[0]
    series = stored("5624b646-ba12-4dbd-ba9f-8d66319b0776")
    active = [local(o.start) for o in occurrences(series) if o.status == EventStatus.ACTIVE]
    assert active == [f"2012-{month:02d}-03 10:00" for month in (4, 5, 7, 8, 9)]
