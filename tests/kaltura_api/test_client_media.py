"""media.add/get/list/update/delete/addContent through the official client: what a capture
device does with a recording (add it from its booking's template, upload, attach), and the
templateEntryId of bookings checked on the way in."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from KalturaClient import KalturaClient
from KalturaClient.Plugins.Core import (
    KalturaEntryStatus,
    KalturaLiveStreamEntry,
    KalturaMediaEntry,
    KalturaMediaEntryFilter,
    KalturaMediaType,
    KalturaUploadedFileTokenResource,
    KalturaUploadToken,
    KalturaUrlResource,
)

from calendar_app import clock
from calendar_app.models import Entry, ScheduleEvent
from tests.conftest import at
from tests.kaltura_api.builders import (
    add_event,
    app_token,
    build,
    device_session,
    error_code,
    record,
    series,
    value,
)
from tests.kaltura_api.conftest import start_session

BERLIN = "Europe/Berlin"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def device_for(client_for, partner, admin_client):
    """A capture device's client: its own app token with the device role, traded for a session."""

    def device(name: str = "hall-1-recorder") -> KalturaClient:
        client = client_for()
        token = admin_client.appToken.add(app_token(sessionUserId=name))
        client.setKs(device_session(client, partner, token).ks)
        return client

    return device


def media(name: str | None = "Clip", **fields) -> KalturaMediaEntry:
    if name is not None:
        fields["name"] = name
    fields.setdefault("mediaType", KalturaMediaType.VIDEO)
    return build(KalturaMediaEntry, **fields)


def add_live(client: KalturaClient, **fields) -> KalturaLiveStreamEntry:
    return client.liveStream.add(build(KalturaLiveStreamEntry, **fields))


def upload(client: KalturaClient, tmp_path: Path, data: bytes) -> str:
    token = client.uploadToken.add(build(KalturaUploadToken, fileName="lecture.mp4", fileSize=len(data)))
    path = tmp_path / "lecture.mp4"
    path.write_bytes(data)
    with path.open("rb") as file:
        client.uploadToken.upload(token.id, file)
    return token.id


def token_resource(token_id: str) -> KalturaUploadedFileTokenResource:
    return build(KalturaUploadedFileTokenResource, token=token_id)


# ---------------------------------------------------------------- add, get, list, update, delete


def test_it_adds_a_media_entry_without_content(admin_client, partner):
    got = admin_client.media.add(media(description="Week 1", tags="physics"))
    assert (got.name, got.description, got.tags, got.partnerId) == ("Clip", "Week 1", "physics", partner.pk)
    assert (value(got.status), value(got.mediaType)) == (
        KalturaEntryStatus.NO_CONTENT,
        KalturaMediaType.VIDEO,
    )
    assert (got.userId, got.creatorId) == ("alice", "alice")


def test_it_keeps_the_media_type_it_was_given(admin_client):
    got = admin_client.media.add(media(mediaType=KalturaMediaType.AUDIO))
    assert value(admin_client.media.get(got.id).mediaType) == KalturaMediaType.AUDIO


def test_it_gets_lists_and_updates(admin_client):
    added = admin_client.media.add(media(tags="a", entitledUsersPublish="carol"))
    got = admin_client.media.update(added.id, media(name="Renamed"))
    assert (got.name, got.tags, got.entitledUsersPublish) == ("Renamed", "a", "carol")
    assert admin_client.media.get(added.id).name == "Renamed"
    found = admin_client.media.list(build(KalturaMediaEntryFilter, nameLike="renamed"))
    assert ([e.id for e in found.objects], found.totalCount) == ([added.id], 1)


def test_media_get_answers_for_a_live_entry_but_update_does_not(admin_client):
    stream = add_live(admin_client, name="Stream")
    assert isinstance(admin_client.media.get(stream.id), KalturaLiveStreamEntry)
    assert error_code(admin_client.media.update, stream.id, media(name="X")) == "ENTRY_ID_NOT_FOUND"
    assert [e.id for e in admin_client.media.list().objects] == []


