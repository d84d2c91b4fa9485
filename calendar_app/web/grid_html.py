"""The days of the calendar grid as HTML, written here rather than in a template.

A week of 50 rooms with their cameras and live entries is ~1,000 columns and ~4,000 booking
boxes. Django's template engine spent ~600 ms on them (bench/week_view.py: variable lookups and
date filters, a few dozen per box); these string joins spend a few milliseconds. The markup is
what partials/grid.html would print; every text from the database goes through `escape`.
Clicks on a box are handled by one delegated listener in calendar.js (its `data-event`), not an
`hx-get` per box, which also spares htmx from processing thousands of elements on each swap.

A box holds its time, then its title, then the equipment it uses, as far as its size allows:
calendar.css hides what does not fit by container queries on the box, and the full text is in
its `title` (hover) and its accessible name.
"""

from __future__ import annotations

from html import escape

from calendar_app.web.grid import Band, Column, Day, Grid, Group, Placed


def days(grid: Grid, day_url: str) -> str:
    """Every day section of the grid: its heads, its blackout bands, its columns and boxes."""
    location = f"&amp;location={grid.location_id}" if grid.location_id else ""
    groups = "".join(_group_head(group) for group in grid.groups)
    return "".join(
        _day(grid, day, columns, bands, f"{day_url}?date={day.date:%Y-%m-%d}{location}", groups)
        for day, columns, bands in grid.day_cells()
    )


def _day(
    grid: Grid,
    day: Day,
    columns: list[tuple[Column, list[Placed]]],
    bands: list[Band],
    link: str,
    groups: str,
):
    label = escape(day.label)
    heads = "".join(_column_head(column) for column, _ in columns)
    body = _past(grid, day)
    body += "".join(_band(band) for band in bands)
    body += "".join(_column(column, events, day, label) for column, events in columns)
    if grid.now_line and grid.now_line.day_index == day.index:
        body += f'<div class="now-line" style="--top: {grid.now_line.minute}" aria-hidden="true"></div>'
    state = " today" if day.is_today else " past" if day.is_past else ""
    return (
        f'<section class="day{state}" style="--columns: {len(columns)}" aria-label="{label}">'
        f'<header class="day-head"><a class="day-title" href="{link}">{label}</a>'
        f'<div class="group-heads">{groups}</div><div class="col-heads">{heads}</div></header>'
        f'<div class="day-body">{body}</div></section>'
    )


def _past(grid: Grid, day: Day) -> str:
    """Shade over the part of the day that is over: all of a past day, today up to now."""
    if day.is_past:
        minutes = 1440
    elif grid.now_line and grid.now_line.day_index == day.index:
        minutes = grid.now_line.minute
    else:
        return ""
    return f'<div class="past-shade" style="--height: {minutes}" aria-hidden="true"></div>'


def _group_head(group: Group) -> str:
    name = escape(group.name)
    # A room in no building is a group of its own: its column's head names it, once.
    shown = "" if _is_lone_room(group) else name
    return f'<span class="group-head" style="--span: {len(group.columns)}" title="{name}">{shown}</span>'


def _is_lone_room(group: Group) -> bool:
    location = group.location
    return location is not None and [c.resource.id for c in group.columns] == [location.id]


def _column_head(column: Column) -> str:
    label = escape(column.label)
    folded = ", ".join(escape(r.name) for r in column.folded)
    title = f"{label} (with {folded})" if folded else label
    return f'<span class="col-head r{column.resource.type}" title="{title}">{label}</span>'


def _band(band: Band) -> str:
    summary = escape(band.summary)
    return (
        f'<button type="button" class="band" style="--top: {band.top}; --height: {band.height}" '
        f'data-event="{band.event_id}" title="Blackout: {summary}"><span>{summary}</span></button>'
    )


def _column(column: Column, events: list[Placed], day: Day, day_label: str) -> str:
    resource = column.resource
    boxes = "".join(_box(event) for event in events if not event.overflow)
    hidden = [event for event in events if event.overflow]
    if hidden:
        boxes += _more(hidden, f"more-{resource.id}-{day.date:%Y%m%d}")
    return (
        f'<div class="col" data-resource="{resource.id}" data-day="{day.date:%Y-%m-%d}" '
        f'aria-label="{escape(column.label)}, {day_label}">{boxes}</div>'
    )


def _more(hidden: list[Placed], key: str) -> str:
    """ "+N more" at the top of each run of overlapping boxes that found no lane, opening their
    list (a popover whose items carry data-event, so they open the booking as a box does)."""
    return "".join(_more_button(run, f"{key}-{n}") for n, run in enumerate(_runs(hidden)))


def _runs(hidden: list[Placed]) -> list[list[Placed]]:
    runs: list[list[Placed]] = []
    bottom = -1
    for event in sorted(hidden, key=lambda p: p.top):
        if not runs or event.top >= bottom:
            runs.append([])
            bottom = event.top
        runs[-1].append(event)
        bottom = max(bottom, event.top + event.height)
    return runs


def _more_button(run: list[Placed], ident: str) -> str:
    count = len(run)
    items = "".join(
        f'<li><button type="button" class="link" data-event="{e.event_id}">'
        f"{_times(e)} {escape(e.summary)}</button></li>"
        for e in run
    )
    return (
        f'<button type="button" class="more" popovertarget="{ident}" '
        f'style="--top: {run[0].top}; --lanes: {run[0].lanes}" '
        f'aria-label="{count} more booking{"s" if count != 1 else ""} from {run[0].start:%H:%M}">'
        f"+{count} more</button>"
        f'<div popover id="{ident}" class="more-list" role="dialog" aria-label="More bookings">'
        f"<ul>{items}</ul></div>"
    )


def _times(event: Placed) -> str:
    return f"{event.start:%H:%M}–{event.end:%H:%M}"


def _box(event: Placed) -> str:
    classes = f"ev t{event.type}"
    state = ""
    if event.is_cancelled:
        classes += " cancelled"
        state += ", cancelled"
    if event.in_conflict:
        classes += " conflict"
        state += ", in conflict"
    if event.continues_before:
        classes += " cont-before"
    if event.continues_after:
        classes += " cont-after"
    # Cancelled and multi-day boxes open their details but are not dragged.
    movable = (
        "" if event.is_cancelled or event.continues_before or event.continues_after else ' data-movable="1"'
    )
    start, end = f"{event.start:%H:%M}", f"{event.end:%H:%M}"
    summary = escape(event.summary)
    equipment = escape(", ".join(event.equipment))
    uses = f", with {equipment}" if equipment else ""
    repeat = '<span aria-hidden="true">↻ </span>' if event.is_occurrence else ""
    flag = '<span class="ev-flag" aria-hidden="true">!</span>' if event.in_conflict else ""
    marker = f'<span class="ev-equip">◉ {equipment}</span>' if equipment else ""
    name = f"{summary}, {start} to {end}{uses}{state}"
    return (
        f'<button type="button" class="{classes}" data-event="{event.event_id}"{movable} '
        f'style="--top: {event.top}; --height: {event.height}; --lane: {event.lane}; --lanes: {event.lanes}" '
        f'aria-label="{name}" title="{start}–{end} {summary}{uses}{state}"><span class="ev-in">'
        f'<span class="ev-time">{start}<span class="ev-end">–{end}</span></span> '
        f'<span class="ev-title">{repeat}{summary}</span>{marker}</span>{flag}'
        f'<span class="resize" aria-hidden="true"></span></button>'
    )
