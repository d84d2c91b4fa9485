"""What the calendar's requests carry, parsed (forms.py): the page's address and the drag
gestures' parameters. The booking form is tested through the views (test_views.py)."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.http import QueryDict

from calendar_app.models import ResourceType
from calendar_app.web.forms import CalendarQuery, DropForm, GestureForm, IdField, IdsField
from tests.conftest import NOW

TODAY = date(2026, 9, 1)  # NOW in the partner's zone, a Tuesday


def query(**params) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in params.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return data


@pytest.mark.parametrize("value", ["0", "-3", str(2**63), "x", "", None, "1.5"])
def test_an_id_that_names_no_row_is_none(value):
    assert IdField().clean(value) is None


def test_an_id_up_to_64_bits_is_kept():
    assert IdField().clean(str(2**63 - 1)) == 2**63 - 1


def test_ids_leave_out_what_names_no_row():
    assert IdsField().clean(["7", "x", str(2**64), "0", "3"]) == (7, 3)


def test_the_page_shows_the_week_of_the_date_asked_for(partner):
    shown = CalendarQuery(query(date="2026-09-10")).grid_query(partner, 7, NOW)
    assert shown.first_day == date(2026, 9, 7)
    assert CalendarQuery(query(date="2026-09-10")).grid_query(partner, 1, NOW).first_day == date(2026, 9, 10)


@pytest.mark.parametrize("day", ["", "nonsense", "09/10/2026", "9999-12-31", "0001-01-01"])
def test_a_page_without_a_good_date_shows_this_week(partner, day):
    assert CalendarQuery(query(date=day)).grid_query(partner, 7, NOW).first_day == date(2026, 8, 31)


def test_the_page_keeps_the_known_types_and_leaves_out_the_rest(partner):
    shown = CalendarQuery(query(types=["1", "9", "y"], location="x")).grid_query(partner, 7, NOW)
    assert (shown.resource_types, shown.location_id) == ({ResourceType.LOCATION}, None)


def test_a_page_without_known_types_shows_them_all(partner):
    shown = CalendarQuery(query(types=["9"])).grid_query(partner, 7, NOW)
    assert shown.resource_types == frozenset(ResourceType)


def test_a_drop_fills_the_booking_panel():
    initial = DropForm(query(day="2026-09-09", start="570", end="660", resource="4")).booking_initial(TODAY)
    assert initial == {
        "day": date(2026, 9, 9),
        "start_time": time(9, 30),
        "end_time": time(11, 0),
        "resources": [4],
        "weekdays": ["WE"],
    }


def test_a_drop_is_at_least_one_row_and_ends_by_midnight():
    initial = DropForm(query(day="2026-09-09", start="1430", end="1430")).booking_initial(TODAY)
    assert (initial["start_time"], initial["end_time"]) == (time(23, 50), time(0, 0))


def test_a_click_offers_an_hour_from_nine_today():
    initial = DropForm(query(day="garbage", start="x", end="-1", resource="0")).booking_initial(TODAY)
    assert (initial["day"], initial["start_time"], initial["end_time"], initial["resources"]) == (
        TODAY,
        time(9, 0),
        time(10, 0),
        [],
    )


def test_a_bad_gesture_says_what_is_wrong_field_by_field(partner):
    form = GestureForm(query(day="9999-12-31", start="60", end="99999"), zone=partner.zone)
    assert not form.is_valid()
    assert form.error_text() == (
        "day must be a date from 1900-01-01 to 9000-12-31; end must be between 0 and 1440 minutes"
    )


def test_a_gesture_reads_from_and_to(partner):
    form = GestureForm(
        query(day="2026-09-07", start="0", end="1440", **{"from": "3", "to": "x"}), zone=partner.zone
    )
    assert form.is_valid()
    assert (form.cleaned_data["from"], form.cleaned_data["to"], form.cleaned_data["resources"]) == (
        3,
        None,
        (),
    )
