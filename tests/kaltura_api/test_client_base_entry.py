"""baseEntry.get and list through the official client: what a sync client pulls of an account's
media and live entries, each deserialized as its own type."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from KalturaClient import KalturaClient
from KalturaClient.Plugins.Core import (
    KalturaBaseEntryFilter,
    KalturaEntryStatus,
    KalturaEntryType,
    KalturaLiveStreamEntry,
    KalturaMediaEntry,
    KalturaMediaType,
)

from calendar_app.models import Entry, EntryType
from tests.kaltura_api.builders import DEVICE_ROLE, build, error_of, pager, value
from tests.kaltura_api.conftest import start_session

LIVE = EntryType.LIVE_STREAM
ENDPOINTS = {
    "primary_rtmp_endpoint": "rtmp://live.example/app",
    "secondary_rtmp_endpoint": "rtmp://backup.example/app",
    "primary_rtsp_endpoint": "rtsp://live.example/app",
    "secondary_rtsp_endpoint": "rtsp://backup.example/app",
    "stream_name": "hall1",
    "stream_username": "encoder",
    "stream_password": "s3cret-stream",
}


@pytest.fixture
def make_entry(partner):
    """An entry of Alice's (or of `partner`), stored directly: entries have no add action yet."""
    counter = iter(range(1, 10_000))

    def make(type: str = EntryType.MEDIA, **fields) -> Entry:
        number = next(counter)
        fields.setdefault("partner", partner)
        fields.setdefault("name", f"Entry {number}")
        return Entry.objects.create(id=f"0_test{number:04d}", type=type, **fields)

    return make


@pytest.fixture
def live_entry(make_entry) -> Entry:
    return make_entry(LIVE, name="Hall 1 stream", **ENDPOINTS)


@pytest.fixture
def user_client(client_for, partner) -> KalturaClient:
    client = client_for()
    client.setKs(start_session(client, partner, admin=False))
    return client


def entry_filter(**fields) -> KalturaBaseEntryFilter:
    return build(KalturaBaseEntryFilter, **fields)


def listed(client: KalturaClient, *args) -> list[str]:
    return [entry.id for entry in client.baseEntry.list(*args).objects]


# ---------------------------------------------------------------- get


def test_it_gets_a_media_entry(admin_client, partner, make_entry):
    stored = make_entry(
        name="Physics 101", description="Week 1", owner_id="alice", tags="physics,week1",
        categories="Lectures>Physics", category_ids="12,13", reference_id="ext-1",
        entitled_users_edit="bob,carol",
    )  # fmt: skip
    got = admin_client.baseEntry.get(stored.pk)
    assert isinstance(got, KalturaMediaEntry) and not isinstance(got, KalturaLiveStreamEntry)
    assert (got.id, got.name, got.description, got.partnerId) == (
        stored.pk,
        "Physics 101",
        "Week 1",
        partner.pk,
    )
    assert (got.userId, got.creatorId, got.tags) == ("alice", "alice", "physics,week1")
    assert (got.categories, got.categoriesIds, got.referenceId) == ("Lectures>Physics", "12,13", "ext-1")
    assert got.entitledUsersEdit == "bob,carol"


def test_it_gives_a_media_entrys_enums(admin_client, make_entry):
    got = admin_client.baseEntry.get(make_entry().pk)
    assert value(got.type) == KalturaEntryType.MEDIA_CLIP
    assert value(got.status) == KalturaEntryStatus.READY
    assert value(got.mediaType) == KalturaMediaType.VIDEO


def test_it_gives_times_in_unix_seconds(admin_client, make_entry):
    stored = make_entry(
        created_at=datetime(2026, 9, 1, 8, tzinfo=UTC), updated_at=datetime(2026, 9, 2, tzinfo=UTC)
    )
    got = admin_client.baseEntry.get(stored.pk)
    assert (got.createdAt, got.updatedAt) == (1_788_249_600, 1_788_307_200)


def test_it_gives_a_recordings_template_entry(admin_client, make_entry):
    template = make_entry(name="Template")
    recording = make_entry(template_entry=template)
    assert admin_client.baseEntry.get(recording.pk).templateEntryId == template.pk
    assert admin_client.baseEntry.get(template.pk).templateEntryId == ""  # null on the wire


