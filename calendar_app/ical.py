"""Events as iCalendar (RFC 5545; docs/kaltura-compatibility.md §5): one VEVENT per event row, built with the
`icalendar` library, which escapes text and folds lines at 75 octets without splitting a UTF-8
sequence.

Times are UTC (`...Z`), as capture devices expect. A series row carries its RRULE with DTSTART
in the series' own zone (TZID, with a VTIMEZONE in the calendar): an RRULE expanded from a UTC
start would drift by an hour across DST; its extra dates (RDATE) are UTC instants. Occurrences
are separate VEVENTs with their own UID and `X-KALTURA-PARENT-ID`; an edited one names the slot
it came from in `RECURRENCE-ID` and, as RFC 5545 §3.8.4.4 wants of such a VEVENT, carries its
series' UID instead of its own.

What a VEVENT says reads back as the same event (ical_read.py), so export, import, export
changes nothing: an ORGANIZER that is an e-mail address goes out as a `mailto:` URI, and stream
credentials are iCal TEXT, escaped, since a password may hold any character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration, vRecur, vText

from calendar_app import clock, recurrence
from calendar_app.models import (
    ClassificationType,
    Entry,
    EntryType,
    EventStatus,
    ScheduleEvent,
    ScheduleEventResource,
)

PRODID = "-//lecture-scheduler//Kaltura-compatible scheduling//EN"
CLASSES: dict[int, str] = {
    ClassificationType.PUBLIC: "PUBLIC",
    ClassificationType.PRIVATE: "PRIVATE",
    ClassificationType.CONFIDENTIAL: "CONFIDENTIAL",
}
# Live entry field -> X-KALTURA property. Only sessions that may read the entry get them.
LIVE_PROPERTIES = (
    ("primary_rtmp_endpoint", "X-KALTURA-PRIMARY-RTMP-ENDPOINT"),
    ("secondary_rtmp_endpoint", "X-KALTURA-SECONDARY-RTMP-ENDPOINT"),
    ("primary_rtsp_endpoint", "X-KALTURA-PRIMARY-RTSP-ENDPOINT"),
    ("secondary_rtsp_endpoint", "X-KALTURA-SECONDARY-RTSP-ENDPOINT"),
    ("stream_name", "X-KALTURA-LIVE-STREAM-NAME"),
    ("stream_username", "X-KALTURA-LIVE-STREAM-USERNAME"),
    ("stream_password", "X-KALTURA-LIVE-STREAM-PASSWORD"),
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class _VError(Calendar):
    """Kaltura's error document for format=ical: a VCALENDAR-shaped VERROR."""

    name = "VERROR"


def vevent(
    event: ScheduleEvent,
    resource_ids: Sequence[int],
    live_entry: Entry | None = None,
    *,
    recurrence_id: bool = True,
    series_uid: str = "",
) -> Event:
    """`recurrence_id=False` for people's feeds: there an occurrence is an event of its own, and a
    RECURRENCE-ID without its series' VEVENT makes calendar apps drop it. `series_uid`: the UID
    of the series of an edited occurrence, which its VEVENT carries with its RECURRENCE-ID."""
    overrides = recurrence_id and _is_override(event)
    component = Event()
    component.add("uid", series_uid if overrides and series_uid else event.ical_uid)
    component.add("dtstamp", event.updated_at)
    component.add("last-modified", event.updated_at)
    component.add("sequence", event.sequence)
    component.add("status", "CONFIRMED" if event.status == EventStatus.ACTIVE else "CANCELLED")
    component.add("summary", event.summary)
    _times(component, event, recurrence_id)
    for name, value in (
        ("description", event.description),
        ("location", event.location),
        # A CAL-ADDRESS may not hold a line break (icalendar refuses it); typed text may.
        ("organizer", _cal_address(event.organizer)),
        ("contact", event.contact),
        ("comment", event.comment),
    ):
        if value:
            component.add(name, value)
    component.add("class", CLASSES.get(event.classification_type, "PUBLIC"))
    if event.priority:
        component.add("priority", event.priority)
    tags = [t.strip() for t in event.tags.split(",") if t.strip()]
    if tags:
        component.add("categories", tags)
    _kaltura_properties(component, event, resource_ids, tags)
    if live_entry is not None and live_entry.type == EntryType.LIVE_STREAM:
        for field, name in LIVE_PROPERTIES:
            component.add(name, vText(getattr(live_entry, field)))
    return component


