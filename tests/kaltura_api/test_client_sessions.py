"""Sessions, app tokens and the capture-device role, as the official client and a device use them."""

from __future__ import annotations

import re
import time

import pytest
from KalturaClient import KalturaClient
from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Core import (
    KalturaAppToken,
    KalturaAppTokenHashType,
    KalturaAppTokenStatus,
    KalturaSessionInfo,
    KalturaSessionType,
)
from KalturaClient.Plugins.Schedule import KalturaRecordScheduleEvent

from tests.kaltura_api.builders import (
    DAY,
    DEVICE_ROLE,
    HOUR,
    add_event,
    add_resource,
    app_token,
    device_session,
    error_code,
    event_ids,
    hours_from_now,
    links,
    location,
    record,
    resource_ids,
    token_hash,
    value,
)
from tests.kaltura_api.conftest import start_session

USER = KalturaSessionType.USER
ADMIN = KalturaSessionType.ADMIN
HASH_TYPES = [
    KalturaAppTokenHashType.MD5,
    KalturaAppTokenHashType.SHA1,
    KalturaAppTokenHashType.SHA256,
    KalturaAppTokenHashType.SHA512,
]


@pytest.fixture
def user_client(client_for, partner) -> KalturaClient:
    """Alice's USER session, started with the partner's user secret."""
    client = client_for()
    client.setKs(start_session(client, partner, admin=False))
    return client


@pytest.fixture
def add_token(admin_client):
    def add(**fields) -> KalturaAppToken:
        return admin_client.appToken.add(app_token(**fields))

    return add


@pytest.fixture
def device_client(client_for, partner, add_token) -> KalturaClient:
    """A capture device: an app token with the device role, traded for a session."""
    client = client_for()
    info = device_session(client, partner, add_token(sessionUserId="device-1"))
    client.setKs(info.ks)
    return client


@pytest.fixture
def schedule(admin_client):
    """A room with one booked lecture, for reading."""
    room = add_resource(admin_client, location("Hall 1"))
    lecture = add_event(admin_client, record(hours_from_now(24)), room)
    return room, lecture


def session_of(client_for, ks) -> KalturaSessionInfo:
    return client_for(ks).session.get()


# ---------------------------------------------------------------- session.start / get / end


def test_the_admin_secret_starts_an_admin_session(client_for, partner):
    ks = start_session(client_for(), partner)
    info = session_of(client_for, ks)
    assert (value(info.sessionType), info.partnerId, info.userId) == (ADMIN, partner.pk, "alice")


def test_the_user_secret_starts_a_user_session(client_for, partner):
    ks = start_session(client_for(), partner, admin=False)
    assert value(session_of(client_for, ks).sessionType) == USER


def test_the_user_secret_cannot_start_an_admin_session(client_for, partner):
    client = client_for()
    assert (
        error_code(client.session.start, partner.secret, "alice", ADMIN, partner.pk) == "START_SESSION_ERROR"
    )


def test_a_wrong_secret_starts_nothing(client_for, partner):
    client = client_for()
    assert error_code(client.session.start, "0" * 32, "alice", ADMIN, partner.pk) == "START_SESSION_ERROR"


def test_another_partners_secret_starts_nothing(client_for, partner, outsider_partner):
    client = client_for()
    secret = outsider_partner.admin_secret
    assert error_code(client.session.start, secret, "alice", ADMIN, partner.pk) == "START_SESSION_ERROR"


def test_session_get_describes_the_session(admin_client, partner):
    info = admin_client.session.get()
    assert isinstance(info, KalturaSessionInfo)
    assert info.ks == admin_client.getKs()
    assert abs(info.expiry - (time.time() + 86_400)) < 120


def test_an_ended_session_stops_working(client_for, partner):
    ks = start_session(client_for(), partner)
    client = client_for(ks)
    assert client.session.end() is None
    assert error_code(client.schedule.scheduleEvent.list) == "INVALID_KS"
    assert error_code(client_for(ks).session.get) == "INVALID_KS"


