"""Entries made here pushed to the live upstream (tests/sync/conftest.py), through its liveStream,
media and uploadToken services: their metadata, a recording's file in chunks, the upstream's
live endpoints copied back, bookings that name them, retries and deletes."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.base import ContentFile

from calendar_app.devices import entries, uploads
from calendar_app.models import Entry, EntryType, SyncOperation, UpstreamObject
from calendar_app.sync import queue, reconcile
from calendar_app.sync.client import KalturaError, client_for
from calendar_app.sync.pull import pull
from tests.sync.test_push import drain, events_upstream

Status = SyncOperation.Status
LIVE, MEDIA = EntryType.LIVE_STREAM, EntryType.MEDIA
METADATA = {
    "name": "Physics, Hall 1", "description": "Every Monday", "tags": "physics,hall-1",
    "categories": "Lectures>Physics", "owner_id": "prof", "entitled_users_edit": "bob",
    "entitled_users_publish": "carol",
}  # fmt: skip


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def upstream_id(entry: Entry) -> str:
    return UpstreamObject.objects.get(kind="entry", local_id=entry.pk).upstream_id


def with_file(actor, data: bytes, **metadata) -> Entry:
    """A media entry given `data` as a device gives it: an upload token, then addContent."""
    entry = entries.create_entry(actor, MEDIA, {"name": "Recording", **metadata})
    uploader = uploads.Uploader(partner=actor.partner, user_id="alice", sees_all=True)
    token = uploads.add(uploader, actor.now, file_name="lecture.mp4", file_size=len(data))
    uploads.upload(uploader, token.pk, ContentFile(data, name="lecture.mp4"), actor.now, final=True)
    return entries.add_content(actor, entry.pk, token.pk)


def media_upstream(theirs, **conditions) -> list[dict]:
    return theirs.call(
        "media", "list", filter={"objectType": "KalturaMediaEntryFilter", **conditions},
        pager={"objectType": "KalturaFilterPager", "pageSize": 500},
    )["objects"] or []  # fmt: skip


def content_upstream(theirs, file_name: str) -> list[dict]:
    """The upstream's upload tokens of `file_name` that were given to an entry."""
    return theirs.call(
        "uploadToken", "list",
        filter={"objectType": "KalturaUploadTokenFilter", "fileNameEqual": file_name, "statusEqual": 3},
    )["objects"] or []  # fmt: skip


def test_a_live_entry_reaches_the_upstream_and_takes_its_endpoints(linked, upstream, actor, theirs):
    upstream.sql(
        "UPDATE calendar_app_partner SET live_rtmp_primary = ? WHERE id = ?",
        "rtmp://ingest.upstream.example/kLive", upstream.partner_id,
    )  # fmt: skip
    entry = entries.create_entry(actor, LIVE, {**METADATA, "reference_id": "hall-1-live"})

    assert [(op.kind, op.status) for op in drain(actor.partner)] == [("entry", Status.DONE)]
    there = theirs.call("livestream", "get", entryId=upstream_id(entry))
    pushed = {k: there[k] for k in ("name", "description", "tags", "categories", "userId", "referenceId")}
    assert pushed == {
        "name": "Physics, Hall 1", "description": "Every Monday", "tags": "physics,hall-1",
        "categories": "Lectures>Physics", "userId": "prof", "referenceId": "hall-1-live",
    }  # fmt: skip
    assert (there["entitledUsersEdit"], there["entitledUsersPublish"]) == ("bob", "carol")
    # Devices stream to the upstream's ingest: its endpoints and credentials are ours now.
    entry.refresh_from_db()
    assert there["primaryBroadcastingUrl"].startswith("rtmp://ingest.upstream.example/kLive?t=")
    assert (entry.primary_rtmp_endpoint, entry.stream_name, entry.stream_password) == (
        there["primaryBroadcastingUrl"], there["streamName"], there["streamPassword"],
    )  # fmt: skip
    # Taking them is the sync's own write: it is not pushed back.
    assert not SyncOperation.objects.filter(status=Status.PENDING).exists()

    entries.update_entry(actor, entry.pk, {"name": "Physics, Hall 2", "tags": ""})
    drain(actor.partner)
    there = theirs.call("livestream", "get", entryId=upstream_id(entry))
    assert (there["name"], there.get("tags") or "") == ("Physics, Hall 2", "")