def vevents(
    events: Sequence[ScheduleEvent],
    *,
    live_entries: dict[str, Entry] | None = None,
    recurrence_id: bool = True,
) -> list[Event]:
    """`vevent` for a batch, with the resource ids of all of them read in one query."""
    links: dict[int, list[int]] = {}
    for event_id, resource_id in (
        ScheduleEventResource.objects.filter(event_id__in=[e.pk for e in events])
        .order_by("resource_id")
        .values_list("event_id", "resource_id")
    ):
        links.setdefault(event_id, []).append(resource_id)
    entries = live_entries or {}
    series_uids = _series_uids(events) if recurrence_id else {}
    return [
        vevent(
            e,
            links.get(e.pk, []),
            entries.get(e.template_entry_id),
            recurrence_id=recurrence_id,
            series_uid=series_uids.get(e.parent_id, ""),
        )
        for e in events
    ]


def _series_uids(events: Sequence[ScheduleEvent]) -> dict[int | None, str]:
    """The UIDs of the series of the edited occurrences among `events`, in one query."""
    parents = {e.parent_id for e in events if _is_override(e) and e.parent_id is not None}
    if not parents:
        return {}
    return dict(ScheduleEvent.objects.filter(pk__in=parents).values_list("pk", "ical_uid"))


def _is_override(event: ScheduleEvent) -> bool:
    return bool(event.is_occurrence and event.is_exception and event.original_start)


def _times(component: Event, event: ScheduleEvent, recurrence_id: bool) -> None:
    if event.is_series and event.recurrence:
        zone = ZoneInfo(event.time_zone or "UTC")
        component.add("dtstart", event.start.astimezone(zone))
        # In UTC: a wall time of the night clocks go back names two instants, and RFC 5545 reads
        # it as the first, so a local DTEND could not carry such an end (the round-trip property
        # test found it). DTSTART stays local: the RRULE is expanded from it.
        component.add("dtend", event.end)
        rule = recurrence.parse(event.recurrence, default_zone=event.time_zone or "UTC")
        if rule.frequency:  # a series of extra dates alone has no RRULE
            component.add("rrule", vRecur.from_ical(recurrence.to_rrule(rule)))
        # In UTC (RFC 5545 allows it beside a zoned DTSTART): they are instants. Those before
        # the start were never slots.
        extra = [clock.from_unix(moment) for moment in rule.rdates if moment >= event.start.timestamp()]
        if extra:
            component.add("rdate", extra)
        return
    component.add("dtstart", event.start)
    component.add("dtend", event.end)
    if recurrence_id and _is_override(event):
        component.add("recurrence-id", event.original_start)


def _kaltura_properties(component: Event, event: ScheduleEvent, resource_ids, tags) -> None:
    values = (
        ("X-KALTURA-ID", event.pk),
        ("X-KALTURA-PARTNER-ID", event.partner_id),
        ("X-KALTURA-PARENT-ID", event.parent_id),
        ("X-KALTURA-TYPE", event.type),
        ("X-KALTURA-STATUS", event.status),
        ("X-KALTURA-RESOURCE-IDS", ",".join(map(str, resource_ids))),
        ("X-KALTURA-TAGS", ",".join(tags)),
        ("X-KALTURA-TEMPLATE-ENTRY-ID", event.template_entry_id),
        ("X-KALTURA-ENTRY-IDS", event.entry_ids),
        ("X-KALTURA-CATEGORY-IDS", event.category_ids),
    )
    for name, value in values:
        if value not in (None, ""):
            component.add(name, _raw(value))