def test_ending_one_session_leaves_others(client_for, partner):
    first, second = start_session(client_for(), partner), start_session(client_for(), partner)
    client_for(first).session.end()
    assert client_for(second).schedule.scheduleEvent.list().totalCount == 0


def test_a_call_without_a_session_is_refused(client_for, partner):
    assert error_code(client_for().schedule.scheduleEvent.list) == "MISSING_KS"


def test_a_garbage_session_is_invalid(client_for, partner):
    assert error_code(client_for("not-a-session").schedule.scheduleEvent.list) == "INVALID_KS"


def test_an_expired_session_is_invalid(client_for, partner):
    ks = KalturaClient.generateSessionV2(partner.admin_secret, "alice", ADMIN, partner.pk, expiry=-10)
    assert error_code(client_for(ks).schedule.scheduleEvent.list) == "INVALID_KS"


def test_a_session_signed_with_another_secret_is_invalid(client_for, partner, outsider_partner):
    ks = KalturaClient.generateSessionV2(outsider_partner.admin_secret, "alice", ADMIN, partner.pk)
    assert error_code(client_for(ks).schedule.scheduleEvent.list) == "INVALID_KS"


def test_a_client_built_v2_session_works(client_for, partner):
    ks = KalturaClient.generateSessionV2(partner.admin_secret, "alice", ADMIN, partner.pk)
    client = client_for(ks)
    assert client.schedule.scheduleEvent.add(record(hours_from_now(24))).ownerId == "alice"


def test_a_client_built_v1_session_works(client_for, partner):
    ks = KalturaClient.generateSession(partner.admin_secret, "alice", ADMIN, partner.pk)
    client = client_for(ks)
    assert client.schedule.scheduleEvent.add(record(hours_from_now(24))).ownerId == "alice"


# ---------------------------------------------------------------- what a USER session may do


def test_a_user_session_reads_the_schedule(user_client, schedule):
    room, lecture = schedule
    assert event_ids(user_client) == [lecture.id]
    assert user_client.schedule.scheduleEvent.get(lecture.id).id == lecture.id
    assert resource_ids(user_client) == [room.id]


def test_a_user_session_cannot_add_events(user_client):
    assert (
        error_code(user_client.schedule.scheduleEvent.add, record(hours_from_now(24))) == "SERVICE_FORBIDDEN"
    )
    assert event_ids(user_client) == []


def test_a_user_session_cannot_manage_app_tokens(user_client):
    assert error_code(user_client.appToken.add, app_token()) == "SERVICE_FORBIDDEN"
    assert error_code(user_client.appToken.list) == "SERVICE_FORBIDDEN"


# ---------------------------------------------------------------- app tokens


def test_an_admin_adds_an_app_token(add_token, partner):
    token = add_token(description="Hall 1 recorder")
    assert token.id and len(token.token) >= 32
    assert (token.partnerId, token.description, token.sessionPrivileges) == (
        partner.pk,
        "Hall 1 recorder",
        DEVICE_ROLE,
    )
    assert value(token.status) == KalturaAppTokenStatus.ACTIVE


def test_an_added_app_token_is_32_hex_characters(add_token):
    assert re.fullmatch("[0-9a-f]{32}", add_token().token)  # 16 random bytes, as Kaltura's


def test_an_admin_gets_an_app_token(admin_client, add_token):
    token = add_token()
    got = admin_client.appToken.get(token.id)
    assert (got.id, got.token, value(got.hashType)) == (token.id, token.token, KalturaAppTokenHashType.SHA256)


def test_an_admin_lists_app_tokens(admin_client, add_token):
    first, second = add_token(), add_token()
    found = admin_client.appToken.list()
    assert sorted(t.id for t in found.objects) == sorted([first.id, second.id])
    assert found.totalCount == 2


