"""Pull: a new installation starts from what the upstream account has. Its resources (rooms,
cameras, live entries) and its media and live entries are copied here and mapped to their
upstream ids, idempotently: a second pull updates what the first made, never duplicates it.

Resources go through the one write path (scheduling.py) as the SYNC source, so they are audited
but not pushed back; entries are not schedule objects and are written directly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from calendar_app import clock, scheduling
from calendar_app.errors import SchedulingError, ValidationFailed
from calendar_app.kaltura_api import catalog
from calendar_app.models import (
    AuditEntry,
    Entry,
    EntryType,
    KalturaConnection,
    ResourceStatus,
    ScheduleResource,
    UpstreamObject,
    new_entry_id,
)
from calendar_app.sync.client import KalturaClient
from calendar_app.sync.entries import upstream_reference
from calendar_app.sync.id_map import remember
from calendar_app.sync.push import Pusher
from calendar_app.writes import Actor

Kind = UpstreamObject.Kind
TYPE_OF_RESOURCE = {name: kind for kind, name in catalog.RESOURCE_TYPE_NAMES.items()}
# KalturaEntryType values the schedule uses.
MEDIA_CLIP, LIVE_STREAM = 1, 7
READY = 2  # KalturaEntryStatus: what a status we cannot store ("virusScan.Infected") becomes
ENTRY_FIELDS = {  # upstream wire name -> Entry attribute
    "name": "name", "description": "description", "tags": "tags", "categories": "categories",
    "categoriesIds": "category_ids", "userId": "owner_id", "entitledUsersEdit": "entitled_users_edit",
    "referenceId": "reference_id", "status": "status",
    "primaryBroadcastingUrl": "primary_rtmp_endpoint",
    "secondaryBroadcastingUrl": "secondary_rtmp_endpoint",
    "primaryRtspBroadcastingUrl": "primary_rtsp_endpoint",
    "secondaryRtspBroadcastingUrl": "secondary_rtsp_endpoint",
    "streamName": "stream_name", "streamUsername": "stream_username", "streamPassword": "stream_password",
}  # fmt: skip


@dataclass
class Pulled:
    counts: Counter = field(default_factory=Counter)  # ("resource"|"entry", "created"|"updated"|"unchanged")
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{kind}s {what}: {n}" for (kind, what), n in sorted(self.counts.items())]
        return out + [f"error: {e}" for e in self.errors]


def pull(connection: KalturaConnection, client: KalturaClient) -> Pulled:
    report = Pulled()
    pusher = Pusher(connection, client)
    actor = Actor(connection.partner, clock.now(), source=AuditEntry.Source.SYNC, user_id="kaltura_pull")
    for entry in pusher.pages(
        "baseentry", {"objectType": "KalturaBaseEntryFilter", "typeIn": f"{MEDIA_CLIP},{LIVE_STREAM}"}
    ):
        report.counts[("entry", _entry(connection, entry))] += 1
    for resource in parents_first(pusher.list_resources()):
        try:
            report.counts[("resource", _resource(actor, resource))] += 1
        except SchedulingError as error:
            report.errors.append(f"resource {resource.get('id')} ({resource.get('name')!r}): {error}")
    return report


def parents_first(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {r["id"]: r for r in resources}
    ordered: list[dict[str, Any]] = []
    placed: set[int] = set()

    def place(resource: dict[str, Any], depth: int = 0) -> None:
        if resource["id"] in placed or depth > len(by_id):
            return
        parent = by_id.get(resource.get("parentId"))
        if parent is not None:
            place(parent, depth + 1)
        placed.add(resource["id"])
        ordered.append(resource)

    for resource in resources:
        place(resource)
    return ordered


def _resource(actor: Actor, theirs: dict[str, Any]) -> str:
    partner_id = actor.partner.pk
    kind = TYPE_OF_RESOURCE.get(theirs.get("objectType", ""))
    if kind is None:
        raise ValidationFailed("objectType", f"unknown resource type {theirs.get('objectType')!r}")
    values: dict[str, Any] = {
        "name": theirs.get("name") or "", "description": theirs.get("description") or "",
        "tags": theirs.get("tags") or "", "system_name": theirs.get("systemName") or None,
        "parent_id": _local_parent(partner_id, theirs.get("parentId")),
    }  # fmt: skip
    if "streamUrl" in theirs:
        values["stream_url"] = theirs.get("streamUrl") or ""
    if "entryId" in theirs:
        values["entry_id"] = _local_entry(partner_id, theirs.get("entryId") or "")
    local = _local_resource(partner_id, str(theirs["id"]), values["system_name"])
    if local is None:
        created = scheduling.create_resource(actor, {"type": kind, **values})
        remember(partner_id, Kind.RESOURCE, created.pk, str(theirs["id"]))
        return "created"
    remember(partner_id, Kind.RESOURCE, local.pk, str(theirs["id"]))
    changes = {k: v for k, v in values.items() if getattr(local, k) != v}
    if not changes:
        return "unchanged"
    scheduling.update_resource(actor, local.pk, changes)
    return "updated"


def _local_of(partner_id: int, kind: str, upstream_id: Any) -> str | None:
    """The local id mapped to an upstream one."""
    return (
        UpstreamObject.objects.for_partner(partner_id)
        .filter(kind=kind, upstream_id=str(upstream_id))
        .values_list("local_id", flat=True)
        .first()
    )


def _local_resource(partner_id: int, upstream_id: str, system_name: str | None) -> ScheduleResource | None:
    mine = ScheduleResource.objects.for_partner(partner_id).exclude(status=ResourceStatus.DELETED)
    local_id = _local_of(partner_id, Kind.RESOURCE, upstream_id)
    found = mine.filter(pk=int(local_id)).first() if local_id else None
    if found is None and system_name:
        found = mine.filter(system_name=system_name).first()
    return found


def _local_parent(partner_id: int, upstream_parent: Any) -> int | None:
    local = _local_of(partner_id, Kind.RESOURCE, upstream_parent) if upstream_parent else None
    return int(local) if local else None


def _local_entry(partner_id: int, upstream_entry: str) -> str:
    """A live entry resource's entry as ours (the upstream id if it was never pulled)."""
    return _local_of(partner_id, Kind.ENTRY, upstream_entry) or upstream_entry


