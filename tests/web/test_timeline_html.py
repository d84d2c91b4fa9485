"""The resource timeline as HTML (timeline_html.py): a row per column of the grid, a cell per day
along the x axis, boxes placed by the gesture contract's minutes, every text escaped."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from calendar_app import batch_scheduling, scheduling
from calendar_app.models import EventType, ResourceType
from calendar_app.scheduling import OnConflict
from calendar_app.web import grid, timeline_html
from tests.conftest import NOW, at

BERLIN = "Europe/Berlin"  # the partner's zone: positions are its wall-clock minutes
MONDAY = date(2026, 9, 7)
URL = "/calendar/timeline/"


def render(actor, days: int = 1, now=NOW, **query) -> str:
    return timeline_html.render(grid.build(grid.Query(actor.partner, MONDAY, days, now, **query)), URL)


@pytest.fixture(autouse=True)
def berlin(partner):
    partner.time_zone = BERLIN
    partner.save()


@pytest.fixture
def building(make_resource):
    return make_resource("Franklin")


@pytest.fixture
def room(make_resource, building):
    return make_resource("Franklin 101", parent_id=building.pk)


def cells(html: str, resource) -> list[str]:
    return re.findall(
        rf'<div class="col" data-axis="x" data-resource="{resource.pk}" data-day="([\d-]+)"', html
    )


def test_each_resource_has_a_row_with_a_cell_per_day(actor, room, make_resource):
    other = make_resource("Library")
    html = render(actor, days=7)
    assert cells(html, room) == [f"{MONDAY + timedelta(days=n)}" for n in range(7)]
    assert cells(html, other) == [f"{MONDAY + timedelta(days=n)}" for n in range(7)]
    assert (
        len(re.findall(r'class="tl-row( multi)?"', html)) == 2
    )  # Franklin 101 and Library: Franklin is their group


def test_a_day_timeline_has_one_cell_per_row(actor, room):
    assert cells(render(actor), room) == [str(MONDAY)]


def test_rows_sit_under_their_groups_head(actor, building, room, make_resource):
    make_resource("Library")
    html = render(actor)
    franklin = html.index('data-group="loc-' + str(building.pk) + '"')
    library = html.index('<span class="tl-group-name">Library</span>')
    assert franklin < html.index(f'data-resource="{room.pk}"') < library
    assert 'aria-expanded="true" aria-controls="tl-g0"' in html and 'id="tl-g0"' in html


def test_a_box_carries_the_gesture_contracts_minutes(actor, room, make_event):
    lecture = make_event(f"{MONDAY} 09:00", 90, zone=BERLIN, resources=[room], summary="Lecture")
    html = render(actor)
    assert (
        f'data-event="{lecture.pk}" data-movable="1" style="--top: 540; --height: 90; --lane: 0; --lanes: 1"'
        in html
    )
    assert 'aria-label="Lecture, 09:00 to 10:30"' in html and 'title="Lecture · 09:00–10:30"' in html


def test_a_cancelled_box_is_marked_and_not_movable(actor, room, make_event):
    gone = make_event(f"{MONDAY} 12:00", 30, zone=BERLIN, resources=[room], summary="Gone")
    scheduling.cancel_event(actor, gone.pk)
    html = render(actor, show_cancelled=True)
    assert f'class="ev t1 cancelled" data-event="{gone.pk}" style=' in html
    assert 'aria-label="Gone, 12:00 to 12:30, cancelled"' in html


def test_overlapping_bookings_take_lanes_and_the_row_grows(actor, room, make_event):
    for _ in range(2):
        make_event(f"{MONDAY} 09:00", 60, zone=BERLIN, resources=[room], allow_conflicts=True)
    html = render(actor)
    assert html.count("--lanes: 2") == 2 and "--lane: 1; --lanes: 2" in html
    assert f'class="tl-row multi" role="group" aria-label="{room.name}" style="--row-lanes: 2"' in html


def test_beyond_three_lanes_the_rest_is_one_more_chip_with_a_list(actor, room, make_event):
    events = [
        make_event(
            f"{MONDAY} 09:00", 60, zone=BERLIN, resources=[room], summary=f"E{n}", allow_conflicts=True
        )
        for n in range(5)
    ]
    html = render(actor)
    assert html.count('class="ev t1 conflict"') == 2  # lanes 0 and 1
    assert 'popovertarget="tl-more-0-0-0"' in html and ">+3 more</button>" in html
    assert 'style="--row-lanes: 3"' in html  # two lanes of boxes, one of "+N more"
    listed = html[html.index('id="tl-more-0-0-0" popover') :]
    assert all(f'data-event="{e.pk}"' in listed for e in events[2:])


def test_texts_from_the_database_are_escaped(actor, make_resource, make_event):
    room = make_resource('Hall "A" <1>')
    camera = make_resource("Cam & co", type=ResourceType.CAMERA, parent_id=room.pk)
    make_event(f"{MONDAY} 09:00", 60, resources=[room, camera], summary="<script>alert(1)</script>")
    make_event(f"{MONDAY} 00:00", 120, type=EventType.BLACKOUT, summary="Closed <b>")
    html = render(actor)
    assert "<script>" not in html and "<b>" not in html and "<1>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Hall &quot;A&quot; &lt;1&gt;" in html and "Cam &amp; co" in html and "Closed &lt;b&gt;" in html


def test_blackouts_are_bands_across_all_rows(actor, room, make_event):
    closed = make_event(f"{MONDAY} 18:00", 120, zone=BERLIN, type=EventType.BLACKOUT, summary="Closed")
    html = render(actor, days=7)
    band = f'class="band" style="--at: {18 * 60}; --height: 120" data-event="{closed.pk}"'
    assert html.count(band) == 1 and html.index(band) > html.rindex('class="tl-row')


def test_the_past_is_shaded_up_to_the_now_line(actor, room):
    now = at(f"{MONDAY} 10:30", BERLIN) + timedelta(days=2)  # Wednesday
    html = render(actor, days=7, now=now)
    minute = 2 * 1440 + 10 * 60 + 30
    assert f'<div class="tl-past" style="--at: {minute}"' in html
    assert f'<span class="now-line" style="--at: {minute}"' in html


def test_a_day_gone_by_is_all_past_and_has_no_now_line(actor, room):
    html = render(actor, now=at(f"{MONDAY} 10:30", BERLIN) + timedelta(days=3))
    assert '<div class="tl-past" style="--at: 1440"' in html and "now-line" not in html


def test_a_day_to_come_has_no_shade(actor, room):
    html = render(actor, now=at(f"{MONDAY} 10:30", BERLIN) - timedelta(days=3))
    assert "tl-past" not in html and "now-line" not in html


def test_the_day_heads_link_to_their_day(actor, room):
    html = render(actor, days=7)
    assert f'href="{URL}?date=2026-09-09"' in html and ">Wed 9 Sep</a>" in html


def test_a_rooms_folded_camera_is_a_marker_on_its_bookings(actor, room, make_resource, make_event):
    camera = make_resource("Franklin 101 camera 1", type=ResourceType.CAMERA, parent_id=room.pk)
    make_event(f"{MONDAY} 09:00", 90, zone=BERLIN, resources=[room, camera], summary="Lecture")
    html = render(actor)
    assert '<span class="ev-kit" aria-hidden="true">cam 1</span>' in html
    assert 'aria-label="Lecture, 09:00 to 10:30, with cam 1"' in html


def test_row_heads_name_the_resource_in_full(actor, room, make_resource):
    make_resource("Franklin 101 camera 1", type=ResourceType.CAMERA, parent_id=room.pk)
    html = render(actor, resource_types=frozenset(ResourceType))
    assert 'aria-label="Franklin 101 camera 1"' in html
    assert 'title="Franklin 101 camera 1">Franklin 101 · cam 1</div>' in html


def test_the_page_of_a_big_partner_takes_few_queries(client, alice, actor, django_assert_max_num_queries):
    rooms = [
        scheduling.create_resource(actor, {"type": ResourceType.LOCATION, "name": f"R{n}"}) for n in range(30)
    ]
    rows = [
        batch_scheduling.NewEvent(
            {
                "type": EventType.RECORD,
                "summary": f"Lecture {n}",
                "start": at(f"{MONDAY} 08:00", BERLIN) + timedelta(days=n % 7, hours=n // 210),
                "end": at(f"{MONDAY} 09:00", BERLIN) + timedelta(days=n % 7, hours=n // 210),
            },
            (rooms[n % 30].pk,),
        )
        for n in range(420)
    ]
    batch_scheduling.create_events(actor, rows, on_conflict=OnConflict.IGNORE)
    client.force_login(alice)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("calendar:timeline_week"), {"date": MONDAY})
    assert response.status_code == 200
    assert response.content.decode().count('class="ev t1') == 420


# ---------------------------------------------------------------- a campus, a screenful at a time


@pytest.fixture
def two_buildings(make_resource, building, room):
    """Franklin (101, 102) and Hopper (201-203, with a camera each)."""
    make_resource("Franklin 102", parent_id=building.pk)
    hopper = make_resource("Hopper")
    for n in (201, 202, 203):
        hall = make_resource(f"Hopper {n}", parent_id=hopper.pk)
        make_resource(f"Hopper {n} camera", type=ResourceType.CAMERA, parent_id=hall.pk)
    return building, hopper


def test_a_group_past_the_first_screenful_is_a_placeholder_as_tall_as_its_rows(actor, two_buildings):
    franklin, hopper = two_buildings
    built = grid.build(grid.Query(actor.partner, MONDAY, 7, NOW, eager_rows=2))
    html = timeline_html.render(built, URL, f"{URL}?date={MONDAY}&part=")
    assert '<div class="tl-rows" id="tl-g0"><div class="tl-row' in html  # Franklin's rows
    placeholder = (
        f'<div class="tl-lazy" data-part="{URL}?date={MONDAY}&amp;part={hopper.pk}" style="--rows: 3"'
    )
    assert f'<div class="tl-rows" id="tl-g1">{placeholder}' in html
    assert "Hopper 201" not in html and f'data-group="loc-{hopper.pk}"' in html  # its head, folding as before


def test_a_part_is_its_groups_rows_with_their_more_lists(actor, two_buildings, make_event):
    franklin, hopper = two_buildings
    hall = hopper.children.get(name="Hopper 202")
    for n in range(3):  # three at once: two lanes and "+1 more"
        make_event(
            f"{MONDAY} 09:00", 60, zone=BERLIN, resources=[hall], summary=f"Talk {n}", allow_conflicts=True
        )
    built = grid.build(grid.Query(actor.partner, MONDAY, 7, NOW, part=f"loc-{hopper.pk}"))
    html = timeline_html.part(built)
    names = re.findall(r'role="group" aria-label="([^"]+)"', html)
    assert names == ["Hopper 201", "Hopper 202", "Hopper 203"]
    assert "Franklin" not in html and html.count('class="tl-more-list"') == 1 and "Talk 2" in html
    assert timeline_html.part_key(built.groups[1]) == str(hopper.pk)
