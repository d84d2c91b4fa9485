"""liveStream.add/get/list/update/delete through the official client: manual live entries with
our ingest URLs; their credentials only for sessions that broadcast."""

from __future__ import annotations

import json

import pytest
from KalturaClient import KalturaClient
from KalturaClient.Plugins.Core import (
    KalturaLiveStreamEntry,
    KalturaLiveStreamEntryFilter,
    KalturaMediaEntry,
    KalturaMediaType,
    KalturaSourceType,
)

from calendar_app.models import AuditEntry, Entry
from tests.kaltura_api.builders import DEVICE_ROLE, build, error_code, error_of, value
from tests.kaltura_api.conftest import start_session


@pytest.fixture
def user_client(client_for, partner) -> KalturaClient:
    client = client_for()
    client.setKs(start_session(client, partner, admin=False))
    return client


@pytest.fixture
def device_client(client_for, partner) -> KalturaClient:
    client = client_for()
    client.setKs(start_session(client, partner, admin=False, privileges=DEVICE_ROLE))
    return client


def live(name: str = "Hall 1 stream", **fields) -> KalturaLiveStreamEntry:
    return build(KalturaLiveStreamEntry, name=name, **fields)


def add_live(client: KalturaClient, **fields) -> KalturaLiveStreamEntry:
    return client.liveStream.add(live(**fields), KalturaSourceType.MANUAL_LIVE_STREAM)


def test_it_adds_a_live_entry_with_urls_on_the_partners_ingest(admin_client, partner):
    got = add_live(admin_client, description="Main hall")
    token = f"?t={got.streamPassword}"
    assert (got.name, got.description, value(got.status)) == ("Hall 1 stream", "Main hall", "2")
    assert got.primaryBroadcastingUrl == f"{partner.live_rtmp_primary}{token}"
    assert got.primaryRtspBroadcastingUrl == f"{partner.live_rtsp_primary}/{got.id}_%i{token}"
    assert (got.secondaryBroadcastingUrl, got.streamName) == ("", f"{got.id}_%i")
    assert Entry.objects.get(pk=got.id).stream_password == got.streamPassword


def test_it_audits_the_add_as_an_api_write(admin_client):
    got = add_live(admin_client)
    audit = AuditEntry.objects.get(object_type="Entry", object_id=got.id)
    assert (audit.action, audit.source, audit.actor) == ("create", AuditEntry.Source.API, "alice")


def test_it_gets_and_lists_live_entries(admin_client):
    added = add_live(admin_client)
    assert admin_client.liveStream.get(added.id).streamPassword == added.streamPassword
    found = admin_client.liveStream.list(build(KalturaLiveStreamEntryFilter, idEqual=added.id))
    assert ([e.id for e in found.objects], found.totalCount) == ([added.id], 1)
    assert isinstance(found.objects[0], KalturaLiveStreamEntry)


def test_list_leaves_media_entries_out(admin_client):
    admin_client.media.add(build(KalturaMediaEntry, name="Clip", mediaType=KalturaMediaType.VIDEO))
    added = add_live(admin_client)
    assert [e.id for e in admin_client.liveStream.list().objects] == [added.id]


def test_a_media_entry_is_not_a_live_entry(admin_client):
    clip = admin_client.media.add(build(KalturaMediaEntry, name="Clip", mediaType=KalturaMediaType.VIDEO))
    assert error_code(admin_client.liveStream.get, clip.id) == "ENTRY_ID_NOT_FOUND"


def test_it_updates_only_what_was_sent(admin_client):
    added = add_live(admin_client, description="Before", tags="a")
    got = admin_client.liveStream.update(
        added.id, live(name="Renamed", primaryBroadcastingUrl="rtmp://own/x")
    )
    assert (got.name, got.description, got.tags, got.primaryBroadcastingUrl) == (
        "Renamed", "Before", "a", "rtmp://own/x",
    )  # fmt: skip


def test_delete_makes_it_unknown(admin_client):
    added = add_live(admin_client)
    admin_client.liveStream.delete(added.id)
    assert Entry.objects.get(pk=added.id).status == Entry.Status.DELETED
    assert error_code(admin_client.liveStream.get, added.id) == "ENTRY_ID_NOT_FOUND"
    assert admin_client.liveStream.list().totalCount == 0


