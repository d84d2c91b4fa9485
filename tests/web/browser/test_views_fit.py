"""The calendar's views on a campus (issue #19): 3 buildings of 12 rooms with 2 cameras each, at
1280 and 1920 px and on a 768 px touch tablet. The toolbar stays on one line of one height, the
day view fits a building, heads and titles are not cut off, the grid opens on now and "Today"
scrolls back to it, the open booking is highlighted. The clock is pinned to Tuesday 1
September 2026, 10:00 in Berlin."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from calendar_app import scheduling
from calendar_app.models import ResourceType
from tests.web.browser.accounts import signed_in

pytestmark = pytest.mark.usefixtures("now")

ZONE = "Europe/Berlin"
TODAY = "2026-09-01"
WIDE = {"width": 1920, "height": 1080}
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
READABLE_COLUMN_PX = 96


@pytest.fixture
def campus(actor, make_event):
    """Three buildings of twelve rooms, two cameras a room; a lecture in each room of Building A
    today, the first with a second talk beside it on its camera 1."""
    buildings = {}
    for letter in "ABC":
        building = scheduling.create_resource(
            actor, {"type": ResourceType.LOCATION, "name": f"Building {letter}"}
        )
        buildings[letter] = building
        for number in range(1, 13):
            room = scheduling.create_resource(
                actor,
                {
                    "type": ResourceType.LOCATION,
                    "name": f"{letter}{number:02d} Lecture room",
                    "parent_id": building.pk,
                },
            )
            cameras = [
                scheduling.create_resource(
                    actor,
                    {"type": ResourceType.CAMERA, "name": f"{room.name} camera {c}", "parent_id": room.pk},
                )
                for c in (1, 2)
            ]
            if letter == "A":
                make_event(
                    f"{TODAY} 09:00",
                    90,
                    zone=ZONE,
                    resources=[room, cameras[0]],
                    summary=f"Introduction to topic {number}",
                )
    return buildings


def open_page(browser, live_server, alice, viewport, touch: bool = False) -> Iterator[Page]:
    context = browser.new_context(
        viewport=viewport, base_url=live_server.url, has_touch=touch, is_mobile=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    signed_in(page, live_server, alice)
    yield page
    context.close()


@pytest.fixture(params=[DESKTOP, WIDE], ids=["1280", "1920"])
def desk(request, browser, live_server, alice, campus):
    yield from open_page(browser, live_server, alice, request.param)


@pytest.fixture
def wide(browser, live_server, alice, campus):
    yield from open_page(browser, live_server, alice, WIDE)


@pytest.fixture
def narrow(browser, live_server, alice, campus):
    yield from open_page(browser, live_server, alice, DESKTOP)


@pytest.fixture
def tablet(browser, live_server, alice, campus):
    yield from open_page(browser, live_server, alice, TABLET, touch=True)


def toolbar_lines(page: Page) -> tuple[float, int]:
    """The toolbar's height and how many distinct rows its controls sit on."""
    return page.locator(".toolbar").evaluate(
        """bar => [bar.getBoundingClientRect().height,
                   new Set([...bar.children].filter((c) => c.offsetParent)
                       .map((c) => c.getBoundingClientRect())
                       .map((b) => Math.round((b.top + b.bottom) / 16))).size]"""
    )


def cut_off(page: Page, selector: str) -> list[str]:
    """The texts of `selector` wider or taller than their box shows."""
    return page.locator(selector).evaluate_all(
        "els => els.filter((e) => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)"
        ".map((e) => e.textContent)"
    )


def test_the_toolbar_is_one_line_of_one_height_in_every_view(desk, campus, screenshot):
    heights = []
    building = f"/calendar/day/?location={campus['A'].pk}"
    weeks = ("/calendar/week/", "/calendar/week/?date=2026-12-28")
    timelines = ("/calendar/timeline/", "/calendar/timeline/week/")
    for path in ("/calendar/day/", building, *weeks, *timelines):
        desk.goto(path)
        height, rows = toolbar_lines(desk)
        assert rows == 1, f"{path}: the toolbar wraps"
        heights.append(height)
    assert len(set(heights)) == 1, heights
    screenshot(desk, f"toolbar-{desk.viewport_size['width']}")


