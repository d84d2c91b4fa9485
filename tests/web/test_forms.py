"""What the calendar's requests carry, parsed (forms.py): the page's address and the drag
gestures' parameters; the booking form's own fields (times, the first slot) here, the rest of it
through the views (test_views.py)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

from calendar_app.models import ResourceType
from calendar_app.web.forms import (
    BookingForm,
    CalendarQuery,
    ClockField,
    DropForm,
    GestureForm,
    IdField,
    IdsField,
    next_slot,
)
from tests.conftest import NOW

TODAY = date(2026, 9, 1)  # NOW in the partner's zone, a Tuesday
LOCAL_NOW = datetime.fromisoformat("2026-09-01T10:07+02:00")  # that Tuesday, in Berlin


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


def test_a_page_without_known_types_shows_rooms(partner):
    shown = CalendarQuery(query(types=["9"])).grid_query(partner, 7, NOW)
    assert shown.resource_types == {ResourceType.LOCATION}


def test_cancelled_bookings_are_hidden_unless_the_address_asks(partner):
    assert not CalendarQuery(query()).grid_query(partner, 1, NOW).show_cancelled
    assert CalendarQuery(query(cancelled="1")).grid_query(partner, 1, NOW).show_cancelled


def test_a_drop_fills_the_booking_panel():
    initial, note = DropForm(query(day="2026-09-09", start="570", end="660", resource="4")).booking_initial(
        LOCAL_NOW
    )
    assert initial == {
        "day": date(2026, 9, 9),
        "start_time": time(9, 30),
        "end_time": time(11, 0),
        "resources": [4],
        "weekdays": ["WE"],
    }
    assert note == ""


def test_a_drop_is_at_least_one_row_and_ends_by_midnight():
    initial, _ = DropForm(query(day="2026-09-09", start="1430", end="1430")).booking_initial(LOCAL_NOW)
    assert (initial["start_time"], initial["end_time"]) == (time(23, 50), time(0, 0))


def test_a_click_offers_the_next_hour_today_and_no_resource():
    initial, note = DropForm(query(day="garbage", start="x", end="-1", resource="0")).booking_initial(
        LOCAL_NOW
    )
    assert (initial["day"], initial["start_time"], initial["end_time"], initial["resources"]) == (
        TODAY,
        time(10, 15),
        time(11, 15),
        [],
    )
    assert note == ""


def test_a_click_with_only_a_day_still_offers_today():
    initial, _ = DropForm(query(day="2026-08-31")).booking_initial(LOCAL_NOW)  # the week's Monday
    assert (initial["day"], initial["start_time"]) == (TODAY, time(10, 15))


@pytest.mark.parametrize(
    ("clock", "slot"),
    [
        ("10:00:00", (TODAY, 600)),  # on a quarter hour: it starts now
        ("10:00:01", (TODAY, 615)),
        ("00:00:00", (TODAY, 0)),
        ("22:59:00", (TODAY, 23 * 60)),
        ("23:00:00", (TODAY, 23 * 60)),  # ends at midnight, still today
    ],
)
def test_the_next_slot_is_the_next_quarter_hour(clock, slot):
    assert next_slot(datetime.fromisoformat(f"2026-09-01T{clock}+02:00")) == (*slot, "")


def test_after_eleven_the_next_slot_is_nine_tomorrow_and_says_so():
    day, start, note = next_slot(datetime.fromisoformat("2026-09-01T23:01+02:00"))
    assert (day, start) == (date(2026, 9, 2), 9 * 60)
    assert note == "Too late for an hour today: this starts tomorrow at 09:00."


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("14:30", time(14, 30)),
        ("1430", time(14, 30)),
        ("930", time(9, 30)),
        ("14.30", time(14, 30)),
        ("9", time(9, 0)),
        ("2:30 pm", time(14, 30)),
        ("2:30PM", time(14, 30)),
        ("2 p.m.", time(14, 0)),
        ("12 am", time(0, 0)),
    ],
)
def test_a_time_is_read_as_people_type_it(typed, read):
    assert ClockField().clean(typed) == read


@pytest.mark.parametrize("typed", ["25:00", "14:60", "2:30 xm", "noon", "13 pm"])
def test_a_time_that_is_no_time_is_refused(typed):
    with pytest.raises(ValidationError, match="Enter a time such as 14:30"):
        ClockField().clean(typed)


def test_only_an_end_may_be_midnight_as_24_00():
    assert ClockField(midnight_end=True).clean("24:00") == time(0)
    with pytest.raises(ValidationError):
        ClockField().clean("24:00")


def test_a_time_is_shown_on_a_24_hour_clock(partner):
    html = str(BookingForm(partner=partner, initial={"start_time": time(14, 30)})["start_time"])
    assert 'value="14:30"' in html and 'type="text"' in html and 'inputmode="numeric"' in html


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
