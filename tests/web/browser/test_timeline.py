"""The resource timeline in Chromium (issue #19): rooms in rows under their building, time running
across, at 1280 and 1920 px with a mouse and on a 768 px tablet with touch. Groups fold away and
stay folded; booking boxes keep their text readable; a drag on a row's empty time opens the
booking panel for that room and slot; the now-line lands on now. The clock is pinned to NOW
(Tuesday 1 September 2026, 10:00 in Berlin, the partner's zone), so the page opens on that day."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.web.browser import calendar_page as cal
from tests.web.browser.accounts import signed_in
from tests.web.browser.conftest import TABLET, TIMEOUT_MS

ZONE = "Europe/Berlin"
TODAY = "2026-09-01"
WIDE = {"width": 1920, "height": 1080}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = pytest.mark.usefixtures("now")


@pytest.fixture
def campus(make_resource, make_event, partner) -> dict[str, object]:
    """Two buildings, three rooms; a lecture in Franklin 101 this morning, Franklin 102 free."""
    partner.time_zone = ZONE
    partner.save()
    franklin, turing = make_resource("Franklin"), make_resource("Turing")
    rooms = {
        name: make_resource(name, parent_id=building.pk)
        for name, building in (("Franklin 101", franklin), ("Franklin 102", franklin), ("Turing 201", turing))
    }
    make_event(f"{TODAY} 11:00", 90, zone=ZONE, resources=[rooms["Franklin 101"]], summary="Physics 101")
    return rooms


def _context(browser, live_server, viewport: dict[str, int], touch: bool = False) -> Iterator[Page]:
    context = browser.new_context(
        viewport=viewport, has_touch=touch, is_mobile=False, base_url=live_server.url
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(params=["desktop", "wide", "tablet"])
def any_size(request, browser, live_server) -> Iterator[tuple[str, Page]]:
    sizes = {"desktop": (DESKTOP, False), "wide": (WIDE, False), "tablet": (TABLET, True)}
    viewport, touch = sizes[request.param]
    for page in _context(browser, live_server, viewport, touch):
        yield request.param, page


@pytest.fixture(params=["desktop", "wide"])
def with_mouse(request, browser, live_server) -> Iterator[Page]:
    yield from _context(browser, live_server, DESKTOP if request.param == "desktop" else WIDE)


def timeline(page: Page, live_server, alice) -> Page:
    signed_in(page, live_server, alice)  # the home page is the day's timeline
    expect(page.locator("#grid .timeline")).to_be_visible()
    return page


def row(page: Page, room) -> Locator:
    return page.locator("#grid .tl-row", has=page.locator(f'.col[data-resource="{room.pk}"]'))


def test_it_shows_rooms_by_building_with_readable_boxes(any_size, live_server, alice, campus, screenshot):
    size, page = any_size
    timeline(page, live_server, alice)
    for building in ("Franklin", "Turing"):
        expect(page.get_by_role("button", name=re.compile(rf"^{building}"))).to_have_attribute(
            "aria-expanded", "true"
        )
    for name, room in campus.items():
        expect(page.get_by_role("group", name=name, exact=True)).to_be_visible()
        expect(row(page, room).locator(".tl-row-head")).to_have_text(name)
    box = cal.booking(page, "Physics 101")
    expect(box).to_have_attribute("aria-label", "Physics 101, 11:00 to 12:30")
    title = box.locator(".ev-title")
    expect(title).to_be_visible()
    width, needed = title.evaluate("t => [t.clientWidth, t.scrollWidth]")
    assert needed <= width + 1, f"the title is cut at {size}: {width} of {needed} px"
    screenshot(page, f"timeline-{size}")


def test_a_working_day_fits_without_scrolling_across_at_1280(page, live_server, alice, campus):
    timeline(page, live_server, alice)
    hour, heads, visible = page.evaluate(
        """() => {
            const timeline = document.querySelector("#grid .timeline");
            const style = getComputedStyle(timeline);
            const pixels = (name) => parseFloat(style.getPropertyValue(name));
            return [pixels("--tl-hour"), pixels("--tl-rowhead"), document.getElementById("grid").clientWidth];
        }"""
    )
    assert heads + 13 * hour <= visible, f"07:00-20:00 needs {heads + 13 * hour} px of {visible}"


def test_a_building_folds_away_and_stays_folded(any_size, live_server, alice, campus):
    _, page = any_size
    timeline(page, live_server, alice)
    toggle = page.get_by_role("button", name=re.compile(r"^Franklin"))
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(row(page, campus["Franklin 101"])).to_be_hidden()
    expect(row(page, campus["Turing 201"])).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name=re.compile(r"^Franklin"))).to_have_attribute(
        "aria-expanded", "false"
    )
    expect(row(page, campus["Franklin 102"])).to_be_hidden()
    page.get_by_role("button", name=re.compile(r"^Franklin")).click()
    expect(row(page, campus["Franklin 102"])).to_be_visible()


def test_a_drag_on_a_rows_empty_time_opens_the_booking_panel(
    with_mouse, live_server, alice, campus, screenshot
):
    page = timeline(with_mouse, live_server, alice)
    cell = row(page, campus["Franklin 102"]).locator(f'.col[data-day="{TODAY}"]')
    page.mouse.move(*cal.point(cell, "14:00"))
    page.mouse.down()
    box = cell.bounding_box()
    assert box is not None
    page.mouse.move(
        box["x"] + box["width"] * cal.minute("15:30") / cal.DAY_MINUTES, box["y"] + box["height"] / 2, steps=5
    )
    expect(cell.locator(".ghost")).to_contain_text("14:00–15:30")
    screenshot(page, f"timeline-drag-{page.viewport_size['width']}")
    page.mouse.up()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="New booking")).to_be_visible()
    expect(panel.get_by_label("Date")).to_have_value(TODAY)
    expect(panel.get_by_label("Start")).to_have_value(re.compile(r"^14:00"))
    expect(panel.get_by_label("End", exact=True)).to_have_value(re.compile(r"^15:30"))
    expect(panel.get_by_label("Franklin 102")).to_be_checked()


@pytest.mark.parametrize("where", ["start", "center", "nearest"])
def test_scrolling_the_now_line_into_view_lands_on_now(page, live_server, alice, campus, where):
    timeline(page, live_server, alice)
    left, right, now = page.evaluate(
        """(where) => {
            const wrap = document.getElementById("grid");
            const line = wrap.querySelector(".now-line");
            line.scrollIntoView({ block: where, inline: where });
            const heads = wrap.querySelector(".tl-row-head").getBoundingClientRect();
            return [heads.right, wrap.getBoundingClientRect().right, line.getBoundingClientRect().left];
        }""",
        where,
    )
    assert left < now < right, f"now at {now} px, the rows' time between {left} and {right}"
    expect(page.get_by_role("group", name="Franklin 101", exact=True)).to_be_in_viewport()


def test_more_overlaps_than_lanes_open_as_a_list(page, live_server, alice, campus, make_event):
    for n in range(4):
        make_event(f"{TODAY} 15:00", 60, zone=ZONE, resources=[campus["Turing 201"]], summary=f"Talk {n}",
                   allow_conflicts=True)  # fmt: skip
    timeline(page, live_server, alice)
    more = page.get_by_role("button", name="2 more bookings in Turing 201")
    more.click()
    listed = page.locator(".tl-more-list:popover-open")
    expect(listed.get_by_role("button")).to_have_count(2)
    listed.get_by_role("button").first.click()
    expect(page.locator("#panel")).to_contain_text("Talk")


def test_the_week_runs_across_with_a_cell_per_day(with_mouse, live_server, alice, campus, screenshot):
    page = timeline(with_mouse, live_server, alice)
    page.goto("/calendar/timeline/week/")
    cells = row(page, campus["Franklin 101"]).locator(".col[data-axis='x']")
    expect(cells).to_have_count(7)
    expect(cal.booking(page, "Physics 101")).to_have_attribute("title", "Physics 101 · 11:00–12:30")
    screenshot(page, f"timeline-week-{page.viewport_size['width']}")


def test_it_opens_with_now_in_the_middle(page, live_server, alice, campus):
    timeline(page, live_server, alice)
    now, middle = page.evaluate(
        """() => {
            const wrap = document.getElementById("grid");
            const now = wrap.querySelector(".now-line").getBoundingClientRect();
            return [now.left, wrap.getBoundingClientRect().left + wrap.clientWidth / 2];
        }"""
    )
    assert abs(now - middle) < 40, f"now at {now} px, the middle at {middle}"


def test_a_tap_on_a_booking_opens_its_details_on_a_tablet(browser, live_server, alice, campus):
    for page in _context(browser, live_server, TABLET, touch=True):
        timeline(page, live_server, alice)
        cal.booking(page, "Physics 101").tap()
        expect(page.locator("#panel")).to_contain_text("Physics 101")


# ---------------------------------------------------------------- a campus, loaded as it scrolls


@pytest.fixture
def big_campus(make_resource, make_event, partner) -> dict[str, object]:
    """Five buildings of 15 rooms (75 rows: the page builds the first 30); a lecture this
    morning in Euler 05, the last building's."""
    partner.time_zone = ZONE
    partner.save()
    rooms = {}
    for name in ("Ampere", "Bohr", "Curie", "Dalton", "Euler"):
        building = make_resource(name)
        rooms[name] = building
        for n in range(1, 16):
            rooms[f"{name} {n:02d}"] = make_resource(f"{name} {n:02d}", parent_id=building.pk)
    make_event(f"{TODAY} 11:00", 90, zone=ZONE, resources=[rooms["Euler 05"]], summary="Optics")
    return rooms


