"""The booking panel in Chromium (issue #19): the dragged room on top of the resource list and a
search over it, Save and Cancel in sight after a refused save, "New booking" in the next slot of
today asking for a room before it speaks of conflicts, 24-hour time fields, errors on their
field. At 1280 x 800 with a mouse and on a 768 x 1024 tablet with touch. The clock is pinned to
Tuesday 1 September 2026, 10:07 in Berlin (the partner's zone)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from calendar_app import clock
from calendar_app.models import ResourceType, ScheduleEvent
from tests.conftest import at
from tests.web.browser import calendar_page as cal
from tests.web.browser.accounts import signed_in
from tests.web.browser.conftest import TABLET, TIMEOUT_MS

ZONE = "Europe/Berlin"
TODAY = "2026-09-01"
DAY_VIEW = f"/calendar/day/?date={TODAY}"


@pytest.fixture(autouse=True)
def seven_past_ten(now):  # after `now`, which the builders pin: this one is the clock read
    with clock.pinned(at(f"{TODAY} 10:07", ZONE)) as moment:
        yield moment


@pytest.fixture
def campus(make_resource) -> dict[str, object]:
    """Twelve rooms, each with two cameras: 36 resources, more than a panel shows at once."""
    rooms = {}
    for number in range(1, 13):
        room = make_resource(f"Room {number:02d}")
        for letter in "AB":
            make_resource(f"Camera {letter}", ResourceType.CAMERA, parent_id=room.pk)
        rooms[room.name] = room
    return rooms


@pytest.fixture
def touch_tablet(browser, live_server) -> Iterator[Page]:
    """A portrait tablet driven by touch."""
    context = browser.new_context(viewport=TABLET, has_touch=True, is_mobile=False, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def open_day(page: Page, live_server, user) -> Page:
    signed_in(page, live_server, user)
    page.goto(DAY_VIEW)
    return page


def new_booking(page: Page, tap: bool = False) -> Locator:
    button = page.get_by_role("button", name="New booking")
    button.tap() if tap else button.click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="New booking")).to_be_visible()
    return panel


def in_sight(element: Locator, frame: Locator) -> bool:
    """Whether `element` lies wholly inside `frame`'s box and the window."""
    box, outer = element.bounding_box(), frame.bounding_box()
    window = element.page.viewport_size
    assert box and outer and window
    return (
        box["y"] >= outer["y"] - 1
        and box["y"] + box["height"] <= outer["y"] + outer["height"] + 1
        and box["y"] + box["height"] <= window["height"]
    )


def resource_names(panel: Locator) -> list[str]:
    return panel.locator(".checklist .res:visible .res-name").all_inner_texts()


def test_new_booking_offers_the_next_slot_today_and_asks_for_a_room(
    page, live_server, alice, campus, screenshot
):
    panel = new_booking(open_day(page, live_server, alice))
    expect(panel.get_by_label("Date")).to_have_value(TODAY)
    expect(panel.get_by_label("Start")).to_have_value("10:15")
    expect(panel.get_by_label("End", exact=True)).to_have_value("11:15")
    check = panel.locator(".live-check")
    expect(check).to_have_text("Choose a room to check for conflicts")
    screenshot(page, "panel-new-booking-1280")
    panel.get_by_label("Room 03", exact=True).check()
    expect(check).to_have_text("Free: no conflicts")


def test_the_dragged_room_is_on_top_and_the_search_finds_the_rest(
    page, live_server, alice, campus, screenshot
):
    open_day(page, live_server, alice)
    cal.drag(page, cal.column(page, TODAY, campus["Room 11"]), "14:00", "15:30")
    panel = page.locator("#panel")
    expect(panel.get_by_label("Start")).to_have_value("14:00")
    expect(panel.get_by_label("End", exact=True)).to_have_value("15:30")
    chosen = panel.locator(".checklist .res").first
    expect(chosen).to_contain_text("Room 11")
    expect(chosen.get_by_role("checkbox")).to_be_checked()
    assert in_sight(chosen, panel.locator(".checklist"))
    search = panel.get_by_role("searchbox", name="Find a resource")
    search.fill("room 07")
    # The chosen room stays; room 07 and its two cameras, named apart from the others' cameras.
    assert resource_names(panel) == ["Room 11", "Room 07", "Camera A", "Camera B"]
    expect(panel.get_by_label("Camera A in Room 07")).to_be_visible()
    screenshot(page, "panel-search-1280")
    search.press("Enter")  # not a save
    expect(panel.get_by_role("heading", name="New booking")).to_be_visible()
    search.fill("nothing like it")
    expect(panel.get_by_text("No resource matches.")).to_be_visible()


