"""The calendar grid as a person drives it: a column per resource and day, 1440 minutes tall,
inside the scrolling #grid. Gestures go through page.mouse, as a pointer would."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

DAY_MINUTES = 24 * 60


def column(page: Page, day: str, resource) -> Locator:
    """The column of `resource` on `day` ("YYYY-MM-DD")."""
    return page.locator(f'#grid .col[data-day="{day}"][data-resource="{resource.pk}"]')


def booking(page: Page, summary: str) -> Locator:
    return page.locator("#grid .ev", has_text=summary)


def minute(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def point(col: Locator, hhmm: str) -> tuple[float, float]:
    """Where `hhmm` is on screen in `col`, after scrolling #grid to bring it to the middle of the
    visible area (away from the sticky heads and the scroll container's edges). Time runs down
    a column, or across a timeline's cell (data-axis="x")."""
    fraction = minute(hhmm) / DAY_MINUTES
    across = col.get_attribute("data-axis") == "x"
    col.evaluate(
        """(col, [fraction, across]) => {
            const wrap = document.getElementById("grid");
            const view = wrap.getBoundingClientRect();
            const box = col.getBoundingClientRect();
            const [x, y] = across ? [fraction, 0.5] : [0.5, fraction];
            wrap.scrollTop += box.top + box.height * y - (view.top + view.height / 2);
            wrap.scrollLeft += box.left + box.width * x - (view.left + view.width / 2);
        }""",
        [fraction, across],
    )
    box = col.bounding_box()
    assert box is not None, "the cell is not rendered"
    x, y = (fraction, 0.5) if across else (0.5, fraction)
    return box["x"] + box["width"] * x, box["y"] + box["height"] * y


def press(page: Page, col: Locator, hhmm: str) -> None:
    """Move the pointer to `hhmm` in `col` and press the button: the start of a gesture."""
    page.mouse.move(*point(col, hhmm))
    page.mouse.down()


def drag_to(page: Page, col: Locator, hhmm: str) -> None:
    """Move the pressed pointer to `hhmm` in `col` (without scrolling: the gesture has begun),
    in steps, as a hand does, so the gesture sees more than one pointermove."""
    box = col.bounding_box()
    assert box is not None, "the column is not rendered"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * minute(hhmm) / DAY_MINUTES
    page.mouse.move(x, y, steps=5)


def drag(page: Page, col: Locator, start: str, end: str, to: Locator | None = None) -> None:
    """A whole gesture: press at `start` in `col`, drag to `end` (in `to`, if given), release."""
    press(page, col, start)
    drag_to(page, to or col, end)
    page.mouse.up()


def resize(page: Page, col: Locator, end: str, new_end: str) -> None:
    """Drag the bottom edge of the booking in `col` that ends at `end` to `new_end`. The edge's
    handle (.resize) is the booking's last 6 px, and the booking stops 1 px short of its end."""
    x, y = point(col, end)
    page.mouse.move(x, y - 4)
    page.mouse.down()
    drag_to(page, col, new_end)
    page.mouse.up()


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Press Tab until `target` has the focus, as a keyboard user does."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{limit} presses of Tab never reached {target}")
