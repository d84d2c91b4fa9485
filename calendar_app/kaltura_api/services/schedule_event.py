"""schedule_scheduleevent: add, get, update, cancel, delete, list, getConflicts.

All writes go through calendar_app.scheduling; this module only translates the wire objects.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from calendar_app import ical, metrics, scheduling
from calendar_app.conflicts import ConflictType
from calendar_app.devices import receipts
from calendar_app.kaltura_api import conditional, deliveries, event_render, listing
from calendar_app.kaltura_api.auth import Access
from calendar_app.kaltura_api.catalog import CONFLICT_TYPE, INT, STR
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.errors import ApiError, cannot_be_null
from calendar_app.kaltura_api.event_render import render_event
from calendar_app.kaltura_api.listing import Column, Table
from calendar_app.kaltura_api.objects import Obj, Parsed, check_readonly
from calendar_app.kaltura_api.values import int_list, str_list
from calendar_app.models import (
    Entry,
    EventStatus,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)

SERVICE = "schedule_scheduleevent"
EVENT = Obj(base="KalturaScheduleEvent")
REQUIRED_ON_ADD = {
    "summary": "summary",
    "start": "startDate",
    "end": "endDate",
    "recurrence_type": "recurrenceType",
}
ZERO_WHEN_CLEARED = ("pre_start_time", "post_end_time")


# ---------------------------------------------------------------- rendering


def render_events(partner, events: list[ScheduleEvent]) -> list[dict[str, Any]]:
    return event_render.render_events(partner.pk, events)


# ---------------------------------------------------------------- wire -> domain


def event_data(parsed: Parsed) -> dict[str, Any]:
    """The domain fields of a client's event object (names as scheduling.py takes them)."""
    data = dict(parsed.values)
    if data.pop("linked_to", None) is not None:
        raise ApiError(
            "LINKED_EVENTS_NOT_SUPPORTED",
            "linkedTo is not supported: give the event its own startDate and endDate",
        )
    if isinstance(data.get("recurrence"), Parsed):
        data["recurrence"] = {k: v for k, v in data["recurrence"].values.items() if v is not None}
    for name in ZERO_WHEN_CLEARED:
        if name in data and data[name] is None:
            data[name] = 0
    data["type"] = parsed.type.setting("event_type")
    return data


# ---------------------------------------------------------------- actions


@action(SERVICE, "add", Param("scheduleEvent", EVENT, required=True), access=Access.WRITE)
def add(call: Call, scheduleEvent: Parsed):
    check_readonly(scheduleEvent, None)
    for name, wire in REQUIRED_ON_ADD.items():
        if scheduleEvent.values.get(name) is None:
            raise cannot_be_null(wire)
    data = event_data(scheduleEvent)
    if not data.get("owner_id"):
        data["owner_id"] = call.session.data.user_id
    return render_event(scheduling.create_event(call.actor, data))


def events_ical(call: Call, events: list[ScheduleEvent], total: int | None = None) -> bytes:
    """format=ical: the events as VEVENTs. Live endpoints and stream credentials of the template
    entries go only to sessions that may broadcast: admins and capture devices."""
    return _render_ical(events, live_entries(call, events), total)


def live_entries(call: Call, events: list[ScheduleEvent]) -> dict[str, Entry]:
    """The template entries whose endpoints the answer carries: none unless the session may see them."""
    if not call.session.may_see_stream_credentials:
        return {}
    template_ids = {e.template_entry_id for e in events if e.template_entry_id}
    return Entry.objects.for_partner(call.partner).in_bulk(template_ids)


def _render_ical(events: list[ScheduleEvent], entries: dict[str, Entry], total: int | None) -> bytes:
    components = ical.vevents(events, live_entries=entries)
    zones = ical.series_zones(events, scheduling.limits().horizon)
    return ical.calendar(components, zones=zones, total=total)


def get_ical(call: Call, scheduleEventId: int) -> bytes:
    return events_ical(call, [scheduling.get_event(call.partner, scheduleEventId)])


@action(SERVICE, "get", Param("scheduleEventId", INT, required=True), ical=get_ical)
def get(call: Call, scheduleEventId: int):
    return render_event(scheduling.get_event(call.partner, scheduleEventId))


