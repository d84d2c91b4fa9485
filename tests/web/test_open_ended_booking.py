"""The booking panel's "forever": a weekly series without an end date or a number of times
(an open-ended series, made to the horizon and extended as time passes), its preview and edit."""

from __future__ import annotations

import pytest

from calendar_app.models import ScheduleEvent
from tests.web.test_views import booking, edit_form, only_event, save, text, url

NEVER = {"repeat": "on", "weekdays": ["MO"], "never_ends": "on"}


@pytest.fixture(autouse=True)
def _pinned_clock(now):
    """ "Today" is Tuesday 1 September 2026; the bookings start Monday 7 September."""


def test_a_series_that_never_ends_is_booked_open_ended(scheduler):
    assert scheduler.post(url("book"), booking(**NEVER)).status_code == 200
    series = only_event()
    assert series.recurrence.keys() & {"count", "until"} == set()
    assert series.materialized_until is not None
    assert series.occurrences.count() == 157  # every Monday of the three-year horizon


@pytest.mark.parametrize("end", [{"count": 4}, {"until": "2026-12-21"}])
def test_never_and_another_end_are_refused_together(scheduler, end):
    response = scheduler.post(url("book"), booking(**NEVER, **end))
    assert response.status_code == 422
    assert "Give an end date, a number of times, or forever (one of them)." in text(response)
    assert not ScheduleEvent.objects.exists()


def test_a_series_with_no_end_at_all_is_still_refused(scheduler):
    response = scheduler.post(url("book"), booking(repeat="on", weekdays=["MO"]))
    assert response.status_code == 422
    assert not ScheduleEvent.objects.exists()


def test_the_preview_says_later_dates_come_as_time_passes(scheduler):
    html = text(scheduler.post(url("preview"), booking(**NEVER)))
    assert "157 dates to begin with: the series never ends" in html


def test_the_edit_panel_shows_never_and_saves_it_back_unchanged(scheduler):
    scheduler.post(url("book"), booking(**NEVER))
    series = only_event()
    _, values = edit_form(scheduler, series, scope="series")
    assert values["never_ends"] == "on" and "count" not in values and "until" not in values
    assert save(scheduler, series, values | {"summary": "Geometry"}, scope="series").status_code == 200
    series.refresh_from_db()
    assert (series.summary, series.occurrences.count()) == ("Geometry", 157)
    assert series.recurrence.keys() & {"count", "until"} == set()


def test_an_open_ended_series_gets_an_end_from_the_panel(scheduler):
    scheduler.post(url("book"), booking(**NEVER))
    series = only_event()
    _, values = edit_form(scheduler, series, scope="series")
    values.pop("never_ends")
    save(scheduler, series, values | {"count": "3"}, scope="series")
    series.refresh_from_db()
    assert (series.recurrence["count"], series.materialized_until) == (3, None)
    assert series.occurrences.count() == 3


# ---------------------------------------------------------------- rules the panel cannot show


@pytest.mark.parametrize(
    "rule",
    [
        {"time_zone": "Europe/Berlin", "rdates": [1_789_380_000]},  # extra dates alone (an import)
        {"frequency": "weeks", "count": 3, "rdates": [1_789_380_000]},
        {"frequency": "months", "count": 3},
    ],
)
def test_a_series_whose_rule_the_panel_cannot_show_keeps_it(scheduler, make_event, rule):
    series = make_event(recurrence_type=1, recurrence=rule)
    stored = dict(series.recurrence)
    response, values = edit_form(scheduler, series, scope="series")
    assert "repeats by a rule the panel cannot show" in text(response)
    assert "repeat" not in values
    save(scheduler, series, values | {"summary": "Geometry"}, scope="series")
    series.refresh_from_db()
    assert (series.summary, series.recurrence) == ("Geometry", stored)
