"""The device's schedule: its resource's bookings, polled as iCal (`scheduleEvent.list` with
format=ical) with `If-None-Match`, so an unchanged schedule costs a 304 and no parsing.

The official client cannot send a conditional GET, so this one request goes over httpx with the
session's KS. Occurrences and single events come as VEVENTs in UTC with X-KALTURA-* properties
(docs/kaltura-compatibility.md §5); series rows are not asked for (`recurrenceTypeIn=0,2`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from icalendar import Calendar

RECORD, LIVE_STREAM = 1, 2  # X-KALTURA-TYPE (KalturaScheduleEventType); others need no device
LOOKAHEAD = timedelta(days=14)
PAGE_SIZE = 500
LIST_PATH = "/api_v3/service/schedule_scheduleevent/action/list"


class ScheduleError(Exception):
    """The server answered with an error instead of a schedule."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class Booking:
    id: int
    type: int
    summary: str
    start: datetime
    end: datetime
    cancelled: bool = False
    template_entry_id: str = ""
    rtmp_endpoint: str = ""
    stream_name: str = ""

    @property
    def is_live(self) -> bool:
        return self.type == LIVE_STREAM


@dataclass(frozen=True)
class Poll:
    bookings: list[Booking] | None  # None: not modified since the last poll
    etag: str


def poll(http: httpx.Client, ks: str, resource_id: int, now: datetime, etag: str = "") -> Poll:
    """The bookings on `resource_id` that have not ended by the hour of `now` and start within
    LOOKAHEAD of it; `Poll.bookings` is None when the server answered 304 to `etag`."""
    headers = {"If-None-Match": etag} if etag else {}
    response = http.get(LIST_PATH, params=_query(ks, resource_id, now), headers=headers)
    if response.status_code == httpx.codes.NOT_MODIFIED:
        return Poll(bookings=None, etag=etag)
    response.raise_for_status()
    return Poll(bookings=parse(response.content), etag=response.headers.get("ETag", ""))


def _query(ks: str, resource_id: int, now: datetime) -> dict[str, str | int]:
    # From the start of the hour rather than `now`: the server's ETag covers the filter, so a
    # filter that changed every poll would never be answered 304. The hour's bookings that have
    # ended already cost a few lines; the loop never starts a booking after its end.
    since = int(now.replace(minute=0, second=0, microsecond=0).timestamp())
    return {
        "format": "ical",
        "ks": ks,
        "filter[objectType]": "KalturaScheduleEventFilter",
        "filter[resourceIdsLike]": resource_id,
        "filter[endDateGreaterThanOrEqual]": since,
        "filter[startDateLessThanOrEqual]": since + int(LOOKAHEAD.total_seconds()),
        "filter[recurrenceTypeIn]": "0,2",
        "filter[orderBy]": "+startDate",
        "pager[pageSize]": PAGE_SIZE,
    }


def parse(body: bytes) -> list[Booking]:
    document = Calendar.from_ical(body)
    for failure in document.walk("VERROR"):
        raise ScheduleError(str(failure.get("X-KALTURA-CODE", "")), str(failure.get("X-KALTURA-MESSAGE", "")))
    return [_booking(event) for event in document.walk("VEVENT") if _is_for_a_device(event)]


def _is_for_a_device(event) -> bool:
    return "RRULE" not in event and int(event.get("X-KALTURA-TYPE", 0)) in (RECORD, LIVE_STREAM)


def _booking(event) -> Booking:
    return Booking(
        id=int(event["X-KALTURA-ID"]),
        type=int(event["X-KALTURA-TYPE"]),
        summary=str(event.get("SUMMARY", "")),
        start=event["DTSTART"].dt,
        end=event["DTEND"].dt,
        cancelled=str(event.get("STATUS", "")).upper() == "CANCELLED",
        template_entry_id=str(event.get("X-KALTURA-TEMPLATE-ENTRY-ID", "")),
        rtmp_endpoint=str(event.get("X-KALTURA-PRIMARY-RTMP-ENDPOINT", "")),
        stream_name=str(event.get("X-KALTURA-LIVE-STREAM-NAME", "")),
    )
