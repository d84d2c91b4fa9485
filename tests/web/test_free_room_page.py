"""The Find a room page (web/free_room_page.py) through the test client: Bob only looks, Sam
books. Alice's university is in Europe/Berlin; "today" is Tuesday 1 September 2026."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from calendar_app.models import EventStatus, RecurrenceType, ResourceType, ScheduleEvent
from tests.conftest import at

URL = reverse("calendar:free_rooms")
MONDAY = "2026-09-07"


@pytest.fixture(autouse=True)
def _pinned_clock(now):
    """The page reads the pinned clock for its first search's date."""


@pytest.fixture
def viewer(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def building(make_resource):
    return make_resource("Turing Building")


@pytest.fixture
def hall(make_resource, building):
    return make_resource("Turing 101", parent_id=building.pk, capacity=120)


@pytest.fixture
def camera(make_resource, hall):
    return make_resource("Turing 101 camera", ResourceType.CAMERA, parent_id=hall.pk)


@pytest.fixture
def seminar(make_resource, building):
    return make_resource("Turing 201", parent_id=building.pk, capacity=20)


def query(**fields: Any) -> dict[str, Any]:
    """The search form as a browser sends it: Monday 09:00-10:30, a recording titled Algebra."""
    data = {"day": MONDAY, "start_time": "09:00", "end_time": "10:30", "summary": "Algebra", "type": "1"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def book_forms(html: str) -> list[dict[str, list[str]]]:
    """Each Book button's hidden fields, as its form posts them."""
    forms = re.findall(r'<form method="post" action="/calendar/book/".*?</form>', html, re.S)
    posted = []
    for form in forms:
        fields: dict[str, list[str]] = {}
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form):
            if name != "csrfmiddlewaretoken":
                fields.setdefault(name, []).append(value)
        posted.append(fields)
    return posted


def test_it_shows_the_search_and_todays_free_rooms(viewer, hall):
    response = viewer.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Find a free room" in html and "Turing 101" in html and "free_rooms.css" in html


def test_htmx_gets_the_results_alone(viewer, hall):
    html = viewer.get(URL, query(), headers={"HX-Request": "true"}).content.decode()
    assert "Turing 101" in html and '<form class="free-search"' not in html


def test_a_viewer_sees_no_book_button(viewer, hall):
    assert book_forms(viewer.get(URL, query()).content.decode()) == []


def test_the_book_button_books_the_room_and_its_camera(scheduler, hall, camera, seminar):
    html = scheduler.get(URL, query(camera="on")).content.decode()
    [fields] = book_forms(html)
    assert fields["resources"] == [str(hall.pk), str(camera.pk)]
    response = scheduler.post(reverse("calendar:book"), fields)
    assert response.status_code == 200 and response.headers["HX-Trigger"]
    event = ScheduleEvent.objects.get()
    assert (event.summary, event.start) == ("Algebra", at(f"{MONDAY} 09:00", "Europe/Berlin"))
    assert sorted(event.resource_links.values_list("resource_id", flat=True)) == [hall.pk, camera.pk]


def test_a_weekly_booking_skips_the_busy_dates(scheduler, hall, make_event):
    make_event("2026-09-14 09:00", 60, zone="Europe/Berlin", resources=[hall])
    search = query(repeat="on", weekdays=["MO"], last="2026-09-28")
    [fields] = book_forms(scheduler.get(URL, search).content.decode())
    assert scheduler.post(reverse("calendar:book"), fields).status_code == 200
    series = ScheduleEvent.objects.get(recurrence_type=RecurrenceType.RECURRING)
    states = list(series.occurrences.order_by("start").values_list("status", flat=True))
    assert states == [EventStatus.ACTIVE, EventStatus.CANCELLED, EventStatus.ACTIVE, EventStatus.ACTIVE]


def test_a_busy_room_lists_its_dates(viewer, hall, make_event):
    make_event("2026-09-14 09:00", 60, zone="Europe/Berlin", resources=[hall])
    html = viewer.get(URL, query(repeat="on", weekdays=["MO"], last="2026-09-28")).content.decode()
    assert "Busy 1 date" in html and 'datetime="2026-09-14"' in html


def test_a_taken_single_slot_offers_no_booking(scheduler, hall, make_event):
    make_event(f"{MONDAY} 09:00", 60, zone="Europe/Berlin", resources=[hall])
    assert book_forms(scheduler.get(URL, query()).content.decode()) == []


def test_times_typed_loosely_are_understood(scheduler, hall):
    html = scheduler.get(URL, query(start_time="9", end_time="10.30")).content.decode()
    assert 'name="end_time" value="10:30"' in html  # as the Book button posts it


def test_a_link_giving_only_a_date_searches_it_with_the_first_visits_times(viewer, hall, make_event):
    make_event(f"{MONDAY} 09:30", 30, zone="Europe/Berlin", resources=[hall])
    html = viewer.get(URL, {"day": MONDAY}).content.decode()
    assert "This field is required" not in html
    assert 'name="start_time" value="09:00"' in html and 'name="summary" value="Lecture"' in html
    assert "Busy" in html and "Turing 101" in html  # 09:00-10:30 on that Monday


def test_an_end_before_the_start_shows_on_the_end(viewer, hall):
    html = viewer.get(URL, query(start_time="11:00", end_time="10:00")).content.decode()
    assert re.search(r'id="id_end_time".*?must be after the start', html, re.S)


def test_a_pattern_without_its_last_date_says_so_there(viewer, hall):
    html = viewer.get(URL, query(repeat="on", weekdays=["MO"], last="")).content.decode()
    assert re.search(r'id="id_last".*?the term&#x27;s last date', html, re.S)


def test_htmx_results_list_the_errors_the_form_does_not_show(viewer, hall):
    search = query(start_time="11:00", end_time="10:00")
    html = viewer.get(URL, search, headers={"HX-Request": "true"}).content.decode()
    assert '<a href="#id_end_time">To</a>: must be after the start' in html


def test_repeat_without_days_repeats_on_the_dates_weekday(viewer, hall, make_event):
    make_event("2026-09-14 09:00", 60, zone="Europe/Berlin", resources=[hall])  # a Monday
    html = viewer.get(URL, query(repeat="on", last="2026-09-28")).content.decode()
    assert "4 dates (Mon), Mon 7 Sep 2026 to Mon 28 Sep 2026" in html and "Busy 1 date" in html


def test_a_too_long_pattern_shows_on_the_last_date(viewer, hall):
    search = query(repeat="on", weekdays=["MO", "TU", "WE", "TH", "FR"], last="2029-01-01")
    html = viewer.get(URL, search).content.decode()
    assert re.search(r'id="id_last".*?At most 500 dates', html, re.S)


def test_only_the_partners_buildings_are_offered(viewer, hall, building, make_resource, outsider):
    theirs = make_resource("Charlie Campus", who=outsider)
    make_resource("Charlie 1", parent_id=theirs.pk, who=outsider)
    html = viewer.get(URL).content.decode()
    assert "Turing Building" in html and "Charlie" not in html


def test_another_partners_building_is_refused(viewer, hall, make_resource, outsider):
    theirs = make_resource("Charlie Campus", who=outsider)
    html = viewer.get(URL, query(building=str(theirs.pk))).content.decode()
    assert "Select a valid choice" in html and "Turing 101</span>" not in html


def test_the_page_queries_are_bounded(viewer, make_resource, django_assert_max_num_queries):
    for n in range(20):
        room = make_resource(f"Room {n}", capacity=n)
        make_resource(f"Room {n} camera", ResourceType.CAMERA, parent_id=room.pk)
    with django_assert_max_num_queries(8):  # session, user, memberships, buildings, the search's 4
        assert viewer.get(URL, query(camera="on")).status_code == 200