def test_a_user_session_reads_without_credentials_and_writes_nothing(admin_client, user_client):
    added = add_live(admin_client)
    got = user_client.liveStream.get(added.id)
    assert (got.name, got.primaryBroadcastingUrl, got.streamPassword) == ("Hall 1 stream", "", "")
    assert error_code(add_live, user_client) == "SERVICE_FORBIDDEN"
    assert error_code(user_client.liveStream.update, added.id, live(name="X")) == "SERVICE_FORBIDDEN"


def test_a_capture_device_reads_live_entries_with_credentials_and_changes_none(admin_client, device_client):
    added = add_live(admin_client)
    assert device_client.liveStream.get(added.id).streamPassword == added.streamPassword
    assert [e.id for e in device_client.liveStream.list().objects] == [added.id]
    assert error_code(add_live, device_client) == "SERVICE_FORBIDDEN"
    assert error_code(device_client.liveStream.delete, added.id) == "SERVICE_FORBIDDEN"
    assert error_code(device_client.liveStream.update, added.id, live(name="X")) == "SERVICE_FORBIDDEN"


def test_another_partners_live_entry_is_unknown(admin_client, outsider_client):
    added = add_live(admin_client)
    for call, args in [
        (outsider_client.liveStream.get, (added.id,)),
        (outsider_client.liveStream.update, (added.id, live(name="Mine"))),
        (outsider_client.liveStream.delete, (added.id,)),
    ]:
        assert error_code(call, *args) == "ENTRY_ID_NOT_FOUND"
    assert outsider_client.liveStream.list().totalCount == 0
    assert Entry.objects.get(pk=added.id).name == "Hall 1 stream"


def test_an_unknown_template_is_refused(admin_client):
    error = error_of(add_live, admin_client, templateEntryId="0_nosuch00")
    assert (error.code, "0_nosuch00" in error.message) == ("ENTRY_ID_NOT_FOUND", True)
    assert not Entry.objects.exists()


# ------------------------------------------------ read-only fields (raw JSON: the client never sends them)


def json_call(client, ks: str, action: str, **params) -> dict:
    body = json.dumps({"ks": ks, "format": "1", **params})
    response = client.post(
        f"/api_v3/service/livestream/action/{action}", body, content_type="application/json"
    )
    return json.loads(response.content)


def test_read_only_fields_are_refused_on_add(client, admin_client):
    entry = {"objectType": "KalturaLiveStreamEntry", "name": "X", "status": "2"}
    got = json_call(client, admin_client.getKs(), "add", liveStreamEntry=entry)
    assert (got["code"], got["args"]) == ("PROPERTY_VALIDATION_NOT_UPDATABLE", {"PROP_NAME": "status"})
    assert not Entry.objects.exists()


def test_read_only_fields_may_be_sent_back_unchanged_but_not_changed(client, admin_client):
    added = add_live(admin_client)
    ks = admin_client.getKs()
    same = {"objectType": "KalturaLiveStreamEntry", "id": added.id, "name": "Renamed"}
    assert json_call(client, ks, "update", entryId=added.id, liveStreamEntry=same)["name"] == "Renamed"
    other = {"objectType": "KalturaLiveStreamEntry", "streamUsername": "someone", "name": "Again"}
    got = json_call(client, ks, "update", entryId=added.id, liveStreamEntry=other)
    assert (got["code"], got["args"]) == (
        "PROPERTY_VALIDATION_NOT_UPDATABLE",
        {"PROP_NAME": "streamUsername"},
    )


def test_the_template_is_insert_only(client, admin_client):
    template, added = add_live(admin_client, name="T"), add_live(admin_client)
    entry = {"objectType": "KalturaLiveStreamEntry", "templateEntryId": template.id}
    got = json_call(client, admin_client.getKs(), "update", entryId=added.id, liveStreamEntry=entry)
    assert got["code"] == "PROPERTY_VALIDATION_NOT_UPDATABLE"
