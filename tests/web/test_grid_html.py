"""The grid's days as HTML (grid_html.py): what the template would print, with every text escaped."""

from __future__ import annotations

from datetime import date

from calendar_app import scheduling
from calendar_app.models import EventType, ResourceType
from calendar_app.web import grid, grid_html
from tests.conftest import NOW


def test_texts_from_the_database_are_escaped(actor, make_resource, make_event):
    room = make_resource('Hall "A" <1>')
    camera = make_resource("Cam & co", type=ResourceType.CAMERA, parent_id=room.pk)
    make_event("2026-09-07 09:00", 60, resources=[room, camera], summary="<script>alert(1)</script>")
    make_event("2026-09-08 00:00", 120, type=EventType.BLACKOUT, summary="Closed <b>")
    html = grid_html.days(grid.build(grid.Query(actor.partner, date(2026, 9, 7), 7, NOW)), "/calendar/day/")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Hall &quot;A&quot; &lt;1&gt;" in html and "Cam &amp; co" in html and "Closed &lt;b&gt;" in html


def test_each_box_carries_what_the_gestures_need(actor, make_resource, make_event):
    room = make_resource("Hall 1")
    berlin = "Europe/Berlin"  # the partner's zone: positions are its wall-clock minutes
    booked = make_event("2026-09-07 09:00", 90, zone=berlin, resources=[room], summary="Lecture")
    cancelled = make_event("2026-09-07 12:00", 30, zone=berlin, resources=[room], summary="Gone")
    scheduling.cancel_event(actor, cancelled.pk)
    query = grid.Query(actor.partner, date(2026, 9, 7), 1, NOW, show_cancelled=True)
    html = grid_html.days(grid.build(query), "/calendar/day/")
    assert f'data-resource="{room.pk}" data-day="2026-09-07"' in html
    assert f'data-event="{booked.pk}" data-movable="1" style="--top: 540; --height: 90;' in html
    assert f'class="ev t1 cancelled" data-event="{cancelled.pk}" style=' in html  # not movable
    assert 'aria-label="Gone, 12:00 to 12:30, cancelled"' in html


def test_a_box_names_the_folded_equipment_it_uses(actor, make_resource, make_event):
    room = make_resource("Hall 1")
    camera = make_resource("Hall 1 camera 2", type=ResourceType.CAMERA, parent_id=room.pk)
    make_event("2026-09-07 09:00", 60, zone="Europe/Berlin", resources=[room, camera], summary="Lecture")
    html = grid_html.days(grid.build(grid.Query(actor.partner, date(2026, 9, 7), 1, NOW)), "/calendar/day/")
    assert '<span class="ev-equip">◉ cam 2</span>' in html
    assert 'aria-label="Lecture, 09:00 to 10:00, with cam 2"' in html


def test_bookings_past_the_lanes_are_behind_a_more_button(actor, make_resource, make_event):
    room = make_resource("Hall 1")
    for n in range(4):
        make_event("2026-09-07 09:00", 60 + n, resources=[room], summary=f"Talk {n}", allow_conflicts=True)
    html = grid_html.days(grid.build(grid.Query(actor.partner, date(2026, 9, 7), 1, NOW)), "/calendar/day/")
    assert html.count('class="ev t1') == 2 and ">+2 more</button>" in html
    assert html.count('class="link" data-event=') == 2  # the two in the list open like boxes


def test_past_time_is_shaded(actor, make_resource):
    make_resource("Hall 1")
    today = grid.build(grid.Query(actor.partner, NOW.date(), 1, NOW))
    assert f'class="past-shade" style="--height: {today.now_line.minute}"' in grid_html.days(today, "/d/")
    yesterday = grid.build(grid.Query(actor.partner, date(2026, 8, 31), 1, NOW))
    assert 'class="past-shade" style="--height: 1440"' in grid_html.days(yesterday, "/d/")


def test_a_room_in_no_building_is_named_once_a_buildings_room_under_its_building(actor, make_resource):
    make_resource("Aula")
    building = make_resource("Turing Building")
    make_resource("Turing 101", parent_id=building.pk)
    html = grid_html.days(grid.build(grid.Query(actor.partner, date(2026, 9, 7), 1, NOW)), "/d/")
    assert html.count(">Aula</span>") == 1  # its column head; its group head is left empty
    assert ">Turing Building</span>" in html and ">Turing 101</span>" in html
