"""The staff web calendar's server side (views.py, forms.py, conflict_warnings.py), through the test client
as a signed-in member: Bob only looks, Sam books, Alice administers; Charlie's college is the
outsider whose events must stay out of reach. Alice's university is in Europe/Berlin."""

from __future__ import annotations

import gzip
import json
import re
from datetime import date, time, timedelta
from typing import Any

import pytest
from django.urls import reverse

from calendar_app import batch_scheduling, clock, scheduling
from calendar_app.errors import ValidationFailed
from calendar_app.models import (
    AuditEntry,
    Entry,
    EntryType,
    EventStatus,
    EventType,
    Membership,
    RecurrenceType,
    ResourceType,
    ScheduleEvent,
    ScheduleEventResource,
)
from calendar_app.scheduling import OnConflict
from calendar_app.web.forms import BookingForm
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


def the_series() -> ScheduleEvent:
    return ScheduleEvent.objects.get(recurrence_type=RecurrenceType.RECURRING)


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


def test_the_day_shows_the_partners_resources_and_events(viewer, camera, hall, algebra):
    html = page(viewer, "day", date=MONDAY, types=[ResourceType.LOCATION, ResourceType.CAMERA])
    assert "Lovelace 101" in html and "Turing Hall" in html
    assert ">Lovelace 101 · cam</span>" in html  # the camera's column names its room
    assert "Algebra" in html


def test_the_week_shows_one_room_the_first_by_name(viewer, make_event, room, hall):
    lecture(make_event, summary="Algebra", resources=[room])
    lecture(make_event, summary="Databases", resources=[hall])
    html = page(viewer, date=MONDAY)
    assert "Algebra" in html and "Databases" not in html
    assert f'<option value="{room.pk}" selected>' in html  # the room picker says which


def test_day_and_week_link_to_each_other_keeping_the_place(viewer, make_resource):
    building = make_resource("Main building")
    room = make_resource("Room 1", parent_id=building.pk)
    week_html = page(viewer, date=MONDAY, location=room.pk)
    assert f'href="{url("day")}?location={building.pk}&amp;date={MONDAY}"' in week_html
    day_html = page(viewer, "day", date=MONDAY, location=building.pk)
    assert f'href="{url("week")}?location={building.pk}&amp;date={MONDAY}"' in day_html


def test_cancelled_bookings_are_shown_when_the_address_asks(viewer, actor, make_event, room):
    gone = lecture(make_event, summary="Gone", resources=[room])
    scheduling.cancel_event(actor, gone.pk)
    assert "Gone" not in page(viewer, "day", date=MONDAY)
    html = page(viewer, "day", date=MONDAY, cancelled="1")
    assert "Gone, 09:00 to 10:00, cancelled" in html
    assert f'href="{url("day")}?cancelled=1&amp;date=2026-09-08"' in html  # kept by the navigation


def test_the_toolbar_names_the_step_and_offers_a_free_room(viewer, room):
    html = page(viewer, "day", date=MONDAY)
    assert 'aria-label="Previous day"' in html and 'aria-label="Next day"' in html
    assert f'href="{url("free_rooms")}"' in html
    assert 'aria-label="Previous week"' in page(viewer, date=MONDAY)


def test_times_are_the_partners_wall_clock(viewer, algebra):
    html = page(viewer, date=MONDAY)
    assert "09:00–10:00" in html  # 07:00-08:00 UTC
    assert "Times in Europe/Berlin" in html


def test_the_week_clocks_go_back_shows_each_day_on_its_wall_clock(viewer, make_event, room):
    lecture(make_event, "2026-10-23 09:00", summary="Friday CEST", resources=[room])
    lecture(make_event, "2026-10-25 09:00", summary="Sunday CET", resources=[room])
    html = page(viewer, date="2026-10-19")
    assert html.count("09:00–10:00") == 2
    assert "Sunday CET, 09:00 to 10:00" in html


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


def test_the_type_filter_chooses_columns_and_folds_the_rest(viewer, make_event, room, camera):
    lecture(make_event, summary="Algebra", resources=[room])
    lecture(make_event, "2026-09-07 11:00", summary="Camera test", resources=[camera])
    html = page(viewer, "day", date=MONDAY)
    assert "Algebra" in html and "Camera test" in html and '<span class="ev-equip">◉ cam</span>' in html
    cameras = page(viewer, "day", date=MONDAY, types=ResourceType.CAMERA)
    assert "Camera test" in cameras and "Algebra" not in cameras


def test_a_partner_without_resources_sees_the_first_run_screen(viewer):
    html = page(viewer)
    assert "Welcome to Alice University" in html
    assert "ask an administrator" in html