@action(
    SERVICE,
    "update",
    Param("scheduleEventId", INT, required=True),
    Param("scheduleEvent", EVENT, required=True),
    access=Access.WRITE,
)
def update(call: Call, scheduleEventId: int, scheduleEvent: Parsed):
    event = scheduling.get_event(call.partner, scheduleEventId)
    check_readonly(scheduleEvent, lambda: render_event(event))
    data = event_data(scheduleEvent)
    del data["type"]  # the stored type stays; fields of another type are refused by the domain
    return render_event(scheduling.update_event(call.actor, event.pk, data))


@action(SERVICE, "cancel", Param("scheduleEventId", INT, required=True), access=Access.WRITE)
def cancel(call: Call, scheduleEventId: int):
    return render_event(scheduling.cancel_event(call.actor, scheduleEventId))


@action(SERVICE, "delete", Param("scheduleEventId", INT, required=True), access=Access.WRITE)
def delete(call: Call, scheduleEventId: int):
    return render_event(scheduling.delete_event(call.actor, scheduleEventId))


@action(
    SERVICE,
    "getConflicts",
    Param("resourceIds", STR),
    Param("scheduleEvent", EVENT, required=True),
    Param("scheduleEventIdToIgnore", STR, default=""),
    Param("scheduleEventConflictType", CONFLICT_TYPE, default=ConflictType.RESOURCE),
)
def get_conflicts(call, resourceIds, scheduleEvent, scheduleEventIdToIgnore, scheduleEventConflictType):
    resource_ids = int_list("resourceIds", resourceIds or "")
    if not resource_ids:
        raise cannot_be_null("resourceIds")
    found = scheduling.check_proposal(
        call.actor,
        event_data(scheduleEvent),
        resource_ids,
        ConflictType(scheduleEventConflictType),
        int_list("scheduleEventIdToIgnore", scheduleEventIdToIgnore),
    )
    # One stored event colliding with several occurrences of the probe is listed once.
    events = list({c.event.pk: c.event for c in found}.values())
    return listing.list_response(
        "KalturaScheduleEventListResponse", render_events(call.partner, events), len(events)
    )


# ---------------------------------------------------------------- list


def _linked_to_all(queryset: QuerySet, groups: list[set[int]]) -> QuerySet:
    """Events linked to at least one resource of every group."""
    for group in groups:
        links = ScheduleEventResource.objects.filter(resource_id__in=group)
        queryset = queryset.filter(pk__in=links.values("event_id"))
    return queryset


def _resource_groups(wire: str, ids: list[Any]) -> list[set[Any]]:
    """Like and MultiLikeAnd need every value; MultiLikeOr any one of them."""
    return [set(ids)] if wire.endswith("MultiLikeOr") else [{i} for i in ids]


def _by_resource_ids(queryset: QuerySet, wire: str, value: str, partner_id: int) -> QuerySet:
    return _linked_to_all(queryset, _resource_groups(wire, int_list(wire, value)))


def _by_parent_resource_ids(queryset: QuerySet, wire: str, value: str, partner_id: int) -> QuerySet:
    """Events on a resource below the given ones (a room's cameras, a building's rooms)."""
    parents = int_list(wire, value)
    below = ScheduleResource.objects.for_partner(partner_id).below(parents)
    groups = [below[parent] for parent in parents]
    if wire.endswith("MultiLikeOr"):
        groups = [set().union(*groups)] if groups else []
    return _linked_to_all(queryset, groups)


def _by_system_names(queryset: QuerySet, wire: str, value: str, partner_id: int) -> QuerySet:
    names = str_list(wire, value)
    found = dict(
        ScheduleResource.objects.for_partner(partner_id)
        .exclude(status=EventStatus.DELETED)
        .filter(system_name__in=names)
        .values_list("system_name", "pk")
    )
    ids = [found.get(name, -1) for name in names]  # an unknown name matches nothing
    return _linked_to_all(queryset, _resource_groups(wire, ids))


def _by_template_entry_categories(queryset: QuerySet, wire: str, value: str, partner_id: int) -> QuerySet:
    _, operator = listing.split(wire)
    entries = Entry.objects.for_partner(partner_id).filter(
        listing.like("category_ids", operator, value, tokens=True)
    )
    return queryset.filter(template_entry_id__in=entries.values("pk"))


