"""schedule_scheduleresource: add, get, update, delete, list (docs/kaltura-compatibility.md §4)."""

from __future__ import annotations

from typing import Any

from calendar_app import scheduling
from calendar_app.kaltura_api import listing
from calendar_app.kaltura_api.auth import Access
from calendar_app.kaltura_api.catalog import INT, RESOURCE_TYPE_NAMES
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.errors import cannot_be_null
from calendar_app.kaltura_api.listing import Column, Table
from calendar_app.kaltura_api.objects import Obj, Parsed, check_readonly, render
from calendar_app.models import ResourceStatus, ScheduleResource

SERVICE = "schedule_scheduleresource"
RESOURCE = Obj(base="KalturaScheduleResource")
TIMESTAMP_COLUMNS = {"createdAt": Column("created_at"), "updatedAt": Column("updated_at")}
TIMESTAMP_ORDER = {"createdAt": "created_at", "updatedAt": "updated_at"}


def render_resource(resource: ScheduleResource) -> dict[str, Any]:
    return render(RESOURCE_TYPE_NAMES[resource.type], resource)


def resource_data(parsed: Parsed) -> dict[str, Any]:
    return {**parsed.values, "type": parsed.type.setting("resource_type")}


@action(SERVICE, "add", Param("scheduleResource", RESOURCE, required=True), access=Access.WRITE)
def add(call: Call, scheduleResource: Parsed):
    check_readonly(scheduleResource, None)
    if not scheduleResource.values.get("name"):
        raise cannot_be_null("name")
    return render_resource(scheduling.create_resource(call.actor, resource_data(scheduleResource)))


@action(SERVICE, "get", Param("scheduleResourceId", INT, required=True))
def get(call: Call, scheduleResourceId: int):
    return render_resource(scheduling.get_resource(call.partner, scheduleResourceId))


@action(
    SERVICE,
    "update",
    Param("scheduleResourceId", INT, required=True),
    Param("scheduleResource", RESOURCE, required=True),
    access=Access.WRITE,
)
def update(call: Call, scheduleResourceId: int, scheduleResource: Parsed):
    resource = scheduling.get_resource(call.partner, scheduleResourceId)
    check_readonly(scheduleResource, lambda: render_resource(resource))
    changes = dict(scheduleResource.values)
    return render_resource(scheduling.update_resource(call.actor, resource.pk, changes))


@action(SERVICE, "delete", Param("scheduleResourceId", INT, required=True), access=Access.WRITE)
def delete(call: Call, scheduleResourceId: int):
    return render_resource(scheduling.delete_resource(call.actor, scheduleResourceId))


RESOURCE_TABLE = Table(
    response="KalturaScheduleResourceListResponse",
    default_statuses=(ResourceStatus.DISABLED, ResourceStatus.ACTIVE),
    type_setting="resource_type",
    columns={
        "id": Column("pk", is_int=True),
        "parentId": Column("parent_id", is_int=True),
        "name": Column("name"),
        "systemName": Column("system_name"),
        "status": Column("status", is_int=True),
        "tags": Column("tags"),
        **TIMESTAMP_COLUMNS,
    },
    order_by=TIMESTAMP_ORDER,
)


@action(
    SERVICE,
    "list",
    Param("filter", Obj(base="KalturaScheduleResourceBaseFilter")),
    Param("pager", Obj(base="KalturaPager")),
)
def list_(call: Call, filter: Parsed | None, pager: Parsed | None):
    queryset = ScheduleResource.objects.for_partner(call.partner)
    return listing.respond(
        queryset,
        filter,
        pager,
        RESOURCE_TABLE,
        call.partner.pk,
        lambda rows: [render_resource(r) for r in rows],
    )
