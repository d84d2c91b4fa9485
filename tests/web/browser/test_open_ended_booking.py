"""Booking a weekly series that never ends, in Chromium: the panel's "forever" beside the
end date and the number of times, the preview of its dates, the conflict warning, the save.
The clock is pinned to NOW (Tuesday 1 September 2026, 10:00 in Berlin)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from calendar_app.models import EventStatus, RecurrenceType, ScheduleEvent
from tests.conftest import at
from tests.web.browser import calendar_page as cal
from tests.web.browser.accounts import signed_in

pytestmark = pytest.mark.usefixtures("now")

ZONE = "Europe/Berlin"
FRIDAY = "2026-09-04"


@pytest.fixture
def room(make_resource):
    return make_resource("Room A")


def test_it_books_a_series_that_never_ends_skipping_a_conflicting_date(
    page, live_server, alice, make_event, room, screenshot
):
    make_event("2027-03-05 10:30", 60, zone=ZONE, resources=[room], summary="Open day")
    calendar = signed_in(page, live_server, alice)
    calendar.goto(f"{live_server.url}/calendar/day/?date={FRIDAY}")
    cal.drag(calendar, cal.column(calendar, FRIDAY, room), "10:00", "11:00")
    panel = calendar.locator("#panel")
    panel.get_by_label("Title").fill("Colloquium")
    panel.get_by_label("Repeat weekly").check()
    panel.get_by_label("forever").check()
    expect(panel.locator(".live-check")).to_contain_text("Open day")
    panel.get_by_role("button", name="Check each date").click()
    expect(panel.locator(".occ")).to_have_count(157)
    expect(panel).to_contain_text("157 dates to begin with: the series never ends")
    clash = panel.locator(".occ").filter(has_text="Fri 5 Mar 2027 10:00–11:00")
    expect(clash).to_have_class(re.compile(r"\bconflict\b"))
    expect(clash.get_by_label("skip")).to_be_checked()
    screenshot(calendar, "series-never-ends")
    panel.get_by_role("button", name="Save booking").click()
    expect(cal.column(calendar, FRIDAY, room).locator(".ev")).to_contain_text("Colloquium")
    series = ScheduleEvent.objects.get(summary="Colloquium", recurrence_type=RecurrenceType.RECURRING)
    assert series.materialized_until is not None and "count" not in series.recurrence
    skipped = series.occurrences.get(start=at("2027-03-05 10:00", ZONE))
    assert skipped.status == EventStatus.CANCELLED
