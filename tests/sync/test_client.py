"""calendar_app/sync/client.py against a live upstream (tests/sync/conftest.py): calls, objects,
errors, multirequests, sessions by admin secret and app token, and every way the upstream can
be out of reach. A few answers no healthy server gives (a 502, a page that is not JSON) come
from an httpx.MockTransport, the client's own seam."""

from __future__ import annotations

import pickle
import socket
import time
from datetime import UTC, datetime

import httpx
import pytest

from bench._server import free_port
from calendar_app.models import KalturaConnection
from calendar_app.sync.client import (
    Call,
    Credentials,
    KalturaClient,
    KalturaError,
    Unreachable,
    client_for,
    wire,
)

RESOURCES = "schedule_scheduleresource"
EVENTS = "schedule_scheduleevent"
LINKS = "schedule_scheduleeventresource"
UNKNOWN_ID = 999_999


def location(name: str = "Hall 1", **extra) -> dict:
    return {"objectType": "KalturaLocationScheduleResource", "name": name, **extra}


def answering(status: int, body: bytes, content_type: str = "text/html") -> httpx.MockTransport:
    return httpx.MockTransport(
        lambda request: httpx.Response(status, content=body, headers={"content-type": content_type})
    )


def offline_client(transport: httpx.BaseTransport) -> KalturaClient:
    return KalturaClient("http://upstream.invalid", 4242, Credentials(auth="admin_secret", admin_secret="s3"),
                         transport=transport)  # fmt: skip


# ---------------------------------------------------------------- calls and objects


def test_it_adds_and_gets_an_object_with_an_admin_secret(client):
    added = client.call(RESOURCES, "add", scheduleResource=location(tags="a,b"))
    got = client.call(RESOURCES, "get", scheduleResourceId=added["id"])
    assert got["objectType"] == "KalturaLocationScheduleResource"
    assert (got["name"], got["tags"], got["partnerId"]) == ("Hall 1", "a,b", 4242)


def test_it_clears_a_field_sent_as_none(client):
    added = client.call(RESOURCES, "add", scheduleResource=location(description="Ground floor"))
    client.call(
        RESOURCES, "update", scheduleResourceId=added["id"],
        scheduleResource={"objectType": "KalturaLocationScheduleResource", "description": None},
    )  # fmt: skip
    assert client.call(RESOURCES, "get", scheduleResourceId=added["id"]).get("description", "") == ""


def test_it_writes_none_and_empty_lists_as_kaltura_reads_them():
    sent = wire({"description": None, "recurrence": {"count": None, "byDay": "MO"}, "liveFeatures": []})
    assert sent == {
        "description__null": "",
        "recurrence": {"count__null": "", "byDay": "MO"},
        "liveFeatures": {"-": ""},
    }


def test_it_raises_a_kaltura_error_with_its_code_and_arguments(client):
    with pytest.raises(KalturaError) as raised:
        client.call(EVENTS, "get", scheduleEventId=UNKNOWN_ID)
    assert raised.value.code == "INVALID_OBJECT_ID"
    assert raised.value.arguments == {"ID": str(UNKNOWN_ID)}
    assert not raised.value.transient


def test_only_kaltura_s_not_now_codes_are_transient():
    assert KalturaError("INTERNAL_SERVERL_ERROR", "Internal server error occurred").transient
    assert KalturaError("RESOURCE_IS_RESERVED", "Resource with id 7 is already reserved").transient
    assert not KalturaError("PROPERTY_VALIDATION_CANNOT_BE_NULL", "cannot be null").transient


def test_an_error_survives_pickling():
    copy = pickle.loads(pickle.dumps(KalturaError("INVALID_OBJECT_ID", "Invalid object id [9]", {"ID": "9"})))
    assert (copy.code, copy.message, copy.arguments, copy.transient) == (
        "INVALID_OBJECT_ID", "Invalid object id [9]", {"ID": "9"}, False,
    )  # fmt: skip


# ---------------------------------------------------------------- multirequest


def test_a_multirequest_resolves_references_from_one(client, recorder):
    room, camera = client.multirequest([
        Call(RESOURCES, "add", {"scheduleResource": location()}),
        Call(RESOURCES, "add", {"scheduleResource": {"objectType": "KalturaCameraScheduleResource",
                                                     "name": "Camera 1", "parentId": "{1:result:id}"}}),
    ])  # fmt: skip
    assert camera["parentId"] == room["id"]
    assert recorder.count("/service/multirequest") == 1


