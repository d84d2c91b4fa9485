"""The booking panel's resources: the tree as its list shows it (where each is, what names it
apart), and the list as HTML, written here rather than in a template, as grid_html.py writes the
grid: a campus of 300 rooms with two cameras each is ~900 checkboxes,
and Django's template engine spent ~0.5 ms on each (an include or the widget's own template);
these string joins spend well under a millisecond for them all. Every text from the database
goes through `escape`.

The chosen resources first, then the whole tree, where each chosen one stands as a line that
points up (its box is above). Each row carries its path for panel.js's search."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from calendar_app.models import Partner, ResourceStatus, ResourceType, ScheduleResource


@dataclass(frozen=True)
class ResourceOption:
    """A resource as the panel's list shows it: its place in the tree and what names it apart."""

    pk: int
    name: str
    depth: int
    kind: str  # "location", "camera" or "live": the list marks each its own way
    within: str  # the resource above it, where its own name does not say it ("" if none)
    path: str  # every name from the top down, what the list's search looks through


KINDS = {ResourceType.LOCATION: "location", ResourceType.CAMERA: "camera", ResourceType.LIVE_ENTRY: "live"}


def resource_tree(partner: Partner) -> list[ResourceOption]:
    """Active resources in tree order (each location followed by what is below it; at each level
    locations first, then by type and name), in one query."""
    rows = list(
        ScheduleResource.objects.for_partner(partner)
        .filter(status=ResourceStatus.ACTIVE)
        .order_by("type", "name")  # locations first at each level: buildings, then live entries
        .values_list("pk", "name", "parent_id", "type")
    )
    children: dict[int | None, list[tuple[int, str, int]]] = {}
    known = {pk for pk, _, _, _ in rows}
    for pk, name, parent, kind in rows:
        children.setdefault(parent if parent in known else None, []).append((pk, name, kind))
    ordered: list[ResourceOption] = []

    def visit(parent: int | None, above: tuple[str, ...]) -> None:
        for pk, name, kind in children.get(parent, []):
            # "Camera 1" under three rooms would read alike out of the tree (chosen, or found).
            within = above[-1] if above and above[-1].casefold() not in name.casefold() else ""
            path = " / ".join((*above, name))
            ordered.append(ResourceOption(pk, name, len(above), KINDS.get(kind, "location"), within, path))
            visit(pk, (*above, name))

    visit(None, ())
    return ordered


def resource_list(name: str, rows: Iterable[tuple[ResourceOption, bool]]) -> str:
    """The rows of the list: (resource, chosen) in tree order; `name` the checkboxes' field."""
    rows = list(rows)
    chosen = [option for option, is_chosen in rows if is_chosen]
    if not rows:
        return '<p class="hint">No resources yet.</p>'
    tree = "".join(_placed(option) if is_chosen else _box(name, option, False) for option, is_chosen in rows)
    if not chosen:
        return tree
    on_top = "".join(_box(name, option, True) for option in chosen)
    return f'<p class="res-group">Chosen</p>{on_top}<p class="res-group">All resources</p>{tree}'


def _box(name: str, option: ResourceOption, chosen: bool) -> str:
    # Out of the tree (chosen, on top) even a room says where it is; in it, what is not a room.
    within = option.within if chosen or option.kind != "location" else ""
    where = f' <span class="res-within">in {escape(within)}</span>' if within else ""
    return (
        f'<label class="res depth-{option.depth} is-{option.kind}{" is-chosen" if chosen else ""}"'
        f' data-search="{escape(option.path.lower())}">'
        f'<input type="checkbox" name="{name}" value="{option.pk}"{" checked" if chosen else ""}>'
        f' <span class="res-name">{escape(option.name)}</span>{where}</label>'
    )


def _placed(option: ResourceOption) -> str:
    return (
        f'<p class="res-placed depth-{option.depth}">{escape(option.name)}'
        ' <span class="res-within">chosen, above</span></p>'
    )
