"""livestream: add, get, list, update, delete (docs/kaltura-compatibility.md §4).

Live entries here are Kaltura's "manual live" kind: add gives them RTMP and RTSP ingest URLs on
the partner's ingest bases, a stream name and credentials (calendar_app.devices.entries). The
URLs and credentials are rendered only to sessions that broadcast (catalog._for_broadcasters).
Admin sessions do everything; user sessions and capture devices read.
"""

from __future__ import annotations

import dataclasses

from calendar_app.devices import entries
from calendar_app.kaltura_api.auth import Access
from calendar_app.kaltura_api.catalog import INT, STR
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.objects import Obj, Parsed
from calendar_app.kaltura_api.services.base_entry import (
    ENTRY_TABLE,
    app_token_of,
    changed_entry_data,
    get_entry,
    list_entries,
    new_entry_data,
    render_entry,
)
from calendar_app.models import EntryType

SERVICE = "livestream"
LIVE = EntryType.LIVE_STREAM
LIVE_ENTRY = Obj(base="KalturaLiveStreamEntry")
LIVE_TABLE = dataclasses.replace(ENTRY_TABLE, response="KalturaLiveStreamListResponse")


# `sourceType` (KalturaSourceType) picks Kaltura's provisioning; every entry here is manual live
# with our URLs, so any value is taken and none changes that.
@action(
    SERVICE,
    "add",
    Param("liveStreamEntry", LIVE_ENTRY, required=True),
    Param("sourceType", STR),
    access=Access.WRITE,
)
def add(call: Call, liveStreamEntry: Parsed, sourceType: str | None):
    data = {k: v for k, v in new_entry_data(liveStreamEntry).items() if k != "media_type"}
    created = entries.create_entry(call.actor, LIVE, data, app_token=app_token_of(call.session))
    return render_entry(created, call.session)


@action(SERVICE, "get", Param("entryId", STR, required=True), Param("version", INT, default=-1))
def get(call: Call, entryId: str, version: int):
    return render_entry(get_entry(call.partner, entryId, LIVE), call.session)


@action(
    SERVICE,
    "update",
    Param("entryId", STR, required=True),
    Param("liveStreamEntry", LIVE_ENTRY, required=True),
    access=Access.WRITE,
)
def update(call: Call, entryId: str, liveStreamEntry: Parsed):
    entry = get_entry(call.partner, entryId, LIVE)
    changes = changed_entry_data(liveStreamEntry, entry, call.session)
    return render_entry(entries.update_entry(call.actor, entry.pk, changes, LIVE), call.session)


@action(SERVICE, "delete", Param("entryId", STR, required=True), access=Access.WRITE)
def delete(call: Call, entryId: str):
    entries.delete_entry(call.actor, entryId, LIVE)


@action(
    SERVICE,
    "list",
    Param("filter", Obj(base="KalturaLiveStreamEntryFilter")),
    Param("pager", Obj(base="KalturaPager")),
)
def list_(call: Call, filter: Parsed | None, pager: Parsed | None):
    return list_entries(call, filter, pager, LIVE_TABLE, LIVE)