def test_an_htmx_grid_reload_gets_only_the_grid(viewer, algebra):
    response = viewer.get(url("week"), {"date": MONDAY}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="grid")
    html = text(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="grid"') and "Algebra" in html
    assert "<html" not in html and "Go to" not in html


def test_the_page_varies_on_the_headers_that_choose_page_or_grid(viewer, room):
    """The same address answers with the page or, for the grid's htmx reload, the grid alone:
    a cache must keep the two apart."""
    vary = {header.strip() for header in viewer.get(url("week"))["Vary"].split(",")}
    assert {"HX-Request", "HX-Target"} <= vary


@pytest.mark.parametrize("day", ["not-a-date", "2026-13-01", "9999-12-31", "0001-01-01"])
def test_a_bad_date_shows_a_week_rather_than_an_error(viewer, room, day):
    assert "Lovelace 101" in page(viewer, date=day)


@pytest.mark.parametrize("params", [{"location": "x"}, {"location": "99999"}, {"types": ["9", "y"]}])
def test_bad_filters_are_ignored_or_show_nothing(viewer, room, params):
    assert viewer.get(url("week"), params).status_code == 200


def test_the_day_of_a_big_partner_takes_few_queries(viewer, actor, django_assert_max_num_queries):
    rooms = [
        scheduling.create_resource(actor, {"type": ResourceType.LOCATION, "name": f"Room {n}"})
        for n in range(20)
    ]
    for n, room in enumerate(rooms):
        scheduling.create_resource(
            actor, {"type": ResourceType.CAMERA, "name": f"Cam {n}", "parent_id": room.pk}
        )
    rows = [
        batch_scheduling.NewEvent(
            {
                "type": EventType.RECORD,
                "summary": f"Lecture {n}",
                "start": at(f"{MONDAY} 08:00", BERLIN) + timedelta(hours=n // 20),
                "end": at(f"{MONDAY} 09:00", BERLIN) + timedelta(hours=n // 20),
            },
            (rooms[n % 20].pk,),
        )
        for n in range(210)
    ]
    batch_scheduling.create_events(actor, rows, on_conflict=OnConflict.IGNORE)
    with django_assert_max_num_queries(10):
        html = page(viewer, "day", date=MONDAY)
    assert html.count('class="ev t1') == 210
    with django_assert_max_num_queries(10):
        assert page(viewer, date=MONDAY, location=rooms[3].pk).count('class="ev t1') == 11


# ---------------------------------------------------------------- a campus's timeline, a screenful at a time


@pytest.fixture
def campus(make_resource):
    """Three buildings of 15 rooms: 45 rows, more than the first screenful (40) builds."""
    found = {}
    for name in ("Ampere", "Bohr", "Curie"):
        building = make_resource(name)
        found[building] = [make_resource(f"{name} {n:02d}", parent_id=building.pk) for n in range(1, 16)]
    return found


def rows(html: str) -> list[str]:
    return re.findall(r'class="tl-row(?: multi)?" role="group" aria-label="([^"]+)"', html)


def parts(html: str) -> list[str]:
    return [u.replace("&amp;", "&") for u in re.findall(r'class="tl-lazy" data-part="([^"]+)"', html)]


def test_a_campus_timeline_builds_the_first_screenful_and_points_at_the_rest(viewer, campus, make_event):
    ampere, bohr, curie = campus
    lecture(make_event, summary="Optics", resources=[campus[curie][4]])
    html = page(viewer, "timeline_week", date=MONDAY, cancelled="1")
    assert rows(html) == [room.name for rooms in (campus[ampere], campus[bohr]) for room in rooms]
    assert f'data-group="loc-{curie.pk}"' in html and "Optics" not in html  # Curie's head only
    assert parts(html) == [f"{url('timeline_week')}?date={MONDAY}&cancelled=1&part={curie.pk}"]


def test_a_part_is_that_buildings_rows_alone(viewer, campus, make_event):
    ampere, bohr, curie = campus
    lecture(make_event, summary="Optics", resources=[campus[curie][4]])
    lecture(make_event, summary="Statics", resources=[campus[ampere][0]])
    html = text(viewer.get(parts(page(viewer, "timeline_week", date=MONDAY))[0]))
    assert html.startswith('<div class="tl-row') and "<html" not in html
    assert rows(html) == [room.name for room in campus[curie]]
    assert "Optics" in html and "Statics" not in html


def test_a_part_shows_only_the_partners_own_building(viewer, campus, outsider, make_resource, make_event):
    their_building = make_resource("Charlie Hall", who=outsider)
    their_room = make_resource("Charlie Hall 5", parent_id=their_building.pk, who=outsider)
    make_event(f"{MONDAY} 09:00", 60, zone=BERLIN, summary="Secret", resources=[their_room], who=outsider)
    response = viewer.get(url("timeline_week"), {"date": MONDAY, "part": their_building.pk})
    assert response.status_code == 200 and text(response) == ""


@pytest.mark.parametrize("value", ["abc", "-3", "1.5", "\u00b2", "9" * 30, ""])
def test_a_part_that_is_no_id_is_ignored(viewer, campus, value):
    html = page(viewer, "timeline", date=MONDAY, part=value)
    assert "<html" in html and len(rows(html)) == 30 and len(parts(html)) == 1


def test_the_timeline_comes_compressed_to_a_browser_that_takes_gzip(viewer, campus):
    response = viewer.get(url("timeline_week"), {"date": MONDAY}, HTTP_ACCEPT_ENCODING="gzip, br")
    assert response["Content-Encoding"] == "gzip" and "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content).decode()
    assert len(rows(html)) == 30 and len(parts(html)) == 1


def test_the_day_views_take_no_part(viewer, campus):
    ampere = next(iter(campus))
    html = page(viewer, "day", date=MONDAY, part=ampere.pk)
    assert "<html" in html and f'data-resource="{campus[ampere][0].pk}"' in html and not parts(html)


# ---------------------------------------------------------------- roles

ON_AN_EVENT = {"event", "edit", "move", "cancel"}


def gesture(event=None, day: str = MONDAY, start: int = 10 * 60, end: int = 11 * 60, **more) -> dict:
    """A drag's parameters: a new slot (`resources`), or a stored event moved (`from`/`to`)."""
    params: dict[str, Any] = {"day": day, "start": start, "end": end, **more}
    if event is not None:
        params["event"] = event.pk
    return params


def call(client, method: str, name: str, event, **data):
    """One endpoint with a payload it accepts: booking fields, or a drag."""
    if not data:
        if name in ("book", "preview", "form_check", "edit") and method == "post":
            data = booking(repeat="on", weekdays="MO", count=2) if name == "preview" else booking()
        elif name in ("check", "move"):
            data = gesture(event)
    args = [event.pk] if name in ON_AN_EVENT else []
    return getattr(client, method)(url(name, *args), data)


WRITES = [
    ("get", "book"),
    ("post", "book"),
    ("get", "check"),
    ("post", "preview"),
    ("post", "form_check"),
    ("get", "move"),
    ("post", "move"),
    ("get", "edit"),
    ("post", "edit"),
    ("post", "cancel"),
]


@pytest.mark.parametrize(("method", "name"), WRITES)
def test_a_viewer_may_not_book_or_change_anything(viewer, algebra, method, name):
    assert call(viewer, method, name, algebra).status_code == 403
    assert stored(algebra).start == algebra.start and stored(algebra).status == EventStatus.ACTIVE
    assert ScheduleEvent.objects.count() == 1


def test_a_viewer_sees_an_events_details_without_edit_buttons(viewer, algebra):
    response = viewer.get(url("event", algebra.pk))
    assert response.status_code == 200
    assert "Algebra" in text(response) and "Cancel booking" not in text(response)


def test_a_scheduler_books(scheduler, room):
    response = scheduler.post(url("book"), booking(resources=[room.pk]))
    assert response.status_code == 200 and json.loads(response["HX-Trigger"]) == {"calendar-changed": {}}
    assert "Booked “Algebra”." in text(response)
    assert scheduling.resource_ids_of(only_event()) == [room.pk]


def test_the_blackout_type_is_offered_to_admins_only(client, alice, sam):
    client.force_login(alice)
    assert ">Blackout</option>" in text(client.get(url("book")))
    client.force_login(sam)
    assert ">Blackout</option>" not in text(client.get(url("book")))


def test_a_scheduler_cannot_post_a_blackout(scheduler):
    response = scheduler.post(url("book"), booking(type=EventType.BLACKOUT))
    assert response.status_code == 422
    assert "Select a valid choice" in text(response)
    assert not ScheduleEvent.objects.exists()


def test_an_admin_books_a_blackout_over_bookings(admin, algebra):
    response = admin.post(url("book"), booking(type=EventType.BLACKOUT, summary="Closed", end_time="00:00"))
    assert response.status_code == 200
    closed = ScheduleEvent.objects.get(type=EventType.BLACKOUT)
    assert (closed.start, closed.end) == (at(f"{MONDAY} 09:00", BERLIN), at("2026-09-08 00:00", BERLIN))


@pytest.fixture
def closed(make_event):
    return lecture(make_event, f"{MONDAY} 00:00", 24 * 60, type=EventType.BLACKOUT, summary="Closed")


@pytest.mark.parametrize(
    ("method", "name"), [("get", "edit"), ("post", "edit"), ("post", "move"), ("post", "cancel")]
)
def test_only_an_admin_edits_a_blackout(client, sam, alice, closed, method, name):
    client.force_login(sam)
    assert call(client, method, name, closed).status_code == 403
    assert stored(closed).status == EventStatus.ACTIVE
    client.force_login(alice)
    whole_day = booking(type=EventType.BLACKOUT, summary="Closed", start_time="00:00", end_time="00:00")
    assert (
        call(
            client, method, name, closed, **(whole_day if method == "post" and name == "edit" else {})
        ).status_code
        == 200
    )


def test_a_scheduler_sees_a_blackout_without_edit_buttons(scheduler, closed):
    assert "Cancel booking" not in text(scheduler.get(url("event", closed.pk)))


# ---------------------------------------------------------------- conflicts while dragging


def check(client, **params):
    response = client.get(url("check"), params)
    assert response.status_code == 200
    return response["X-Conflicts"], text(response)


def test_check_names_the_resource_the_event_and_its_times(scheduler, algebra, room):
    count, html = check(scheduler, **gesture(start=9 * 60 + 30, end=10 * 60 + 30, resources=room.pk))
    assert count == "1"
    assert "Lovelace 101: “Algebra” Mon 7 Sep 09:00–10:00" in html


def test_check_of_a_free_slot_says_so(scheduler, algebra, room, hall):
    count, html = check(scheduler, **gesture(start=TEN, end=11 * 60, resources=room.pk))  # back to back
    assert count == "0" and "Free: no conflicts" in html
    assert check(scheduler, **gesture(start=NINE, end=TEN, resources=hall.pk))[0] == "0"


def test_check_names_a_blackout_as_one(scheduler, closed, hall):
    count, html = check(scheduler, **gesture(resources=hall.pk))
    assert count == "1"
    assert "Blackout “Closed” Mon 7 Sep 00:00–Tue 8 Sep 00:00" in html


def test_check_of_a_move_ignores_the_event_itself(scheduler, algebra, room):
    moved = gesture(algebra, start=9 * 60 + 30, end=10 * 60 + 30, **{"from": room.pk, "to": room.pk})
    assert check(scheduler, **moved)[0] == "0"


def test_check_of_a_move_to_another_column_looks_there(scheduler, make_event, algebra, room, hall):
    lecture(make_event, summary="Databases", resources=[hall])
    count, html = check(
        scheduler, **gesture(algebra, start=NINE, end=TEN, **{"from": room.pk, "to": hall.pk})
    )
    assert count == "1" and "Turing Hall: “Databases”" in html


@pytest.mark.parametrize(
    "params",
    [
        {"day": "not-a-date", "start": NINE, "end": TEN},
        {"day": "9999-12-31", "start": 0, "end": 24 * 60},
        {"day": MONDAY, "start": "nine", "end": TEN},
        {"day": MONDAY, "start": 99999, "end": TEN},
        {"day": MONDAY, "start": -60, "end": TEN},
        {"day": MONDAY, "start": TEN, "end": NINE},
        {"day": MONDAY},
        {"day": MONDAY, "start": NINE, "end": TEN, "resources": ["x", "99999999999999999999999"]},
        {"day": MONDAY, "start": NINE, "end": TEN, "event": "x"},
    ],
)
def test_check_answers_bad_input_with_an_error_not_a_crash(scheduler, room, params):
    response = scheduler.get(url("check"), params)
    assert response.status_code < 500
    assert response.get("X-Conflicts", "0") == "0"


def test_check_says_what_is_wrong_with_the_slot(scheduler, room):
    count, html = check(scheduler, day=MONDAY, start=99999, end=TEN, resources=room.pk)
    assert count == "0" and "start must be between 0 and 1440 minutes" in html


# ---------------------------------------------------------------- the booking panel


def shown_form(response):
    """The booking form the panel shows (its values are what the fields display)."""
    assert response.status_code == 200
    return response.context["form"]


def test_a_drag_fills_in_the_booking_panel(scheduler, room):
    params = {"day": "2026-09-09", "start": 9 * 60 + 30, "end": 11 * 60, "resource": room.pk}
    form = shown_form(scheduler.get(url("book"), params))
    assert as_posted(form) == {
        "type": str(EventType.RECORD),
        "day": "2026-09-09",
        "start_time": "09:30",
        "end_time": "11:00",
        "resources": [str(room.pk)],
        "weekdays": ["WE"],
    }


def test_a_click_without_a_drag_offers_the_next_hour_today(scheduler, room):
    values = as_posted(shown_form(scheduler.get(url("book"), {"day": "2026-08-31"})))  # the week's Monday
    assert (values["day"], values["start_time"], values["end_time"]) == ("2026-09-01", "10:00", "11:00")
    assert "resources" not in values  # the panel asks for one


def test_a_click_late_in_the_evening_offers_nine_tomorrow_and_says_so(scheduler, room):
    with clock.pinned(at("2026-09-01 23:20", BERLIN)):
        response = scheduler.get(url("book"))
    values = as_posted(shown_form(response))
    assert (values["day"], values["start_time"], values["end_time"]) == ("2026-09-02", "09:00", "10:00")
    assert "Too late for an hour today: this starts tomorrow at 09:00." in text(response)


@pytest.mark.parametrize(
    "params",
    [
        {"day": "garbage", "start": "x", "end": "y", "resource": "z"},
        {"day": "9999-12-31", "start": 99999, "end": -1},
        {"day": MONDAY, "start": 24 * 60, "end": 24 * 60},
    ],
)
def test_a_bad_drag_still_opens_the_panel(scheduler, params):
    assert scheduler.get(url("book"), params).status_code == 200


def test_a_booking_is_stored_in_the_partners_zone(scheduler, room):
    scheduler.post(url("book"), booking(resources=[room.pk]))
    event = only_event()
    assert (event.start, event.end) == (at(f"{MONDAY} 07:00"), at(f"{MONDAY} 08:00"))  # CEST: UTC+2


@pytest.mark.parametrize(
    ("day", "start_time", "end_time", "start", "end"),
    [
        # Clocks go back on Sunday 25 October 2026, 03:00 CEST -> 02:00 CET.
        ("2026-10-23", "09:00", "10:00", "2026-10-23 07:00", "2026-10-23 08:00"),
        ("2026-10-26", "09:00", "10:00", "2026-10-26 08:00", "2026-10-26 09:00"),
        ("2026-10-25", "01:00", "04:00", "2026-10-24 23:00", "2026-10-25 03:00"),  # four hours
        ("2026-10-25", "22:00", "00:00", "2026-10-25 21:00", "2026-10-25 23:00"),  # to midnight
    ],
)
def test_a_booking_in_the_week_clocks_change(scheduler, room, day, start_time, end_time, start, end):
    response = scheduler.post(url("book"), booking(day=day, start_time=start_time, end_time=end_time))
    assert response.status_code == 200
    event = only_event()
    assert (event.start, event.end) == (at(start), at(end))


def test_a_conflicting_booking_is_refused_with_the_conflict(scheduler, algebra, room):
    response = scheduler.post(
        url("book"), booking(summary="Biology", start_time="09:30", end_time="10:30", resources=[room.pk])
    )
    assert response.status_code == 409
    assert "Not saved: this booking conflicts with" in text(response)
    assert "Lovelace 101: “Algebra” Mon 7 Sep 09:00–10:00" in text(response)
    assert "Book anyway" in text(response)
    assert list(ScheduleEvent.objects.all()) == [algebra]


def test_a_scheduler_books_anyway_and_it_is_audited(scheduler, algebra, room):
    data = booking(
        summary="Biology", start_time="09:30", end_time="10:30", resources=[room.pk], book_anyway="on"
    )
    assert scheduler.post(url("book"), data).status_code == 200
    biology = ScheduleEvent.objects.get(summary="Biology")
    entry = AuditEntry.objects.get(action="book_anyway")
    assert (entry.object_id, entry.after, entry.actor) == (
        str(biology.pk),
        {"conflicts_with": [algebra.pk]},
        "sam",
    )
    assert entry.source == AuditEntry.Source.WEB


@pytest.fixture
def prevents_conflicts(partner):
    partner.prevent_conflicts = True
    partner.save()


def test_where_conflicts_are_prevented_a_scheduler_cannot_book_anyway(
    scheduler, prevents_conflicts, algebra, room
):
    data = booking(summary="Biology", resources=[room.pk], book_anyway="on")
    response = scheduler.post(url("book"), data)
    assert response.status_code == 409
    assert "Book anyway" not in text(response) and "Choose another time or resource" in text(response)
    assert not ScheduleEvent.objects.filter(summary="Biology").exists()


def test_where_conflicts_are_prevented_an_admin_can_book_anyway(admin, prevents_conflicts, algebra, room):
    assert (
        admin.post(url("book"), booking(summary="Biology", resources=[room.pk], book_anyway="on")).status_code
        == 200
    )
    assert ScheduleEvent.objects.filter(summary="Biology").exists()
    assert AuditEntry.objects.filter(action="book_anyway", actor="alice").exists()


def test_a_weekly_series_is_booked_with_its_occurrences(scheduler, room):
    data = booking(summary="Physics", resources=[room.pk], repeat="on", weekdays=["MO", "WE"], count=4)
    assert scheduler.post(url("book"), data).status_code == 200
    series = only_event()
    assert series.is_series
    assert [o.start for o in occurrences(series)] == [
        at(f"{d} 09:00", BERLIN) for d in (MONDAY, "2026-09-09", "2026-09-14", "2026-09-16")
    ]
    assert {o.status for o in occurrences(series)} == {EventStatus.ACTIVE}
    assert scheduling.resource_ids_of(occurrences(series)[3]) == [room.pk]


def test_a_series_until_a_date_ends_on_that_date_in_the_partners_zone(scheduler):
    data = booking(
        summary="Late", start_time="23:00", end_time="23:30", repeat="on", weekdays=["MO"], until="2026-09-21"
    )
    scheduler.post(url("book"), data)
    assert [o.start for o in occurrences(only_event())][-1] == at("2026-09-21 23:00", BERLIN)


def preview(client, **fields):
    response = client.post(url("preview"), booking(repeat="on", weekdays=["MO"], count=4, **fields))
    assert response.status_code == 200
    return text(response)


def skip_boxes(html: str) -> list[tuple[str, bool]]:
    """The preview's skip checkboxes: (value, ticked)."""
    return [
        (value, "checked" in rest)
        for value, rest in re.findall(r'<input type="checkbox" name="skip" value="([^"]+)"([^>]*)>', html)
    ]


@pytest.fixture
def busy_weeks(make_event, room):
    """Room 101 booked on the second Monday; the whole partner closed on the third."""
    lecture(make_event, "2026-09-14 09:30", summary="Seminar", resources=[room])
    lecture(make_event, "2026-09-21 00:00", 24 * 60, type=EventType.BLACKOUT, summary="Holiday")


def test_the_preview_shows_each_date_free_or_not(scheduler, busy_weeks, room):
    html = preview(scheduler, resources=[room.pk])
    assert "4 dates" in html
    states = re.findall(r'<li class="occ (\w+)">', html)
    assert states == ["free", "conflict", "blackout", "free"]
    assert "Lovelace 101: “Seminar” Mon 14 Sep 09:30–10:30" in html
    assert "Blackout “Holiday”" in html


def test_the_preview_ticks_the_conflicting_dates_to_skip(scheduler, busy_weeks, room):
    assert skip_boxes(preview(scheduler, resources=[room.pk])) == [
        (at("2026-09-14 09:00", BERLIN).isoformat(), True),
        (at("2026-09-21 09:00", BERLIN).isoformat(), True),
    ]


def test_a_second_preview_keeps_what_was_unticked(scheduler, busy_weeks, room):
    kept = at("2026-09-21 09:00", BERLIN).isoformat()
    html = preview(scheduler, resources=[room.pk], previewed="1", skip=[kept])
    assert [ticked for _, ticked in skip_boxes(html)] == [False, True]


def test_booking_with_the_previews_skips_cancels_those_dates(scheduler, busy_weeks, room):
    skipped = [value for value, _ in skip_boxes(preview(scheduler, resources=[room.pk]))]
    data = booking(resources=[room.pk], repeat="on", weekdays=["MO"], count=4, skip=skipped)
    response = scheduler.post(url("book"), data)
    assert response.status_code == 200
    assert [o.status for o in occurrences(the_series())] == [
        EventStatus.ACTIVE,
        EventStatus.CANCELLED,
        EventStatus.CANCELLED,
        EventStatus.ACTIVE,
    ]


def test_a_skip_the_series_does_not_have_is_refused(scheduler, room):
    data = booking(repeat="on", weekdays=["MO"], count=4, skip=[at("2026-09-14 10:00", BERLIN).isoformat()])
    response = scheduler.post(url("book"), data)
    assert response.status_code == 422
    assert "check the dates again" in text(response)
    assert not ScheduleEvent.objects.exists()


def form_check(client, **fields):
    response = client.post(url("form_check"), booking(**fields))
    assert response.status_code == 200
    return response["X-Conflicts"], text(response)


def test_the_live_check_lists_the_conflicts_of_the_form_as_typed(scheduler, busy_weeks, room):
    count, html = form_check(
        scheduler, summary="", resources=[room.pk], repeat="on", weekdays=["MO"], count=4
    )
    assert count == "2"
    assert "Seminar" in html and "Holiday" in html


def test_the_live_check_leaves_out_skipped_dates(scheduler, busy_weeks, room):
    skip = [at("2026-09-14 09:00", BERLIN).isoformat()]
    count, html = form_check(scheduler, resources=[room.pk], repeat="on", weekdays=["MO"], count=4, skip=skip)
    assert count == "1"
    assert "Seminar" not in html and "Holiday" in html


def test_the_live_check_of_an_edit_leaves_out_the_event_itself(scheduler, physics, room):
    _, values = edit_form(scheduler, physics, scope="series")
    response = scheduler.post(url("form_check"), values | {"ignore": physics.pk})
    assert response["X-Conflicts"] == "0" and "Free: no conflicts" in text(response)


def test_the_live_check_of_an_unfinished_form_says_nothing(scheduler):
    assert form_check(scheduler, day="", start_time="") == ("0", "\n")


def test_a_huge_count_is_refused_by_the_form(scheduler):
    response = scheduler.post(url("book"), booking(repeat="on", weekdays=["MO"], count=100_000))
    assert response.status_code == 422
    assert "Ensure this value is less than or equal to 500" in text(response)
    assert not ScheduleEvent.objects.exists()


@pytest.mark.parametrize(
    ("until", "message"),
    [
        ("2040-01-01", "a series may run at most 1096 days from its start"),
        ("9000-12-31", "a series may run at most 1096 days from its start"),
        ("9999-12-31", "Ensure this value is less than or equal to 9000-12-31"),
    ],
)
def test_an_end_date_years_ahead_hits_the_series_cap(scheduler, until, message):
    response = scheduler.post(url("book"), booking(repeat="on", weekdays=["MO"], until=until))
    assert response.status_code == 422
    assert message in text(response)
    assert not ScheduleEvent.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"day": "9999-12-31", "end_time": "00:00"},
        {"day": "0001-01-01", "start_time": "00:00"},
        {"start_time": "25:00"},
        {"end_time": "08:00"},
        {
            "day": "2026-03-29",
            "start_time": "02:30",
            "end_time": "03:00",
        },  # 02:30 never comes: clocks skip to 03:00
        {"repeat": "on", "weekdays": ["XX"], "count": 2},
        {"repeat": "on", "weekdays": ["MO"]},
        {"repeat": "on", "weekdays": ["MO"], "count": 2, "skip": ["not a date"]},
        {"resources": ["x"]},
        {"template_entry": "0_nothere"},
    ],
)
def test_a_bad_booking_is_refused_on_the_form(scheduler, fields):
    response = scheduler.post(url("book"), booking(**fields))
    assert response.status_code == 422
    assert not ScheduleEvent.objects.exists()