def test_an_admin_updates_an_app_token(admin_client, add_token):
    token = add_token(description="old")
    admin_client.appToken.update(token.id, KalturaAppToken(description="new"))
    got = admin_client.appToken.get(token.id)
    assert (got.description, got.sessionPrivileges) == ("new", DEVICE_ROLE)


def test_an_admin_deletes_an_app_token(admin_client, add_token):
    token = add_token()
    admin_client.appToken.delete(token.id)
    assert error_code(admin_client.appToken.get, token.id) == "INVALID_APP_TOKEN_ID"
    assert admin_client.appToken.list().totalCount == 0


@pytest.mark.parametrize("hash_type", HASH_TYPES)
def test_a_device_starts_a_session_with_its_token(client_for, partner, add_token, hash_type):
    token = add_token(hashType=hash_type, sessionUserId="device-1")
    info = device_session(client_for(), partner, token)
    assert isinstance(info, KalturaSessionInfo)
    assert (info.partnerId, info.userId) == (partner.pk, "device-1")
    assert "CAPTURE_DEVICE_ROLE" in info.privileges
    assert client_for(info.ks).schedule.scheduleEvent.list().totalCount == 0


def test_a_wrong_hash_is_refused(client_for, partner, add_token):
    token, client = add_token(), client_for()
    widget = client.session.startWidgetSession(f"_{partner.pk}")
    client.setKs(widget.ks)
    wrong = token_hash(widget.ks, token, "SHA1")  # the token says SHA256
    assert error_code(client.appToken.startSession, token.id, wrong) == "INVALID_APP_TOKEN_HASH"


def test_an_unknown_token_is_refused(client_for, partner, add_token):
    token = add_token()
    token.id = "0_unknown1"
    assert error_code(device_session, client_for(), partner, token) == "INVALID_APP_TOKEN_ID"


def test_another_partners_token_is_unknown(client_for, partner, outsider_partner, add_token):
    token = add_token()
    assert error_code(device_session, client_for(), outsider_partner, token) == "INVALID_APP_TOKEN_ID"


def test_a_deleted_token_starts_nothing(admin_client, client_for, partner, add_token):
    token = add_token()
    admin_client.appToken.delete(token.id)
    assert error_code(device_session, client_for(), partner, token) == "INVALID_APP_TOKEN_ID"


def test_deleting_a_token_ends_its_sessions(admin_client, client_for, partner, add_token):
    token = add_token()
    device = client_for(device_session(client_for(), partner, token).ks)
    admin_client.appToken.delete(token.id)
    assert error_code(device.schedule.scheduleEvent.list) == "INVALID_KS"


# ---------------------------------------------------------------- the capture-device role


def test_a_device_reads_its_schedule(device_client, schedule):
    room, lecture = schedule
    assert event_ids(device_client) == [lecture.id]
    assert device_client.schedule.scheduleEvent.get(lecture.id).id == lecture.id
    assert resource_ids(device_client) == [room.id]
    assert device_client.schedule.scheduleResource.get(room.id).id == room.id
    assert links(device_client, eventIdEqual=lecture.id) == [(lecture.id, room.id)]
    assert device_client.schedule.scheduleEventResource.get(lecture.id, room.id).eventId == lecture.id


def test_a_device_cannot_add_events(device_client):
    assert (
        error_code(device_client.schedule.scheduleEvent.add, record(hours_from_now(24)))
        == "SERVICE_FORBIDDEN"
    )


def test_a_device_cannot_change_events(device_client, schedule):
    _, lecture = schedule
    events = device_client.schedule.scheduleEvent
    assert (
        error_code(events.update, lecture.id, KalturaRecordScheduleEvent(summary="x")) == "SERVICE_FORBIDDEN"
    )
    assert error_code(events.delete, lecture.id) == "SERVICE_FORBIDDEN"
    assert events.get(lecture.id).summary == "Lecture"


def test_a_device_cannot_add_resources_or_links(device_client, schedule):
    room, lecture = schedule
    assert error_code(add_resource, device_client, location("Hall 2")) == "SERVICE_FORBIDDEN"
    assert error_code(device_client.schedule.scheduleEventResource.delete, lecture.id, room.id) == (
        "SERVICE_FORBIDDEN"
    )


