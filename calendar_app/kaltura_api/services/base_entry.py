"""baseentry: get, list (docs/kaltura-compatibility.md §4). Read-only: what a sync client pulls
of an account's media and live entries, rendered as the entry's own type. Also what the media
and liveStream services share: the wire entry -> domain fields, the list table, and who may
change an entry."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet

from calendar_app.devices import entries
from calendar_app.kaltura_api import listing
from calendar_app.kaltura_api.auth import CAPTURE_DEVICE_ROLE, Session
from calendar_app.kaltura_api.catalog import ENTRY_TYPE_NAMES, ENTRY_TYPE_VALUES, INT, STR
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.errors import ApiError
from calendar_app.kaltura_api.listing import Column, Table
from calendar_app.kaltura_api.objects import Obj, Parsed, check_insert_only, check_readonly, render
from calendar_app.kaltura_api.values import str_list
from calendar_app.models import Entry, Partner

SERVICE = "baseentry"
DELETED = 3  # KalturaEntryStatus.DELETED: as unknown to get, left out of list unless asked for
# Every other KalturaEntryStatus that is a number (ERROR_IMPORTING -2 ... NO_CONTENT 7).
LISTED_STATUSES = (-2, -1, 0, 1, 2, 4, 5, 6, 7)
MODEL_TYPES = {wire: model for model, wire in ENTRY_TYPE_VALUES.items()}
_STATUS = re.compile(r"-?[0-9]{1,4}")  # a status we could store; others ("virusScan.Infected") match nothing


def get_entry(partner: Partner, entry_id: str, kind: str | None = None) -> Entry:
    """The partner's entry (of `kind`), unless deleted: another partner's is as unknown as a
    missing one (ENTRY_ID_NOT_FOUND)."""
    return entries.get_entry(partner, entry_id, kind)


def render_entry(entry: Entry, session: Session | None) -> dict[str, Any]:
    return render(ENTRY_TYPE_NAMES[entry.type], entry, session)


def app_token_of(session: Session) -> str:
    """The app token a session was started from ("" for a session signed with a secret)."""
    tokens = session.data.privilege("apptoken")
    return tokens[0] if tokens else ""


def check_may_change(session: Session, entry: Entry) -> None:
    """A capture device changes only the entries its own app token made. Kaltura refuses a
    session that may not edit an entry as an invalid KS of the wrong type (-4, INVALID_TYPE)."""
    if session.role != CAPTURE_DEVICE_ROLE:
        return
    token = app_token_of(session)
    if not token or entry.creator_app_token != token:
        raise ApiError(
            "INVALID_KS",
            'Invalid KS "", Error "-4,INVALID_TYPE"',
            KSID="",
            ERR_CODE=-4,
            ERR_DESC="INVALID_TYPE",
        )


def new_entry_data(parsed: Parsed) -> dict[str, Any]:
    """The domain fields of a client's new entry: its type is the service's, not the object's."""
    check_readonly(parsed, None)
    return {k: v for k, v in parsed.values.items() if k != "type"}


def changed_entry_data(parsed: Parsed, entry: Entry, session: Session | None) -> dict[str, Any]:
    """The domain fields an update changes. Read-only and insert-only fields may be sent back
    unchanged (a client round-tripping what it got), never with another value."""
    stored = render_entry(entry, session)
    check_readonly(parsed, lambda: stored)
    return check_insert_only(parsed, stored)


# `version` picks one of an entry's replaced media in Kaltura; an entry here has one, so it is
# read (and refused when it is no integer) but changes nothing.
@action(SERVICE, "get", Param("entryId", STR, required=True), Param("version", INT, default=-1))
def get(call: Call, entryId: str, version: int):
    return render_entry(get_entry(call.partner, entryId), call.session)


def _by_type(queryset: QuerySet, wire: str, value: str, partner_id: int) -> QuerySet:
    types = [MODEL_TYPES[v] for v in str_list(wire, value) if v in MODEL_TYPES]
    return queryset.filter(type__in=types)


def _by_status(queryset: QuerySet, wire: str, value: str, partner_id: int) -> QuerySet:
    return queryset.filter(status__in=[int(v) for v in str_list(wire, value) if _STATUS.fullmatch(v)])


ENTRY_TABLE = Table(
    response="KalturaBaseEntryListResponse",
    default_statuses=LISTED_STATUSES,
    columns={
        "id": Column("pk"),
        "name": Column("name"),
        "referenceId": Column("reference_id"),
        "mediaType": Column("media_type", is_int=True),  # media.list's filter
        "createdAt": Column("created_at"),
        "updatedAt": Column("updated_at"),
    },
    order_by={"createdAt": "created_at", "updatedAt": "updated_at", "name": "name"},
    specials={
        "typeEqual": _by_type,
        "typeIn": _by_type,
        "statusEqual": _by_status,
        "statusIn": _by_status,
    },
)


@action(
    SERVICE,
    "list",
    Param("filter", Obj(base="KalturaBaseEntryFilter")),
    Param("pager", Obj(base="KalturaPager")),
)
def list_(call: Call, filter: Parsed | None, pager: Parsed | None):
    return list_entries(call, filter, pager, ENTRY_TABLE)


def list_entries(
    call: Call, filter: Parsed | None, pager: Parsed | None, table: Table, kind: str | None = None
) -> Any:
    """baseEntry.list, media.list, liveStream.list: the partner's entries (of `kind`), each
    rendered as its own type."""
    queryset = Entry.objects.for_partner(call.partner)
    if kind is not None:
        queryset = queryset.filter(type=kind)
    return listing.respond(
        queryset,
        filter,
        pager,
        table,
        call.partner.pk,
        lambda rows: [render_entry(e, call.session) for e in rows],
    )