def test_a_failed_call_of_a_multirequest_is_returned_in_its_slot(client):
    missing, room = client.multirequest(
        [
            Call(EVENTS, "get", {"scheduleEventId": UNKNOWN_ID}),
            Call(RESOURCES, "add", {"scheduleResource": location()}),
        ]
    )
    assert isinstance(missing, KalturaError)
    assert missing.code == "INVALID_OBJECT_ID"
    assert room["name"] == "Hall 1"


def test_an_empty_multirequest_makes_no_round_trip(client, recorder):
    assert client.multirequest([]) == []
    assert recorder.paths == []


# ---------------------------------------------------------------- sessions


def test_it_keeps_one_session_for_many_calls(client, recorder):
    for _ in range(3):
        client.call(RESOURCES, "list")
    assert recorder.count("/session/action/start") == 1


@pytest.mark.parametrize("hash_type", ["SHA256", "MD5", "SHA512"])
def test_it_starts_an_app_token_session(upstream, hash_type):
    credentials = upstream.token_credentials(hash_type)
    kaltura = upstream.client(credentials)
    info = kaltura.call("session", "get")
    kaltura.close()
    assert info["partnerId"] == 4242
    assert f"apptoken:{credentials.app_token_id}" in info["privileges"]


def test_a_session_the_upstream_ended_is_renewed_once(upstream, client, recorder):
    ended = client.session()
    httpx.post(f"{upstream.url}/api_v3/service/session/action/end", json={"format": 1, "ks": ended})
    assert client.call(RESOURCES, "list")["objectType"] == "KalturaScheduleResourceListResponse"
    assert client.session() != ended
    assert recorder.count("/session/action/start") == 2


def test_a_session_refused_twice_is_raised_without_the_ks(client, recorder):
    # A partnerId other than the session's makes the upstream refuse every KS of ours.
    with pytest.raises(KalturaError) as raised:
        client.call(RESOURCES, "list", partnerId=1)
    assert raised.value.code == "INVALID_KS"
    assert recorder.count("/session/action/start") == 2
    assert client.session() not in str(raised.value) + str(raised.value.arguments)


def test_a_session_is_renewed_when_five_minutes_are_left(upstream):
    now = [1_000_000.0]
    kaltura = upstream.client(clock=lambda: now[0], session_seconds=3600)
    first = kaltura.session()
    now[0] += 3600 - 301
    assert kaltura.session() == first
    now[0] += 2
    assert kaltura.session() != first
    kaltura.close()


def test_a_short_session_is_renewed_when_a_tenth_of_its_life_is_left(upstream):
    now = [1_000_000.0]
    kaltura = upstream.client(clock=lambda: now[0], session_seconds=600)
    first = kaltura.session()
    now[0] += 539
    assert kaltura.session() == first
    now[0] += 2
    assert kaltura.session() != first
    kaltura.close()


# ---------------------------------------------------------------- out of reach


def test_a_closed_port_is_transient():
    kaltura = KalturaClient(f"http://127.0.0.1:{free_port()}", 4242, Credentials(auth="admin_secret"))
    with pytest.raises(Unreachable) as raised:
        kaltura.call(RESOURCES, "list")
    assert (raised.value.code, raised.value.transient) == ("UPSTREAM_UNREACHABLE", True)


def test_a_wrong_url_is_permanent(upstream):
    kaltura = KalturaClient(f"{upstream.url}/not-kaltura", 4242, upstream.credentials())
    with pytest.raises(Unreachable) as raised:
        kaltura.call(RESOURCES, "list")
    assert (raised.value.code, raised.value.transient) == ("UPSTREAM_HTTP_404", False)


def test_a_server_that_never_answers_times_out_as_transient():
    with socket.socket() as silent:  # the kernel accepts connections; nobody ever reads them
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        kaltura = KalturaClient(f"http://127.0.0.1:{silent.getsockname()[1]}", 4242,
                                Credentials(auth="admin_secret"), timeout=0.2)  # fmt: skip
        started = time.monotonic()
        with pytest.raises(Unreachable) as raised:
            kaltura.call(RESOURCES, "list")
    assert raised.value.transient and "Timeout" in raised.value.message
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("status", [502, 503, 429])
def test_a_busy_or_failing_server_is_transient(status):
    with pytest.raises(Unreachable) as raised:
        offline_client(answering(status, b"<html>Bad gateway</html>")).call(RESOURCES, "list")
    assert (raised.value.code, raised.value.transient) == (f"UPSTREAM_HTTP_{status}", True)