def test_it_gets_a_live_entry_with_its_endpoints(admin_client, live_entry):
    got = admin_client.baseEntry.get(live_entry.pk)
    assert isinstance(got, KalturaLiveStreamEntry)
    assert (value(got.type), got.name) == (KalturaEntryType.LIVE_STREAM, "Hall 1 stream")
    assert (got.primaryBroadcastingUrl, got.secondaryBroadcastingUrl) == (
        "rtmp://live.example/app",
        "rtmp://backup.example/app",
    )
    assert (got.primaryRtspBroadcastingUrl, got.secondaryRtspBroadcastingUrl) == (
        "rtsp://live.example/app",
        "rtsp://backup.example/app",
    )
    assert (got.streamName, got.streamUsername, got.streamPassword) == ("hall1", "encoder", "s3cret-stream")


def test_it_gives_a_live_entry_kalturas_live_media_type(admin_client, live_entry):
    got = admin_client.baseEntry.get(live_entry.pk)
    assert value(got.mediaType) == KalturaMediaType.LIVE_STREAM_FLASH


def test_a_user_session_reads_entries_without_stream_credentials(user_client, live_entry):
    got = user_client.baseEntry.get(live_entry.pk)
    assert (got.name, got.primaryBroadcastingUrl, got.streamPassword, got.streamName) == (
        "Hall 1 stream",
        "",
        "",
        "",
    )


def test_a_capture_device_reads_stream_credentials(client_for, partner, live_entry):
    device = client_for()
    device.setKs(start_session(device, partner, admin=False, privileges=DEVICE_ROLE))
    got = device.baseEntry.get(live_entry.pk)
    assert (got.primaryBroadcastingUrl, got.streamPassword) == ("rtmp://live.example/app", "s3cret-stream")


def test_an_unknown_entry_is_not_found(admin_client):
    error = error_of(admin_client.baseEntry.get, "0_nosuch00")
    assert (error.code, error.message) == ("ENTRY_ID_NOT_FOUND", 'Entry id "0_nosuch00" not found')


def test_a_deleted_entry_is_not_found(admin_client, make_entry):
    entry = make_entry(status=3)
    assert error_of(admin_client.baseEntry.get, entry.pk).code == "ENTRY_ID_NOT_FOUND"


def test_another_partners_entry_is_not_found(outsider_client, live_entry):
    assert error_of(outsider_client.baseEntry.get, live_entry.pk).code == "ENTRY_ID_NOT_FOUND"


# ---------------------------------------------------------------- list


def test_it_lists_each_entry_as_its_own_type(admin_client, make_entry, live_entry):
    media = make_entry()
    found = admin_client.baseEntry.list()
    kinds = {entry.id: type(entry) for entry in found.objects}
    assert kinds == {media.pk: KalturaMediaEntry, live_entry.pk: KalturaLiveStreamEntry}
    assert found.totalCount == 2


def test_it_lists_live_entries_with_their_endpoints(admin_client, live_entry):
    [got] = admin_client.baseEntry.list(entry_filter(typeEqual=KalturaEntryType.LIVE_STREAM)).objects
    assert (got.primaryBroadcastingUrl, got.streamName) == ("rtmp://live.example/app", "hall1")


@pytest.mark.parametrize(
    ("types", "expected"), [("7", ["live"]), ("1", ["media"]), ("1,7", ["live", "media"])]
)
def test_it_lists_by_type_in(admin_client, make_entry, live_entry, types, expected):
    entries = {"live": live_entry.pk, "media": make_entry().pk}
    assert sorted(listed(admin_client, entry_filter(typeIn=types))) == sorted(entries[k] for k in expected)


def test_a_type_never_stored_lists_nothing(admin_client, make_entry):
    make_entry()
    assert listed(admin_client, entry_filter(typeEqual=KalturaEntryType.PLAYLIST)) == []


def test_it_lists_by_id_in(admin_client, make_entry):
    first, _, third = make_entry(), make_entry(), make_entry()
    found = listed(admin_client, entry_filter(idIn=f"{first.pk},{third.pk},0_nosuch00"))
    assert sorted(found) == sorted([first.pk, third.pk])


def test_it_lists_by_id_equal(admin_client, make_entry):
    make_entry()
    wanted = make_entry()
    assert listed(admin_client, entry_filter(idEqual=wanted.pk)) == [wanted.pk]


def test_it_lists_by_reference_id(admin_client, make_entry):
    wanted = make_entry(reference_id="ext-42")
    other = make_entry(reference_id="ext-43")
    make_entry()
    assert listed(admin_client, entry_filter(referenceIdEqual="ext-42")) == [wanted.pk]
    found = listed(admin_client, entry_filter(referenceIdIn="ext-42,ext-43"))
    assert sorted(found) == sorted([wanted.pk, other.pk])