def test_the_live_check_asks_for_a_room_before_it_says_free(scheduler, algebra):
    count, html = form_check(scheduler, start_time="09:30", end_time="10:30")  # over Algebra, no room
    assert count == "0" and "Choose a room to check for conflicts" in html and "Free" not in html


def test_the_live_check_without_a_room_still_names_a_blackout(scheduler, closed):
    count, html = form_check(scheduler)
    assert count == "1" and "Blackout “Closed”" in html and "Choose a room" in html


def test_the_live_check_of_a_blackout_needs_no_room(make_member, partner, client, algebra):
    client.force_login(make_member(partner, Membership.Role.ADMIN, "alice"))
    count, html = form_check(client, type=EventType.BLACKOUT, summary="Closed")  # never refused
    assert count == "0" and "Free: no conflicts" in html and "Choose a room" not in html


def test_each_date_without_a_room_is_checked_for_blackouts_only(scheduler, busy_weeks):
    html = preview(scheduler)
    assert "so far only blackouts are checked" in html
    states = re.findall(r'<span class="occ-state">([^<]+)</span>', html)
    assert states == ["no blackout", "no blackout", "in a blackout", "no blackout"]


def test_an_edit_shows_its_error_on_the_field(scheduler, algebra):
    _, values = edit_form(scheduler, algebra)
    html = text(save(scheduler, algebra, values | {"start_time": "10:00", "end_time": "09:00"}))
    field = re.search(r'<input[^>]*name="end_time"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="id_end_time_error"' in field


def test_the_panel_lists_the_chosen_resource_first(scheduler, room, hall, camera):
    html = text(scheduler.get(url("book"), {"day": MONDAY, "start": NINE, "end": TEN, "resource": hall.pk}))
    names = re.findall(r'<span class="res-name">([^<]+)</span>', html)
    assert names == ["Turing Hall", "Lovelace 101", "Lovelace 101 camera"]
    assert html.index(">Chosen<") < html.index("Turing Hall") < html.index(">All resources<")


def test_the_panel_shows_times_on_a_24_hour_clock(scheduler, room):
    html = text(scheduler.get(url("book"), {"day": MONDAY, "start": 14 * 60, "end": 15 * 60 + 30}))
    assert re.search(r'<input type="text" name="start_time" value="14:00"[^>]*inputmode="numeric"', html)
    assert 'name="end_time" value="15:30"' in html and 'type="time"' not in html


def test_a_booking_typed_in_12_hours_is_stored_at_that_time(scheduler, room):
    response = scheduler.post(
        url("book"), booking(start_time="2:30 pm", end_time="1530", resources=[room.pk])
    )
    assert response.status_code == 200
    assert (only_event().start, only_event().end) == (
        at(f"{MONDAY} 14:30", BERLIN),
        at(f"{MONDAY} 15:30", BERLIN),
    )


def test_an_error_shows_on_its_field_and_names_it(scheduler, room):
    html = text(scheduler.post(url("book"), booking(start_time="11:00", end_time="10:00")))
    field = re.search(r'<input[^>]*name="end_time"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="id_end_time_error"' in field
    assert re.search(r'<ul class="errorlist" id="id_end_time_error"><li>must be after the start</li>', html)
    assert 'class="form-error"' not in html  # nothing at the top: the field says it


def test_a_resource_error_is_linked_from_its_fieldset(scheduler, room):
    html = text(scheduler.post(url("book"), booking(resources=["999999"])))
    assert '<fieldset class="field resources" aria-describedby="id_resources_error">' in html
    assert 'id="id_resources_error"' in html


def test_a_refusal_of_the_write_path_shows_on_its_field(scheduler, room):
    form = BookingForm(partner=room.partner)
    assert form.field_for(ValidationFailed("end", "too long")) == "end_time"
    assert form.field_for(ValidationFailed("recurrence.count", "too many")) == "count"
    assert form.field_for(ValidationFailed("reference_id", "no")) is None  # at the top


def test_the_panel_names_template_entries(scheduler, partner):
    Entry.objects.create(
        partner=partner, id="0_tmpl0001", name="Lecture capture template", type=EntryType.MEDIA
    )
    html = text(scheduler.get(url("book")))
    assert '<option value="0_tmpl0001" data-entry-type="media">Lecture capture template</option>' in html


def test_the_panel_costs_the_same_for_many_resources(scheduler, make_resource, django_assert_max_num_queries):
    for number in range(40):
        make_resource(f"Room {number}")
    with django_assert_max_num_queries(12):
        assert scheduler.get(url("book")).status_code == 200


# ---------------------------------------------------------------- moving and resizing on the grid


def move(client, event, column, method: str = "post", to=None, **params):
    """Drop `event`, dragged from `column`, at params' day/start/end (in `to`'s column, if given)."""
    data = gesture(event, **params) | {"from": column.pk, "to": (to or column).pk}
    return getattr(client, method)(url("move", event.pk), data)


def test_a_move_changes_the_time(scheduler, algebra, room):
    response = move(scheduler, algebra, room, start=11 * 60, end=12 * 60)
    assert response.status_code == 200 and json.loads(response["HX-Trigger"]) == {"calendar-changed": {}}
    assert (stored(algebra).start, stored(algebra).end) == (
        at(f"{MONDAY} 11:00", BERLIN),
        at(f"{MONDAY} 12:00", BERLIN),
    )


def test_a_move_to_another_day_and_column(scheduler, algebra, room, hall):
    move(scheduler, algebra, room, to=hall, day="2026-09-08", start=NINE, end=TEN)
    assert stored(algebra).start == at("2026-09-08 09:00", BERLIN)
    assert scheduling.resource_ids_of(algebra) == [hall.pk]


def test_a_move_keeps_the_other_resources(scheduler, make_event, room, camera, hall):
    event = lecture(make_event, resources=[room, camera])
    move(scheduler, event, room, to=hall, start=NINE, end=TEN)
    assert scheduling.resource_ids_of(event) == sorted([camera.pk, hall.pk])


def test_a_resize_changes_only_the_end(scheduler, algebra, room):
    move(scheduler, algebra, room, start=NINE, end=11 * 60 + 30)
    assert (stored(algebra).start, stored(algebra).end) == (algebra.start, at(f"{MONDAY} 11:30", BERLIN))


def test_a_conflicting_move_is_refused_with_the_move_panel(scheduler, make_event, algebra, room):
    lecture(make_event, f"{MONDAY} 11:00", summary="Databases", resources=[room])
    response = move(scheduler, algebra, room, start=10 * 60 + 30, end=11 * 60 + 30)
    assert response.status_code == 409
    assert "The new slot conflicts with" in text(response)
    assert "Lovelace 101: “Databases” Mon 7 Sep 11:00–12:00" in text(response)
    assert "Move anyway" in text(response)
    assert stored(algebra).start == algebra.start


def test_move_anyway_saves_it(scheduler, make_event, algebra, room):
    lecture(make_event, f"{MONDAY} 11:00", summary="Databases", resources=[room])
    response = move(scheduler, algebra, room, start=10 * 60 + 30, end=11 * 60 + 30, book_anyway="1")
    assert response.status_code == 200
    assert stored(algebra).start == at(f"{MONDAY} 10:30", BERLIN)
    assert AuditEntry.objects.filter(action="book_anyway", object_id=str(algebra.pk)).exists()


def test_where_conflicts_are_prevented_a_scheduler_cannot_move_anyway(
    scheduler, prevents_conflicts, make_event, algebra, room
):
    lecture(make_event, f"{MONDAY} 11:00", resources=[room])
    response = move(scheduler, algebra, room, start=10 * 60 + 30, end=11 * 60 + 30, book_anyway="1")
    assert response.status_code == 409 and "Move anyway" not in text(response)
    assert stored(algebra).start == algebra.start


def test_the_move_confirmation_shows_the_conflicts_and_saves_nothing(scheduler, make_event, algebra, room):
    lecture(make_event, f"{MONDAY} 11:00", summary="Databases", resources=[room])
    response = move(scheduler, algebra, room, method="get", start=10 * 60 + 30, end=11 * 60 + 30)
    assert response.status_code == 200
    assert "Move “Algebra”?" in text(response) and "Databases" in text(response)
    assert stored(algebra).start == algebra.start


def test_the_move_confirmation_states_the_new_slot(scheduler, make_event, algebra, room):
    lecture(make_event, "2026-09-09 11:00", summary="Databases", resources=[room])
    response = move(scheduler, algebra, room, method="get", day="2026-09-09", start=10 * 60, end=11 * 60 + 30)
    assert "Move to Wed 9 Sep, 10:00–11:30, Lovelace 101?" in text(response)
    assert "From " not in text(response)


def test_the_move_confirmation_says_when_the_resource_changes(scheduler, make_event, room, camera, hall):
    event = lecture(make_event, resources=[room, camera])
    lecture(make_event, f"{MONDAY} 10:00", summary="Databases", resources=[hall])
    response = move(scheduler, event, room, method="get", to=hall, start=TEN, end=11 * 60)
    assert "Move to Mon 7 Sep, 10:00–11:00, Lovelace 101 camera, Turing Hall?" in text(response)
    assert "From Lovelace 101 to Turing Hall." in text(response)


def test_a_refused_move_states_the_slot_it_was_refused(scheduler, make_event, algebra, room):
    lecture(make_event, f"{MONDAY} 11:00", summary="Databases", resources=[room])
    response = move(scheduler, algebra, room, start=10 * 60 + 30, end=11 * 60 + 30)
    assert response.status_code == 409
    assert "Move to Mon 7 Sep, 10:30–11:30, Lovelace 101?" in text(response)


def test_the_move_confirmation_names_no_resource_of_another_partner(
    scheduler, algebra, room, outsider, make_resource
):
    their_room = make_resource("Charlie Hall 5", who=outsider)
    response = move(scheduler, algebra, room, method="get", to=their_room, start=TEN, end=11 * 60)
    assert "Charlie Hall 5" not in text(response)


def test_moving_an_occurrence_moves_only_that_one(scheduler, physics, room):
    first, second, third = occurrences(physics)
    move(scheduler, second, room, day="2026-09-15", start=14 * 60, end=15 * 60)
    assert [o.start for o in occurrences(physics)] == [
        first.start,
        at("2026-09-15 14:00", BERLIN),
        third.start,
    ]
    assert stored(second).is_exception and not stored(first).is_exception


def test_the_moved_event_is_the_one_in_the_address(scheduler, make_event, algebra, room, hall):
    """A drop names its event twice (the address and `event`): the address decides, and the
    event keeps its own resources."""
    other = lecture(make_event, f"{MONDAY} 14:00", summary="Databases", resources=[hall])
    data = {"day": MONDAY, "start": 11 * 60, "end": 12 * 60, "event": other.pk}
    assert scheduler.post(url("move", algebra.pk), data).status_code == 200
    assert stored(algebra).start == at(f"{MONDAY} 11:00", BERLIN)
    assert scheduling.resource_ids_of(algebra) == [room.pk]
    assert stored(other).start == other.start


@pytest.mark.parametrize(
    "params",
    [
        {"day": "nonsense", "start": NINE, "end": TEN},
        {"day": MONDAY, "start": 99999, "end": TEN},
        {"day": MONDAY, "start": TEN, "end": NINE},
        {"day": MONDAY, "start": 0, "end": 24 * 60 * 3},
        {"day": "9999-12-31", "start": 0, "end": 24 * 60},
        {"day": MONDAY},
    ],
)
def test_a_bad_move_is_refused_and_changes_nothing(scheduler, algebra, room, params):
    response = scheduler.post(url("move", algebra.pk), {**params, "event": algebra.pk})
    assert 400 <= response.status_code < 500
    assert (stored(algebra).start, stored(algebra).end) == (algebra.start, algebra.end)


def test_a_bad_move_says_why_without_repeating_what_was_sent(scheduler, algebra):
    response = scheduler.post(url("move", algebra.pk), {"day": "<b>soon</b>", "start": NINE, "end": TEN})
    assert response.status_code == 400
    assert "day must be a date" in text(response) and "<b>" not in text(response)


def test_the_move_confirmation_of_a_slot_the_write_path_refuses_says_why(scheduler, algebra, room):
    response = move(scheduler, algebra, room, method="get", start=TEN, end=NINE)
    assert response.status_code == 422 and "must not be before the start" in text(response)


def test_a_cancelled_event_cannot_be_moved(scheduler, actor, algebra, room):
    scheduling.cancel_event(actor, algebra.pk)
    assert move(scheduler, algebra, room, start=11 * 60, end=12 * 60).status_code == 403


# ---------------------------------------------------------------- editing


def edit_form(client, event, scope: str = "occurrence"):
    response = client.get(url("edit", event.pk), {"scope": scope})
    assert response.status_code == 200
    return response, as_posted(response.context["form"])


def save(client, event, data: dict, scope: str = "occurrence"):
    return client.post(url("edit", event.pk), {**data, "scope": scope, "ignore": event.pk})


def test_the_edit_panel_shows_the_events_values(scheduler, algebra, room):
    response, values = edit_form(scheduler, algebra)
    assert "Edit booking" in text(response)
    assert values == booking(
        resources=[str(room.pk)], type=str(EventType.RECORD), template_entry=None, description=None
    )


def test_editing_a_booking_saves_what_changed(scheduler, algebra, room, hall):
    _, values = edit_form(scheduler, algebra)
    response = save(
        scheduler,
        algebra,
        values | {"summary": "Linear algebra", "end_time": "10:30", "resources": [hall.pk]},
    )
    assert response.status_code == 200 and "Saved the booking: “Linear algebra”." in text(response)
    assert (stored(algebra).summary, stored(algebra).end) == ("Linear algebra", at(f"{MONDAY} 10:30", BERLIN))
    assert scheduling.resource_ids_of(algebra) == [hall.pk]


def test_an_edit_into_a_conflict_is_refused_and_changes_nothing(scheduler, make_event, algebra, room):
    lecture(make_event, f"{MONDAY} 11:00", summary="Databases", resources=[room])
    _, values = edit_form(scheduler, algebra)
    response = save(scheduler, algebra, values | {"summary": "Longer", "end_time": "11:30"})
    assert response.status_code == 409 and "Databases" in text(response)
    assert (stored(algebra).summary, stored(algebra).end) == ("Algebra", algebra.end)


def test_the_type_of_a_booking_cannot_change(scheduler, algebra):
    _, values = edit_form(scheduler, algebra)
    response = save(scheduler, algebra, values | {"type": EventType.MEETING})
    assert response.status_code == 422 and "a booking keeps its type" in text(response)
    assert stored(algebra).type == EventType.RECORD


def test_editing_an_occurrence_changes_only_that_one(scheduler, physics):
    second = occurrences(physics)[1]
    _, values = edit_form(scheduler, second)
    assert "repeat" not in values  # one date: never the rule
    save(scheduler, second, values | {"summary": "Guest lecture"})
    assert [o.summary for o in occurrences(physics)] == ["Physics", "Guest lecture", "Physics"]
    assert stored(second).overridden_fields == ["summary"]


def test_an_occurrence_saved_unchanged_is_no_exception(scheduler, physics):
    second = occurrences(physics)[1]
    _, values = edit_form(scheduler, second)
    assert save(scheduler, second, values).status_code == 200
    assert not stored(second).is_exception and stored(second).overridden_fields == []


def test_the_series_panel_shows_its_rule(scheduler, physics):
    response, values = edit_form(scheduler, occurrences(physics)[1], scope="series")
    assert "Edit the whole series" in text(response)
    assert (values["day"], values["repeat"], values["weekdays"], values["count"]) == (
        MONDAY,
        "on",
        ["MO"],
        "3",
    )


def test_editing_the_series_changes_every_plain_occurrence(scheduler, physics):
    first, second, third = occurrences(physics)
    _, values = edit_form(scheduler, second)
    save(scheduler, second, values | {"summary": "Guest lecture"})
    _, values = edit_form(scheduler, first, scope="series")
    assert save(scheduler, first, values | {"summary": "Physics I"}, scope="series").status_code == 200
    assert [o.summary for o in occurrences(physics)] == ["Physics I", "Guest lecture", "Physics I"]
    assert stored(physics).summary == "Physics I"


def test_a_series_saved_unchanged_leaves_its_occurrences_alone(scheduler, physics):
    before = [(o.pk, o.sequence, o.start) for o in occurrences(physics)]
    _, values = edit_form(scheduler, physics, scope="series")
    assert save(scheduler, physics, values, scope="series").status_code == 200
    assert [(o.pk, o.sequence, o.start) for o in occurrences(physics)] == before


def test_an_occurrence_moved_on_its_own_keeps_its_time_when_the_series_moves(scheduler, physics):
    first, second, third = occurrences(physics)
    _, values = edit_form(scheduler, second)
    save(scheduler, second, values | {"start_time": "14:00", "end_time": "15:00"})
    _, values = edit_form(scheduler, first, scope="series")
    response = save(scheduler, first, values | {"start_time": "10:00", "end_time": "11:00"}, scope="series")
    assert response.status_code == 200
    assert [o.start for o in occurrences(physics)] == [
        at(f"{MONDAY} 10:00", BERLIN),
        at("2026-09-14 14:00", BERLIN),
        at("2026-09-21 10:00", BERLIN),
    ]


def test_a_series_starting_later_keeps_its_end(scheduler, physics):
    _, values = edit_form(scheduler, physics, scope="series")
    save(scheduler, physics, values | {"start_time": "09:30"}, scope="series")
    assert {(o.end - o.start) for o in occurrences(physics)} == {timedelta(minutes=30)}
    assert occurrences(physics)[2].end == at("2026-09-21 10:00", BERLIN)


def test_an_occurrence_starting_later_keeps_its_end(scheduler, physics):
    second = occurrences(physics)[1]
    _, values = edit_form(scheduler, second)
    save(scheduler, second, values | {"start_time": "09:30"})
    assert (stored(second).start, stored(second).end) == (
        at("2026-09-14 09:30", BERLIN),
        at("2026-09-14 10:00", BERLIN),
    )


def test_a_longer_series_gets_more_occurrences(scheduler, physics, room):
    _, values = edit_form(scheduler, physics, scope="series")
    save(scheduler, physics, values | {"count": "5"}, scope="series")
    assert len(occurrences(physics)) == 5
    assert scheduling.resource_ids_of(occurrences(physics)[4]) == [room.pk]


# ---------------------------------------------------------------- cancelling


def test_cancelling_a_booking(scheduler, algebra):
    response = scheduler.post(url("cancel", algebra.pk))
    assert response.status_code == 200 and "Cancelled the booking: “Algebra”." in text(response)
    assert stored(algebra).status == EventStatus.CANCELLED


def test_cancelling_an_occurrence_cancels_only_that_one(scheduler, physics):
    second = occurrences(physics)[1]
    assert scheduler.post(url("cancel", second.pk), {"scope": "occurrence"}).status_code == 200
    assert [o.status for o in occurrences(physics)] == [
        EventStatus.ACTIVE,
        EventStatus.CANCELLED,
        EventStatus.ACTIVE,
    ]
    assert stored(physics).status == EventStatus.ACTIVE


def test_cancelling_the_series_cancels_every_occurrence(scheduler, physics):
    second = occurrences(physics)[1]
    response = scheduler.post(url("cancel", second.pk), {"scope": "series"})
    assert "Cancelled the whole series: “Physics”." in text(response)
    assert {o.status for o in occurrences(physics)} == {EventStatus.CANCELLED}
    assert stored(physics).status == EventStatus.CANCELLED


def test_a_cancelled_booking_cannot_be_cancelled_again(scheduler, algebra):
    scheduler.post(url("cancel", algebra.pk))
    assert scheduler.post(url("cancel", algebra.pk)).status_code == 403


# ---------------------------------------------------------------- the details panel


def details(client, event) -> str:
    response = client.get(url("event", event.pk))
    assert response.status_code == 200
    return text(response)


def test_details_show_the_times_and_resources(viewer, make_event, room, camera):
    html = details(viewer, lecture(make_event, summary="Algebra", resources=[room, camera]))
    assert "Monday 7 September 2026, 09:00–10:00" in html
    assert "Lovelace 101, Lovelace 101 camera" in html


def test_details_of_an_occurrence_name_its_series(scheduler, physics):
    second = occurrences(physics)[1]
    assert "Occurrence of “Physics”" in details(scheduler, second)
    _, values = edit_form(scheduler, second)
    save(scheduler, second, values | {"summary": "Guest lecture"})
    assert "Occurrence of “Physics” (changed on its own)" in details(scheduler, second)
    assert "Edit the series" in details(scheduler, second)


def test_details_show_current_conflicts(viewer, make_event, algebra, room):
    lecture(make_event, f"{MONDAY} 09:30", summary="Databases", resources=[room])
    html = details(viewer, algebra)
    assert "In conflict with" in html and "Lovelace 101: “Databases” Mon 7 Sep 09:30–10:30" in html


def test_details_of_a_cancelled_booking_offer_no_edits(scheduler, actor, algebra):
    scheduling.cancel_event(actor, algebra.pk)
    html = details(scheduler, algebra)
    assert "Cancelled" in html and "Cancel booking" not in html and "In conflict" not in html


# ---------------------------------------------------------------- other partners


@pytest.mark.parametrize(
    ("method", "name"), [("get", "event"), *[(m, n) for m, n in WRITES if n in ON_AN_EVENT]]
)
def test_another_partners_event_is_not_found(admin, outsider_event, room, method, name):
    data = booking(resources=[room.pk]) if (method, name) == ("post", "edit") else {}
    response = call(admin, method, name, outsider_event, **data)
    assert response.status_code == 404
    assert stored(outsider_event).status == EventStatus.ACTIVE
    assert stored(outsider_event).start == outsider_event.start
    assert scheduling.resource_ids_of(outsider_event) == scheduling.resource_ids_of(stored(outsider_event))
    assert not AuditEntry.objects.filter(partner_id=outsider_event.partner_id, actor="alice").exists()


def test_another_partners_event_is_not_found_by_the_drag_check(admin, outsider_event):
    response = admin.get(url("check"), gesture(outsider_event))
    assert response.status_code == 404


def test_another_partners_events_are_no_conflicts_of_mine(admin, outsider_event, room):
    count, html = check(admin, **gesture(start=NINE, end=TEN, resources=room.pk))
    assert count == "0" and "Secret" not in html


def test_another_partners_resource_cannot_be_booked(admin, outsider_event, room):
    theirs = scheduling.resource_ids_of(outsider_event)[0]
    response = admin.post(url("book"), booking(resources=[room.pk, theirs]))
    assert response.status_code == 422
    assert not ScheduleEvent.objects.filter(partner_id=room.partner_id).exists()
    assert not ScheduleEventResource.objects.filter(resource_id=theirs).exclude(event=outsider_event).exists()


def test_another_partners_resource_cannot_be_moved_to(admin, outsider_event, algebra, room):
    theirs = scheduling.resource_ids_of(outsider_event)[0]
    response = admin.post(url("move", algebra.pk), gesture(algebra, **{"from": room.pk, "to": theirs}))
    assert 400 <= response.status_code < 500
    assert scheduling.resource_ids_of(algebra) == [room.pk]
    assert stored(algebra).start == algebra.start


def test_another_partners_resource_cannot_be_edited_in(admin, outsider_event, algebra):
    theirs = scheduling.resource_ids_of(outsider_event)[0]
    _, values = edit_form(admin, algebra)
    assert save(admin, algebra, values | {"resources": [theirs]}).status_code == 422
    assert not ScheduleEventResource.objects.filter(event=algebra, resource_id=theirs).exists()


def test_another_partners_resources_are_not_offered(admin, outsider_event, room):
    html = text(admin.get(url("book")))
    assert "Lovelace 101" in html and "Charlie Hall 5" not in html