def _entry(connection: KalturaConnection, theirs: dict[str, Any]) -> str:
    """Copy one upstream entry. It keeps its upstream id here when that id is free, so what
    devices and people see is the same id in both places."""
    partner_id = connection.partner_id
    upstream_id = str(theirs["id"])
    values = {attr: theirs[wire] for wire, attr in ENTRY_FIELDS.items() if theirs.get(wire) is not None}
    # Kaltura's entry status and type are string enums on the wire ("2", "7").
    status = str(theirs.get("status", "2"))
    values["status"] = int(status) if status.lstrip("-").isdigit() else READY
    values["type"] = EntryType.LIVE_STREAM if str(theirs.get("type")) == str(LIVE_STREAM) else EntryType.MEDIA
    local_id = _local_of(partner_id, Kind.ENTRY, upstream_id)
    local = Entry.objects.for_partner(partner_id).filter(pk=local_id).first() if local_id else None
    if local is not None and values.get("reference_id") == upstream_reference(local):
        del values["reference_id"]  # ours, or the key a push gave an entry without one: kept as is
    if local is not None and local.media_file.name:
        del values["status"]  # a recording's file is here: until the push sends it, the upstream lags
    if local is None:
        taken = Entry.objects.filter(pk=upstream_id).exists()
        local = Entry.objects.create(
            id=new_entry_id() if taken else upstream_id, partner_id=partner_id, created_at=clock.now(),
            updated_at=clock.now(), **values,
        )  # fmt: skip
        remember(partner_id, Kind.ENTRY, local.pk, upstream_id)
        return "created"
    changed = {k: v for k, v in values.items() if getattr(local, k) != v}
    if not changed:
        return "unchanged"
    Entry.objects.filter(pk=local.pk).update(updated_at=clock.now(), **changed)
    return "updated"
