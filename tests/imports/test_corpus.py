"""The iCal corpus (tests/data/ical_corpus, real exports; SOURCES.md) imports as calendar
clients read it: every file the reference (`recurring_ical_events`) can read stores the events it
expands over a year, except the few listed with the reason we read them otherwise; every job
ends with per-row results, and every event left out is explained on its row (an error, or a
warning). bench/ical_corpus.py prints the same comparison as a table and a share."""

from __future__ import annotations

import pytest

from calendar_app.models import BulkUpload
from tests.imports import corpus

ENDED = {"FINISHED", "FINISHED_PARTIALLY", "FAILED"}
# Files read otherwise than the reference reads them, on purpose, and why. Every other file the
# reference can read must match it (issue #18: 190 of the 195 it reads).
READ_OTHERWISE = {
    # A DTSTART in a TZID nobody defines is read in the partner's zone, and a UTC EXDATE then
    # cancels one occurrence, as khal's own test of the file has it; the reference reads that
    # series in UTC (tests/imports/test_ical_zones.py).
    "khal__event_dtr_no_tz_exdatez.ics": "a TZID nobody defines",
    # An all-day series whose UNTIL is a UTC time: Outlook writes the start of the last day
    # (midnight in its zone, London), which we keep; the reference compares it with the UTC date
    # and drops that last day.
    "rie__issue_28_rrule_with_UTC_endinginZ.ics": "UNTIL of an all-day series in UTC",
    # VEVENTs that mix a floating time with a UTC one: the reference reads the floating time in
    # UTC, we read every floating time in the partner's zone (docs/kaltura-compatibility.md §5).
    "rie__issue_201_test_matrix.ics": "floating beside UTC",
    # An RDATE before DTSTART: a series starts at its DTSTART, so the date is left out, with a
    # warning on the row; the reference shows it.
    "icalendar__calendars__issue_1633_rdate_with_dates.ics": "RDATE before DTSTART",
    "icalendar__calendars__issue_1633_rdate_with_dates_and_tzid.ics": "RDATE before DTSTART",
}
FILES = corpus.files()


@pytest.fixture
def compared(request, actor):
    actor.partner.time_zone = corpus.ZONE
    actor.partner.save()
    return corpus.compare(request.param, actor.partner, actor.now)


def test_the_corpus_is_there():
    assert len(FILES) > 200 and set(READ_OTHERWISE) <= {f.name for f in FILES}


@pytest.mark.parametrize("compared", FILES, ids=[f.name for f in FILES], indirect=True)
def test_every_file_imports_as_the_reference_reads_it_or_says_why_not(compared):
    assert compared.job_status in ENDED
    assert compared.seconds < 20
    if compared.job_status == BulkUpload.Status.FAILED.name:
        assert compared.job_code and compared.job_error
    else:
        assert all(reason for _, _, _, reason in compared.refused)
    if compared.reference_error:
        return  # nothing to compare with; the job ended, with its reasons
    if compared.name in READ_OTHERWISE:
        assert not compared.matches, "this file now matches: remove it from READ_OTHERWISE"
        assert not compared.unexplained()  # what is left out is said on its row
    else:
        assert compared.matches, (compared.expected - compared.stored, compared.stored - compared.expected)