def test_it_lists_by_name_like(admin_client, make_entry):
    wanted = make_entry(name="Physics 101 lecture")
    make_entry(name="Chemistry")
    assert listed(admin_client, entry_filter(nameLike="physics")) == [wanted.pk]


def test_it_lists_entries_updated_since(admin_client, make_entry):
    make_entry(updated_at=datetime(2026, 9, 1, tzinfo=UTC))
    recent = make_entry(updated_at=datetime(2026, 9, 3, tzinfo=UTC))
    since = int(datetime(2026, 9, 2, tzinfo=UTC).timestamp())
    assert listed(admin_client, entry_filter(updatedAtGreaterThanOrEqual=since)) == [recent.pk]


def test_it_leaves_deleted_entries_out_unless_asked(admin_client, make_entry):
    ready = make_entry()
    deleted = make_entry(status=3)
    assert listed(admin_client) == [ready.pk]
    assert listed(admin_client, entry_filter(statusIn="3")) == [deleted.pk]
    assert sorted(listed(admin_client, entry_filter(statusIn="2,3"))) == sorted([ready.pk, deleted.pk])


def test_it_orders_by_created_at(admin_client, make_entry):
    older = make_entry(created_at=datetime(2026, 1, 1, tzinfo=UTC))
    newer = make_entry(created_at=datetime(2026, 2, 1, tzinfo=UTC))
    assert listed(admin_client, entry_filter(orderBy="-createdAt")) == [newer.pk, older.pk]
    assert listed(admin_client, entry_filter(orderBy="+createdAt")) == [older.pk, newer.pk]


def test_it_pages_and_counts_every_match(admin_client, make_entry):
    made = [make_entry(created_at=datetime(2026, 1, day, tzinfo=UTC)).pk for day in range(1, 6)]
    found = admin_client.baseEntry.list(entry_filter(orderBy="+createdAt"), pager(2, 2))
    assert ([e.id for e in found.objects], found.totalCount) == (made[2:4], 5)


def test_a_user_session_lists_entries(user_client, make_entry):
    entry = make_entry()
    assert listed(user_client) == [entry.pk]


def test_another_partners_entries_are_not_listed(outsider_client, outsider_partner, make_entry):
    alices = make_entry(reference_id="alice-ref")
    own = make_entry(partner=outsider_partner)
    found = outsider_client.baseEntry.list(entry_filter(idIn=f"{alices.pk},{own.pk}"))
    assert ([e.id for e in found.objects], found.totalCount) == ([own.pk], 1)
    assert listed(outsider_client, entry_filter(referenceIdEqual="alice-ref")) == []


# ---------------------------------------------------------------- JSON


def json_get(client, ks: str, action: str, **params) -> dict:
    body = json.dumps({"ks": ks, "format": "1", **params})
    response = client.post(
        f"/api_v3/service/baseentry/action/{action}", body, content_type="application/json"
    )
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def test_it_answers_in_json_with_kalturas_string_enums(client, admin_client, live_entry):
    got = json_get(client, admin_client.getKs(), "get", entryId=live_entry.pk)
    assert (got["objectType"], got["type"], got["status"], got["mediaType"]) == (
        "KalturaLiveStreamEntry",
        "7",
        "2",
        201,
    )
    assert got["primaryBroadcastingUrl"] == "rtmp://live.example/app"


def test_it_leaves_stream_credentials_out_of_a_users_json(client, user_client, live_entry):
    got = json_get(client, user_client.getKs(), "get", entryId=live_entry.pk)
    assert got["name"] == "Hall 1 stream"
    assert {"primaryBroadcastingUrl", "streamPassword", "streamUsername"}.isdisjoint(got)


def test_it_lists_in_json(client, admin_client, live_entry):
    got = json_get(client, admin_client.getKs(), "list", filter={"objectType": "KalturaBaseEntryFilter"})
    assert (got["objectType"], got["totalCount"]) == ("KalturaBaseEntryListResponse", 1)
    assert [e["id"] for e in got["objects"]] == [live_entry.pk]


def test_it_answers_entry_id_not_found_with_its_arg(client, admin_client):
    got = json_get(client, admin_client.getKs(), "get", entryId="0_nosuch00")
    assert (got["code"], got["args"]) == ("ENTRY_ID_NOT_FOUND", {"ENTRY_ID": "0_nosuch00"})