def test_the_day_view_fits_a_building_at_1920(wide, campus, screenshot):
    wide.goto(f"/calendar/day/?location={campus['A'].pk}")
    grid = wide.locator("#grid")
    expect(grid.locator(".col")).to_have_count(12)
    assert grid.evaluate("g => g.scrollWidth <= g.clientWidth + 1")  # sub-pixel rounding
    assert cut_off(wide, ".col-head") == [] and cut_off(wide, ".ev-title") == []
    screenshot(wide, "day-building-1920")


def test_the_day_view_has_readable_columns_at_1280(narrow, campus, screenshot):
    narrow.goto(f"/calendar/day/?location={campus['A'].pk}&types=1&types=3")  # cameras as columns
    widths = narrow.locator("#grid .col").evaluate_all("cols => cols.map((c) => c.clientWidth)")
    assert len(widths) == 36 and min(widths) >= READABLE_COLUMN_PX
    expect(narrow.locator(".col-head").filter(has_text="A01 Lecture room · cam 1")).to_have_count(1)
    assert cut_off(narrow, ".col-head") == []
    screenshot(narrow, "day-building-cameras-1280")


def test_a_box_marks_the_folded_camera_and_names_it(narrow, campus):
    narrow.goto(f"/calendar/day/?location={campus['A'].pk}")
    box = narrow.locator(".ev", has_text="Introduction to topic 1").first
    expect(box).to_have_attribute("aria-label", "Introduction to topic 1, 09:00 to 10:30, with cam 1")
    expect(box.locator(".ev-equip")).to_have_text("◉ cam 1")


def test_it_opens_on_now_and_today_scrolls_back(narrow, campus):
    narrow.goto(f"/calendar/day/?location={campus['A'].pk}")
    line = narrow.locator("#grid .now-line")

    def centred() -> bool:
        return line.evaluate(
            """l => { const g = document.getElementById("grid").getBoundingClientRect();
                      const y = l.getBoundingClientRect().top;
                      return Math.abs(y - (g.top + g.height / 2)) < g.height / 4; }"""
        )

    assert centred()
    narrow.locator("#grid").evaluate("g => { g.scrollTop = 0; }")
    assert not centred()
    url = narrow.url
    narrow.get_by_role("link", name="Today").click()
    assert narrow.url == url and centred()  # scrolled, not reloaded


def test_the_open_booking_is_highlighted_until_its_panel_closes(narrow, campus, screenshot):
    narrow.goto(f"/calendar/day/?location={campus['A'].pk}")
    box = narrow.locator(".ev", has_text="Introduction to topic 2").first
    box.click()
    expect(narrow.locator("#panel")).to_contain_text("Introduction to topic 2")
    expect(box).to_have_class(re.compile(r"\bis-open\b"))
    screenshot(narrow, "open-booking-1280")
    narrow.locator("#panel").get_by_role("button", name="Close").click()
    expect(box).not_to_have_class(re.compile(r"\bis-open\b"))


def test_a_tablet_shows_the_day_with_a_toolbar_of_one_height(tablet, campus, screenshot):
    heights = []
    for path in (
        f"/calendar/day/?location={campus['A'].pk}",
        "/calendar/week/",
        "/calendar/week/?date=2026-12-28",
    ):
        tablet.goto(path)
        heights.append(toolbar_lines(tablet)[0])
    assert len(set(heights)) == 1, heights
    tablet.goto(f"/calendar/day/?location={campus['A'].pk}")
    box = tablet.locator(".ev", has_text="Introduction to topic 3").first
    box.tap()
    expect(tablet.locator("#panel")).to_contain_text("Introduction to topic 3")
    screenshot(tablet, "day-tablet")
