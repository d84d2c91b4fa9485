"""The resource timeline as HTML: a row per column of the grid, time running across a day or a week.

Written here rather than in a template for the reason grid_html.py gives: the timeline is the
page staff open first, and 300 rooms over a week are ~2,100 day cells and ~6,000 boxes
(bench/timeline_view.py). Every text from the database goes through `escape`.

The markup keeps to the shared gesture contract that calendar.js drives: each row has one
`.col[data-axis="x"]` cell per day, spanning the day's 1440 local minutes left to right, and
its boxes carry `--top` (start minute) and `--height` (length in minutes) as in the vertical
grid; timeline.css turns them into left and width. Groups (the grid's, buildings by default)
fold away with a button that timeline.js remembers; blackout bands, the shaded past and the
now-line are one overlay across all rows rather than a copy in each of them.

A campus is built a screenful at a time (grid.Query.eager_rows): a group the grid left unbuilt
(`grid.lazy`) is its head and a placeholder as tall as its rows, which timeline.js swaps for
`part(...)`, the group's rows, when it scrolls into view (and not while it is folded).
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from calendar_app.web.grid import DAY_MINUTES, Band, Column, Day, Grid, Group, Placed

# A screenful of rows and a little more (a row is 37 px: ~22 fill 1080 px): the rest of a campus
# loads as it comes into view. 40 builds the first building of the bench campus (30 rooms) and
# leaves the other nine (bench/timeline_view.py).
EAGER_ROWS = 40


def render(grid: Grid, timeline_url: str, part_url: str = "") -> str:
    """The whole timeline; `part_url` is the page's address ending in "part=", to which a lazy
    group's placeholder adds its `part_key`."""
    location = f"&amp;location={grid.query.location_id}" if grid.query.location_id else ""
    links = [f"{timeline_url}?date={day.date:%Y-%m-%d}{location}" for day in grid.days]
    more: list[str] = []  # the "+N more" lists, outside the cells (see _more)
    groups = "".join(_group(grid, group, n, more, part_url) for n, group in enumerate(grid.groups))
    span = "week" if len(grid.days) == 7 else "day"
    return (
        f'<div class="timeline tl-{span}" style="--days: {len(grid.days)}">'
        f"{_head(grid, links)}"
        f'<div class="tl-body">{groups}{_marks(grid)}</div>{"".join(more)}</div>'
    )


def part(grid: Grid) -> str:
    """The rows of the one group the grid built (grid.Query.part) with their "+N more" lists,
    to stand in for its placeholder; nothing when the partner has no such group."""
    more: list[str] = []
    rows = [_rows(grid, g, more) for g in grid.groups if g.key not in grid.lazy]
    return "".join(rows) + "".join(more)


def part_key(group: Group) -> str:
    """What `?part=` names a group by: its building's id, or "other" (views.calendar_page)."""
    return str(group.location.id) if group.location else "other"


# ---------------------------------------------------------------- the time scale


def _head(grid: Grid, links: list[str]) -> str:
    days = "".join(_day_head(day, link) for day, link in zip(grid.days, links, strict=True))
    now = ""
    if grid.now_line:
        # The now-line that grid_view.js scrolls into view: here in the sticky head, so scrolling
        # to it moves the timeline across to now and never down past the first rooms.
        minute = grid.now_line.day_index * DAY_MINUTES + grid.now_line.minute
        now = f'<span class="now-line" style="--at: {minute}" aria-hidden="true"></span>'
    return (
        f'<div class="tl-head"><div class="tl-corner">Rooms</div>'
        f'<div class="tl-scale">{days}{now}</div></div>'
    )


def _day_head(day: Day, link: str) -> str:
    today = " today" if day.is_today else ""
    ticks = "".join(
        f'<span class="tl-tick" style="--hour: {hour}">{hour:02d}:00</span>' for hour in range(24)
    )
    return (
        f'<div class="tl-day-head{today}"><a class="day-title" href="{link}">{escape(day.label)}</a>'
        f'<div class="tl-ticks" aria-hidden="true">{ticks}</div></div>'
    )


# ---------------------------------------------------------------- groups and rows