def test_delete_makes_it_unknown(admin_client):
    added = admin_client.media.add(media())
    admin_client.media.delete(added.id)
    assert Entry.objects.get(pk=added.id).status == Entry.Status.DELETED
    assert error_code(admin_client.media.get, added.id) == "ENTRY_ID_NOT_FOUND"
    assert error_code(admin_client.media.update, added.id, media(name="X")) == "ENTRY_ID_NOT_FOUND"


def test_another_partners_entry_is_unknown(admin_client, outsider_client):
    added = admin_client.media.add(media())
    for call, args in [
        (outsider_client.media.get, (added.id,)),
        (outsider_client.media.update, (added.id, media(name="Mine"))),
        (outsider_client.media.delete, (added.id,)),
        (outsider_client.media.addContent, (added.id, token_resource("0_x"))),
    ]:
        assert error_code(call, *args) == "ENTRY_ID_NOT_FOUND"
    assert outsider_client.media.list().totalCount == 0
    assert Entry.objects.get(pk=added.id).name == "Clip"


def test_a_user_session_reads_and_writes_nothing(admin_client, client_for, partner):
    user = client_for()
    user.setKs(start_session(user, partner, admin=False, user_id="bob"))
    added = admin_client.media.add(media())
    assert user.media.get(added.id).name == "Clip"
    assert error_code(user.media.add, media()) == "SERVICE_FORBIDDEN"
    assert error_code(user.media.update, added.id, media(name="X")) == "SERVICE_FORBIDDEN"


# ---------------------------------------------------------------- addContent


def test_add_content_attaches_an_uploaded_file(admin_client, tmp_path):
    data = b"\x00\x01recording" * 1000
    added = admin_client.media.add(media())
    got = admin_client.media.addContent(added.id, token_resource(upload(admin_client, tmp_path, data)))
    assert value(got.status) == KalturaEntryStatus.READY
    stored = Entry.objects.get(pk=added.id)
    assert (stored.file_size, stored.checksum) == (len(data), hashlib.sha256(data).hexdigest())
    assert stored.media_file.read() == data


def test_add_content_twice_is_refused(admin_client, tmp_path):
    added = admin_client.media.add(media())
    admin_client.media.addContent(added.id, token_resource(upload(admin_client, tmp_path, b"one")))
    second = token_resource(upload(admin_client, tmp_path, b"two"))
    assert error_code(admin_client.media.addContent, added.id, second) == "ENTRY_ALREADY_WITH_CONTENT"


def test_add_content_refuses_another_kind_of_resource(admin_client):
    added = admin_client.media.add(media())
    resource = build(KalturaUrlResource, url="https://example.org/clip.mp4")
    assert error_code(admin_client.media.addContent, added.id, resource) == "RESOURCE_TYPE_NOT_SUPPORTED"
    assert Entry.objects.get(pk=added.id).status == Entry.Status.NO_CONTENT


def test_add_content_with_an_unknown_token_changes_nothing(admin_client):
    added = admin_client.media.add(media())
    code = error_code(admin_client.media.addContent, added.id, token_resource("0_" + "0" * 32))
    assert code == "UPLOAD_TOKEN_NOT_FOUND"
    assert Entry.objects.get(pk=added.id).status == Entry.Status.NO_CONTENT


# ---------------------------------------------------------------- capture devices


def test_a_device_adds_and_fills_its_own_recording(device_for, tmp_path):
    device = device_for()
    added = device.media.add(media())
    device.media.update(added.id, media(name="Renamed by device"))
    got = device.media.addContent(added.id, token_resource(upload(device, tmp_path, b"video")))
    assert (got.name, value(got.status)) == ("Renamed by device", KalturaEntryStatus.READY)


def test_a_device_changes_no_entry_it_did_not_make(admin_client, device_for):
    theirs = admin_client.media.add(media())
    other_devices = device_for("other").media.add(media())
    device = device_for()
    for entry in (theirs, other_devices):
        assert error_code(device.media.update, entry.id, media(name="Mine")) == "INVALID_KS"
        assert error_code(device.media.addContent, entry.id, token_resource("0_x")) == "INVALID_KS"
    assert Entry.objects.get(pk=theirs.id).name == "Clip"


