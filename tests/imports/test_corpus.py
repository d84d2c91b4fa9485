"""The iCal corpus (tests/data/ical_corpus, real exports; SOURCES.md) imports without surprises:
every file's job ends with per-row results, and every event the reference expands that is not
stored is explained by an error row (or the refusal of the whole file). How many files match the
reference is the figure of bench/ical_corpus.py, not asserted here: issue #18 raises it."""

from __future__ import annotations

import pytest

from calendar_app.models import BulkUpload
from tests.imports import corpus

ENDED = {"FINISHED", "FINISHED_PARTIALLY", "FAILED"}
# Events lost today with no row to say why. An all-day VEVENT with RDATE but no RRULE is
# imported as its first day alone, with an "ok" row (issue #18: RDATE). Fixing it should
# empty this set, and this test then asks for the entry to go.
SILENTLY_SHORT = {"khal__event_d_rdate.ics"}
# Files read otherwise than the reference reads them, on purpose (each has its own test).
# khal__event_dtr_no_tz_exdatez: a DTSTART in a TZID nobody defines is read in the partner's zone
# and a UTC EXDATE cancels one occurrence, as khal's own test of the file has it; the reference
# reads that series in UTC (tests/imports/test_ical_zones.py).
READ_OTHERWISE = {"khal__event_dtr_no_tz_exdatez.ics"}
FILES = corpus.files()


@pytest.fixture
def compared(request, actor):
    actor.partner.time_zone = corpus.ZONE
    actor.partner.save()
    return corpus.compare(request.param, actor.partner, actor.now)


def test_the_corpus_is_there():
    assert len(FILES) > 150


@pytest.mark.parametrize("compared", FILES, ids=[f.name for f in FILES], indirect=True)
def test_it_ends_every_job_with_results_and_explains_every_missing_event(compared):
    assert compared.job_status in ENDED
    assert compared.seconds < 20
    if compared.job_status == BulkUpload.Status.FAILED.name:
        assert compared.job_code and compared.job_error
    else:
        assert all(reason for _, _, _, reason in compared.refused)
    if compared.name in SILENTLY_SHORT:
        assert compared.unexplained(), "this file now imports whole: remove it from SILENTLY_SHORT"
    elif compared.name not in READ_OTHERWISE:
        assert not compared.unexplained()
