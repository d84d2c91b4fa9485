"""The calendar's gestures on every layout and input (issue #19): the mouse, a pen and a finger
drag bookings in the day view's columns and along the timeline's rows; dragging near an edge
scrolls; a focused booking moves and resizes with the keyboard, with the same live conflict
check; the ghost's note never shows an answer about a slot it left; Escape cancels; the move
confirmation states the new slot. The clock is pinned to NOW (Tuesday 1 September 2026, 10:00
in Berlin, the partner's zone)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from calendar_app import scheduling
from calendar_app.models import ScheduleEvent
from tests.conftest import at
from tests.web.browser import calendar_page as cal
from tests.web.browser.accounts import signed_in

pytestmark = pytest.mark.usefixtures("now")

ZONE = "Europe/Berlin"
ZONE_INFO = ZoneInfo(ZONE)
WEDNESDAY = "2026-09-02"
THURSDAY = "2026-09-03"
DAY_VIEW = f"/calendar/day/?date={WEDNESDAY}"
TIMELINE = f"/calendar/timeline/?date={WEDNESDAY}"
DESKTOP_HD = {"width": 1920, "height": 1080}
TABLET = {"width": 768, "height": 1024}


@pytest.fixture
def meeting(make_event, room_a):
    """Wednesday 14:00–15:00 in Room A: a slot to collide with."""
    return make_event(f"{WEDNESDAY} 14:00", 60, zone=ZONE, resources=[room_a], summary="Staff meeting")


def opened(page: Page, live_server, user, path: str) -> Page:
    signed_in(page, live_server, user)
    page.goto(path)
    return page


@pytest.fixture
def day_view(page, live_server, alice, physics):
    return opened(page, live_server, alice, DAY_VIEW)


@pytest.fixture
def timeline(page, live_server, alice, physics):
    return opened(page, live_server, alice, TIMELINE)


@pytest.fixture
def touch_page(browser, live_server):
    """A portrait tablet that has a touch screen (and no mouse in the test's hands)."""
    context = browser.new_context(viewport=TABLET, has_touch=True, is_mobile=False, base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def hd_page(browser, live_server):
    context = browser.new_context(viewport=DESKTOP_HD, base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def stored(event: ScheduleEvent) -> tuple:
    event.refresh_from_db()
    return event.start, event.end, scheduling.resource_ids_of(event)


def wed(hhmm: str):
    return at(f"{WEDNESDAY} {hhmm}", ZONE)


def ghost(page: Page) -> Locator:
    return page.locator("#grid .ghost")


def ghost_slot(page: Page) -> str:
    return ghost(page).locator(".ghost-time").inner_text()


# ---------------------------------------------------------------- along a row (the timeline)


def row_at(cell: Locator, hhmm: str) -> tuple[float, float]:
    """Where `hhmm` is in a timeline cell now, without scrolling (a gesture is under way)."""
    box = cell.bounding_box()
    assert box is not None, "the cell is not rendered"
    return box["x"] + box["width"] * cal.minute(hhmm) / cal.DAY_MINUTES, box["y"] + box["height"] / 2


# ---------------------------------------------------------------- touch and pen, through CDP


class Finger:
    """One finger on the touch screen, as Chromium's input pipeline receives it (so the browser
    itself decides between scrolling and handing the page its pointer events)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.at = (0.0, 0.0)

    def down(self, x: float, y: float) -> None:
        self.at = (x, y)
        self.cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})

    def move(self, x: float, y: float, steps: int = 8) -> None:
        x0, y0 = self.at
        for i in range(1, steps + 1):
            point = {"x": x0 + (x - x0) * i / steps, "y": y0 + (y - y0) * i / steps}
            self.cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
            self.page.wait_for_timeout(16)
        self.at = (x, y)

    def up(self) -> None:
        self.cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def pen_drag(page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 8) -> None:
    """A stylus pressed at `start`, drawn to `end` and lifted (CDP mouse events of pointerType pen)."""
    cdp = page.context.new_cdp_session(page)

    def send(kind: str, x: float, y: float, buttons: int) -> None:
        button = "left" if kind != "mouseMoved" or buttons else "none"
        cdp.send(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": x, "y": y, "button": button, "buttons": buttons, "clickCount": 1,
             "pointerType": "pen", "force": 0.5},
        )  # fmt: skip

    send("mouseMoved", *start, 0)
    send("mousePressed", *start, 1)
    for i in range(1, steps + 1):
        send(
            "mouseMoved",
            start[0] + (end[0] - start[0]) * i / steps,
            start[1] + (end[1] - start[1]) * i / steps,
            1,
        )
    send("mouseReleased", *end, 0)


# ---------------------------------------------------------------- mouse


def test_the_mouse_moves_a_booking_to_another_room_in_the_day_view(day_view, room_a, room_b, physics):
    source, target = cal.column(day_view, WEDNESDAY, room_a), cal.column(day_view, WEDNESDAY, room_b)
    cal.drag(day_view, source, "10:30", "13:30", to=target)
    expect(target.locator(".ev")).to_contain_text("13:00–14:30 Physics 101")
    assert stored(physics) == (wed("13:00"), wed("14:30"), [room_b.pk])


def test_the_mouse_resizes_a_booking_in_the_day_view(day_view, room_a, physics):
    cal.resize(day_view, cal.column(day_view, WEDNESDAY, room_a), "11:30", "12:45")
    expect(cal.booking(day_view, "Physics 101")).to_contain_text("10:00–12:45")
    assert stored(physics)[:2] == (wed("10:00"), wed("12:45"))


def test_the_mouse_moves_a_booking_along_the_timeline_and_to_another_row(timeline, room_a, room_b, physics):
    source, target = cal.column(timeline, WEDNESDAY, room_a), cal.column(timeline, WEDNESDAY, room_b)
    expect(source).to_have_attribute("data-axis", "x")
    timeline.mouse.move(*cal.point(source, "10:30"))
    timeline.mouse.down()
    timeline.mouse.move(*row_at(target, "15:30"), steps=6)
    expect(ghost(timeline)).to_have_count(1)
    assert ghost_slot(timeline) == "15:00–16:30"
    assert target.locator(".ghost").count() == 1  # the ghost follows into the other row
    timeline.mouse.up()
    expect(target.locator(".ev")).to_contain_text("Physics 101")
    assert stored(physics) == (wed("15:00"), wed("16:30"), [room_b.pk])


def test_the_mouse_books_a_slot_dragged_along_the_timeline(timeline, room_b):
    cell = cal.column(timeline, WEDNESDAY, room_b)
    timeline.mouse.move(*cal.point(cell, "13:00"))
    timeline.mouse.down()
    timeline.mouse.move(*row_at(cell, "14:30"), steps=6)
    timeline.mouse.up()
    panel = timeline.locator("#panel")
    expect(panel.get_by_label("Start")).to_have_value(re.compile(r"^13:00"))
    expect(panel.get_by_label("End")).to_have_value(re.compile(r"^14:30"))


def test_escape_cancels_a_mouse_drag(day_view, room_a, physics):
    col = cal.column(day_view, WEDNESDAY, room_a)
    cal.press(day_view, col, "10:30")
    cal.drag_to(day_view, col, "16:00")
    expect(ghost(day_view)).to_have_count(1)
    assert day_view.evaluate("document.getElementById('grid').hasPointerCapture(1)")
    day_view.keyboard.press("Escape")
    expect(ghost(day_view)).to_have_count(0)
    assert not day_view.evaluate("document.getElementById('grid').hasPointerCapture(1)")
    expect(cal.booking(day_view, "Physics 101")).not_to_have_class(re.compile("being-dragged"))
    day_view.mouse.up()
    day_view.wait_for_timeout(300)
    expect(day_view.locator("#panel")).to_be_empty()  # neither a move nor the details
    assert stored(physics)[:2] == (wed("10:00"), wed("11:30"))


def test_the_move_confirmation_states_the_new_slot(
    page, live_server, alice, room_a, physics, meeting, screenshot
):
    opened(page, live_server, alice, DAY_VIEW)
    cal.drag(page, cal.column(page, WEDNESDAY, room_a), "10:30", "14:30")
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Move “Physics 101”?")).to_be_visible()
    expect(panel.locator(".move-slot")).to_have_text("Move to Wed 2 Sep, 14:00–15:30, Room A?")
    expect(panel.get_by_role("alert")).to_contain_text("“Staff meeting”")
    screenshot(page, "gestures-move-confirmation")


# ---------------------------------------------------------------- scrolling at the edges


def test_dragging_to_the_bottom_edge_reveals_a_later_hour(day_view, room_a, physics):
    col = cal.column(day_view, WEDNESDAY, room_a)
    grid = day_view.locator("#grid")
    cal.press(day_view, col, "10:30")
    before = grid.evaluate("g => g.scrollTop")
    box = grid.bounding_box()
    day_view.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 30, steps=6)
    day_view.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 8, steps=2)
    day_view.wait_for_function(f"document.getElementById('grid').scrollTop > {before} + 200")
    day_view.mouse.up()  # the grid may have scrolled on since: the drop is where the ghost then was
    expect(cal.booking(day_view, "Physics 101")).not_to_contain_text("10:00–11:30")
    start, end, _ = stored(physics)
    # The bottom edge showed ~17:00 before the drag; 200 px more are 4.4 hours at 45 px an hour.
    assert start >= wed("19:00") and end - start == wed("11:30") - wed("10:00")
    expect(cal.booking(day_view, "Physics 101")).to_contain_text(f"{start.astimezone(ZONE_INFO):%H:%M}–")


def test_dragging_to_the_right_edge_of_the_timeline_reveals_a_later_hour(timeline, room_a, physics):
    cell = cal.column(timeline, WEDNESDAY, room_a)
    grid = timeline.locator("#grid")
    timeline.mouse.move(*cal.point(cell, "10:30"))
    timeline.mouse.down()
    before = grid.evaluate("g => g.scrollLeft")
    box = grid.bounding_box()
    y = row_at(cell, "10:30")[1]
    timeline.mouse.move(box["x"] + box["width"] - 30, y, steps=6)
    timeline.mouse.move(box["x"] + box["width"] - 6, y, steps=2)
    timeline.wait_for_function(f"document.getElementById('grid').scrollLeft > {before} + 400")
    start = ghost_slot(timeline).split("–")[0]
    assert cal.minute(start) >= cal.minute("15:00")  # 400 px at 80 px an hour: 5 hours on
    timeline.keyboard.press("Escape")
    timeline.mouse.up()
    expect(ghost(timeline)).to_have_count(0)


# ---------------------------------------------------------------- pen and touch


def test_a_pen_moves_a_booking_like_the_mouse(day_view, room_a, physics):
    day_view.evaluate(
        "window.kinds = new Set(); addEventListener('pointerdown', (e) => kinds.add(e.pointerType), true)"
    )
    col = cal.column(day_view, WEDNESDAY, room_a)
    start = cal.point(col, "10:30")
    box = col.bounding_box()
    pen_drag(day_view, start, (start[0], box["y"] + box["height"] * cal.minute("12:30") / cal.DAY_MINUTES))
    expect(cal.booking(day_view, "Physics 101")).to_contain_text("12:00–13:30")
    assert stored(physics)[:2] == (wed("12:00"), wed("13:30"))
    assert day_view.evaluate("[...kinds]") == ["pen"]


def test_a_finger_drags_a_booking_to_move_it(touch_page, live_server, alice, room_a, physics, screenshot):
    page = opened(touch_page, live_server, alice, DAY_VIEW)
    col = cal.column(page, WEDNESDAY, room_a)
    finger = Finger(page)
    finger.down(*cal.point(col, "10:30"))
    box = col.bounding_box()
    finger.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * cal.minute("12:30") / cal.DAY_MINUTES)
    expect(ghost(page)).to_have_count(1)
    assert ghost_slot(page) == "12:00–13:30"
    screenshot(page, "gestures-touch-move")
    finger.up()
    expect(cal.booking(page, "Physics 101")).to_contain_text("12:00–13:30")
    assert stored(physics)[:2] == (wed("12:00"), wed("13:30"))


def test_a_long_press_on_empty_time_starts_a_booking(touch_page, live_server, alice, room_b, physics):
    page = opened(touch_page, live_server, alice, DAY_VIEW)
    col = cal.column(page, WEDNESDAY, room_b)
    finger = Finger(page)
    finger.down(*cal.point(col, "13:00"))
    page.wait_for_timeout(600)
    expect(ghost(page)).to_have_count(1)  # the press alone shows the ghost
    box = col.bounding_box()
    finger.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * cal.minute("14:30") / cal.DAY_MINUTES)
    assert ghost_slot(page) == "13:00–14:30"
    finger.up()
    panel = page.locator("#panel")
    expect(panel.get_by_label("Start")).to_have_value(re.compile(r"^13:00"))
    expect(panel.get_by_label("End")).to_have_value(re.compile(r"^14:30"))
    expect(panel.get_by_label("Room B")).to_be_checked()


def test_a_quick_swipe_on_empty_time_scrolls_the_grid(touch_page, live_server, alice, room_b, physics):
    page = opened(touch_page, live_server, alice, DAY_VIEW)
    col = cal.column(page, WEDNESDAY, room_b)
    grid = page.locator("#grid")
    x, y = cal.point(col, "13:00")
    before = grid.evaluate("g => g.scrollTop")
    finger = Finger(page)
    finger.down(x, y)
    finger.move(x, y - 250, steps=6)
    finger.up()
    page.wait_for_function(f"document.getElementById('grid').scrollTop > {before} + 40")
    page.wait_for_timeout(LONG_PRESS_WAIT_MS)
    expect(ghost(page)).to_have_count(0)
    expect(page.locator("#panel")).to_be_empty()


LONG_PRESS_WAIT_MS = 600


# ---------------------------------------------------------------- keyboard


def focus_booking(page: Page, summary: str) -> Locator:
    box = cal.booking(page, summary)
    cal.tab_to(page, box, limit=200)
    return box


def test_arrow_keys_move_a_booking_and_enter_saves_it(day_view, room_a, physics):
    box = focus_booking(day_view, "Physics 101")
    expect(box).to_have_attribute("aria-describedby", "gesture-help")
    assert "Enter moves it, Escape cancels" in day_view.locator("#gesture-help").text_content()
    for _ in range(2):
        day_view.keyboard.press("ArrowDown")  # a slot each
    day_view.keyboard.press("Shift+ArrowDown")  # an hour
    assert ghost_slot(day_view) == "11:30–13:00"
    expect(ghost(day_view).locator(".ghost-check")).to_have_text("Free: no conflicts")
    expect(day_view.locator("#gesture-status")).to_contain_text("11:30 to 13:00, Room A")
    day_view.keyboard.press("Enter")
    expect(cal.booking(day_view, "Physics 101")).to_contain_text("11:30–13:00")
    assert stored(physics)[:2] == (wed("11:30"), wed("13:00"))
    expect(cal.booking(day_view, "Physics 101")).to_be_focused()  # the keyboard stays on it


def test_alt_with_arrows_resizes_and_sideways_arrows_change_room(day_view, room_a, room_b, physics):
    focus_booking(day_view, "Physics 101")
    day_view.keyboard.press("Alt+ArrowDown")
    day_view.keyboard.press("Alt+ArrowDown")
    day_view.keyboard.press("ArrowRight")  # Room B: the next column
    assert ghost_slot(day_view) == "10:00–12:00"
    expect(cal.column(day_view, WEDNESDAY, room_b).locator(".ghost")).to_have_count(1)
    day_view.keyboard.press("Enter")
    expect(cal.column(day_view, WEDNESDAY, room_b).locator(".ev")).to_contain_text("10:00–12:00")
    assert stored(physics) == (wed("10:00"), wed("12:00"), [room_b.pk])


def test_the_keyboard_sees_conflicts_live_and_enter_asks_first(
    page, live_server, alice, physics, meeting, screenshot
):
    opened(page, live_server, alice, DAY_VIEW)
    focus_booking(page, "Physics 101")
    for _ in range(4):
        page.keyboard.press("Shift+ArrowDown")  # 14:00–15:30: on the meeting
    expect(ghost(page)).to_have_class(re.compile(r"\bhas-conflict\b"))
    expect(ghost(page).locator(".ghost-check")).to_contain_text("“Staff meeting”")
    expect(page.locator("#gesture-status")).to_contain_text("Staff meeting")
    screenshot(page, "gestures-keyboard-conflict")
    page.keyboard.press("Enter")
    panel = page.locator("#panel")
    expect(panel.locator(".move-slot")).to_have_text("Move to Wed 2 Sep, 14:00–15:30, Room A?")
    assert stored(physics)[:2] == (wed("10:00"), wed("11:30"))


def test_escape_cancels_a_keyboard_move(day_view, physics):
    box = focus_booking(day_view, "Physics 101")
    day_view.keyboard.press("ArrowDown")
    expect(ghost(day_view)).to_have_count(1)
    day_view.keyboard.press("Escape")
    expect(ghost(day_view)).to_have_count(0)
    expect(box).not_to_have_class(re.compile("being-dragged"))
    expect(box).to_be_focused()
    expect(day_view.locator("#panel")).to_be_empty()
    assert stored(physics)[:2] == (wed("10:00"), wed("11:30"))


def test_the_keyboard_moves_along_the_timeline_and_to_the_next_row(timeline, room_a, room_b, physics):
    focus_booking(timeline, "Physics 101")
    timeline.keyboard.press("ArrowRight")
    timeline.keyboard.press("Shift+ArrowRight")
    timeline.keyboard.press("Alt+ArrowLeft")  # the end, back a slot; and not the browser's Back
    timeline.keyboard.press("ArrowDown")  # Room B's row
    assert ghost_slot(timeline) == "11:15–12:30"
    expect(cal.column(timeline, WEDNESDAY, room_b).locator(".ghost")).to_have_count(1)
    timeline.keyboard.press("Enter")
    expect(cal.column(timeline, WEDNESDAY, room_b).locator(".ev")).to_contain_text("Physics 101")
    assert stored(physics) == (wed("11:15"), wed("12:30"), [room_b.pk])


def test_the_note_is_cleared_the_moment_the_slot_changes(page, live_server, alice, physics, meeting):
    """Answers are held back 600 ms: what the ghost shows between a key and its answer is the
    page's own doing. A note about the slot left behind never shows."""
    opened(page, live_server, alice, DAY_VIEW)

    def slowly(route):
        page.wait_for_timeout(600)
        route.continue_()

    page.route(re.compile(r"/calendar/check/"), slowly)
    focus_booking(page, "Physics 101")
    for _ in range(4):
        page.keyboard.press("Shift+ArrowDown")  # on the meeting
    expect(ghost(page)).to_have_class(re.compile(r"\bhas-conflict\b"))
    page.evaluate(
        """() => {
            window.staleConflict = false;
            const ghost = document.querySelector("#grid .ghost");
            new MutationObserver(() => {
                if (ghost.classList.contains("has-conflict")) window.staleConflict = true;
            }).observe(ghost, { attributes: true, childList: true, subtree: true });
        }"""
    )
    page.keyboard.press("Shift+ArrowDown")  # 15:00–16:30: off the meeting
    note = ghost(page).locator(".ghost-check")
    assert note.inner_text() == "Checking…"
    assert "has-conflict" not in ghost(page).get_attribute("class")
    expect(note).to_have_text("Free: no conflicts")
    assert page.evaluate("window.staleConflict") is False


def test_in_the_room_week_sideways_arrows_change_the_day(page, live_server, alice, room_a, physics):
    opened(page, live_server, alice, f"/calendar/week/?date={WEDNESDAY}&location={room_a.pk}")
    focus_booking(page, "Physics 101")
    page.keyboard.press("ArrowRight")  # Thursday: the room's next column
    expect(cal.column(page, THURSDAY, room_a).locator(".ghost")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(cal.column(page, THURSDAY, room_a).locator(".ev")).to_contain_text("10:00–11:30")
    assert stored(physics) == (at(f"{THURSDAY} 10:00", ZONE), at(f"{THURSDAY} 11:30", ZONE), [room_a.pk])


def test_the_mouse_moves_a_booking_to_another_day_in_the_room_week(page, live_server, alice, room_a, physics):
    opened(page, live_server, alice, f"/calendar/week/?date={WEDNESDAY}&location={room_a.pk}")
    source, target = cal.column(page, WEDNESDAY, room_a), cal.column(page, THURSDAY, room_a)
    cal.drag(page, source, "10:30", "12:30", to=target)
    expect(target.locator(".ev")).to_contain_text("12:00–13:30 Physics 101")
    assert stored(physics)[:2] == (at(f"{THURSDAY} 12:00", ZONE), at(f"{THURSDAY} 13:30", ZONE))


def test_a_finger_drags_a_booking_along_the_timeline(
    touch_page, live_server, alice, room_a, physics, screenshot
):
    page = opened(touch_page, live_server, alice, TIMELINE)
    cell = cal.column(page, WEDNESDAY, room_a)
    finger = Finger(page)
    finger.down(*cal.point(cell, "10:30"))
    finger.move(*row_at(cell, "12:30"))
    expect(ghost(page)).to_have_count(1)
    assert ghost_slot(page) == "12:00–13:30"
    expect(ghost(page).locator(".ghost-check")).to_have_text("Free: no conflicts")
    screenshot(page, "gestures-touch-timeline")
    finger.up()
    expect(cal.booking(page, "Physics 101")).to_contain_text("12:00–13:30")
    assert stored(physics)[:2] == (wed("12:00"), wed("13:30"))


# ---------------------------------------------------------------- other sizes


def test_a_keyboard_move_at_1920(hd_page, live_server, alice, room_a, physics, screenshot):
    page = opened(hd_page, live_server, alice, TIMELINE)
    focus_booking(page, "Physics 101")
    page.keyboard.press("Shift+ArrowRight")
    expect(ghost(page).locator(".ghost-check")).to_have_text("Free: no conflicts")
    screenshot(page, "gestures-timeline-keyboard-1920")
    page.keyboard.press("Enter")
    expect(cal.booking(page, "Physics 101")).to_contain_text("11:00–12:30")
    assert stored(physics)[:2] == (wed("11:00"), wed("12:30"))