def _cal_address(organizer: str) -> str:
    """ORGANIZER is a CAL-ADDRESS, a URI: an e-mail address goes out as `mailto:` (ical_read.py
    takes it off again); a URI stays as it is; other text, as Kaltura keeps it, as typed. A URI
    may not hold a line break (icalendar refuses it); typed text may: it becomes a space."""
    flat = " ".join(organizer.splitlines())
    if "@" in flat and not any(c.isspace() for c in flat) and not _SCHEME.match(flat):
        return f"mailto:{flat}"
    return flat


def _raw(value) -> str:
    """An X-KALTURA-* value as Kaltura writes it: unescaped, so "1,2" stays a list for devices.
    A line break would end the content line (the library refuses it): it becomes a space."""
    return " ".join(str(value).splitlines())


def series_zones(events: Iterable[ScheduleEvent], horizon: timedelta) -> dict[str, tuple[date, date]]:
    """The zones series' DTSTARTs name, each with the span its VTIMEZONE must cover: from a year
    before the first series start to the longest a series may run after the last one. An
    open-ended series runs on: a horizon past the occurrences it has (a client expanding its
    RRULE past the VTIMEZONE's last transition keeps that offset)."""
    spans: dict[str, tuple[date, date]] = {}
    for event in events:
        if event.is_series and event.time_zone not in ("", "UTC"):
            reach = max(event.start, event.materialized_until or event.start)
            first, last = event.start.date() - timedelta(days=366), reach.date() + horizon
            known = spans.get(event.time_zone, (first, last))
            spans[event.time_zone] = (min(known[0], first), max(known[1], last))
    return spans


def calendar(
    events: Iterable[Event],
    *,
    zones: dict[str, tuple[date, date]] | None = None,
    total: int | None = None,
    name: str = "",
    refresh: timedelta | None = None,
) -> bytes:
    """A whole VCALENDAR: header, a VTIMEZONE per zone a series' DTSTART names, the events.
    `name` and `refresh` are for subscribed feeds: the calendar's title and how often to poll."""
    document = Calendar()
    document.add("prodid", PRODID)
    document.add("version", "2.0")
    document.add("calscale", "GREGORIAN")
    if name:
        document.add("name", name)
        document.add("X-WR-CALNAME", name)
    if refresh is not None:
        document.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        document.add("X-PUBLISHED-TTL", vDuration(refresh))
    for zone, (first, last) in sorted((zones or {}).items()):
        # Transitions of the span only: the library's default (1970-2038) is 6 KB per zone.
        document.add_component(Timezone.from_tzid(zone, first_date=first, last_date=last))
    for component in events:
        document.add_component(component)
    if total is not None:
        document.add("X-KALTURA-TOTAL-COUNT", str(total))
    return document.to_ical()


def assemble(fragments: Iterable[str], *, name: str = "", refresh: timedelta | None = None) -> bytes:
    """A VCALENDAR around VEVENTs rendered earlier (fragments.py): the header is built by
    `calendar`, the stored fragments go in as they are, one string join for the lot."""
    head = calendar([], name=name, refresh=refresh)
    tail = b"END:VCALENDAR\r\n"
    return head.removesuffix(tail) + "".join(fragments).encode() + tail


def error(code: str, message: str, args: dict[str, str]) -> bytes:
    """Kaltura's iCal error: a VCALENDAR holding one VERROR. Its text may echo what a client
    sent, so what iCalendar cannot carry is dropped first."""
    document = Calendar()
    document.add("prodid", PRODID)
    document.add("version", "2.0")
    failure = _VError()
    failure.add("X-KALTURA-CODE", _writable(code))
    failure.add("X-KALTURA-MESSAGE", _writable(message))
    failure.add("X-KALTURA-ARGUMENTS", _writable(";".join(args.values())))
    document.add_component(failure)
    return document.to_ical()


# The error's text goes out unescaped, as Kaltura writes it (icalendar writes X- properties as
# given): a line break would end the content line, so it becomes a space; the other controls
# (RFC 5545 text allows none but HTAB) and lone surrogates, which UTF-8 cannot encode, are dropped.
_UNWRITABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")


def _writable(text: str) -> str:
    return _UNWRITABLE.sub("", " ".join(text.splitlines()))