def to_the_end(page: Page) -> None:
    page.evaluate(
        "() => { const wrap = document.getElementById('grid'); wrap.scrollTop = wrap.scrollHeight; }"
    )


def parts_asked(page: Page) -> list[str]:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "part=" in request.url else None)
    return asked


def test_scrolling_down_loads_the_next_buildings_rows(with_mouse, live_server, alice, big_campus, screenshot):
    page = with_mouse
    asked = parts_asked(page)
    timeline(page, live_server, alice)
    euler = big_campus["Euler"]
    expect(row(page, big_campus["Ampere 15"])).to_be_attached()
    placeholder = page.locator(f'#grid .tl-lazy[data-part$="part={euler.pk}"]')
    expect(placeholder).to_have_count(1)  # far below the first screen: not asked for yet
    assert not [url for url in asked if url.endswith(f"part={euler.pk}")]
    height = page.evaluate("() => document.getElementById('grid').scrollHeight")
    to_the_end(page)
    expect(row(page, big_campus["Euler 15"])).to_be_visible()
    expect(placeholder).to_have_count(0)
    expect(cal.booking(page, "Optics")).to_be_attached()
    # the placeholders were as tall as the rows that replaced them: the scrollbar told the truth
    assert abs(page.evaluate("() => document.getElementById('grid').scrollHeight") - height) < 40
    screenshot(page, f"timeline-campus-loaded-{page.viewport_size['width']}")


