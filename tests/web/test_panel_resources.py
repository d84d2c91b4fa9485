"""The booking panel's resource list (panel_resources.py): the tree, what names a resource apart,
the chosen ones on top, and the list's HTML."""

from __future__ import annotations

import re

from calendar_app.models import ResourceType
from calendar_app.web.forms import BookingForm
from calendar_app.web.panel_resources import resource_list, resource_tree


def names(html: str) -> list[str]:
    return re.findall(r'<span class="res-name">([^<]+)</span>', html)


def test_the_tree_names_cameras_apart(partner, make_resource):
    north = make_resource("North building")
    room = make_resource("Room 1", parent_id=north.pk)
    make_resource("Camera A", ResourceType.CAMERA, parent_id=room.pk)
    make_resource("Room 1 camera B", ResourceType.CAMERA, parent_id=room.pk)
    shown = [(o.name, o.depth, o.kind, o.within, o.path) for o in resource_tree(partner)]
    assert shown == [
        ("North building", 0, "location", "", "North building"),
        ("Room 1", 1, "location", "North building", "North building / Room 1"),
        ("Camera A", 2, "camera", "Room 1", "North building / Room 1 / Camera A"),
        ("Room 1 camera B", 2, "camera", "", "North building / Room 1 / Room 1 camera B"),  # it says where
    ]


def test_the_tree_puts_buildings_before_live_entries(partner, make_resource):
    make_resource("A stream", ResourceType.LIVE_ENTRY)
    make_resource("B building")
    assert [o.name for o in resource_tree(partner)] == ["B building", "A stream"]


def test_the_chosen_come_first_and_keep_a_line_in_the_tree(partner, make_resource):
    alpha, beta = make_resource("Alpha"), make_resource("Beta")
    html = BookingForm(partner=partner, initial={"resources": [beta.pk]}).resource_list()
    assert names(html) == ["Beta", "Alpha"]
    assert f'value="{beta.pk}" checked>' in html and f'value="{alpha.pk}">' in html
    assert (
        html.index(">Chosen<")
        < html.index(">All resources<")
        < html.index('Beta <span class="res-within">chosen, above')
    )


def test_a_posted_choice_is_kept_on_top(partner, make_resource):
    make_resource("Alpha")
    beta = make_resource("Beta")
    html = BookingForm(partner=partner, data={"resources": [str(beta.pk)]}).resource_list()
    assert names(html) == ["Beta", "Alpha"]


def test_names_are_escaped(partner, make_resource):
    assert resource_list("resources", []) == '<p class="hint">No resources yet.</p>'
    make_resource('<b>"Room"</b>')
    html = resource_list("resources", [(o, False) for o in resource_tree(partner)])
    assert "&lt;b&gt;&quot;Room&quot;&lt;/b&gt;" in html and "<b>" not in html