def _unsupported(queryset: QuerySet, wire: str, value: str, partner_id: int) -> QuerySet:
    raise ApiError(
        "FILTER_NOT_SUPPORTED", f'The filter "{wire}" is not supported: categories have no parents here',
        FILTER=wire,
    )  # fmt: skip


EVENT_TABLE = Table(
    response="KalturaScheduleEventListResponse",
    default_statuses=(EventStatus.CANCELLED, EventStatus.ACTIVE),
    type_setting="event_type",
    columns={
        "id": Column("pk", is_int=True),
        "parentId": Column("parent_id", is_int=True),
        "status": Column("status", is_int=True),
        "startDate": Column("start"),
        "endDate": Column("end"),
        "referenceId": Column("reference_id"),
        "ownerId": Column("owner_id"),
        "priority": Column("priority", is_int=True),
        "recurrenceType": Column("recurrence_type", is_int=True),
        "createdAt": Column("created_at"),
        "updatedAt": Column("updated_at"),
        "tags": Column("tags", tokens=False),
        "templateEntryId": Column("template_entry_id"),
        "sourceEntryId": Column("source_entry_id"),
        "entryIds": Column("entry_ids", tokens=True),
        "categoryIds": Column("category_ids", tokens=True),
    },
    order_by={
        "startDate": "start",
        "endDate": "end",
        "createdAt": "created_at",
        "updatedAt": "updated_at",
        "priority": "priority",
        "summary": "summary",
    },
    specials={
        **{f"resourceIds{op}": _by_resource_ids for op in ("Like", "MultiLikeOr", "MultiLikeAnd")},
        "resourceIdEqual": _by_resource_ids,
        **{
            f"parentResourceIds{op}": _by_parent_resource_ids
            for op in ("Like", "MultiLikeOr", "MultiLikeAnd")
        },
        **{f"resourceSystemNames{op}": _by_system_names for op in ("Like", "MultiLikeOr", "MultiLikeAnd")},
        **{
            f"templateEntryCategoriesIds{op}": _by_template_entry_categories
            for op in ("Like", "MultiLikeOr", "MultiLikeAnd")
        },
        **{f"parentCategoryIds{op}": _unsupported for op in ("Like", "MultiLikeOr", "MultiLikeAnd")},
    },
)


def list_ical(call: Call, filter: Parsed | None, pager: Parsed | None) -> conditional.Tagged:
    """Conditional (deliveries.py): a poll whose If-None-Match names the answer's tag is answered
    304, without listing while the partner's version stays, and without rendering after a write
    that left the device's rows alone. Either way the device's receipt is recorded."""
    poll = deliveries.poll(call, filter, pager)
    deliveries.recall(poll)
    tag, body = poll.remembered, None
    if tag is None or not conditional.matches(call.if_none_match, tag):
        # The stored feed fragment is never read here: it is the bulk of a row.
        queryset = ScheduleEvent.objects.for_partner(call.partner).defer("ical_fragment")
        rows, total = listing.select(queryset, filter, pager, EVENT_TABLE, call.partner.pk)
        entries = live_entries(call, rows)
        tag = deliveries.answer_tag(poll, rows, total, entries)
        if not conditional.matches(call.if_none_match, tag):
            body = _render_ical(rows, entries, total)
    deliveries.record_poll(poll, tag)
    metrics.device_poll(receipts.Channel.ICAL, body is None)
    return conditional.Tagged(tag, body)


@action(
    SERVICE,
    "list",
    Param("filter", Obj(base="KalturaScheduleEventBaseFilter")),
    Param("pager", Obj(base="KalturaPager")),
    ical=list_ical,
)
def list_(call: Call, filter: Parsed | None, pager: Parsed | None):
    queryset = ScheduleEvent.objects.for_partner(call.partner)
    version = deliveries.list_version(call)  # read before listing: never newer than what is sent
    answer = listing.respond(
        queryset, filter, pager, EVENT_TABLE, call.partner.pk, lambda rows: render_events(call.partner, rows)
    )
    deliveries.record(call, filter, receipts.Channel.API, version)
    metrics.device_poll(receipts.Channel.API, unchanged=False)  # XML and JSON lists are never conditional
    return answer
