"""Benchmark of the drag's conflict warning in a real browser (issue #19): from the pointer move
that starts dragging a booking onto a booked slot to the first conflict note painted on the ghost.

    .venv/bin/python bench/drag_conflict.py                        # the timeline, 30 drags
    .venv/bin/python bench/drag_conflict.py --view day --iterations 50

The data is bench/campus.py's (300 rooms with two cameras each, ~6,000 bookings in the bench
week). The server is bench/api.py's `served` (granian, one worker, one thread; or runserver),
DEBUG off, with the static files collected into a temporary STATIC_ROOT for WhiteNoise. Debian's
Chromium (/usr/bin/chromium, headless, through Playwright) signs in at the login form as the
campus admin and opens the bench week's Wednesday: the resource timeline of every room (--view
timeline, the default) or the day view of the building (--view day, one column per room).

Each drag: the mouse presses a lecture's box and, in one move, lands over the next lecture in the
same room, which starts the drag there; calendar.js sends the first check at once. In the page,
the moment is the `timeStamp` of that pointermove (the input's own time, in performance.now()'s
base) and the end is the animation frame after a MutationObserver sees the ghost's note replaced
by the answer: the frame that paints it. Escape then cancels the drag (nothing is saved) and the
next one starts. Target: p50 and p95 <= 200 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from datetime import date, timedelta
from itertools import groupby

import _django  # noqa: F401  (sets up Django; keep it first)
import campus
from api import machine, served, server_kind
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import Page, sync_playwright
from run import percentile

from calendar_app.models import EventStatus, ResourceType, ScheduleEvent, ScheduleResource

TARGET_MS = 200
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
VIEWPORT = {"width": 1920, "height": 1080}

# Installed in the page before each drag: the first pointermove after the press, and the frame
# after the ghost's note first holds an answer (anything but "Checking…").
WATCH = r"""() => {
  const run = (window.dragRun = { moved: null, painted: null, conflict: null });
  const first = (event) => {
    if (run.moved === null && event.buttons) run.moved = event.timeStamp;
  };
  window.addEventListener("pointermove", first, { capture: true });
  const observer = new MutationObserver(() => {
    const note = document.querySelector("#grid .ghost .ghost-check");
    if (!note || run.moved === null || note.textContent.trim() === "Checking…") return;
    observer.disconnect();
    run.conflict = note.closest(".ghost").classList.contains("has-conflict");
    run.note = note.textContent.replace(/\s+/g, " ").trim();
    run.slot = note.closest(".ghost").querySelector(".ghost-time").textContent;
    requestAnimationFrame(() => { run.painted = performance.now(); });
  });
  observer.observe(document.getElementById("grid"), { childList: true, subtree: true, characterData: true });
}"""


def pairs(c: campus.Campus, day: date) -> list[tuple[int, int, int, int]]:
    """(room, lecture, its start minute, the next lecture's start minute) for each room with two
    active lectures on `day` in a row, by room."""
    rows = (
        ScheduleEvent.objects.for_partner(c.partner)
        .filter(status=EventStatus.ACTIVE, start__gte=campus.local(day, 0), start__lt=campus.local(day, 23))
        .filter(
            resource_links__resource__type=ResourceType.LOCATION,
            resource_links__resource__parent__isnull=False,
        )
        .order_by("resource_links__resource_id", "start")
        .values_list("resource_links__resource_id", "pk", "start")
    )
    found = []
    for room, lectures in groupby(rows, key=lambda row: row[0]):
        starts = [(pk, _minute(start)) for _, pk, start in lectures]
        for (pk, minute), (_, following) in zip(starts, starts[1:], strict=False):
            found.append((room, pk, minute, following))
            break
    return found


def _minute(start) -> int:
    local = start.astimezone(campus.ZONE)
    return local.hour * 60 + local.minute


def sign_in(page: Page, url: str, c: campus.Campus) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Username").fill(c.username)
    page.get_by_label("Password").fill(c.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda address: "/accounts/login/" not in address)


def point(page: Page, cell: str, minute: int) -> tuple[float, float]:
    """Where `minute` is in `cell` on screen (after scrolling it to the middle of #grid)."""
    return page.eval_on_selector(
        cell,
        """(cell, minute) => {
            const wrap = document.getElementById("grid");
            const across = cell.dataset.axis === "x";
            const at = (box) => across
                ? [box.left + box.width * minute / 1440, box.top + box.height / 2]
                : [box.left + box.width / 2, box.top + box.height * minute / 1440];
            const view = wrap.getBoundingClientRect();
            const [x, y] = at(cell.getBoundingClientRect());
            wrap.scrollLeft += x - (view.left + view.width / 2);
            wrap.scrollTop += y - (view.top + view.height / 2);
            return at(cell.getBoundingClientRect());
        }""",
        minute,
    )


def drag_once(page: Page, cell: str, lecture: int, start: int, following: int) -> tuple:
    """One drag of `lecture` onto `following`'s start: ms to the painted note; the ms from the
    move to sending the check, of the request, and from its answer to the paint; a conflict?"""
    box = f'{cell} .ev[data-event="{lecture}"]'
    grab = start + 15  # inside the box, clear of its resize edge
    middle = (start + following) // 2 + 15
    point(page, cell, middle)  # both lectures on screen
    origin = _at(page, cell, grab)
    target = _at(page, cell, following + 15)
    if page.locator(box).count() != 1:
        raise LookupError(box)
    page.evaluate(WATCH)
    page.mouse.move(*origin)
    page.mouse.down()
    page.mouse.move(*target)  # one move, past the drag threshold: the drag starts over the lecture
    page.wait_for_function("window.dragRun.painted !== null", timeout=10_000)
    run = page.evaluate(
        """() => {
            const checks = performance.getEntriesByType("resource");
            const last = checks.filter((e) => e.name.includes("/calendar/check/")).pop();
            performance.clearResourceTimings();
            return { ...window.dragRun, sent: last.startTime, answered: last.responseEnd };
        }"""
    )
    page.keyboard.press("Escape")
    page.mouse.up()
    page.wait_for_timeout(100)  # the aborted request's end, so drags do not overlap
    moved = run["moved"]
    phases = (run["sent"] - moved, run["answered"] - run["sent"], run["painted"] - run["answered"])
    if not run["conflict"]:
        print(f"  no conflict at {run['slot']}: {run['note']}")
    return run["painted"] - moved, phases, run["conflict"]


def _at(page: Page, cell: str, minute: int) -> tuple[float, float]:
    return page.eval_on_selector(
        cell,
        """(cell, minute) => {
            const box = cell.getBoundingClientRect();
            return cell.dataset.axis === "x"
                ? [box.left + box.width * minute / 1440, box.top + box.height / 2]
                : [box.left + box.width / 2, box.top + box.height * minute / 1440];
        }""",
        minute,
    )


def reveal(page: Page, selector: str) -> None:
    """Scroll the grid down until `selector` is in the page: on the timeline of a campus, the
    buildings below the first screen load as they come into view (timeline.js)."""
    for _ in range(200):
        if page.locator(selector).count():
            return
        page.evaluate("() => { const grid = document.getElementById('grid'); grid.scrollTop += 400; }")
        page.wait_for_timeout(100)
    raise SystemExit(f"{selector} never appeared while scrolling the grid")


def page_path(view: str, c: campus.Campus, day: date, room: int) -> str:
    """The page to drag on (read before Playwright starts: its loop makes the ORM refuse)."""
    if view == "timeline":
        return f"/calendar/timeline/?date={day}"
    building = ScheduleResource.objects.for_partner(c.partner).get(pk=room).parent_id
    return f"/calendar/day/?date={day}&location={building}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--view", choices=("timeline", "day"), default="timeline")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--server", choices=("auto", "granian", "runserver"), default="auto")
    args = parser.parse_args(argv)

    c = campus.ensure()
    day = c.monday + timedelta(days=2)
    candidates = pairs(c, day)
    if not candidates:
        raise SystemExit("no room with two lectures on the bench Wednesday")
    static_root = tempfile.mkdtemp(prefix="drag-bench-static-")
    with override_settings(STATIC_ROOT=static_root):
        call_command("collectstatic", interactive=False, verbosity=0)
    os.environ["STATIC_ROOT"] = static_root  # for the server, which `served` starts with this environment
    print(f"database: {_django.describe_database()}\nmachine:  {machine()}")
    try:
        samples, parts, conflicts, lecture, room = measure(args, c, day, candidates)
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
    samples.sort()
    p50, p95 = statistics.median(samples), percentile(samples, 95)
    print(f"view: {args.view}, {len(samples)} drags of lecture {lecture} onto the next one in room {room}")
    print(
        f"  drag start -> conflict note painted  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
        f"  max {samples[-1]:6.1f} ms"
    )
    for n, name in enumerate(("move -> check sent", "check request", "answer -> painted")):
        print(f"    {name:<20} median {statistics.median(p[n] for p in parts):6.1f} ms")
    print(f"  notes that showed a conflict: {conflicts} of {len(samples)}")
    met = p50 <= TARGET_MS and p95 <= TARGET_MS
    print(f"target: p50 and p95 <= {TARGET_MS} ms: {'met' if met else 'MISSED'}")
    return 0 if met else 1


def measure(args: argparse.Namespace, c: campus.Campus, day: date, candidates: list) -> tuple:
    samples: list[float] = []
    parts: list[tuple[float, float, float]] = []
    conflicts = 0
    room, lecture, start, following = candidates[len(candidates) // 2]
    path = page_path(args.view, c, day, room)
    with served(server_kind(args.server)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport=VIEWPORT)
        sign_in(page, url, c)
        page.goto(url + path)
        cell = f'#grid .col[data-day="{day}"][data-resource="{room}"]'
        reveal(page, f'{cell} .ev[data-event="{lecture}"]')
        for n in range(args.warmup + args.iterations):
            elapsed, phases, conflict = drag_once(page, cell, lecture, start, following)
            if n >= args.warmup:
                samples.append(elapsed)
                parts.append(phases)
                conflicts += conflict
        browser.close()
    return samples, parts, conflicts, lecture, room


if __name__ == "__main__":
    sys.exit(main())