def _group(grid: Grid, group: Group, n: int, more: list[str], part_url: str) -> str:
    key = group.key
    name = escape(group.name)
    count = len(group.columns)
    rows = _placeholder(group, name, part_url) if key in grid.lazy else _rows(grid, group, more)
    return (
        f'<section class="tl-group" aria-label="{name}">'
        f'<h2 class="tl-group-head"><button type="button" class="tl-toggle" aria-expanded="true" '
        f'aria-controls="tl-g{n}" data-group="{key}" title="{name}">'
        f'<span class="tl-chevron" aria-hidden="true"></span><span class="tl-group-name">{name}</span>'
        f'<span class="tl-count" aria-hidden="true">{count}</span></button></h2>'
        f'<div class="tl-rows" id="tl-g{n}">{rows}</div></section>'
    )


def _rows(grid: Grid, group: Group, more: list[str]) -> str:
    return "".join(_row(grid, column, more) for column in group.columns)


def _placeholder(group: Group, name: str, part_url: str) -> str:
    """As tall as the group's rows at one lane each (a row with more grows when it loads), so
    the scrollbar tells the campus's length; timeline.js loads `data-part` into its place."""
    url = escape(part_url + part_key(group))
    return (
        f'<div class="tl-lazy" data-part="{url}" style="--rows: {len(group.columns)}" aria-busy="true">'
        f'<span class="tl-lazy-note">Loading {name}…</span></div>'
    )


def _row(grid: Grid, column: Column, more: list[str]) -> str:
    resource = column.resource
    name = escape(resource.name)
    events = [grid.cells[day.index][column.index] for day in grid.days]
    # As tall as its most lanes (the grid caps them), and one more for "+N more" where needed.
    lanes = max((p.lanes for cell in events for p in cell), default=1)
    lanes += any(p.overflow for cell in events for p in cell)
    # Each day's date and label once per row, not per cell: 2,100 cells in a week of 300 rooms.
    days = [(day.index, f"{day.date:%Y-%m-%d}", f"{name}, {escape(day.label)}") for day in grid.days]
    cells = "".join(_cell(column, *day, cell, more) for day, cell in zip(days, events, strict=True))
    return (
        f'<div class="tl-row{" multi" if lanes > 1 else ""}" role="group" aria-label="{name}" '
        f'style="--row-lanes: {lanes}"><div class="tl-row-head r{resource.type}" title="{name}">'
        f'{escape(column.label)}</div><div class="tl-cells">{cells}</div></div>'
    )


def _cell(column: Column, n: int, iso: str, label: str, events: list[Placed], more: list[str]) -> str:
    """Day `n` (`iso`) of a row, `label` naming both: its boxes and any "+N more"."""
    boxes = "".join(_box(p) for p in events if not p.overflow)
    hidden = [p for p in events if p.overflow]
    if hidden:
        lane = max(p.lanes for p in events)
        boxes += _more(hidden, lane, f"tl-more-{column.index}-{n}", escape(column.resource.name), more)
    return (
        f'<div class="col" data-axis="x" data-resource="{column.resource.id}" '
        f'data-day="{iso}" aria-label="{label}">{boxes}</div>'
    )


# ---------------------------------------------------------------- booking boxes


def _state(event: Placed) -> tuple[str, str, str]:
    """The box's classes, its state in words and its movable flag, as grid_html.py marks them."""
    classes, state = f"ev t{event.type}", ""
    if event.is_cancelled:
        classes, state = classes + " cancelled", ", cancelled"
    if event.in_conflict:
        classes, state = classes + " conflict", state + ", in conflict"
    if event.continues_before:
        classes += " cont-before"
    if event.continues_after:
        classes += " cont-after"
    # Cancelled and multi-day boxes open their details but are not dragged.
    still = event.is_cancelled or event.continues_before or event.continues_after
    return classes, state, "" if still else ' data-movable="1"'


