"""Find a room in Chromium (issue #19): search for a slot, see the free rooms, book one in one
click, and find the booking on the calendar; at 1280 px with a mouse and on a 768 px tablet by
touch. The clock is pinned to NOW (Tuesday 1 September 2026, Berlin)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from calendar_app import scheduling
from calendar_app.models import ResourceType, ScheduleEvent
from tests.web.browser.accounts import signed_in
from tests.web.browser.conftest import TABLET, TIMEOUT_MS

pytestmark = pytest.mark.usefixtures("now")

MONDAY = "2026-09-07"


@pytest.fixture
def campus(make_resource, make_event):
    """Turing 101 (120 seats, a camera) is booked on Monday at 09:00; Turing 201 (40 seats, a
    camera) is free; Turing 202 has no camera."""
    building = make_resource("Turing Building")
    rooms = {}
    for name, seats in (("Turing 101", 120), ("Turing 201", 40), ("Turing 202", 30)):
        rooms[name] = make_resource(name, parent_id=building.pk, capacity=seats)
    for name in ("Turing 101", "Turing 201"):
        make_resource(f"{name} camera", ResourceType.CAMERA, parent_id=rooms[name].pk)
    make_event(
        f"{MONDAY} 09:00", 60, zone="Europe/Berlin", resources=[rooms["Turing 101"]], summary="Physics"
    )
    return rooms


@pytest.fixture
def touch_page(browser, live_server) -> Iterator[Page]:
    """A portrait tablet with a touch screen."""
    context = browser.new_context(viewport=TABLET, has_touch=True, is_mobile=False, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def search(page: Page) -> None:
    """Monday 09:00-10:30, a camera needed, titled Algebra: typed into the form as a person does."""
    page.goto("/calendar/free/")
    page.get_by_label("Date").fill(MONDAY)
    page.get_by_label("From", exact=True).fill("09:00")
    page.get_by_label("To", exact=True).fill("10:30")
    page.get_by_label("Title").fill("Algebra")
    page.get_by_label("A camera").check()
    page.get_by_role("button", name="Find rooms").click()
    expect(page.locator(".free-summary")).to_contain_text("1 room free, 1 busy")


def booked() -> ScheduleEvent:
    return ScheduleEvent.objects.get(summary="Algebra")


def test_it_finds_and_books_a_room_with_the_mouse(page, live_server, alice, campus, screenshot):
    signed_in(page, live_server, alice)
    search(page)
    free = page.locator(".free-list").first
    expect(free).to_contain_text("Turing 201")
    expect(free).not_to_contain_text("Turing 101")
    expect(page.locator(".free-list.busy")).to_contain_text("Turing 101")
    screenshot(page, "free-rooms-1280")
    page.get_by_role("button", name="Book Turing 201").click()
    expect(page.locator("#panel")).to_contain_text("Booked “Algebra”")
    resources = scheduling.resource_ids_of(booked())
    assert campus["Turing 201"].pk in resources and len(resources) == 2  # the room and its camera
    # The search runs again after the booking: the room is no longer free.
    expect(page.locator(".free-summary")).to_contain_text("0 rooms free, 2 busy")
    screenshot(page, "free-rooms-1280-booked")
    page.goto(f"/calendar/day/?date={MONDAY}")
    expect(page.locator("#grid .ev", has_text="Algebra")).to_be_visible()


def test_it_books_by_touch_on_a_tablet(touch_page, live_server, alice, campus, screenshot):
    page = signed_in(touch_page, live_server, alice)
    search(page)
    screenshot(page, "free-rooms-768-touch")
    page.get_by_role("button", name="Book Turing 201").tap()
    expect(page.locator("#panel")).to_contain_text("Booked “Algebra”")
    screenshot(page, "free-rooms-768-booked")
    assert scheduling.resource_ids_of(booked())[0] == campus["Turing 201"].pk
    page.goto(f"/calendar/day/?date={MONDAY}")
    expect(page.locator("#grid .ev", has_text="Algebra")).to_be_visible()


def test_a_viewport_of_1920_shows_the_form_beside_the_rooms(browser, live_server, alice, campus, screenshot):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, base_url=live_server.url)
    page = signed_in(context.new_page(), live_server, alice)
    search(page)
    form, results = page.locator(".free-search").bounding_box(), page.locator("#free-results").bounding_box()
    assert form and results and form["x"] + form["width"] <= results["x"]
    screenshot(page, "free-rooms-1920")
    context.close()


def test_a_weekly_search_books_a_busy_room_around_its_dates(page, live_server, alice, campus, screenshot):
    signed_in(page, live_server, alice)
    page.goto(f"/calendar/free/?day={MONDAY}&start_time=09:00&end_time=10:30&summary=Seminar&type=1")
    page.get_by_label("Repeat weekly over a term").check()
    page.get_by_label("Until").fill("2026-09-28")
    page.get_by_role("button", name="Find rooms").click()
    busy = page.locator(".free-list.busy")
    expect(busy).to_contain_text("Busy 1 date: Mon 7 Sep")
    screenshot(page, "free-rooms-weekly-1280")
    busy.get_by_role("button", name="Book Turing 101, skipping 1 busy date").click()
    expect(page.locator("#panel")).to_contain_text("Booked “Seminar”")
    series = ScheduleEvent.objects.get(summary="Seminar", recurrence_type=1)
    assert series.occurrences.filter(status=2).count() == 3  # four Mondays, the booked one skipped