def test_a_device_may_not_list_or_delete_media(admin_client, device_for):
    device = device_for()
    added = device.media.add(media())
    assert device.media.get(added.id).id == added.id
    assert error_code(device.media.list) == "SERVICE_FORBIDDEN"
    assert error_code(device.media.delete, added.id) == "SERVICE_FORBIDDEN"


# ---------------------------------------------------------------- templates and bookings


@pytest.fixture
def template(admin_client):
    return add_live(
        admin_client, name="Hall 1 template", description="Hall 1", tags="physics",
        categories="Lectures", categoriesIds="12", userId="prof", entitledUsersEdit="bob",
        entitledUsersPublish="carol",
    )  # fmt: skip


def unix(text: str, zone: str = BERLIN) -> int:
    return int(at(text, zone).timestamp())


def test_a_recording_takes_its_templates_metadata_and_its_bookings_name(admin_client, device_for, template):
    with clock.pinned(at("2026-09-07 09:30", BERLIN)):
        add_event(
            admin_client, record(unix("2026-09-07 09:00"), 90, summary="Algebra", templateEntryId=template.id)
        )
        got = device_for().media.add(media(name=None, templateEntryId=template.id))
    assert (got.name, got.description, got.tags, got.categories, got.categoriesIds) == (
        "Algebra (2026-09-07)", "Hall 1", "physics", "Lectures", "12",
    )  # fmt: skip
    assert (got.userId, got.entitledUsersEdit, got.entitledUsersPublish, got.templateEntryId) == (
        "prof", "bob", "carol", template.id,
    )  # fmt: skip


def test_a_recording_is_linked_to_its_occurrence_in_a_dst_week(admin_client, device_for, template):
    # Berlin leaves summer time on 2026-10-25: the Monday 09:00 lecture is 07:00 UTC, then 08:00.
    with clock.pinned(datetime(2026, 10, 1, tzinfo=UTC)):
        lectures = admin_client.schedule.scheduleEvent.add(
            series(unix("2026-10-19 09:00"), 90, count=3, zone=BERLIN, templateEntryId=template.id)
        )
    with clock.pinned(at("2026-10-26 10:00", BERLIN)):
        got = device_for().media.add(media(name=None, templateEntryId=template.id))
    linked = ScheduleEvent.objects.get(entry_ids=got.id)
    assert (linked.parent_id, linked.start) == (lectures.id, at("2026-10-26 09:00", BERLIN))
    assert ScheduleEvent.objects.get(pk=lectures.id).entry_ids == ""
    assert got.name == "Lecture (2026-10-26)"


def test_an_unknown_template_is_refused_and_nothing_is_written(admin_client, outsider_client):
    theirs = add_live(outsider_client, name="Theirs")
    for template_id in ("0_nosuch00", theirs.id):
        code = error_code(admin_client.media.add, media(templateEntryId=template_id))
        assert code == "ENTRY_ID_NOT_FOUND"
    assert not Entry.objects.filter(partner_id=101).exists()


# ---------------------------------------------------------------- templateEntryId of bookings


@pytest.mark.parametrize("which", ["missing", "outsiders", "deleted"])
def test_a_booking_with_an_unknown_template_is_refused(admin_client, outsider_client, soon, which):
    template_id = "0_nosuch00"
    if which == "outsiders":
        template_id = add_live(outsider_client, name="Theirs").id
    if which == "deleted":
        template_id = add_live(admin_client, name="Gone").id
        admin_client.liveStream.delete(template_id)
    code = error_code(admin_client.schedule.scheduleEvent.add, record(soon, templateEntryId=template_id))
    assert code == "ENTRY_ID_NOT_FOUND"
    assert not ScheduleEvent.objects.exists()


def test_a_booking_update_to_an_unknown_template_changes_nothing(admin_client, template, soon):
    event = add_event(admin_client, record(soon, templateEntryId=template.id))
    change = record(soon, summary="Renamed", templateEntryId="0_nosuch00")
    assert error_code(admin_client.schedule.scheduleEvent.update, event.id, change) == "ENTRY_ID_NOT_FOUND"
    stored = ScheduleEvent.objects.get(pk=event.id)
    assert (stored.summary, stored.template_entry_id) == ("Lecture", template.id)