def test_an_answer_that_is_not_json_is_permanent():
    with pytest.raises(Unreachable) as raised:
        offline_client(answering(200, b"<html>Welcome</html>")).call(RESOURCES, "list")
    assert (raised.value.code, raised.value.transient) == ("UPSTREAM_NOT_KALTURA", False)


def test_an_upstream_that_goes_away_is_transient_until_it_is_back(upstream, client):
    added = client.call(RESOURCES, "add", scheduleResource=location())
    upstream.stop()
    try:
        with pytest.raises(Unreachable) as raised:
            client.call(RESOURCES, "get", scheduleResourceId=added["id"])
        assert raised.value.transient
    finally:
        upstream.start()
    assert client.call(RESOURCES, "get", scheduleResourceId=added["id"])["name"] == "Hall 1"


# ---------------------------------------------------------------- secrets


def test_a_wrong_secret_is_refused_without_showing_it(upstream):
    kaltura = upstream.client(Credentials(auth="admin_secret", admin_secret="not-the-secret-123"))
    with pytest.raises(KalturaError) as raised:
        kaltura.call(RESOURCES, "list")
    assert raised.value.code == "START_SESSION_ERROR"
    assert "not-the-secret-123" not in str(raised.value) + str(raised.value.arguments)


def test_credentials_do_not_show_their_secrets():
    shown = repr(Credentials(auth="app_token", admin_secret="s3cret", app_token_id="0_ab", app_token="t0ken"))
    assert "s3cret" not in shown and "t0ken" not in shown and "0_ab" in shown


def test_a_secret_echoed_by_the_upstream_is_blanked():
    echo = b'{"objectType":"KalturaAPIException","code":"X","message":"bad s3 here","args":{"S":"s3"}}'
    with pytest.raises(KalturaError) as raised:
        offline_client(answering(200, echo, "application/json")).call(RESOURCES, "list")
    assert (raised.value.message, raised.value.arguments) == ("bad *** here", {"S": "***"})


# ---------------------------------------------------------------- one client per connection


def connection(upstream, pk: int, **changes) -> KalturaConnection:
    """An unsaved connection to the upstream: client_for reads only its fields."""
    return KalturaConnection(
        **{
            "pk": pk,
            "service_url": upstream.url,
            "upstream_partner_id": 4242,
            "auth": "admin_secret",
            "admin_secret": upstream.admin_secret,
            "updated_at": datetime(2026, 9, 1, tzinfo=UTC),
            **changes,
        }
    )


def test_it_reuses_the_client_of_an_unchanged_connection(upstream):
    first = client_for(connection(upstream, 900_001))
    assert client_for(connection(upstream, 900_001)) is first
    assert first.call(RESOURCES, "list")["objectType"] == "KalturaScheduleResourceListResponse"
    first.close()


def test_an_edited_connection_gets_a_new_client_and_the_old_one_is_closed(upstream):
    first = client_for(connection(upstream, 900_002))
    second = client_for(connection(upstream, 900_002, user_id="another-user"))
    assert second is not first
    with pytest.raises(Unreachable) as raised:
        first.call(RESOURCES, "list")
    assert raised.value.transient
    second.close()


# ---------------------------------------------------------------- the fixture itself


def test_wipe_leaves_the_partner_without_events_links_or_resources(upstream, client):
    room = client.call(RESOURCES, "add", scheduleResource=location())
    camera = {"objectType": "KalturaCameraScheduleResource", "name": "Camera", "parentId": room["id"]}
    client.call(RESOURCES, "add", scheduleResource=camera)
    series = client.call(EVENTS, "add", scheduleEvent=weekly_lecture())
    link = {"objectType": "KalturaScheduleEventResource", "eventId": series["id"], "resourceId": room["id"]}
    client.call(LINKS, "add", scheduleEventResource=link)
    upstream.wipe()
    assert [client.call(service, "list")["totalCount"] for service in (RESOURCES, EVENTS, LINKS)] == [0, 0, 0]


def weekly_lecture() -> dict:
    start = (int(time.time()) // 3600 + 48) * 3600
    return {
        "objectType": "KalturaRecordScheduleEvent", "summary": "Lecture", "startDate": start,
        "endDate": start + 3600, "recurrenceType": 1,
        "recurrence": {"objectType": "KalturaScheduleEventRecurrence", "frequency": "weeks", "count": 3},
    }  # fmt: skip
