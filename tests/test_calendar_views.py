"""The staff web calendar's server side (views.py, forms.py, booking.py), through the test client
as a signed-in member: Bob only looks, Sam books, Alice administers; Charlie's college is the
outsider whose events must stay out of reach. Alice's university is in Europe/Berlin."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Any

import pytest
from django.urls import reverse

from calendar_app import scheduling
from calendar_app.models import (
    AuditEntry,
    EventStatus,
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
    assert response.status_code == 200 and response["HX-Trigger"] == "calendar-changed"
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


def test_a_click_without_a_drag_offers_an_hour_from_nine_today(scheduler, room):
    values = as_posted(shown_form(scheduler.get(url("book"))))
    assert (values["day"], values["start_time"], values["end_time"]) == ("2026-09-01", "09:00", "10:00")


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