def _box(event: Placed) -> str:
    classes, state, movable = _state(event)
    start, end = _clock(event.start), _clock(event.end)
    times = f"{start}–{end}"
    summary = escape(event.summary)
    kit = escape(", ".join(event.equipment))  # the room's cameras and live entries it books
    repeat = '<span class="ev-repeat" aria-hidden="true">↻ </span>' if event.is_occurrence else ""
    flag = '<span class="ev-flag" aria-hidden="true">!</span>' if event.in_conflict else ""
    marker = f'<span class="ev-kit" aria-hidden="true">{kit}</span>' if kit else ""
    with_kit = f", with {kit}" if kit else ""
    return (
        f'<button type="button" class="{classes}" data-event="{event.event_id}"{movable} '
        f'style="--top: {event.top}; --height: {event.height}; --lane: {event.lane}; --lanes: {event.lanes}" '
        f'title="{summary} · {times}{" · " + kit if kit else ""}" '
        f'aria-label="{summary}, {start} to {end}{with_kit}{state}">'
        f'<span class="ev-time">{times}</span> <span class="ev-title">{repeat}{summary}</span>{marker}{flag}'
        f'<span class="resize" aria-hidden="true"></span></button>'
    )


def _clock(moment: datetime) -> str:
    """ "09:05": a third of strftime's time, which counts with ~12,000 a week (bench/timeline_view.py)."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


def _more(hidden: list[Placed], lane: int, key: str, name: str, more: list[str]) -> str:
    """One "+N more" chip, in the lane below the shown ones, per run of overlapping boxes the
    grid left over (`overflow`: more lanes than a row shows); each opens a popover listing them.
    The lists go after the rows, outside any `.col`, so a press in one never starts a drag on
    the cell beneath."""
    chips = []
    for n, run in enumerate(_runs(hidden)):
        top = min(p.top for p in run)
        height = max(p.top + p.height for p in run) - top
        label = f"{len(run)} more bookings in {name}"
        items = "".join(
            f'<li><button type="button" class="link" data-event="{p.event_id}">'
            f"{_clock(p.start)}–{_clock(p.end)} {escape(p.summary)}</button></li>"
            for p in run
        )
        more.append(f'<div class="tl-more-list" id="{key}-{n}" popover><p>{label}</p><ul>{items}</ul></div>')
        chips.append(
            f'<button type="button" class="tl-more" popovertarget="{key}-{n}" aria-label="{label}" '
            f'style="--top: {top}; --height: {height}; --lane: {lane}">+{len(run)} more</button>'
        )
    return "".join(chips)


def _runs(events: list[Placed]) -> list[list[Placed]]:
    """The events in runs that overlap one another on the time axis, in order of start."""
    runs: list[list[Placed]] = []
    end = -1
    for event in sorted(events, key=lambda p: p.top):
        bottom = event.top + event.height
        if event.top >= end:
            runs.append([])
            end = bottom
        else:
            end = max(end, bottom)
        runs[-1].append(event)
    return runs


# ---------------------------------------------------------------- across all rows


def _marks(grid: Grid) -> str:
    """The shaded past, the blackouts and the now-line: one layer over every row."""
    past = _past_minutes(grid)
    marks = f'<div class="tl-past" style="--at: {past}" aria-hidden="true"></div>' if past else ""
    marks += "".join(_band(band, day) for day in grid.days for band in grid.blackouts[day.index])
    if grid.now_line:
        marks += f'<div class="tl-now" style="--at: {past}" aria-hidden="true"></div>'
    return f'<div class="tl-marks">{marks}</div>'


def _past_minutes(grid: Grid) -> int:
    """How many of the window's minutes (across, from its first midnight) lie before now."""
    if grid.now_line:
        return grid.now_line.day_index * DAY_MINUTES + grid.now_line.minute
    return len(grid.days) * DAY_MINUTES if grid.query.now >= grid.end else 0


def _band(band: Band, day: Day) -> str:
    """A blackout across every row; its label opens its details, as in the grid."""
    summary = escape(band.summary)
    return (
        f'<button type="button" class="band" style="--at: {day.index * DAY_MINUTES + band.top}; '
        f'--height: {band.height}" data-event="{band.event_id}" title="Blackout: {summary}">'
        f"<span>{summary}</span></button>"
    )