def test_times_are_24_hour_and_read_as_typed(page, live_server, alice, campus):
    panel = new_booking(open_day(page, live_server, alice))
    start = panel.get_by_label("Start")
    assert start.get_attribute("type") == "text" and start.get_attribute("inputmode") == "numeric"
    start.fill("2:30 pm")
    start.press("Tab")
    expect(start).to_have_value("14:30")
    start.press("ArrowUp")
    expect(start).to_have_value("14:45")
    start.press("Shift+ArrowDown")
    expect(start).to_have_value("13:45")
    end = panel.get_by_label("End", exact=True)
    end.fill("1500")
    end.press("Tab")
    expect(end).to_have_value("15:00")


def test_an_error_shows_on_its_field_with_save_in_sight(page, live_server, alice, campus, screenshot):
    panel = new_booking(open_day(page, live_server, alice))
    panel.get_by_label("Title").fill("Backwards")
    panel.get_by_label("End", exact=True).fill("09:00")
    panel.get_by_role("button", name="Save booking").click()
    end = panel.get_by_label("End", exact=True)
    expect(end).to_have_attribute("aria-invalid", "true")
    expect(end).to_have_accessible_description("must be after the start")
    expect(end).to_be_focused()
    assert in_sight(panel.get_by_role("button", name="Save booking"), panel)
    screenshot(page, "panel-error-on-field-1280")
    assert not ScheduleEvent.objects.exists()


def test_save_stays_in_sight_after_a_refused_save(page, live_server, alice, campus, make_event, screenshot):
    room = campus["Room 02"]
    make_event(f"{TODAY} 10:30", 60, zone=ZONE, resources=[room], summary="Physics 101")
    panel = new_booking(open_day(page, live_server, alice))
    panel.get_by_label("Title").fill("Clash")
    panel.get_by_label("Description").fill("A long form: the conflicts below push Save down.\n" * 6)
    panel.get_by_label("Room 02", exact=True).check()
    panel.get_by_role("button", name="Save booking").click()
    refusal = panel.get_by_role("alert").filter(has_text="Not saved: this booking conflicts with")
    expect(refusal).to_contain_text("“Physics 101”")
    assert in_sight(refusal, panel)
    save = panel.get_by_role("button", name="Save booking")
    assert in_sight(save, panel) and in_sight(panel.get_by_role("button", name="Cancel"), panel)
    screenshot(page, "panel-refused-1280")
    assert list(ScheduleEvent.objects.values_list("summary", flat=True)) == ["Physics 101"]


def test_it_books_on_a_touch_tablet(touch_tablet, live_server, alice, campus, make_event, screenshot):
    make_event(f"{TODAY} 10:00", 60, zone=ZONE, resources=[campus["Room 05"]], summary="Physics 101")
    page = open_day(touch_tablet, live_server, alice)
    panel = new_booking(page, tap=True)
    expect(panel.get_by_label("Start")).to_have_value("10:15")
    expect(panel.locator(".live-check")).to_have_text("Choose a room to check for conflicts")
    panel.get_by_label("Title").fill("Tablet lecture")
    panel.get_by_role("searchbox", name="Find a resource").fill("05")
    panel.get_by_label("Room 05", exact=True).tap()
    expect(panel.locator(".live-check")).to_contain_text("“Physics 101”")
    save = panel.get_by_role("button", name="Save booking")
    assert in_sight(save, panel)
    save.tap()
    expect(panel.get_by_role("alert").filter(has_text="Not saved")).to_be_visible()
    assert in_sight(panel.get_by_role("button", name="Save booking"), panel)
    screenshot(page, "panel-refused-tablet")
    panel.get_by_label("Start").fill("1130")
    panel.get_by_label("End", exact=True).fill("12:30")
    panel.get_by_role("button", name="Save booking").tap()
    expect(panel.get_by_role("status")).to_contain_text("Booked “Tablet lecture”")
    event = ScheduleEvent.objects.get(summary="Tablet lecture")
    assert (event.start, event.end) == (at(f"{TODAY} 11:30", ZONE), at(f"{TODAY} 12:30", ZONE))