def test_a_recording_reaches_the_upstream_with_its_file_in_chunks(linked, actor, theirs, settings):
    settings.SYNC_UPLOAD_CHUNK_BYTES = 64 * 1024
    data = bytes(range(256)) * 1000  # 256,000 bytes: four chunks
    entry = with_file(actor, data, description="Week 1")

    assert [(op.kind, op.status) for op in drain(actor.partner)] == [("entry", Status.DONE)]
    [there] = media_upstream(theirs)
    assert (there["id"], there["name"], there["description"]) == (upstream_id(entry), "Recording", "Week 1")
    reference = f"lecture-scheduler:{actor.partner.pk}:{entry.pk}"  # it has none of its own
    assert (there["status"], there["referenceId"]) == ("2", reference)
    [content] = content_upstream(theirs, "lecture.mp4")
    assert (content["attachedObjectId"], content["uploadedFileSize"]) == (there["id"], len(data))
    assert content["checksum"] == f"sha256:{hashlib.sha256(data).hexdigest()}" == f"sha256:{entry.checksum}"


def test_a_retry_after_a_lost_answer_adds_nothing_twice(linked, actor, theirs):
    entry = with_file(actor, b"a short recording")
    op = SyncOperation.objects.get(kind="entry", object_id=entry.pk)
    queue.run(op.pk)
    # The entry and its file reached the upstream, but the worker died before it recorded that.
    UpstreamObject.objects.filter(kind="entry").delete()
    SyncOperation.objects.filter(pk=op.pk).update(status=Status.PENDING)
    queue.run(op.pk)

    assert SyncOperation.objects.get(pk=op.pk).status == Status.DONE
    [there] = media_upstream(theirs)
    assert upstream_id(entry) == there["id"]
    assert len(content_upstream(theirs, "lecture.mp4")) == 1


def test_a_booking_naming_a_local_entry_is_pushed_after_it_with_its_upstream_id(
    linked, actor, make_event, theirs
):
    template = entries.create_entry(actor, LIVE, {"name": "Hall 1 live"})
    recording = with_file(actor, b"last week")
    event = make_event(summary="Physics", template_entry_id=template.pk, entry_ids=recording.pk)

    ops = drain(actor.partner)
    assert [op.kind for op in ops] == ["entry", "entry", "event"]  # queued, and so sent, first
    assert {op.status for op in ops} == {Status.DONE}
    [there] = events_upstream(theirs)
    assert (there["templateEntryId"], there["entryIds"]) == (upstream_id(template), upstream_id(recording))
    assert upstream_id(template) != template.pk  # the upstream's own ids, not ours
    assert event.template_entry_id == template.pk


def test_an_entry_made_before_sync_is_pushed_with_the_first_booking_naming_it(
    linked, actor, make_event, theirs
):
    linked.enabled = False
    linked.save()
    template = entries.create_entry(actor, LIVE, {"name": "Made before sync"})
    linked.enabled = True
    linked.save()
    make_event(summary="Physics", template_entry_id=template.pk)

    assert [op.kind for op in drain(actor.partner)] == ["event"]
    [there] = events_upstream(theirs)
    assert theirs.call("livestream", "get", entryId=there["templateEntryId"])["name"] == "Made before sync"


