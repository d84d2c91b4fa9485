"""scheduleEvent.list as a device polls it: every fetch leaves a delivery receipt, and the iCal
answer carries an ETag that a matching If-None-Match turns into 304 Not Modified. The official
client for XML, raw httpx for iCal (the client cannot ask for it), against a live server."""

from __future__ import annotations

import httpx
import pytest
from KalturaClient.Plugins.Core import KalturaFilterPager

from calendar_app.devices.receipts import Channel
from calendar_app.models import DeviceReceipt
from tests.kaltura_api.builders import (
    add_event,
    add_resource,
    app_token,
    device_session,
    event_filter,
    location,
    record,
)
from tests.kaltura_api.conftest import start_session

LIST = "/api_v3/service/schedule_scheduleevent/action/list"


@pytest.fixture
def lecture(admin_client, room, soon):
    return add_event(admin_client, record(soon), room)


@pytest.fixture
def token(admin_client):
    return admin_client.appToken.add(app_token(description="Hall 1 encoder"))


@pytest.fixture
def device_ks(client_for, partner, token) -> str:
    return device_session(client_for(), partner, token).ks


@pytest.fixture
def device_client(client_for, device_ks):
    return client_for(device_ks)


@pytest.fixture
def http(service_url):
    with httpx.Client(base_url=service_url) as client:
        yield client


@pytest.fixture
def poll(http, device_ks, room):
    """A device's iCal poll of its room, GET with the params in the query string."""

    def run(ks: str = "", etag: str | None = None, **filter_fields) -> httpx.Response:
        fields = filter_fields or {"resourceIdsLike": str(room.id)}
        params = {"ks": ks or device_ks, "format": "ical", "filter[objectType]": "KalturaScheduleEventFilter"}
        params.update({f"filter[{k}]": v for k, v in fields.items()})
        headers = {} if etag is None else {"If-None-Match": etag}
        return http.get(LIST, params=params, headers=headers)

    return run


def receipts_of(device: str) -> list[tuple]:
    rows = DeviceReceipt.objects.filter(device=device).order_by("resource_id")
    return list(rows.values_list("label", "resource_id", "channel", "version"))


# ---------------------------------------------------------------- receipts


def test_a_devices_xml_list_records_a_receipt_for_its_room(device_client, token, room, lecture):
    device_client.schedule.scheduleEvent.list(event_filter(resourceIdsLike=str(room.id)))
    [(label, resource_id, channel, _)] = receipts_of(f"app-token:{token.id}")
    assert (label, resource_id, channel) == ("Hall 1 encoder", room.id, Channel.API)


def test_an_unfiltered_list_records_the_whole_schedule(device_client, token, lecture):
    device_client.schedule.scheduleEvent.list()
    assert [r[1] for r in receipts_of(f"app-token:{token.id}")] == [None]


def test_a_list_by_system_name_records_that_resource(admin_client, device_client, token, lecture):
    named = add_resource(admin_client, location("Hall 2", systemName="hall-2"))
    device_client.schedule.scheduleEvent.list(event_filter(resourceSystemNamesLike="hall-2"))
    assert [r[1] for r in receipts_of(f"app-token:{token.id}")] == [named.id]


def test_a_user_session_is_its_user(admin_client, room, lecture):
    admin_client.schedule.scheduleEvent.list(event_filter(resourceIdsLike=str(room.id)))
    assert [r[:3] for r in receipts_of("user:alice")] == [("alice", room.id, Channel.API)]


def test_a_devices_ical_poll_records_the_etag_it_was_sent(poll, token, room, lecture):
    response = poll()
    assert response.status_code == 200
    assert receipts_of(f"app-token:{token.id}") == [
        ("Hall 1 encoder", room.id, Channel.ICAL, response.headers["ETag"])
    ]


def test_a_304_records_the_receipt_too(poll, token, room, lecture):
    etag = poll().headers["ETag"]
    DeviceReceipt.objects.all().delete()
    from django.core.cache import caches

    caches["receipts"].clear()
    assert poll(etag=etag).status_code == 304
    assert [r[3] for r in receipts_of(f"app-token:{token.id}")] == [etag]


def test_another_partners_room_named_by_a_filter_is_not_recorded(client_for, outsider_partner, room, lecture):
    client = client_for()
    client.setKs(start_session(client, outsider_partner, user_id="charlie"))
    client.schedule.scheduleEvent.list(event_filter(resourceIdsLike=str(room.id)))
    assert receipts_of("user:charlie") == []


# ---------------------------------------------------------------- ETag and 304


def test_the_ical_answer_carries_an_etag(poll, lecture):
    response = poll()
    assert response.headers["ETag"].startswith('"') and b"BEGIN:VEVENT" in response.content


