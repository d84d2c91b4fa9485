"""media: add, get, list, update, delete, addContent (docs/kaltura-compatibility.md §4).
Admin sessions do everything, user sessions read; a capture device (auth.DEVICE_WHITELIST) adds,
reads, and updates and fills the entries its own app token made.

A capture device adds a recording (from its booking's template entry), then hands it the file
it uploaded: uploadToken.add / upload, media.add, media.addContent. Writes go through
calendar_app.devices.entries; this module only translates the wire objects.
"""

from __future__ import annotations

import dataclasses

from calendar_app.devices import entries
from calendar_app.kaltura_api.auth import Access
from calendar_app.kaltura_api.catalog import INT, STR
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.errors import ApiError
from calendar_app.kaltura_api.objects import Obj, Parsed
from calendar_app.kaltura_api.services.base_entry import (
    ENTRY_TABLE,
    app_token_of,
    changed_entry_data,
    check_may_change,
    get_entry,
    list_entries,
    new_entry_data,
    render_entry,
)
from calendar_app.models import EntryType

SERVICE = "media"
MEDIA = EntryType.MEDIA
MEDIA_TABLE = dataclasses.replace(ENTRY_TABLE, response="KalturaMediaListResponse")


@action(SERVICE, "add", Param("entry", Obj(base="KalturaMediaEntry"), required=True), access=Access.WRITE)
def add(call: Call, entry: Parsed):
    app_token = app_token_of(call.session)
    created = entries.create_entry(call.actor, MEDIA, new_entry_data(entry), app_token=app_token)
    return render_entry(created, call.session)


# Kaltura's media.get answers for live entries too (a KalturaMediaEntry's subtype); `version`
# is read but changes nothing, as in baseEntry.get.
@action(SERVICE, "get", Param("entryId", STR, required=True), Param("version", INT, default=-1))
def get(call: Call, entryId: str, version: int):
    return render_entry(get_entry(call.partner, entryId), call.session)


@action(
    SERVICE,
    "update",
    Param("entryId", STR, required=True),
    Param("mediaEntry", Obj(base="KalturaMediaEntry"), required=True),
    access=Access.WRITE,
)
def update(call: Call, entryId: str, mediaEntry: Parsed):
    entry = get_entry(call.partner, entryId, MEDIA)
    check_may_change(call.session, entry)
    changes = changed_entry_data(mediaEntry, entry, call.session)
    return render_entry(entries.update_entry(call.actor, entry.pk, changes, MEDIA), call.session)


@action(SERVICE, "delete", Param("entryId", STR, required=True), access=Access.WRITE)
def delete(call: Call, entryId: str):
    entries.delete_entry(call.actor, entryId, MEDIA)


@action(
    SERVICE,
    "addContent",
    Param("entryId", STR, required=True),
    Param("resource", Obj(base="KalturaResource")),
    access=Access.WRITE,
)
def add_content(call: Call, entryId: str, resource: Parsed | None):
    entry = get_entry(call.partner, entryId, MEDIA)
    check_may_change(call.session, entry)
    token = _upload_token(resource)
    added = entries.add_content(call.actor, entry.pk, token, app_token=app_token_of(call.session))
    return render_entry(added, call.session)


def _upload_token(resource: Parsed | None) -> str:
    """The upload token a resource names: the one kind of content this server takes."""
    if resource is None or resource.type.name != "KalturaUploadedFileTokenResource":
        kind = "none" if resource is None else resource.type.name
        raise ApiError("RESOURCE_TYPE_NOT_SUPPORTED", f'Resource type "{kind}" not supported', RES_TYPE=kind)
    token = resource.values.get("token")
    if not token:
        raise ApiError(
            "PROPERTY_VALIDATION_CANNOT_BE_NULL", 'The property "token" cannot be null', PROP_NAME="token"
        )
    return token


@action(
    SERVICE,
    "list",
    Param("filter", Obj(base="KalturaMediaEntryFilter")),
    Param("pager", Obj(base="KalturaPager")),
)
def list_(call: Call, filter: Parsed | None, pager: Parsed | None):
    return list_entries(call, filter, pager, MEDIA_TABLE, MEDIA)
