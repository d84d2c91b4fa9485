"""schedule_scheduleeventresource: add, get, update, delete, list (docs/kaltura-compatibility.md §4)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from calendar_app import scheduling
from calendar_app.kaltura_api import listing
from calendar_app.kaltura_api.auth import Access
from calendar_app.kaltura_api.catalog import BOOL, INT
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.errors import cannot_be_null
from calendar_app.kaltura_api.listing import Column, Table
from calendar_app.kaltura_api.objects import Obj, Parsed, check_insert_only, check_readonly, render
from calendar_app.kaltura_api.services.schedule_resource import TIMESTAMP_COLUMNS, TIMESTAMP_ORDER
from calendar_app.models import EventStatus, EventType, RecurrenceType, ScheduleEvent, ScheduleEventResource

SERVICE = "schedule_scheduleeventresource"
LINK = Obj(base="KalturaScheduleEventResource")


def render_link(link: ScheduleEventResource) -> dict[str, Any]:
    return render("KalturaScheduleEventResource", link)


@action(SERVICE, "add", Param("scheduleEventResource", LINK, required=True), access=Access.WRITE)
def add(call: Call, scheduleEventResource: Parsed):
    check_readonly(scheduleEventResource, None)
    values = scheduleEventResource.values
    for name, wire in (("event_id", "eventId"), ("resource_id", "resourceId")):
        if values.get(name) is None:
            raise cannot_be_null(wire)
    return render_link(scheduling.link_resource(call.actor, values["event_id"], values["resource_id"]))


@action(
    SERVICE,
    "get",
    Param("scheduleEventId", INT, required=True),
    Param("scheduleResourceId", INT, required=True),
)
def get(call: Call, scheduleEventId: int, scheduleResourceId: int):
    return render_link(scheduling.get_link(call.partner, scheduleEventId, scheduleResourceId))


@action(
    SERVICE,
    "update",
    Param("scheduleEventId", INT, required=True),
    Param("scheduleResourceId", INT, required=True),
    Param("scheduleEventResource", LINK, required=True),
    access=Access.WRITE,
)
def update(call: Call, scheduleEventId: int, scheduleResourceId: int, scheduleEventResource: Parsed):
    """Both fields of a link are insert-only, so an update can only confirm them (as in Kaltura)."""
    link = scheduling.get_link(call.partner, scheduleEventId, scheduleResourceId)
    stored = render_link(link)
    check_readonly(scheduleEventResource, lambda: stored)
    check_insert_only(scheduleEventResource, stored)
    return stored


@action(
    SERVICE,
    "delete",
    Param("scheduleEventId", INT, required=True),
    Param("scheduleResourceId", INT, required=True),
    access=Access.WRITE,
)
def delete(call: Call, scheduleEventId: int, scheduleResourceId: int):
    scheduling.unlink_resource(call.actor, scheduleEventId, scheduleResourceId)


def _event_or_its_parent(queryset: QuerySet, wire: str, value: int, partner_id: int) -> QuerySet:
    """The event's own links or, when it has none, those of its series."""
    own = queryset.filter(event_id=value)
    if own.exists():
        return own
    parent = ScheduleEvent.objects.for_partner(partner_id).filter(pk=value).values("parent_id")
    return queryset.filter(event_id__in=parent)


LINK_TABLE = Table(
    response="KalturaScheduleEventResourceListResponse",
    columns={
        "eventId": Column("event_id", is_int=True),
        "resourceId": Column("resource_id", is_int=True),
        **TIMESTAMP_COLUMNS,
    },
    order_by=TIMESTAMP_ORDER,
    specials={"eventIdOrItsParentIdEqual": _event_or_its_parent},
)


def in_blackout() -> Exists:
    """True for a link whose (non-blackout) event overlaps an active blackout right now."""
    blackouts = ScheduleEvent.objects.filter(
        partner_id=OuterRef("partner_id"),
        type=EventType.BLACKOUT,
        status=EventStatus.ACTIVE,
        start__lt=OuterRef("event__end"),
        end__gt=OuterRef("event__start"),
    ).exclude(recurrence_type=RecurrenceType.RECURRING)
    return Exists(blackouts)


@action(
    SERVICE,
    "list",
    Param("filter", Obj(base="KalturaScheduleEventResourceBaseFilter")),
    Param("pager", Obj(base="KalturaPager")),
    Param("filterBlackoutConflicts", BOOL, default=True),
)
def list_(call: Call, filter: Parsed | None, pager: Parsed | None, filterBlackoutConflicts: bool):
    queryset = ScheduleEventResource.objects.for_partner(call.partner).exclude(
        event__status=EventStatus.DELETED
    )
    if filterBlackoutConflicts:
        # Kaltura hides these after counting; we leave them out of the count as well.
        queryset = queryset.filter(Q(event__type=EventType.BLACKOUT) | ~in_blackout())
    return listing.respond(
        queryset, filter, pager, LINK_TABLE, call.partner.pk, lambda rows: [render_link(r) for r in rows]
    )