def test_a_device_cannot_list_app_tokens(device_client):
    assert error_code(device_client.appToken.list) == "SERVICE_FORBIDDEN"


def test_an_admin_type_token_still_keeps_the_device_role(client_for, partner, add_token):
    device = client_for(device_session(client_for(), partner, add_token(sessionType=ADMIN)).ks)
    assert error_code(device.schedule.scheduleEvent.add, record(hours_from_now(24))) == "SERVICE_FORBIDDEN"


def test_a_device_cannot_ask_for_an_admin_role(client_for, partner, add_token):
    client, token = client_for(), add_token()
    try:
        info = device_session(client, partner, token, sessionPrivileges="setrole:ADMIN,*")
    except KalturaException:
        return  # refusing the request outright is as good as ignoring it
    assert "setrole:ADMIN" not in info.privileges
    assert error_code(client_for(info.ks).schedule.scheduleEvent.add, record(hours_from_now(24))) == (
        "SERVICE_FORBIDDEN"
    )


def test_a_device_cannot_ask_for_an_admin_session(client_for, partner, add_token):
    info = device_session(client_for(), partner, add_token(), type=ADMIN)
    assert value(info.sessionType) == USER
    assert error_code(client_for(info.ks).appToken.list) == "SERVICE_FORBIDDEN"


def test_a_widget_session_cannot_read_the_schedule(client_for, partner, schedule):
    widget = client_for().session.startWidgetSession(f"_{partner.pk}")
    assert error_code(client_for(widget.ks).schedule.scheduleEvent.list) == "SERVICE_FORBIDDEN"


def test_a_session_with_the_device_role_is_a_device(client_for, partner):
    ks = start_session(client_for(), partner, privileges=DEVICE_ROLE)
    client = client_for(ks)
    assert client.schedule.scheduleEvent.list().totalCount == 0
    assert error_code(client.schedule.scheduleEvent.add, record(hours_from_now(24))) == "SERVICE_FORBIDDEN"


def test_a_token_limits_the_session_length(client_for, partner, add_token):
    info = device_session(client_for(), partner, add_token(sessionDuration=600))
    assert abs(info.expiry - (time.time() + 600)) < 120


def test_a_token_without_a_user_takes_the_devices_user_id(client_for, partner, add_token):
    info = device_session(client_for(), partner, add_token(), userId="camera-7")
    assert info.userId == "camera-7"


# ---------------------------------------------------------------- reftime moves "now", never a deadline


def reftime_session(client_for, partner, days: float) -> KalturaClient:
    """A USER session whose reftime privilege puts its "now" `days` away (before, if negative)."""
    moment = int(time.time() + days * DAY)
    client = client_for()
    client.setKs(start_session(client, partner, admin=False, privileges=f"reftime:{moment}"))
    return client


def start_with_token(client: KalturaClient, token, **extra):
    return client.appToken.startSession(token.id, token_hash(client.getKs(), token), **extra)


def test_an_expired_token_starts_no_session_for_a_caller_with_a_past_reftime(client_for, partner, add_token):
    token = add_token(expiry=int(time.time()) - 60)
    caller = reftime_session(client_for, partner, days=-365)
    assert error_code(start_with_token, caller, token) == "APP_TOKEN_EXPIRED"


def test_a_past_reftime_does_not_outlive_the_token_it_starts_from(client_for, partner, add_token):
    token = add_token(expiry=int(time.time()) + HOUR, sessionDuration=DAY)
    info = start_with_token(reftime_session(client_for, partner, days=-365), token)
    assert abs(info.expiry - (time.time() + HOUR)) < 120


def test_a_future_reftime_does_not_expire_a_live_token(client_for, partner, add_token):
    token = add_token(expiry=int(time.time()) + HOUR)
    info = start_with_token(reftime_session(client_for, partner, days=30), token)
    assert client_for(info.ks).session.get().userId == info.userId


