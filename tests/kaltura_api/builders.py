"""Builders for the official-client tests: wire objects with sensible defaults, times taken from
the real clock (the live server reads it too), and small helpers that read results and errors.

Every builder checks the field names it is given exist on the client's class, so a typo fails
loudly instead of leaving the field NotImplemented (unsent)."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from KalturaClient import KalturaClient
from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Core import (
    KalturaAppToken,
    KalturaAppTokenHashType,
    KalturaFilterPager,
    KalturaSessionType,
)
from KalturaClient.Plugins.Schedule import (
    KalturaBlackoutScheduleEvent,
    KalturaCameraScheduleResource,
    KalturaLiveEntryScheduleResource,
    KalturaLiveStreamScheduleEvent,
    KalturaLocationScheduleResource,
    KalturaMeetingScheduleEvent,
    KalturaRecordScheduleEvent,
    KalturaScheduleEventFilter,
    KalturaScheduleEventRecurrence,
    KalturaScheduleEventRecurrenceFrequency,
    KalturaScheduleEventRecurrenceType,
    KalturaScheduleEventResource,
    KalturaScheduleEventResourceFilter,
    KalturaScheduleResourceFilter,
)

MINUTE = 60
HOUR = 3600
DAY = 86_400
DEVICE_ROLE = "setrole:CAPTURE_DEVICE_ROLE"


def build(cls: type, **fields: Any) -> Any:
    obj = cls()
    for name, value in fields.items():
        if not hasattr(obj, name):
            raise AttributeError(f"{cls.__name__} has no field {name!r}")
        setattr(obj, name, value)
    return obj


# ---------------------------------------------------------------- time


def hours_from_now(hours: float) -> int:
    """A whole minute `hours` from the real clock, as Unix seconds."""
    return (int(time.time()) // MINUTE + 1) * MINUTE + int(hours * HOUR)


def local_time(unix: int, zone: str, pattern: str = "%H:%M") -> str:
    return datetime.fromtimestamp(unix, ZoneInfo(zone)).strftime(pattern)


def monday_before_dst_change(zone: str = "Europe/Berlin", hour: int = 9) -> int:
    """The next Monday at `hour` local time whose following Monday has another UTC offset."""
    tz = ZoneInfo(zone)
    day = datetime.now(tz).date() + timedelta(days=1)
    while True:
        day += timedelta(days=(7 - day.weekday()) % 7)
        this = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
        following = this + timedelta(days=7)
        if this.utcoffset() != following.utcoffset():
            return int(this.astimezone(UTC).timestamp())
        day += timedelta(days=7)


# ---------------------------------------------------------------- resources


def location(name: str = "Room 1", **fields: Any) -> KalturaLocationScheduleResource:
    return build(KalturaLocationScheduleResource, name=name, **fields)


def camera(name: str = "Camera 1", **fields: Any) -> KalturaCameraScheduleResource:
    return build(KalturaCameraScheduleResource, name=name, **fields)


def live_entry(
    name: str = "Live 1", entry_id: str = "0_live0001", **fields
) -> KalturaLiveEntryScheduleResource:
    return build(KalturaLiveEntryScheduleResource, name=name, entryId=entry_id, **fields)


def add_resource(client: KalturaClient, resource: Any) -> Any:
    return client.schedule.scheduleResource.add(resource)


def add_room_with_camera(client: KalturaClient) -> tuple[Any, Any]:
    room = add_resource(client, location("Room A"))
    return room, add_resource(client, camera("Camera A", parentId=room.id))


def resource_filter(cls: type = KalturaScheduleResourceFilter, **fields: Any) -> Any:
    return build(cls, **fields)


def resource_ids(client: KalturaClient, **fields: Any) -> list[int]:
    cls = fields.pop("cls", KalturaScheduleResourceFilter)
    return ids(client.schedule.scheduleResource.list(resource_filter(cls, **fields)))


# ---------------------------------------------------------------- events


def _event(cls: type, start: int, minutes: int, fields: dict[str, Any]) -> Any:
    fields.setdefault("summary", "Lecture")
    fields.setdefault("recurrenceType", KalturaScheduleEventRecurrenceType.NONE)
    fields.setdefault("startDate", start)
    fields.setdefault("endDate", start + minutes * MINUTE)
    return build(cls, **fields)


def record(start: int, minutes: int = 60, **fields: Any) -> KalturaRecordScheduleEvent:
    return _event(KalturaRecordScheduleEvent, start, minutes, fields)


def live(start: int, minutes: int = 60, **fields: Any) -> KalturaLiveStreamScheduleEvent:
    return _event(KalturaLiveStreamScheduleEvent, start, minutes, fields)


def blackout(start: int, minutes: int = 60, **fields: Any) -> KalturaBlackoutScheduleEvent:
    fields.setdefault("summary", "Holiday")
    return _event(KalturaBlackoutScheduleEvent, start, minutes, fields)


def meeting(start: int, minutes: int = 60, **fields: Any) -> KalturaMeetingScheduleEvent:
    return _event(KalturaMeetingScheduleEvent, start, minutes, fields)


def series(
    start: int,
    minutes: int = 60,
    *,
    count: int = 3,
    frequency: str = KalturaScheduleEventRecurrenceFrequency.WEEKLY,
    zone: str = "UTC",
    by_day: str | None = None,
    **fields: Any,
) -> Any:
    """A series (weekly unless told); `cls` picks the event type (record by default)."""
    cls = fields.pop("cls", KalturaRecordScheduleEvent)
    rule = {"frequency": frequency, "count": count, "timeZone": zone}
    if by_day:
        rule["byDay"] = by_day
    fields["recurrence"] = build(KalturaScheduleEventRecurrence, **rule)
    fields["recurrenceType"] = KalturaScheduleEventRecurrenceType.RECURRING
    return _event(cls, start, minutes, fields)


def add_event(client: KalturaClient, event: Any, *resources: Any) -> Any:
    """Add an event and link it to `resources` (client objects)."""
    added = client.schedule.scheduleEvent.add(event)
    for resource in resources:
        link(client, added.id, resource.id)
    return added


def occurrences(client: KalturaClient, series_id: int) -> list[Any]:
    found = client.schedule.scheduleEvent.list(
        event_filter(parentIdEqual=series_id, orderBy="+startDate"), pager(500)
    )
    return found.objects


def event_filter(cls: type = KalturaScheduleEventFilter, **fields: Any) -> Any:
    return build(cls, **fields)


def event_ids(client: KalturaClient, **fields: Any) -> list[int]:
    cls = fields.pop("cls", KalturaScheduleEventFilter)
    return ids(client.schedule.scheduleEvent.list(event_filter(cls, **fields), pager(500)))


def pager(size: int | None = None, index: int | None = None) -> KalturaFilterPager:
    fields = {"pageSize": size, "pageIndex": index}
    return build(KalturaFilterPager, **{k: v for k, v in fields.items() if v is not None})


# ---------------------------------------------------------------- links


def link(client: KalturaClient, event_id: int, resource_id: int) -> Any:
    return client.schedule.scheduleEventResource.add(
        build(KalturaScheduleEventResource, eventId=event_id, resourceId=resource_id)
    )


def links(client: KalturaClient, filter_blackout_conflicts=NotImplemented, **fields: Any) -> list[tuple]:
    found = client.schedule.scheduleEventResource.list(
        build(KalturaScheduleEventResourceFilter, **fields), pager(500), filter_blackout_conflicts
    )
    return sorted((x.eventId, x.resourceId) for x in found.objects)


# ---------------------------------------------------------------- sessions and app tokens


def app_token(**fields: Any) -> KalturaAppToken:
    fields.setdefault("hashType", KalturaAppTokenHashType.SHA256)
    fields.setdefault("sessionType", KalturaSessionType.USER)
    fields.setdefault("sessionPrivileges", DEVICE_ROLE)
    return build(KalturaAppToken, **fields)


def token_hash(widget_ks: str, token: KalturaAppToken, algorithm: str | None = None) -> str:
    name = (algorithm or token.hashType.getValue()).lower()
    return hashlib.new(name, (widget_ks + token.token).encode()).hexdigest()


def device_session(client: KalturaClient, partner, token: KalturaAppToken, **extra: Any) -> Any:
    """What a capture device does: a widget session, then trade it and the token's hash."""
    widget = client.session.startWidgetSession(f"_{partner.pk}")
    client.setKs(widget.ks)
    return client.appToken.startSession(token.id, token_hash(widget.ks, token), **extra)


# ---------------------------------------------------------------- results and errors


def ids(response: Any) -> list[int]:
    return [obj.id for obj in response.objects]


def value(enum: Any) -> Any:
    return None if enum is None else enum.getValue()


def error_of(call, *args: Any, **kwargs: Any) -> KalturaException:
    with pytest.raises(KalturaException) as caught:
        call(*args, **kwargs)
    return caught.value


def error_code(call, *args: Any, **kwargs: Any) -> str:
    return error_of(call, *args, **kwargs).code