def test_a_drag_on_a_lazily_loaded_row_books_it(with_mouse, live_server, alice, big_campus):
    page = timeline(with_mouse, live_server, alice)
    to_the_end(page)
    cell = row(page, big_campus["Euler 12"]).locator(f'.col[data-day="{TODAY}"]')
    expect(cell).to_be_visible()
    page.mouse.move(*cal.point(cell, "14:00"))
    page.mouse.down()
    box = cell.bounding_box()
    assert box is not None
    page.mouse.move(
        box["x"] + box["width"] * cal.minute("15:30") / cal.DAY_MINUTES, box["y"] + box["height"] / 2, steps=5
    )
    page.mouse.up()
    panel = page.locator("#panel")
    expect(panel.get_by_label("Euler 12")).to_be_checked()
    panel.get_by_label("Title").fill("Late lecture")
    panel.get_by_role("button", name="Save booking").click()
    # the grid reloads a screenful at a time, where it was: Euler's rows come back, with the booking
    expect(row(page, big_campus["Euler 12"]).locator(".ev", has_text="Late lecture")).to_be_visible()
    expect(row(page, big_campus["Euler 12"])).to_be_in_viewport()


def test_a_folded_building_is_not_loaded_until_unfolded(page, live_server, alice, big_campus):
    asked = parts_asked(page)
    timeline(page, live_server, alice)
    euler = big_campus["Euler"]
    toggle = page.get_by_role("button", name=re.compile(r"^Euler"))
    toggle.click()  # scrolling to the button may load Euler before it folds: count from the reload
    page.reload()
    expect(page.get_by_role("button", name=re.compile(r"^Euler"))).to_have_attribute("aria-expanded", "false")
    asked.clear()
    to_the_end(page)
    expect(row(page, big_campus["Dalton 15"])).to_be_attached()  # loaded: open and in view
    page.wait_for_timeout(300)
    assert not [url for url in asked if url.endswith(f"part={euler.pk}")]
    page.get_by_role("button", name=re.compile(r"^Euler")).click()
    expect(row(page, big_campus["Euler 01"])).to_be_visible()
    assert [url for url in asked if url.endswith(f"part={euler.pk}")]


def test_a_building_that_fails_to_load_says_so_and_loads_on_retry(page, live_server, alice, big_campus):
    euler = big_campus["Euler"]
    failing = f"**/*part={euler.pk}"
    page.route(failing, lambda route: route.fulfill(status=503, body="down for a moment"))
    timeline(page, live_server, alice)
    to_the_end(page)
    retry = page.get_by_role("button", name="Euler could not be loaded. Try again")
    expect(retry).to_be_visible()
    page.unroute(failing)
    retry.click()
    expect(row(page, big_campus["Euler 05"]).locator(".ev", has_text="Optics")).to_be_visible()
