"""scheduleEvent.list / get with format=ical (docs/kaltura-compatibility.md §5): what capture
devices and calendar clients read. Parsed back with the `icalendar` library, and checked as raw
lines where RFC 5545 cares."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from calendar_app import scheduling
from calendar_app.kaltura_api import ks as ks_codec
from calendar_app.models import Entry, EntryType, EventType, ResourceType
from tests.kaltura_api.http import session_for

LIST = "/api_v3/service/schedule_scheduleevent/action/list"


def ical(client, path: str, **params):
    response = client.get(path, params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response.content


def vevents(body: bytes) -> list:
    return Calendar.from_ical(body).walk("VEVENT")


def by_id(body: bytes) -> dict[int, object]:
    return {int(e["X-KALTURA-ID"]): e for e in vevents(body)}


@pytest.fixture
def alice_ks(partner, now) -> str:
    return session_for(partner, now)


@pytest.fixture
def room(make_resource):
    return make_resource("Hall 1")


@pytest.fixture
def live_entry(partner):
    return Entry.objects.create(
        id="0_live0001",
        partner=partner,
        type=EntryType.LIVE_STREAM,
        name="Hall 1 stream",
        primary_rtmp_endpoint="rtmp://live.example/app",
        stream_name="hall1",
        stream_username="encoder",
        stream_password="s3cret-stream",
    )


def test_it_answers_the_path_form_of_kalturas_docs(client, alice_ks, room, make_event, make_resource):
    booked = make_event(resources=[room])
    make_event(resources=[make_resource("Hall 2")])
    path = (
        f"{LIST}/format/ical/ks/{alice_ks}/filter[objectType]/KalturaScheduleEventFilter"
        f"/filter[resourceIdsLike]/{room.pk}"
    )
    assert list(by_id(ical(client, path))) == [booked.pk]


def test_it_writes_crlf_lines_folded_at_75_octets(client, alice_ks, make_event):
    make_event(summary="Ünïcode lecture, with; special\\ characters " + "é" * 60)
    body = ical(client, LIST, format="ical", ks=alice_ks)
    lines = body.split(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # folding never splits a UTF-8 sequence
    summary = vevents(body)[0]["SUMMARY"]
    assert summary == "Ünïcode lecture, with; special\\ characters " + "é" * 60


def test_it_writes_utc_times_status_sequence_and_kaltura_properties(client, alice_ks, room, make_event):
    Entry.objects.create(partner=room.partner, id="0_abcd1234", name="Template")
    event = make_event(resources=[room], tags="physics, first-year", template_entry_id="0_abcd1234")
    vevent = by_id(ical(client, LIST, format="ical", ks=alice_ks))[event.pk]
    assert vevent.decoded("DTSTART") == event.start
    assert vevent["DTSTART"].to_ical().endswith(b"Z")
    assert (vevent["STATUS"], int(vevent["SEQUENCE"])) == ("CONFIRMED", event.sequence)
    assert vevent["UID"] == event.ical_uid
    assert "LAST-MODIFIED" in vevent
    assert vevent["X-KALTURA-PARTNER-ID"] == str(event.partner_id)
    assert vevent["X-KALTURA-RESOURCE-IDS"] == str(room.pk)
    assert vevent["X-KALTURA-TAGS"] == "physics,first-year"
    assert vevent["X-KALTURA-TEMPLATE-ENTRY-ID"] == "0_abcd1234"
    assert vevent["X-KALTURA-TYPE"] == str(EventType.RECORD)


def test_it_keeps_cancelled_events_as_cancelled(client, alice_ks, make_event, actor):
    event = make_event()
    scheduling.cancel_event(actor, event.pk)
    vevent = by_id(ical(client, LIST, format="ical", ks=alice_ks))[event.pk]
    assert (vevent["STATUS"], vevent["X-KALTURA-STATUS"]) == ("CANCELLED", "1")


def test_it_gives_a_series_its_rrule_in_its_own_zone(client, alice_ks, make_series):
    series = make_series("2026-10-19 09:00", zone="Europe/Berlin", count=3, by_day="MO")
    body = ical(client, LIST, format="ical", ks=alice_ks, **{"filter[recurrenceTypeEqual]": "1"})
    vevent = by_id(body)[series.pk]
    assert vevent["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=3;BYDAY=MO"
    assert vevent["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert vevent.decoded("DTSTART").hour == 9
    assert Calendar.from_ical(body).walk("VTIMEZONE")[0]["TZID"] == "Europe/Berlin"


def test_it_writes_occurrences_as_utc_events_naming_their_series(client, alice_ks, make_series):
    series = make_series("2026-10-19 09:00", zone="Europe/Berlin", count=3, by_day="MO")
    body = ical(client, LIST, format="ical", ks=alice_ks, **{"filter[parentIdEqual]": str(series.pk)})
    occurrences = vevents(body)
    assert len(occurrences) == 3
    assert {o["X-KALTURA-PARENT-ID"] for o in occurrences} == {str(series.pk)}
    assert all("RRULE" not in o for o in occurrences)
    # 09:00 in Berlin on both sides of the October DST change: 07:00Z, then 08:00Z.
    assert [o.decoded("DTSTART").hour for o in occurrences] == [7, 8, 8]


def test_it_names_the_slot_an_edited_occurrence_came_from(client, alice_ks, make_series, actor):
    series = make_series("2026-10-19 09:00", zone="Europe/Berlin", count=2, by_day="MO")
    first = series.occurrences.order_by("start").first()
    scheduling.update_event(actor, first.pk, {"start": first.start + timedelta(hours=1)})
    vevent = by_id(ical(client, LIST, format="ical", ks=alice_ks))[first.pk]
    assert vevent.decoded("RECURRENCE-ID") == first.original_start


def test_it_honours_the_pager_and_reports_the_total(client, alice_ks, make_event):
    for day in range(1, 6):
        make_event(f"2026-09-{day:02d} 09:00")
    body = ical(client, LIST, format="ical", ks=alice_ks, **{"pager[pageSize]": "2"})
    assert len(vevents(body)) == 2
    assert Calendar.from_ical(body)["X-KALTURA-TOTAL-COUNT"] == "5"


def test_it_shows_stream_credentials_to_admins(client, alice_ks, live_entry, make_event):
    event = make_event(type=EventType.LIVE_STREAM, template_entry_id=live_entry.pk)
    vevent = by_id(ical(client, LIST, format="ical", ks=alice_ks))[event.pk]
    assert vevent["X-KALTURA-PRIMARY-RTMP-ENDPOINT"] == "rtmp://live.example/app"
    assert vevent["X-KALTURA-LIVE-STREAM-PASSWORD"] == "s3cret-stream"


@pytest.mark.parametrize(
    ("session_type", "privileges", "sees"),
    [(0, "", False), (0, "setrole:CAPTURE_DEVICE_ROLE", True), (0, "view:*,widget:1", False)],
)
def test_it_shows_stream_credentials_only_to_who_broadcasts(
    client, partner, now, live_entry, make_event, session_type, privileges, sees
):
    event = make_event(type=EventType.LIVE_STREAM, template_entry_id=live_entry.pk)
    ks = ks_codec.issue(
        partner.pk, partner.admin_secret, session_type=session_type, user_id="u",
        expiry=int(now.timestamp()) + 3600, privileges=privileges,
    )  # fmt: skip
    response = client.get(LIST, {"format": "ical", "ks": ks})
    if privileges.startswith("view"):  # a widget session may not list at all
        assert b"SERVICE_FORBIDDEN" in response.content
        return
    vevent = by_id(response.content)[event.pk]
    assert ("X-KALTURA-LIVE-STREAM-PASSWORD" in vevent) is sees


def test_it_answers_get_with_one_event(client, alice_ks, make_event):
    event = make_event()
    path = f"/api_v3/service/schedule_scheduleevent/action/get/format/ical/scheduleEventId/{event.pk}"
    assert list(by_id(ical(client, path, ks=alice_ks))) == [event.pk]


def test_it_reports_errors_as_a_verror_calendar(client, alice_ks):
    body = ical(client, "/api_v3/service/schedule_scheduleevent/action/get", format="ical", ks=alice_ks,
                scheduleEventId="999")  # fmt: skip
    error = Calendar.from_ical(body).walk("VERROR")[0]
    assert (error["X-KALTURA-CODE"], error["X-KALTURA-ARGUMENTS"]) == ("INVALID_OBJECT_ID", "999")


def test_it_refuses_ical_for_actions_without_an_ical_answer(client, alice_ks):
    body = ical(client, "/api_v3/service/schedule_scheduleresource/action/list", format="ical", ks=alice_ks)
    assert Calendar.from_ical(body).walk("VERROR")[0]["X-KALTURA-CODE"] == "UNKNOWN_RESPONSE_FORMAT"


def test_it_never_lists_another_partners_events(client, partner, outsider, now, make_event):
    make_event(who=outsider)
    assert vevents(ical(client, LIST, format="ical", ks=session_for(partner, now))) == []


def test_it_lists_cameras_events_by_their_room(client, alice_ks, room, make_resource, make_event):
    camera = make_resource("Hall 1 camera", type=ResourceType.CAMERA, parent_id=room.pk)
    event = make_event(resources=[camera])
    body = ical(client, LIST, format="ical", ks=alice_ks, **{"filter[parentResourceIdsLike]": str(room.pk)})
    assert list(by_id(body)) == [event.pk]