def test_a_booking_waits_for_its_entry_rather_than_adding_it_twice(linked, actor, make_event, settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0
    settings.SYNC_DEPENDENCY_WAIT_SECONDS = 0.2
    template = entries.create_entry(actor, LIVE, {"name": "Hall 1 live"})
    event = make_event(summary="Physics", template_entry_id=template.pk)
    booking = SyncOperation.objects.get(kind="event", object_id=event.pk)

    queue.run(booking.pk)  # a second worker takes the booking while the entry is still queued
    booking.refresh_from_db()
    assert (booking.status, booking.error_code) == (Status.PENDING, "SYNC_WAITING")
    assert {op.status for op in drain(actor.partner)} == {Status.DONE}


def test_a_deleted_entry_is_deleted_upstream(linked, actor, theirs):
    live = entries.create_entry(actor, LIVE, {"name": "Stream"})
    recording = with_file(actor, b"to be deleted")
    drain(actor.partner)
    gone = {upstream_id(live): "livestream", upstream_id(recording): "media"}

    entries.delete_entry(actor, live.pk)
    entries.delete_entry(actor, recording.pk)
    assert {op.status for op in drain(actor.partner)} == {Status.DONE}
    for there, service in gone.items():
        with pytest.raises(KalturaError) as refused:
            theirs.call(service, "get", entryId=there)
        assert refused.value.code == "ENTRY_ID_NOT_FOUND"
    assert not UpstreamObject.objects.filter(kind="entry").exists()


def test_an_entry_deleted_before_it_was_pushed_fails_only_its_booking(linked, actor, make_event):
    template = entries.create_entry(actor, LIVE, {"name": "Short-lived"})
    event = make_event(summary="Physics", template_entry_id=template.pk)
    entries.delete_entry(actor, template.pk)

    drain(actor.partner)
    failed = SyncOperation.objects.get(kind="event", object_id=event.pk)
    assert (failed.status, failed.error_code) == (Status.FAILED, "SYNC_ENTRY_NOT_UPSTREAM")
    assert template.pk in failed.error
    assert SyncOperation.objects.get(kind="entry", object_id=template.pk).status == Status.DONE


def test_reconcile_reports_entry_drift_and_repairs_it(linked, actor, theirs):
    pushed = entries.create_entry(actor, LIVE, {"name": "Hall 1 live"})
    drain(actor.partner)
    renamed = {"objectType": "KalturaLiveStreamEntry", "name": "Renamed upstream"}
    theirs.call("livestream", "update", entryId=upstream_id(pushed), liveStreamEntry=renamed)
    linked.enabled = False
    linked.save()
    unpushed = entries.create_entry(actor, MEDIA, {"name": "Made before sync"})
    linked.enabled = True
    linked.save()

    report = reconcile.reconcile(linked, client_for(linked))
    assert report.counts() == {"entry different": 1, "entry missing": 1}
    assert report.checked["entry"] == 2
    [different] = [d for d in report.drifts if d.problem == "different"]
    assert different.local_id == pushed.pk
    assert different.fields == {"name": ("Hall 1 live", "Renamed upstream")}

    assert reconcile.repair(linked, report) == 2
    assert reconcile.reconcile(linked, client_for(linked)).counts() == {}
    assert theirs.call("media", "get", entryId=upstream_id(unpushed))["name"] == "Made before sync"


def test_pulling_what_was_pushed_keeps_the_entries_here_as_they_are(linked, actor, theirs):
    recording = with_file(actor, b"pushed, then pulled")
    live = entries.create_entry(actor, LIVE, {"name": "Stream"})
    drain(actor.partner)

    pulled = pull(linked, client_for(linked))
    assert pulled.counts["entry", "created"] == 0, pulled.lines()
    recording.refresh_from_db()
    live.refresh_from_db()
    # The retry key a push gave them upstream is not their own referenceId.
    assert (recording.reference_id, live.reference_id) == ("", "")
    assert (recording.status, recording.name) == (Entry.Status.READY, "Recording")
    assert not SyncOperation.objects.filter(status=Status.PENDING).exists()  # nothing to push back
