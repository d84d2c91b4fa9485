"""baseentry: get, list (docs/kaltura-compatibility.md §4). Read-only: what a sync client pulls
of an account's media and live entries, rendered as the entry's own type."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet

from calendar_app.kaltura_api import listing
from calendar_app.kaltura_api.auth import Session
from calendar_app.kaltura_api.catalog import ENTRY_TYPE_NAMES, ENTRY_TYPE_VALUES, INT, STR
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.errors import ApiError
from calendar_app.kaltura_api.listing import Column, Table
from calendar_app.kaltura_api.objects import Obj, Parsed, render
from calendar_app.kaltura_api.values import str_list
from calendar_app.models import Entry, Partner

SERVICE = "baseentry"
DELETED = 3  # KalturaEntryStatus.DELETED: as unknown to get, left out of list unless asked for
# Every other KalturaEntryStatus that is a number (ERROR_IMPORTING -2 ... NO_CONTENT 7).
LISTED_STATUSES = (-2, -1, 0, 1, 2, 4, 5, 6, 7)
MODEL_TYPES = {wire: model for model, wire in ENTRY_TYPE_VALUES.items()}
_STATUS = re.compile(r"-?[0-9]{1,4}")  # a status we could store; others ("virusScan.Infected") match nothing


def entry_not_found(entry_id: str) -> ApiError:
    return ApiError("ENTRY_ID_NOT_FOUND", f'Entry id "{entry_id}" not found', ENTRY_ID=entry_id)


def get_entry(partner: Partner, entry_id: str) -> Entry:
    """The partner's entry, unless deleted: another partner's is as unknown as a missing one."""
    entry = Entry.objects.for_partner(partner).exclude(status=DELETED).filter(pk=entry_id).first()
    if entry is None:
        raise entry_not_found(entry_id)
    return entry


def render_entry(entry: Entry, session: Session | None) -> dict[str, Any]:
    return render(ENTRY_TYPE_NAMES[entry.type], entry, session)


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
    queryset = Entry.objects.for_partner(call.partner)
    return listing.respond(
        queryset,
        filter,
        pager,
        ENTRY_TABLE,
        call.partner.pk,
        lambda rows: [render_entry(e, call.session) for e in rows],
    )
