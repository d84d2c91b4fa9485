"""The staff calendar's gestures in Chromium (issue #5): drag to book, move and resize, the live
conflict warning, series with skipped dates, cancelling an occurrence, the viewer's read-only
calendar, the keyboard path and the tablet layout. The clock is pinned to NOW (Tuesday 1
September 2026, 10:00 in Berlin, the partner's zone), so the page opens on that week."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from calendar_app import scheduling
from calendar_app.models import EventStatus, RecurrenceType, ScheduleEvent
from tests.conftest import at
from tests.web.browser import calendar_page as cal
from tests.web.browser.accounts import signed_in

pytestmark = pytest.mark.usefixtures("now")

ZONE = "Europe/Berlin"
WEDNESDAY = "2026-09-02"
THURSDAY = "2026-09-03"


@pytest.fixture
def calendar(page, live_server, alice, physics):
    """The room week of Room A (the first room by name)."""
    signed_in(page, live_server, alice)
    page.goto("/calendar/week/")
    return page


def week_of(page, room):
    page.goto(f"/calendar/week/?location={room.pk}")
    return page


def day_of(page, day: str):
    page.goto(f"/calendar/day/?date={day}")
    return page


def stored(event: ScheduleEvent) -> tuple:
    """The event's start and end (UTC) and its resources' ids, as saved."""
    event.refresh_from_db()
    return event.start, event.end, scheduling.resource_ids_of(event)


def occurrence_statuses(series: ScheduleEvent) -> dict:
    return dict(ScheduleEvent.objects.filter(parent=series).values_list("start", "status"))


def test_it_shows_the_week_and_the_day(calendar, screenshot):
    expect(calendar.get_by_role("heading", name="31 Aug – 6 Sep 2026")).to_be_visible()
    expect(cal.booking(calendar, "Physics 101")).to_contain_text("10:00–11:30")
    screenshot(calendar, "week-view")
    calendar.get_by_role("link", name="Wed 2 Sep").click()
    expect(calendar.get_by_role("heading", name="Wed 2 Sep 2026")).to_be_visible()
    expect(cal.booking(calendar, "Physics 101")).to_be_visible()
    screenshot(calendar, "day-view")


def test_it_books_a_dragged_slot(calendar, room_b):
    week_of(calendar, room_b)
    cal.drag(calendar, cal.column(calendar, THURSDAY, room_b), "14:00", "15:30")
    panel = calendar.locator("#panel")
    expect(panel.get_by_role("heading", name="New booking")).to_be_visible()
    expect(panel.get_by_label("Date")).to_have_value(THURSDAY)
    expect(panel.get_by_label("Start")).to_have_value("14:00")  # a 24-hour clock, as the grid's
    expect(panel.get_by_label("End", exact=True)).to_have_value("15:30")
    expect(panel.get_by_label("Room B")).to_be_checked()
    panel.get_by_label("Title").fill("Chemistry 201")
    panel.get_by_role("button", name="Save booking").click()
    expect(cal.column(calendar, THURSDAY, room_b).locator(".ev")).to_contain_text("14:00–15:30 Chemistry 201")
    event = ScheduleEvent.objects.get(summary="Chemistry 201")
    assert stored(event) == (at(f"{THURSDAY} 14:00", ZONE), at(f"{THURSDAY} 15:30", ZONE), [room_b.pk])


def test_it_warns_of_a_conflict_while_dragging(calendar, room_a, screenshot):
    col = cal.column(calendar, WEDNESDAY, room_a)
    cal.press(calendar, col, "09:00")
    cal.drag_to(calendar, col, "10:30")
    ghost = col.locator(".ghost")
    expect(ghost).to_have_class(re.compile(r"\bhas-conflict\b"))
    expect(ghost.locator(".ghost-check")).to_contain_text("“Physics 101”")
    screenshot(calendar, "drag-conflict")
    calendar.keyboard.press("Escape")
    calendar.mouse.up()
    expect(ghost).to_have_count(0)


def test_it_moves_a_booking_to_another_time(calendar, room_a, physics):
    col = cal.column(calendar, WEDNESDAY, room_a)
    cal.drag(calendar, col, "10:30", "13:30")
    expect(cal.booking(calendar, "Physics 101")).to_contain_text("13:00–14:30")
    assert stored(physics) == (at(f"{WEDNESDAY} 13:00", ZONE), at(f"{WEDNESDAY} 14:30", ZONE), [room_a.pk])


def test_it_moves_a_booking_to_another_resource(calendar, room_a, room_b, physics):
    day_of(calendar, WEDNESDAY)
    source, target = cal.column(calendar, WEDNESDAY, room_a), cal.column(calendar, WEDNESDAY, room_b)
    cal.drag(calendar, source, "10:30", "10:30", to=target)
    expect(target.locator(".ev")).to_contain_text("Physics 101")
    assert stored(physics) == (at(f"{WEDNESDAY} 10:00", ZONE), at(f"{WEDNESDAY} 11:30", ZONE), [room_b.pk])


def test_it_resizes_a_booking(calendar, room_a, physics):
    col = cal.column(calendar, WEDNESDAY, room_a)
    cal.resize(calendar, col, "11:30", "12:15")
    expect(cal.booking(calendar, "Physics 101")).to_contain_text("10:00–12:15")
    assert stored(physics) == (at(f"{WEDNESDAY} 10:00", ZONE), at(f"{WEDNESDAY} 12:15", ZONE), [room_a.pk])


def test_it_asks_before_moving_onto_a_conflict(calendar, make_event, room_a, physics):
    make_event(f"{WEDNESDAY} 14:00", 60, zone=ZONE, resources=[room_a], summary="Staff meeting")
    calendar.reload()  # the page was opened before the meeting was booked
    cal.drag(calendar, cal.column(calendar, WEDNESDAY, room_a), "10:30", "14:30")
    panel = calendar.locator("#panel")
    expect(panel.get_by_role("heading", name="Move “Physics 101”?")).to_be_visible()
    expect(panel.get_by_role("alert")).to_contain_text("“Staff meeting”")
    panel.get_by_role("button", name="Keep it where it was").click()
    expect(panel).to_be_empty()
    expect(cal.booking(calendar, "Physics 101")).not_to_have_class(re.compile("being-dragged"))
    assert stored(physics)[:2] == (at(f"{WEDNESDAY} 10:00", ZONE), at(f"{WEDNESDAY} 11:30", ZONE))


def test_it_books_a_weekly_series_skipping_a_conflicting_date(calendar, make_event, room_a, screenshot):
    make_event("2026-09-09 10:30", 60, zone=ZONE, resources=[room_a], summary="Staff meeting")
    friday = "2026-09-04"
    cal.drag(calendar, cal.column(calendar, friday, room_a), "10:00", "11:00")
    panel = calendar.locator("#panel")
    panel.get_by_label("Title").fill("Seminar")
    panel.get_by_label("Repeat weekly").check()
    panel.get_by_label("Wed").check()  # Fri, the dragged day, is ticked already
    panel.get_by_label("or times").fill("4")
    panel.get_by_role("button", name="Check each date").click()
    dates = panel.locator(".occ")
    expect(dates).to_have_count(4)
    clash = dates.filter(has_text="Wed 9 Sep 2026 10:00–11:00")
    expect(clash).to_have_class(re.compile(r"\bconflict\b"))
    expect(clash).to_contain_text("“Staff meeting”")
    expect(clash.get_by_label("skip")).to_be_checked()
    expect(dates.filter(has_text="free")).to_have_count(3)
    expect(panel.locator(".live-check")).to_have_text("Free: no conflicts")  # the skipped date left out
    screenshot(calendar, "series-preview")
    panel.get_by_role("button", name="Save booking").click()
    expect(cal.column(calendar, friday, room_a).locator(".ev")).to_contain_text("Seminar")
    series = ScheduleEvent.objects.get(summary="Seminar", recurrence_type=RecurrenceType.RECURRING)
    assert occurrence_statuses(series) == {
        at(f"{friday} 10:00", ZONE): EventStatus.ACTIVE,
        at("2026-09-09 10:00", ZONE): EventStatus.CANCELLED,
        at("2026-09-11 10:00", ZONE): EventStatus.ACTIVE,
        at("2026-09-16 10:00", ZONE): EventStatus.ACTIVE,
    }


def test_it_cancels_one_occurrence(page, live_server, alice, make_series, room_b):
    series = make_series(f"{WEDNESDAY} 14:00", 60, count=3, by_day="WE,TH,FR", resources=[room_b])
    week_of(signed_in(page, live_server, alice), room_b)
    cal.column(page, THURSDAY, room_b).locator(".ev").click()
    panel = page.locator("#panel")
    expect(panel).to_contain_text("Occurrence of “Lecture”")
    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Cancel this occurrence").click()
    expect(cal.column(page, THURSDAY, room_b).locator(".ev")).to_have_count(0)  # hidden by default
    page.locator(".show-menu summary").click()  # the toolbar's "Show" menu
    page.get_by_label("Show cancelled").check()
    page.wait_for_url(re.compile(r"cancelled=1"))
    expect(cal.column(page, THURSDAY, room_b).locator(".ev")).to_have_class(re.compile(r"\bcancelled\b"))
    for day in (WEDNESDAY, "2026-09-04"):
        expect(cal.column(page, day, room_b).locator(".ev")).not_to_have_class(re.compile(r"\bcancelled\b"))
    assert occurrence_statuses(series) == {
        at(f"{WEDNESDAY} 14:00", ZONE): EventStatus.ACTIVE,
        at(f"{THURSDAY} 14:00", ZONE): EventStatus.CANCELLED,
        at("2026-09-04 14:00", ZONE): EventStatus.ACTIVE,
    }


def test_it_lets_a_viewer_look_but_not_book(page, live_server, bob, room_b, physics):
    week_of(signed_in(page, live_server, bob), room_b)
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    expect(page.get_by_role("button", name="New booking")).to_have_count(0)
    col = cal.column(page, THURSDAY, room_b)
    cal.press(page, col, "14:00")
    cal.drag_to(page, col, "15:00")
    expect(page.locator("#grid .ghost")).to_have_count(0)
    page.mouse.up()
    page.goto("/calendar/week/")  # Room A's
    cal.booking(page, "Physics 101").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Physics 101")).to_be_visible()
    expect(panel).to_contain_text("Room A")
    expect(panel.get_by_role("button", name="Close")).to_be_visible()
    expect(panel.get_by_role("button")).to_have_count(1)  # no Edit, no Cancel
    assert not [url for url in asked if "/calendar/book/" in url or "/calendar/check/" in url]


def test_it_books_with_the_keyboard_only(calendar, room_a):
    cal.tab_to(calendar, calendar.get_by_role("button", name="New booking"))
    calendar.keyboard.press("Enter")
    panel = calendar.locator("#panel")
    expect(panel.get_by_label("Title")).to_be_focused()
    calendar.keyboard.type("Keyboard lecture")
    cal.tab_to(calendar, panel.get_by_label("End", exact=True))
    calendar.keyboard.press("Shift+ArrowUp")  # an hour later: 11:00 becomes 12:00
    cal.tab_to(calendar, panel.get_by_label("Room A"))
    calendar.keyboard.press("Space")
    expect(panel.get_by_label("Title")).to_have_value("Keyboard lecture")
    expect(panel.get_by_label("Room A")).to_be_checked()
    unlabelled = panel.locator("form").evaluate(
        "form => [...form.querySelectorAll('input:not([type=hidden]), select, textarea')]"
        ".filter((field) => !field.labels.length).map((field) => field.name)"
    )
    assert unlabelled == []
    cal.tab_to(calendar, panel.get_by_role("button", name="Save booking"))
    calendar.keyboard.press("Enter")
    expect(panel.get_by_role("status")).to_contain_text("Booked “Keyboard lecture”")
    event = ScheduleEvent.objects.get(summary="Keyboard lecture")
    today = "2026-09-01"  # New booking offers the next slot of today: NOW, 10:00
    assert stored(event) == (at(f"{today} 10:00", ZONE), at(f"{today} 12:00", ZONE), [room_a.pk])


def test_it_fits_a_tablet(tablet_page, live_server, alice, physics, screenshot):
    signed_in(tablet_page, live_server, alice).goto("/calendar/week/")
    grid = tablet_page.locator("#grid")
    expect(cal.booking(tablet_page, "Physics 101")).to_be_visible()
    width = grid.bounding_box()["width"]
    screenshot(tablet_page, "week-tablet")
    cal.booking(tablet_page, "Physics 101").click()
    panel = tablet_page.locator("#panel")
    expect(panel.get_by_role("heading", name="Physics 101")).to_be_visible()
    # An overlay: the grid keeps its width and the panel lies over its right-hand side.
    assert grid.bounding_box()["width"] == width
    assert panel.bounding_box()["x"] < grid.bounding_box()["x"] + width
    assert panel.evaluate("element => getComputedStyle(element).position") == "absolute"
    screenshot(tablet_page, "week-tablet-panel")
