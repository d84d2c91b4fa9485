"""The resource timeline as HTML: a row per resource, time running across a day or a week.

Placeholder until the timeline lands: it renders the grid's rows and nothing else."""

from __future__ import annotations

from html import escape

from calendar_app.web.grid import Grid


def render(grid: Grid, timeline_url: str) -> str:
    rows = "".join(f'<div class="tl-row">{escape(column.resource.name)}</div>' for column in grid.columns)
    return f'<div class="timeline">{rows}</div>'
