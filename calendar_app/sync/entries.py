"""Push one local entry to the upstream Kaltura (docs/sync.md): a live entry through its
`liveStream` service, a media entry through `media`, and a media entry's file through
`uploadToken.add`, `uploadToken.upload` in chunks and `media.addContent`.

As with events, the entry's current state is pushed: added (found again first when an earlier
attempt may have added it: same referenceId, not mapped to another local entry), updated, or
deleted. The content is sent while the upstream entry has none (NO_CONTENT), so a retry after a
lost answer sends it again rather than twice. The upstream makes a live entry's ingest
endpoints and stream credentials; they are copied back to the local entry, because devices
must stream to where the upstream will deliver the stream from.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from calendar_app import clock
from calendar_app.devices import entries
from calendar_app.kaltura_api.render import writable
from calendar_app.models import AuditEntry, Entry, EntryType, KalturaConnection, UpstreamObject
from calendar_app.sync.client import NOT_FOUND, KalturaClient, KalturaError
from calendar_app.sync.id_map import forget, mapped, remember
from calendar_app.writes import Actor

Kind = UpstreamObject.Kind
SERVICES = {EntryType.LIVE_STREAM: "livestream", EntryType.MEDIA: "media"}
OBJECT_TYPES = {EntryType.LIVE_STREAM: "KalturaLiveStreamEntry", EntryType.MEDIA: "KalturaMediaEntry"}
# KalturaMediaType: a media entry keeps its own; Kaltura's live entries are LIVE_STREAM_FLASH.
LIVE_MEDIA_TYPE = 201
NO_CONTENT = "7"  # KalturaEntryStatus, a string enum on the wire
ALREADY_WITH_CONTENT = "ENTRY_ALREADY_WITH_CONTENT"  # media.addContent on an entry that has a file
PUSHED = {  # wire name -> Entry attribute, on add and update
    "name": "name", "description": "description", "tags": "tags", "categories": "categories",
    "userId": "owner_id", "entitledUsersEdit": "entitled_users_edit",
    "entitledUsersPublish": "entitled_users_publish",
}  # fmt: skip
# What the upstream gives a live entry, copied back (wire name -> ENTRY_RULES field).
ENDPOINTS = {
    "primaryBroadcastingUrl": "primary_rtmp_endpoint",
    "secondaryBroadcastingUrl": "secondary_rtmp_endpoint",
    "primaryRtspBroadcastingUrl": "primary_rtsp_endpoint",
    "secondaryRtspBroadcastingUrl": "secondary_rtsp_endpoint",
    "streamName": "stream_name",
    "streamPassword": "stream_password",
}


def upstream_reference(entry: Entry) -> str:
    """The referenceId an entry carries upstream: its own, or a key of ours (as events do)."""
    return writable(entry.reference_id) or f"lecture-scheduler:{entry.partner_id}:{entry.pk}"


def entry_body(entry: Entry, *, adding: bool = False) -> dict[str, Any]:
    """What is pushed of an entry. Our referenceId key is sent when adding (it is how a lost
    add is found again), never on an update: an entry pulled from the account keeps its own."""
    body: dict[str, Any] = {"objectType": OBJECT_TYPES[EntryType(entry.type)]}
    body |= {wire: writable(getattr(entry, attr)) for wire, attr in PUSHED.items()}
    if entry.reference_id or adding:
        body["referenceId"] = upstream_reference(entry)
    return body


@dataclass
class EntryPusher:
    connection: KalturaConnection
    client: KalturaClient
    retrying: bool = False  # an earlier attempt may have added it: look before adding

    @property
    def partner_id(self) -> int:
        return self.connection.partner_id

    def entry(self, entry_id: str) -> str | None:
        """Push an entry; its upstream id, or None when it is deleted (and so deleted there)."""
        entry = Entry.objects.for_partner(self.partner_id).filter(pk=entry_id).first()
        upstream = mapped(self.partner_id, Kind.ENTRY, entry_id)
        if entry is None or entry.status == Entry.Status.DELETED:
            if upstream:
                self._delete(entry_id, entry is not None and entry.type == EntryType.LIVE_STREAM, upstream)
            return None
        service = SERVICES[EntryType(entry.type)]
        theirs = self._update(entry, service, upstream) if upstream else None
        if theirs is None:
            theirs = self._add(entry, service)
        if entry.type == EntryType.LIVE_STREAM:
            self._take_endpoints(entry, theirs)
        elif entry.media_file.name and str(theirs.get("status")) == NO_CONTENT:
            self._send_content(entry, str(theirs["id"]))
        return str(theirs["id"])

    def _update(self, entry: Entry, service: str, upstream: str) -> dict[str, Any] | None:
        """The updated upstream entry; None when the upstream no longer has it (add it again)."""
        param = "liveStreamEntry" if service == "livestream" else "mediaEntry"
        try:
            return self.client.call(service, "update", entryId=upstream, **{param: entry_body(entry)})
        except KalturaError as error:
            if error.code not in NOT_FOUND:
                raise
        forget(self.partner_id, Kind.ENTRY, [entry.pk])
        return None

    def _add(self, entry: Entry, service: str) -> dict[str, Any]:
        found = self._find(entry, service) if self.retrying else None
        if found is not None:
            remember(self.partner_id, Kind.ENTRY, entry.pk, str(found["id"]))
            updated = self._update(entry, service, str(found["id"]))
            if updated is not None:
                return updated
        body = entry_body(entry, adding=True)
        if service == "livestream":
            # sourceType LIVE_STREAM ("32", EntrySourceType.php): Kaltura's own ingest, whose
            # endpoints the devices then stream to (not a "manual" entry that only points away).
            body["mediaType"] = LIVE_MEDIA_TYPE
            added = self.client.call(service, "add", liveStreamEntry=body, sourceType="32")
        else:
            body["mediaType"] = entry.media_type
            added = self.client.call(service, "add", entry=body)
        remember(self.partner_id, Kind.ENTRY, entry.pk, str(added["id"]))
        return added

    def _find(self, entry: Entry, service: str) -> dict[str, Any] | None:
        """An upstream entry an earlier attempt added: our referenceId, not mapped to another."""
        filter_type = OBJECT_TYPES[EntryType(entry.type)] + "Filter"
        found = self.client.call(
            service, "list",
            filter={"objectType": filter_type, "referenceIdEqual": upstream_reference(entry)},
            pager={"objectType": "KalturaFilterPager", "pageSize": 50},
        )["objects"] or []  # fmt: skip
        taken = set(
            UpstreamObject.objects.for_partner(self.partner_id)
            .filter(kind=Kind.ENTRY, upstream_id__in=[str(o["id"]) for o in found])
            .exclude(local_id=entry.pk)
            .values_list("upstream_id", flat=True)
        )
        free = [o for o in found if str(o["id"]) not in taken]
        return free[0] if free else None

    def _delete(self, entry_id: str, live: bool, upstream: str) -> None:
        try:
            self.client.call("livestream" if live else "media", "delete", entryId=upstream)
        except KalturaError as error:
            if error.code not in NOT_FOUND:
                raise
        forget(self.partner_id, Kind.ENTRY, [entry_id])

    # ------------------------------------------------------------ live endpoints

    def _take_endpoints(self, entry: Entry, theirs: dict[str, Any]) -> None:
        """The upstream's ingest endpoints and credentials, kept here where they differ, as a
        write from the sync (audited, and not pushed back)."""
        changes = {
            attr: theirs[wire]
            for wire, attr in ENDPOINTS.items()
            if theirs.get(wire) and theirs[wire] != getattr(entry, attr)
        }
        if changes:
            actor = Actor(self.connection.partner, clock.now(), user_id="sync", source=AuditEntry.Source.SYNC)
            entries.update_entry(actor, entry.pk, changes)

    # ------------------------------------------------------------ content

    def _send_content(self, entry: Entry, upstream: str) -> None:
        """The file in chunks of SYNC_UPLOAD_CHUNK_BYTES, read from storage one at a time, then
        handed to the upstream entry."""
        size = entry.media_file.size
        name = entry.file_name or os.path.basename(str(entry.media_file.name))
        token = self.client.call(
            "uploadToken", "add", uploadToken={"objectType": "KalturaUploadToken", "fileName": name,
                                               "fileSize": size},
        )["id"]  # fmt: skip
        for offset, chunk in chunks(entry):
            self.client.upload(
                "uploadToken", "upload", (name, chunk), uploadTokenId=token, resume=offset > 0,
                resumeAt=offset, finalChunk=offset + len(chunk) >= size,
            )  # fmt: skip
        resource = {"objectType": "KalturaUploadedFileTokenResource", "token": token}
        try:
            self.client.call("media", "addContent", entryId=upstream, resource=resource)
        except KalturaError as error:
            # An attempt the recovery thought lost finished first: the entry has its file.
            if error.code != ALREADY_WITH_CONTENT:
                raise


def chunks(entry: Entry) -> Iterator[tuple[int, bytes]]:
    """The entry's file as (offset, bytes) pieces; an empty file is one empty piece."""
    step = settings.SYNC_UPLOAD_CHUNK_BYTES
    offset = 0
    with entry.media_file.open("rb") as file:
        while True:
            chunk = file.read(step)
            if chunk or offset == 0:
                yield offset, chunk
            if len(chunk) < step:
                return
            offset += len(chunk)
