"""The days of the calendar grid as HTML, written here rather than in a template.

A week of 50 rooms with their cameras and live entries is ~1,000 columns and ~4,000 booking
boxes. Django's template engine spent ~600 ms on them (bench/week_view.py: variable lookups and
date filters, a few dozen per box); these string joins spend a few milliseconds. The markup is
what partials/grid.html would print; every text from the database goes through `escape`.
Clicks on a box are handled by one delegated listener in calendar.js (its `data-event`), not an
`hx-get` per box, which also spares htmx from processing thousands of elements on each swap.
"""

from __future__ import annotations

from html import escape

from calendar_app.web.grid import Band, Column, Day, Grid, Group, Placed


def days(grid: Grid, day_url: str) -> str:
    """Every day section of the grid: its heads, its blackout bands, its columns and boxes."""
    location = f"&amp;location={grid.query.location_id}" if grid.query.location_id else ""
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
    body = "".join(_band(band) for band in bands)
    body += "".join(_column(column, events, day, label) for column, events in columns)
    if grid.now_line and grid.now_line.day_index == day.index:
        body += f'<div class="now-line" style="--top: {grid.now_line.minute}" aria-hidden="true"></div>'
    today = " today" if day.is_today else ""
    return (
        f'<section class="day{today}" style="--columns: {len(columns)}" aria-label="{label}">'
        f'<header class="day-head"><a class="day-title" href="{link}">{label}</a>'
        f'<div class="group-heads">{groups}</div><div class="col-heads">{heads}</div></header>'
        f'<div class="day-body">{body}</div></section>'
    )


def _group_head(group: Group) -> str:
    name = escape(group.name)
    return f'<span class="group-head" style="--span: {len(group.columns)}" title="{name}">{name}</span>'


def _column_head(column: Column) -> str:
    name, label = escape(column.resource.name), escape(column.label)
    return f'<span class="col-head r{column.resource.type}" title="{name}">{label}</span>'


def _band(band: Band) -> str:
    summary = escape(band.summary)
    return (
        f'<button type="button" class="band" style="--top: {band.top}; --height: {band.height}" '
        f'data-event="{band.event_id}" title="Blackout: {summary}"><span>{summary}</span></button>'
    )


def _column(column: Column, events: list[Placed], day: Day, day_label: str) -> str:
    resource = column.resource
    boxes = "".join(map(_box, events))
    return (
        f'<div class="col" data-resource="{resource.id}" data-day="{day.date:%Y-%m-%d}" '
        f'aria-label="{escape(resource.name)}, {day_label}">{boxes}</div>'
    )


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
    times = f"{event.start:%H:%M}–{event.end:%H:%M}"
    summary = escape(event.summary)
    repeat = '<span aria-hidden="true">↻ </span>' if event.is_occurrence else ""
    flag = '<span class="ev-flag" aria-hidden="true">!</span>' if event.in_conflict else ""
    return (
        f'<button type="button" class="{classes}" data-event="{event.event_id}"{movable} '
        f'style="--top: {event.top}; --height: {event.height}; --lane: {event.lane}; --lanes: {event.lanes}" '
        f'aria-label="{summary}, {times.replace("–", " to ")}{state}">'
        f'<span class="ev-time">{times}</span> <span class="ev-title">{repeat}{summary}</span>{flag}'
        f'<span class="resize" aria-hidden="true"></span></button>'
    )