def test_a_past_reftime_does_not_backdate_what_the_caller_writes(client_for, partner):
    caller = client_for()
    caller.setKs(start_session(caller, partner, privileges=f"reftime:{int(time.time() - 365 * DAY)}"))
    event = add_event(caller, record(hours_from_now(48)))
    assert abs(event.createdAt - time.time()) < 120


def test_a_past_reftime_does_not_make_an_expired_session_valid(client_for, partner):
    expired = KalturaClient.generateSessionV2(partner.admin_secret, "alice", ADMIN, partner.pk, expiry=-60)
    caller = reftime_session(client_for, partner, days=-365)
    assert error_code(caller.session.get, expired) == "INVALID_KS"


def test_a_future_reftime_does_not_clear_the_sessions_ended_before(client_for, partner):
    ended = client_for(start_session(client_for(), partner))
    ended.session.end()
    reftime_session(client_for, partner, days=2).session.end()  # tidies revocations "expired" by then
    assert error_code(ended.schedule.scheduleEvent.list) == "INVALID_KS"


def test_bringing_a_tokens_expiry_forward_ends_its_sessions(admin_client, client_for, partner, add_token):
    token = add_token(expiry=int(time.time()) + DAY)
    device = client_for(device_session(client_for(), partner, token).ks)
    admin_client.appToken.update(token.id, KalturaAppToken(expiry=int(time.time()) - 60))
    assert error_code(device.schedule.scheduleEvent.list) == "INVALID_KS"


def test_a_session_built_to_outlast_the_calendar_still_ends(client_for, partner):
    """A client may sign any expiry; its revocation must still be stored (past the year 9999)."""
    ks = KalturaClient.generateSessionV2(partner.admin_secret, "alice", ADMIN, partner.pk, expiry=10**15)
    client_for(ks).session.end()
    assert error_code(client_for(ks).schedule.scheduleEvent.list) == "INVALID_KS"


# ---------------------------------------------------------------- what a session carries must fit


def test_a_user_id_longer_than_its_columns_starts_no_session(client_for, partner):
    """Every write stores the session's user id (the audit trail's actor: 256 characters)."""
    assert (
        error_code(start_session, client_for(), partner, user_id="u" * 257)
        == "PROPERTY_VALIDATION_MAX_LENGTH"
    )


def test_a_client_built_session_with_too_long_a_user_id_is_invalid(client_for, partner):
    ks = KalturaClient.generateSessionV2(partner.admin_secret, "u" * 257, ADMIN, partner.pk)
    assert error_code(client_for(ks).schedule.scheduleEvent.list) == "INVALID_KS"


def test_privileges_too_long_for_a_session_start_none(client_for, partner):
    """A KS longer than the server reads would be handed out, then refused on every call."""
    privileges = ",".join(f"custom{i}:{'x' * 20}" for i in range(300))
    assert error_code(start_session, client_for(), partner, privileges=privileges) == (
        "PROPERTY_VALIDATION_MAX_LENGTH"
    )


def test_a_token_whose_sessions_would_be_too_long_is_refused(add_token):
    privileges = ",".join(f"custom{i}:{'x' * 20}" for i in range(300))
    assert error_code(add_token, sessionPrivileges=privileges) == "PROPERTY_VALIDATION_MAX_LENGTH"


def test_a_negative_expiry_gets_the_tokens_session_length(client_for, partner, add_token):
    info = device_session(client_for(), partner, add_token(sessionDuration=600), expiry=-5)
    assert abs(info.expiry - (time.time() + 600)) < 120


@pytest.mark.parametrize("widget_id", ["_²", "_" + "9" * 5000, "_١٠١"])
def test_a_widget_id_that_is_no_partner_id_is_invalid(client_for, widget_id):
    assert error_code(client_for().session.startWidgetSession, widget_id) == "INVALID_WIDGET_ID"
