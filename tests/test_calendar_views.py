"""The staff web calendar's server side (views.py, forms.py, booking.py), through the test client
as a signed-in member: Bob only looks, Sam books, Alice administers; Charlie's college is the
outsider whose events must stay out of reach. Alice's university is in Europe/Berlin."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pytest
from django.urls import reverse

from calendar_app import scheduling
from calendar_app.models import (
    EventType,
    Membership,
    RecurrenceType,
    ResourceType,
    ScheduleEvent,
)
from calendar_app.scheduling import OnConflict
from tests.conftest import at

BERLIN = "Europe/Berlin"
MONDAY = "2026-09-07"  # NOW is Tuesday 2026-09-01: the week after the current one
NINE, TEN = 9 * 60, 10 * 60  # minutes from local midnight, as a drag sends them


@pytest.fixture(autouse=True)
def _pinned_clock(now):
    """Every view reads the pinned clock: "today" is Tuesday 1 September 2026."""


def url(name: str, *args) -> str:
    return reverse(f"calendar:{name}", args=args)


def text(response) -> str:
    return response.content.decode()


def lecture(make_event, start: str = f"{MONDAY} 09:00", minutes: int = 60, **extra) -> ScheduleEvent:
    """A booking at Berlin wall time, saved even where it collides (a state to test against)."""
    return make_event(start, minutes, zone=BERLIN, allow_conflicts=True, **extra)


def booking(**fields) -> dict[str, Any]:
    """The booking panel's fields as a browser posts them: Monday 09:00-10:00, a recording."""
    data = {
        "summary": "Algebra",
        "type": EventType.RECORD,
        "day": MONDAY,
        "start_time": "09:00",
        "end_time": "10:00",
        "template_entry": "",
        "description": "",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def as_posted(form) -> dict[str, Any]:
    """What the browser sends back for a form shown with its values left as they are."""
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, time):
            value = value.strftime("%H:%M")
        elif isinstance(value, date):
            value = value.isoformat()
        elif value is True:
            value = "on"
        if value not in (None, False, "", []):
            data[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return data


def stored(event: ScheduleEvent) -> ScheduleEvent:
    return ScheduleEvent.objects.get(pk=event.pk)


def occurrences(series: ScheduleEvent) -> list[ScheduleEvent]:
    return list(series.occurrences.order_by("original_start"))


def only_event() -> ScheduleEvent:
    [event] = ScheduleEvent.objects.exclude(recurrence_type=RecurrenceType.RECURRENCE)
    return event


@pytest.fixture
def room(make_resource):
    return make_resource("Lovelace 101")


@pytest.fixture
def camera(make_resource, room):
    return make_resource("Lovelace 101 camera", ResourceType.CAMERA, parent_id=room.pk)


@pytest.fixture
def hall(make_resource):
    return make_resource("Turing Hall")


@pytest.fixture
def sam(make_member, partner):
    """Alice's teammate who books."""
    return make_member(partner, Membership.Role.SCHEDULER, "sam")


@pytest.fixture
def viewer(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def scheduler(client, sam):
    client.force_login(sam)
    return client


@pytest.fixture
def admin(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def algebra(make_event, room):
    return lecture(make_event, summary="Algebra", resources=[room])


@pytest.fixture
def physics(make_series, room):
    """Weekly on Mondays 09:00-10:00 Berlin, three times from 7 September."""
    return make_series(f"{MONDAY} 09:00", 60, count=3, summary="Physics", resources=[room])


@pytest.fixture
def outsider_event(make_event, outsider, make_resource):
    their_room = make_resource("Charlie Hall 5", who=outsider)
    return make_event(
        f"{MONDAY} 09:00", 60, zone=BERLIN, summary="Secret", resources=[their_room], who=outsider
    )


# ---------------------------------------------------------------- the week and day pages


def page(client, name: str = "week", **params) -> str:
    response = client.get(url(name), params)
    assert response.status_code == 200
    return text(response)


def test_the_week_shows_the_partners_resources_and_events(viewer, camera, hall, algebra):
    html = page(viewer, date=MONDAY)
    assert "Lovelace 101" in html and "Turing Hall" in html
    assert ">camera</span>" in html  # the camera's column, named within its room's group
    assert "Algebra" in html


def test_times_are_the_partners_wall_clock(viewer, algebra):
    html = page(viewer, date=MONDAY)
    assert "09:00–10:00" in html  # 07:00-08:00 UTC
    assert "Times in Europe/Berlin" in html


def test_the_week_starts_on_monday(viewer, room):
    html = page(viewer, date="2026-09-10")  # a Thursday
    assert "Mon 7 Sep" in html and "Sun 13 Sep" in html
    assert "Sun 6 Sep" not in html and "Mon 14 Sep" not in html


def test_without_a_date_it_shows_this_week(viewer, room):
    html = page(viewer)
    assert "Mon 31 Aug" in html and "Sun 6 Sep" in html


def test_it_links_to_the_weeks_before_and_after(viewer, room):
    html = page(viewer, date="2026-09-10")
    assert f'href="{url("week")}?date=2026-08-31"' in html
    assert f'href="{url("week")}?date=2026-09-14"' in html


def test_the_navigation_keeps_the_filters(viewer, room):
    html = page(viewer, date=MONDAY, location=room.pk, types=ResourceType.LOCATION)
    assert f'href="{url("week")}?location={room.pk}&amp;types=1&amp;date=2026-09-14"' in html


def test_events_of_other_weeks_are_not_shown(viewer, make_event, room):
    lecture(make_event, "2026-09-14 09:00", summary="Next week's", resources=[room])
    assert "Next week&#x27;s" not in page(viewer, date=MONDAY)
    assert "Next week&#x27;s" in page(viewer, date="2026-09-14")


def test_the_day_view_shows_one_day(viewer, make_event, room):
    lecture(make_event, summary="Monday's", resources=[room])
    lecture(make_event, "2026-09-08 09:00", summary="Tuesday's", resources=[room])
    html = page(viewer, "day", date=MONDAY)
    assert "Mon 7 Sep" in html and "Tue 8 Sep" not in html
    assert "Monday&#x27;s" in html and "Tuesday&#x27;s" not in html


def test_the_location_filter_shows_that_locations_columns(viewer, make_event, room, hall):
    lecture(make_event, summary="Algebra", resources=[room])
    lecture(make_event, summary="Databases", resources=[hall])
    html = page(viewer, date=MONDAY, location=room.pk)
    assert "Algebra" in html and "Databases" not in html


def test_the_type_filter_hides_other_columns(viewer, make_event, room, camera):
    lecture(make_event, summary="Algebra", resources=[room])
    lecture(make_event, summary="Camera test", resources=[camera])
    html = page(viewer, date=MONDAY, types=ResourceType.LOCATION)
    assert "Algebra" in html and "Camera test" not in html
    assert "Camera test" in page(viewer, date=MONDAY, types=ResourceType.CAMERA)


def test_a_partner_without_resources_sees_the_first_run_screen(viewer):
    html = page(viewer)
    assert "Welcome to Alice University" in html
    assert "ask an administrator" in html


def test_an_htmx_grid_reload_gets_only_the_grid(viewer, algebra):
    response = viewer.get(url("week"), {"date": MONDAY}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="grid")
    html = text(response)
    assert response.status_code == 200
    assert html.startswith('<div id="grid"') and "Algebra" in html
    assert "<html" not in html and "Go to" not in html


@pytest.mark.parametrize("day", ["not-a-date", "2026-13-01", "9999-12-31", "0001-01-01"])
def test_a_bad_date_shows_a_week_rather_than_an_error(viewer, room, day):
    assert "Lovelace 101" in page(viewer, date=day)


@pytest.mark.parametrize("params", [{"location": "x"}, {"location": "99999"}, {"types": ["9", "y"]}])
def test_bad_filters_are_ignored_or_show_nothing(viewer, room, params):
    assert viewer.get(url("week"), params).status_code == 200


def test_the_week_of_a_big_partner_takes_few_queries(viewer, actor, django_assert_max_num_queries):
    rooms = [
        scheduling.create_resource(actor, {"type": ResourceType.LOCATION, "name": f"Room {n}"})
        for n in range(20)
    ]
    for n, room in enumerate(rooms):
        scheduling.create_resource(
            actor, {"type": ResourceType.CAMERA, "name": f"Cam {n}", "parent_id": room.pk}
        )
    rows = [
        scheduling.NewEvent(
            {
                "type": EventType.RECORD,
                "summary": f"Lecture {n}",
                "start": at(f"{MONDAY} 08:00", BERLIN) + timedelta(days=n % 7, hours=n // 140),
                "end": at(f"{MONDAY} 09:00", BERLIN) + timedelta(days=n % 7, hours=n // 140),
            },
            (rooms[n % 20].pk,),
        )
        for n in range(210)
    ]
    scheduling.create_events(actor, rows, on_conflict=OnConflict.IGNORE)
    with django_assert_max_num_queries(10):
        html = page(viewer, date=MONDAY)
    assert html.count('class="ev t1') == 210