@pytest.mark.parametrize("form", ["{}", "W/{}", '"other", {}'])
def test_a_matching_if_none_match_is_answered_304(poll, lecture, form):
    etag = poll().headers["ETag"]
    response = poll(etag=form.format(etag))
    assert (response.status_code, response.content, response.headers["ETag"]) == (304, b"", etag)


def test_an_unquoted_etag_matches(poll, lecture):
    etag = poll().headers["ETag"]
    assert poll(etag=etag.strip('"')).status_code == 304


def test_a_stale_etag_gets_the_calendar(poll, lecture):
    response = poll(etag='"not-this-one"')
    assert response.status_code == 200 and b"BEGIN:VCALENDAR" in response.content


def test_a_change_moves_the_etag(admin_client, poll, lecture):
    etag = poll().headers["ETag"]
    admin_client.schedule.scheduleEvent.update(lecture.id, record(lecture.startDate, summary="Moved"))
    response = poll(etag=etag)
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert b"Moved" in response.content


def test_different_filters_get_different_etags(poll, room, lecture):
    assert poll().headers["ETag"] != poll(resourceIdsLike=f"{room.id},999").headers["ETag"]


def test_a_page_of_other_rows_gets_another_etag(admin_client, http, device_ks, room, soon, lecture):
    add_event(admin_client, record(soon + 7200), room)

    def etag(size: str) -> str:
        params = {"ks": device_ks, "format": "ical", "pager[pageSize]": size}
        return http.get(LIST, params=params).headers["ETag"]

    assert etag("1") != etag("2")
    assert etag("2") == etag("10")  # the same two rows: the same document


def test_a_write_elsewhere_leaves_the_devices_answer_304(admin_client, poll, room, soon, lecture):
    """The ETag is the answer's, not the partner's: a booking in another room is no news to this
    room's device (before, every write sent every device of the partner its whole schedule)."""
    etag = poll().headers["ETag"]
    other = add_resource(admin_client, location("Hall 2"))
    add_event(admin_client, record(soon + 3600), other)
    assert poll(etag=etag).status_code == 304
    add_event(admin_client, record(soon + 7200), room)
    changed = poll(etag=etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_unlinking_the_rooms_booking_moves_the_etag(admin_client, poll, room, lecture):
    etag = poll().headers["ETag"]
    admin_client.schedule.scheduleEventResource.delete(lecture.id, room.id)
    changed = poll(etag=etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert b"BEGIN:VEVENT" not in changed.content


def test_a_session_without_stream_credentials_gets_another_etag(client_for, partner, poll, lecture):
    client = client_for()
    user_ks = start_session(client, partner, admin=False)  # USER: no live endpoints
    assert poll().headers["ETag"] != poll(ks=user_ks).headers["ETag"]


def test_a_post_is_answered_304_too(http, device_ks, room, lecture):
    body = {
        "ks": device_ks,
        "format": "ical",
        "filter": {"objectType": "KalturaScheduleEventFilter", "resourceIdsLike": str(room.id)},
    }
    etag = http.post(LIST, json=body).headers["ETag"]
    assert http.post(LIST, json=body, headers={"If-None-Match": etag}).status_code == 304


def test_the_path_form_is_answered_304(http, device_ks, room, lecture):
    path = (
        f"{LIST}/format/ical/filter[objectType]/KalturaScheduleEventFilter/filter[resourceIdsLike]/{room.id}"
    )
    etag = http.get(path, params={"ks": device_ks}).headers["ETag"]
    assert http.get(path, params={"ks": device_ks}, headers={"If-None-Match": etag}).status_code == 304


def test_an_error_has_no_etag(http, device_ks):
    """Even to "*": a page past the first 10,000 results is refused, never Not Modified."""
    params = {"ks": device_ks, "format": "ical", "pager[pageSize]": "500", "pager[pageIndex]": "100"}
    response = http.get(LIST, params=params, headers={"If-None-Match": "*"})
    assert response.status_code == 200 and "ETag" not in response.headers
    assert b"QUERY_EXCEEDED_MAX_MATCHES_ALLOWED" in response.content


def test_xml_answers_are_never_304(device_client, http, device_ks, lecture):
    response = http.get(LIST, params={"ks": device_ks}, headers={"If-None-Match": "*"})
    assert response.status_code == 200 and "ETag" not in response.headers


def test_the_official_client_still_lists_in_pages(device_client, lecture):
    assert (
        device_client.schedule.scheduleEvent.list(event_filter(), KalturaFilterPager(pageSize=5)).totalCount
        == 1
    )
