"""iCal bulk import (spec §5): a file in, one result per VEVENT out.

Every write goes through scheduling.py with the caller's actor, so partner scoping, validation,
conflict enforcement and the audit trail are the API's own; a bad VEVENT is reported on its own
and never blocks the others (each one applies completely or not at all). The whole file is
refused (FileRefused) only when it cannot be read at all, before anything is applied. No HTTP
and no job here: those call us.

Kaltura's importer (kaltura-server.md §8) has quirks we fix rather than copy: we parse with the
`icalendar` library (folding, escaping, LF-only files, VTIMEZONE, VALUE=DATE), convert local
times at their own date's offset, cancel on STATUS:CANCELLED as well as METHOD:CANCEL, link
X-KALTURA-RESOURCE-IDS, and match an event by its X-KALTURA-ID, then by UID against its
reference id, then against the UID we export it with, so our own feed re-imports onto the same
rows. Matching is scoped to the partner: another partner's ids and UIDs match nothing.

Series are applied first, then single events, then occurrences, so an override finds its series
wherever it stands in the file. An occurrence is one by RFC 5545 (RECURRENCE-ID, the series'
UID) or as Kaltura and we export them (a VEVENT of its own naming the series' X-KALTURA-ID);
when our export is imported into another partner, occurrences take the UIDs the file gives them,
so a second export of that partner reads the same.

Re-importing a file changes nothing: a VEVENT that would set what is stored already is reported
"unchanged" and writes nothing (no sequence bump, no audit entry). A property the VEVENT leaves
out leaves the stored field alone, as Kaltura's client leaves unset fields out of an update (and
our own export omits empty fields and GEO); present but empty, it clears the field.

New single events, most of any real file, go through batch_scheduling.create_events, which writes
them a chunk at a time (bench/ical_import.py); series, updates and cancellations go one by one.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.db import transaction
from django.db.models import Q
from icalendar import Calendar, Component
from icalendar.prop import vDDDTypes
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from calendar_app import batch_scheduling, input_rules, recurrence, scheduling
from calendar_app.errors import ConflictDetected, NotFound, SchedulingError, ValidationFailed
from calendar_app.imports.row_results import FileRefused, RowResult, read_text
from calendar_app.models import (
    ClassificationType,
    EventStatus,
    EventType,
    Partner,
    RecurrenceType,
    ResourceStatus,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)

MAX_BYTES = 10 * 1024 * 1024
MAX_EVENTS = 20_000
# Components of any kind per VEVENT allowed (alarms, zones and their rules): a cap on the
# parser's work that no real file comes near.
COMPONENTS_PER_EVENT = 4
LOOKUP_CHUNK = 400  # keys per look-up query; two IN lists of it stay under SQLite's 999 parameters
MAX_UID = 255  # ScheduleEvent.ical_uid
FIRST_YEAR, LAST_YEAR = 1900, 2999

_VEVENT = re.compile(rb"^BEGIN:VEVENT\r?$", re.IGNORECASE | re.MULTILINE)
_BEGIN = re.compile(rb"^BEGIN:", re.IGNORECASE | re.MULTILINE)
_VCALENDAR = re.compile(rb"^BEGIN:VCALENDAR\r?$", re.IGNORECASE | re.MULTILINE)

TEXT_PROPERTIES = {
    "SUMMARY": "summary",
    "DESCRIPTION": "description",
    "LOCATION": "location",
    "CONTACT": "contact",
    "COMMENT": "comment",
}
KALTURA_PROPERTIES = {
    "X-KALTURA-TEMPLATE-ENTRY-ID": "template_entry_id",
    "X-KALTURA-ENTRY-IDS": "entry_ids",
    "X-KALTURA-CATEGORY-IDS": "category_ids",
}
CLASSES = {
    "PUBLIC": ClassificationType.PUBLIC,
    "PRIVATE": ClassificationType.PRIVATE,
    "CONFIDENTIAL": ClassificationType.CONFIDENTIAL,
}
# Domain field -> the property a refusal is about, so a reason names what the file says.
FIELD_PROPERTIES = (
    {f: p for p, f in TEXT_PROPERTIES.items()}
    | {f: p for p, f in KALTURA_PROPERTIES.items()}
    | {
        "organizer": "ORGANIZER",
        "priority": "PRIORITY",
        "classification_type": "CLASS",
        "geo_latitude": "GEO",
        "geo_longitude": "GEO",
        "tags": "CATEGORIES",
        "type": "X-KALTURA-TYPE",
        "reference_id": "UID",
        "start": "DTSTART",
        "end": "DTEND",
        "duration": "DTEND",
        "recurrence": "RRULE",
    }
)


def import_calendar(
    actor: scheduling.Actor,
    data: bytes,
    *,
    default_type: int = EventType.RECORD,
    max_bytes: int = MAX_BYTES,
    max_events: int = MAX_EVENTS,
) -> list[RowResult]:
    """Apply each VEVENT of an iCalendar file for `actor`'s partner; one result per VEVENT, in
    file order. `default_type` is the event type of VEVENTs without X-KALTURA-TYPE."""
    calendars = _parse(data, max_bytes, max_events)
    reader = _Reader(actor.partner, calendars)
    items = [reader.item(line, event, cancel) for line, (event, cancel) in enumerate(_vevents(calendars))]
    return _Import(actor, items, default_type).run()


# ---------------------------------------------------------------- the file


def _parse(data: bytes, max_bytes: int, max_events: int) -> list[Calendar]:
    """The VCALENDARs of the file. Every refusal comes before anything is applied, and the
    cheap ones before the parser: 100,000 components are counted, not parsed."""
    read_text(data, max_bytes=max_bytes, code="ICAL")
    data = data.removeprefix(b"\xef\xbb\xbf")  # a BOM, as some editors write it
    if not _VCALENDAR.search(data):
        raise FileRefused("ICAL_NOT_ICALENDAR", "The file is not iCalendar: it has no BEGIN:VCALENDAR line.")
    events = len(_VEVENT.findall(data))
    if events > max_events:
        raise FileRefused(
            "ICAL_TOO_MANY_EVENTS", f"The file has {events} VEVENTs; at most {max_events} are accepted."
        )
    components = len(_BEGIN.findall(data))
    if components > COMPONENTS_PER_EVENT * max(events, 1) + 100:
        raise FileRefused(
            "ICAL_TOO_MANY_COMPONENTS",
            f"The file has {components} components for {events} VEVENTs: too many to read.",
        )
    try:
        # Bytes, never str: icalendar reads a one-line str as a file name.
        parsed = Calendar.from_ical(data, multiple=True)
    except Exception as error:  # noqa: BLE001  (the parser's word for any unreadable input)
        raise FileRefused("ICAL_MALFORMED", f"The file cannot be read as iCalendar: {error}") from None
    calendars = [c for c in parsed if c.name == "VCALENDAR"]
    if not calendars:
        raise FileRefused(
            "ICAL_MALFORMED", "The file has no complete VCALENDAR (BEGIN:VCALENDAR … END:VCALENDAR)."
        )
    return calendars


def _vevents(calendars: list[Calendar]) -> Iterable[tuple[Component, bool]]:
    """Each VEVENT of the file, in order, with whether its calendar's METHOD cancels it."""
    for calendar in calendars:
        cancel = str(calendar.get("METHOD", "")).upper() == "CANCEL"
        for component in calendar.subcomponents:
            if component.name == "VEVENT":
                yield component, cancel


# ---------------------------------------------------------------- one VEVENT, read


class _RowError(SchedulingError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class _Moment:
    at: datetime  # UTC
    zone: str | None  # the IANA zone the wall time was read in; None: a zone only the file defines
    wall: datetime  # as written (midnight for a date)
    all_day: bool = False
    tzid: str = ""  # the TZID it was read with


@dataclass
class _Item:
    """One VEVENT, read: what it asks for, or why it cannot be applied."""

    line: int
    uid: str
    row: dict[str, str]
    error: SchedulingError | None = None
    cancelled: bool = False
    kaltura_id: int | None = None
    parent_label: int | None = None  # X-KALTURA-PARENT-ID
    recurrence_id: datetime | None = None
    start: _Moment | None = None
    end: datetime | None = None
    rrule: str | None = None
    series_zone: str | None = None
    exdates: list[datetime] = field(default_factory=list)
    type: Any = None  # X-KALTURA-TYPE as given
    resource_ids: tuple[int, ...] | None = None  # None: no X-KALTURA-RESOURCE-IDS
    values: dict[str, Any] = field(default_factory=dict)  # the content fields the VEVENT sets

    @property
    def is_occurrence(self) -> bool:
        """One occurrence of a series: RFC 5545's RECURRENCE-ID, or an occurrence as Kaltura
        and we export them (its own VEVENT naming the series' X-KALTURA-ID)."""
        return self.recurrence_id is not None or self.parent_label is not None

    @property
    def is_series(self) -> bool:
        return self.rrule is not None and not self.is_occurrence

    @property
    def slot(self) -> datetime | None:
        """The occurrence's place in its series: RECURRENCE-ID, else (as exported) its start."""
        return self.recurrence_id or (self.start.at if self.start else None)


_Props = dict[str, Any]  # a VEVENT's properties: name -> value, or a list of values


class _Reader:
    """Reads VEVENTs into _Items: times in UTC, properties as domain fields."""

    def __init__(self, partner: Partner, calendars: list[Calendar]):
        self.zones = _Zones(partner.zone.key, calendars)

    def item(self, line: int, component: Component, cancel: bool) -> _Item:
        # A plain dict of the properties (name -> value, or list of values when repeated):
        # read a dozen times per VEVENT, it is faster than the component's case-folding one.
        props = dict(component.items())
        item = _Item(line, _text(props.get("UID", "")).strip(), _row(props))
        try:
            if component.errors:
                name, message = component.errors[0]
                raise _RowError("ICAL_BAD_PROPERTY", f"{name or 'A line'} cannot be read: {message}")
            self._read(item, props, cancel)
        except SchedulingError as error:
            item.error = error
        return item

    def _read(self, item: _Item, props: _Props, cancel: bool) -> None:
        item.kaltura_id = _integer(props, "X-KALTURA-ID")
        item.parent_label = _integer(props, "X-KALTURA-PARENT-ID")
        if len(item.uid) > MAX_UID:
            raise _RowError(
                "UID_TOO_LONG", f"The UID is {len(item.uid)} characters long; at most {MAX_UID} are kept."
            )
        status = _text(props.get("STATUS", "")).upper()
        item.cancelled = cancel or status == "CANCELLED" or _text(props.get("METHOD", "")).upper() == "CANCEL"
        if "RECURRENCE-ID" in props:
            recurrence_id = _single(props, "RECURRENCE-ID")
            if str(recurrence_id.params.get("RANGE", "")).upper() == "THISANDFUTURE":
                raise _RowError(
                    "ICAL_UNSUPPORTED", "RECURRENCE-ID with RANGE=THISANDFUTURE is not supported."
                )
            item.recurrence_id = self.zones.moment(recurrence_id, "RECURRENCE-ID").at
        if item.cancelled:
            # A cancellation needs to say which event, nothing more; an exported occurrence
            # without RECURRENCE-ID says it by its start.
            if item.parent_label is not None and item.recurrence_id is None and "DTSTART" in props:
                item.start = self.zones.moment(_single(props, "DTSTART"), "DTSTART")
            return
        self._times(item, props)
        item.type = _kaltura_type(props)
        item.resource_ids = _resource_ids(props)
        item.values = _values(props)

    def _times(self, item: _Item, props: _Props) -> None:
        if "DTSTART" not in props:
            raise _RowError("MISSING_DTSTART", "The VEVENT has no DTSTART: its start is required.")
        start = self.zones.moment(_single(props, "DTSTART"), "DTSTART")
        item.start = start
        item.end = self._end(props, start)
        if "RRULE" in props and not item.is_occurrence:
            self._series(item, props, start)

    def _end(self, props: _Props, start: _Moment) -> datetime:
        if "DTEND" in props:
            end = self.zones.moment(_single(props, "DTEND"), "DTEND")
            if end.all_day != start.all_day:
                raise _RowError(
                    "ICAL_BAD_DTEND", "DTEND must be a date when DTSTART is one, and a time when it is."
                )
            return end.at
        if "DURATION" in props:
            length = _single(props, "DURATION").dt
            if not isinstance(length, timedelta):
                raise _RowError("ICAL_BAD_PROPERTY", "DURATION must be a duration such as PT1H30M.")
            # Days are nominal (RFC 5545 §3.3.6): "P1D" ends at the same wall time the next day.
            wall = start.wall + timedelta(days=length.days)
            return self.zones.to_utc(wall, start) + timedelta(seconds=length.seconds)
        if start.all_day:  # RFC 5545 §3.6.1: an all-day event without an end lasts the day
            return self.zones.to_utc(start.wall + timedelta(days=1), start)
        return start.at  # ... and one at a time of day takes no time

    def _series(self, item: _Item, props: _Props, start: _Moment) -> None:
        rules = props["RRULE"]
        if isinstance(rules, list):
            raise _RowError("ICAL_UNSUPPORTED", "The VEVENT has more than one RRULE; one is supported.")
        if "RDATE" in props:
            raise _RowError("ICAL_UNSUPPORTED", "RDATE (dates outside the RRULE) is not supported.")
        item.rrule = rules.to_ical().decode()
        if "COUNT" not in rules and "UNTIL" not in rules:
            raise _RowError(
                "RECURRENCE_UNBOUNDED",
                "The RRULE has neither COUNT nor UNTIL: open-ended series are not supported.",
            )
        item.series_zone = start.zone or self.zones.iana(start)
        exdates = props.get("EXDATE", [])
        for listed in exdates if isinstance(exdates, list) else [exdates]:
            item.exdates += [self.zones.moment(value, "EXDATE").at for value in listed.dts]


class _Zones:
    """TZIDs of one file, resolved. A name tzdata or Windows knows wins over a VTIMEZONE of the
    same name in the file (tzdata is maintained; some producers, Kaltura among them, write
    wrong VTIMEZONE rules); a TZID only the file defines is read with the file's VTIMEZONE.

    icalendar resolves TZIDs too, but it caches a file's VTIMEZONE by TZID for the life of the
    process, so a later file (another partner's) defining the same TZID differently would be
    read with the first file's rules. So we take the wall time icalendar read and resolve the
    TZID ourselves, from this file's components only."""

    def __init__(self, partner_zone: str, calendars: list[Calendar]):
        self.partner_zone = partner_zone
        self.defined = {
            str(c["TZID"]): c
            for cal in calendars
            for c in cal.subcomponents
            if c.name == "VTIMEZONE" and "TZID" in c
        }
        self.cache: dict[str, tuple[tzinfo, str | None]] = {}
        self.equivalents: dict[tuple[str, int], str | None] = {}  # (TZID, year) -> IANA zone

    def moment(self, value: Any, name: str) -> _Moment:
        when = getattr(value, "dt", None)
        if isinstance(when, date) and not FIRST_YEAR <= when.year <= LAST_YEAR:
            # Far dates overflow time arithmetic (a zone's offset, a series' horizon).
            raise _RowError("DATE_OUT_OF_RANGE", f"{name} must fall between {FIRST_YEAR} and {LAST_YEAR}.")
        if isinstance(when, datetime):
            tzid = value.params.get("TZID")
            if tzid:
                tzid = str(tzid)
                zone, iana = self.zone(tzid, name)
            elif when.tzinfo is not None:  # "…Z"
                return _Moment(when.astimezone(UTC), "UTC", when.replace(tzinfo=None))
            else:  # floating: the partner's wall clock
                zone, iana = ZoneInfo(self.partner_zone), self.partner_zone
            wall = when.replace(tzinfo=None)
            return _Moment(recurrence.to_utc(wall, zone), iana, wall, tzid=tzid or "")
        if isinstance(when, date):  # all day, in the partner's zone
            wall = datetime(when.year, when.month, when.day)
            zone = ZoneInfo(self.partner_zone)
            return _Moment(recurrence.to_utc(wall, zone), self.partner_zone, wall, all_day=True)
        raise _RowError("ICAL_BAD_PROPERTY", f"{name} must be a date or a date and time.")

    def to_utc(self, wall: datetime, like: _Moment) -> datetime:
        """`wall` read in the zone `like` was read in."""
        zone = ZoneInfo(like.zone) if like.zone else self.cache[like.tzid][0]
        return recurrence.to_utc(wall, zone)

    def zone(self, tzid: str, name: str) -> tuple[tzinfo, str | None]:
        if tzid not in self.cache:
            self.cache[tzid] = self._resolve(tzid, name)
        return self.cache[tzid]

    def _resolve(self, tzid: str, name: str) -> tuple[tzinfo, str | None]:
        iana = _known_zone(tzid)
        if iana is not None:
            return ZoneInfo(iana), iana
        if tzid in self.defined:
            return self.defined[tzid].to_tz(lookup_tzid=False), None
        raise _RowError(
            "UNKNOWN_TIME_ZONE",
            f"{name} names the time zone {tzid!r}, which is neither an IANA or Windows zone name "
            "nor defined by a VTIMEZONE in the file.",
        )

    def iana(self, start: _Moment) -> str:
        """An IANA zone for a series whose DTSTART names a zone only the file defines: one that
        agrees with it on every day of the year from the start (the partner's zone first)."""
        key = (start.tzid, start.at.year)
        if key not in self.equivalents:
            self.equivalents[key] = _equivalent_zone(self.cache[start.tzid][0], start.at, self.partner_zone)
        found = self.equivalents[key]
        if found is None:
            raise _RowError(
                "UNKNOWN_TIME_ZONE",
                f"The time zone {start.tzid!r} the file defines matches no IANA zone, and a series "
                "needs one to repeat in: name an IANA zone in DTSTART's TZID.",
            )
        return found


def _known_zone(tzid: str) -> str | None:
    """The IANA name for a TZID: itself, a Windows name's, or the tail of a "globally unique"
    TZID such as /freeassociation.sourceforge.net/Europe/Berlin (RFC 5545 §3.2.19)."""
    cleaned = tzid.strip().strip("/")
    candidates = [cleaned, WINDOWS_TO_OLSON.get(cleaned, "")]
    parts = cleaned.split("/")
    candidates += ["/".join(parts[i:]) for i in range(1, len(parts))]
    for candidate in candidates:
        if candidate and _is_zone(candidate):
            return candidate
    return None


@functools.lru_cache(maxsize=1024)  # bounded: the names come from uploaded files
def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@functools.cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def _equivalent_zone(zone: tzinfo, start: datetime, preferred: str) -> str | None:
    days = [start + timedelta(days=n) for n in range(366)]
    quick = days[::61]
    wanted_quick = [d.astimezone(zone).utcoffset() for d in quick]
    wanted = None
    for name in (preferred, *_zone_names()):
        candidate = ZoneInfo(name)
        if [d.astimezone(candidate).utcoffset() for d in quick] != wanted_quick:
            continue
        wanted = wanted or [d.astimezone(zone).utcoffset() for d in days]
        if [d.astimezone(candidate).utcoffset() for d in days] == wanted:
            return name
    return None


def _single(props: _Props, name: str) -> Any:
    value = props[name]
    if isinstance(value, list):
        raise _RowError(
            "ICAL_BAD_PROPERTY", f"The VEVENT has {len(value)} {name} properties; one is allowed."
        )
    return value


def _all(props: _Props, name: str) -> list[Any]:
    value = props.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, vDDDTypes) and isinstance(value.dt, date):
        return _date_text(value)
    to_ical = getattr(value, "to_ical", None)
    if to_ical is None:
        return str(value)
    raw = to_ical()
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _date_text(value: vDDDTypes) -> str:
    """What to_ical() writes for a DATE or DATE-TIME, at a tenth of its cost (a file has three
    of them per VEVENT)."""
    when = value.dt
    text = f"{when.year:04d}{when.month:02d}{when.day:02d}"
    if not isinstance(when, datetime):
        return text
    utc = when.tzinfo is not None and not value.params.get("TZID")
    return f"{text}T{when.hour:02d}{when.minute:02d}{when.second:02d}{'Z' if utc else ''}"


def _row(props: _Props) -> dict[str, str]:
    """The VEVENT's properties as text, for people reading the results."""
    return {name: _text(value) for name, value in props.items()}


def _integer(props: _Props, name: str) -> int | None:
    value = _text(props.get(name, "")).strip()
    if not value:
        return None
    if _as_id(value) is None:
        raise _RowError("ICAL_BAD_PROPERTY", f"{name} {value!r} is not an id.")
    return int(value)


def _as_id(text: str) -> int | None:
    """A database id, or None: at most 18 digits, so that it fits a bigint in any query."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _kaltura_type(props: _Props) -> Any:
    value = _text(props.get("X-KALTURA-TYPE", "")).strip()
    if not value:
        return None
    return int(value) if value.isascii() and value.isdigit() else value  # else refused as a type


def _resource_ids(props: _Props) -> tuple[int, ...] | None:
    if "X-KALTURA-RESOURCE-IDS" not in props:
        return None
    ids = []
    for part in _text(props["X-KALTURA-RESOURCE-IDS"]).split(","):
        part = part.strip()
        if not part:
            continue
        if _as_id(part) is None:
            raise _RowError("RESOURCE_NOT_FOUND", f"X-KALTURA-RESOURCE-IDS: {part!r} is not a resource id.")
        ids.append(int(part))
    return tuple(dict.fromkeys(ids))


def _values(props: _Props) -> dict[str, Any]:
    """The content fields the VEVENT sets: only the properties it has (see the module doc)."""
    values: dict[str, Any] = {}
    for name, target in TEXT_PROPERTIES.items():
        if name in props:
            values[target] = "\n".join(str(v) for v in _all(props, name))
    if "ORGANIZER" in props:
        organizer = str(_single(props, "ORGANIZER"))
        values["organizer"] = organizer[7:] if organizer.lower().startswith("mailto:") else organizer
    if "PRIORITY" in props:
        values["priority"] = int(_single(props, "PRIORITY")) or None  # 0 is "undefined"
    if "CLASS" in props:
        # RFC 5545 §3.8.1.3: a class the reader does not know is treated as PRIVATE.
        values["classification_type"] = CLASSES.get(
            str(_single(props, "CLASS")).upper(), ClassificationType.PRIVATE
        )
    if "GEO" in props:
        geo = _single(props, "GEO")
        values["geo_latitude"], values["geo_longitude"] = geo.latitude, geo.longitude
    if "CATEGORIES" in props or "X-KALTURA-TAGS" in props:
        values["tags"] = ",".join(_tags(props))
    for name, target in KALTURA_PROPERTIES.items():
        if name in props:
            values[target] = _text(props[name]).strip()
    return values


def _tags(props: _Props) -> list[str]:
    """X-KALTURA-TAGS when the VEVENT has it (Kaltura's field, as Kaltura and we export it),
    else its CATEGORIES (the standard property, which our export also writes)."""
    if "X-KALTURA-TAGS" in props:
        tags = _text(props["X-KALTURA-TAGS"]).split(",")
    else:
        tags = [str(tag) for categories in _all(props, "CATEGORIES") for tag in categories.cats]
    return [t.strip() for t in tags if t.strip()]


def _tag_list(tags: str) -> list[str]:
    return [t.strip() for t in tags.split(",") if t.strip()]


# ---------------------------------------------------------------- what is stored


def _chunks(keys: Iterable[Any]) -> Iterable[set[Any]]:
    ordered = sorted(keys)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        yield set(ordered[start : start + LOOKUP_CHUNK])


@dataclass
class _Stored:
    """The partner's events and resources the file names, read a chunk of keys per query."""

    by_pk: dict[int, ScheduleEvent] = field(default_factory=dict)
    by_reference: dict[str, ScheduleEvent] = field(default_factory=dict)  # never an occurrence
    by_uid: dict[str, ScheduleEvent] = field(default_factory=dict)  # ical_uid
    resources: set[int] = field(default_factory=set)  # live resource ids
    links: dict[int, set[int]] = field(default_factory=dict)  # event id -> resource ids

    @classmethod
    def look_up(cls, partner: Partner, items: list[_Item]) -> _Stored:
        found = cls()
        live = ScheduleEvent.objects.for_partner(partner).exclude(status=EventStatus.DELETED).order_by("pk")
        ids = {i.kaltura_id for i in items if i.kaltura_id} | {
            i.parent_label for i in items if i.parent_label
        }
        for chunk in _chunks(ids):
            found.by_pk.update((e.pk, e) for e in live.filter(pk__in=chunk))
        for chunk in _chunks({i.uid for i in items if i.uid}):
            # Occurrences share their series' reference id: only the ical_uid is their own.
            own = Q(reference_id__in=chunk) & ~Q(recurrence_type=RecurrenceType.RECURRENCE)
            for event in live.filter(own | Q(ical_uid__in=chunk)):
                if event.reference_id in chunk and not event.is_occurrence:
                    found.by_reference.setdefault(event.reference_id, event)
                if event.ical_uid in chunk:
                    found.by_uid.setdefault(event.ical_uid, event)
        named = {pk for i in items for pk in i.resource_ids or ()}
        living = ScheduleResource.objects.for_partner(partner).exclude(status=ResourceStatus.DELETED)
        for chunk in _chunks(named):
            found.resources.update(living.filter(pk__in=chunk).values_list("pk", flat=True))
        matched = {e.pk for known in (found.by_pk, found.by_reference, found.by_uid) for e in known.values()}
        found.links = {pk: set() for pk in matched}
        for chunk in _chunks(matched):
            links = ScheduleEventResource.objects.filter(event_id__in=chunk)
            for event_id, resource_id in links.values_list("event_id", "resource_id"):
                found.links[event_id].add(resource_id)
        return found


# ---------------------------------------------------------------- applying


@dataclass
class _Plan:
    """What applying a VEVENT to a stored event would write; empty when it is already so."""

    changes: dict[str, Any] = field(default_factory=dict)
    resource_ids: tuple[int, ...] | None = None
    ical_uid: str = ""

    def __bool__(self) -> bool:
        return bool(self.changes) or self.resource_ids is not None or bool(self.ical_uid)


class _Import:
    """Applies the read VEVENTs: series first, so an override finds its series wherever it
    stands in the file; then single events, the new ones in batches; then occurrences."""

    def __init__(self, actor: scheduling.Actor, items: list[_Item], default_type: int):
        self.actor = actor
        self.items = items
        self.default_type = default_type
        self.results: dict[int, RowResult] = {}
        self.stored = _Stored.look_up(actor.partner, [i for i in items if i.error is None])
        # Series of this file once applied, by UID and by the X-KALTURA-ID the file gives them:
        # an exported occurrence names its series by that id, even another partner's.
        self.series: dict[str | int, int] = {}
        self.failed_series: dict[str | int, int] = {}  # UID or X-KALTURA-ID -> its VEVENT's index

    def run(self) -> list[RowResult]:
        items = list(self._usable())
        for item in items:
            if item.is_series:
                self._series(item)
        uids = Counter(item.uid for item in items)
        rest = [item for item in items if not item.is_series]
        standalone = {item.line for item in rest if item.is_occurrence and self._standalone(item, uids)}
        self._singles([item for item in rest if not item.is_occurrence or item.line in standalone])
        for item in rest:
            if item.is_occurrence and item.line not in standalone:
                self._occurrence(item)
        return [self.results[item.line] for item in self.items]

    def _standalone(self, item: _Item, uids: Counter[str]) -> bool:
        """An exported occurrence whose series is neither in the file nor stored: a feed lists
        occurrences alone (Kaltura's capture devices ask for recurrenceTypeIn=0,2), and to its
        readers each is an event of its own, so it is imported as one. Not when it names its
        slot (RECURRENCE-ID) or shares its UID with another VEVENT (Kaltura's occurrences of a
        series with a reference id): either only means something next to its series."""
        if item.recurrence_id is not None or uids[item.uid] > 1 or item.kaltura_id in self.stored.by_pk:
            return False
        known = self.stored.by_uid.get(item.uid)
        if known is not None and known.is_occurrence:
            return False
        try:
            self._series_of(item)
        except _RowError as error:
            return error.code == "SERIES_NOT_FOUND"
        return False

    def _usable(self) -> Iterable[_Item]:
        """The items that can be applied; the others get their error result now."""
        seen: dict[tuple[Any, Any], int] = {}
        for item in self.items:
            if item.error is None:
                try:
                    self._check(item, seen)
                except SchedulingError as error:
                    item.error = error
            if item.error is not None:
                self._fail(item, self._action(item, None), item.error)
            else:
                yield item

    def _check(self, item: _Item, seen: dict[tuple[Any, Any], int]) -> None:
        if not item.uid and item.kaltura_id not in self.stored.by_pk:
            raise _RowError(
                "MISSING_UID", "The VEVENT has no UID (and no X-KALTURA-ID of an event of this partner)."
            )
        key = (item.uid or item.kaltura_id, item.slot if item.is_occurrence else None)
        if key in seen:
            raise _RowError(
                "DUPLICATE_UID",
                f"VEVENT {seen[key]} has the same UID{' and RECURRENCE-ID' * item.is_occurrence}.",
            )
        seen[key] = item.line
        unknown = sorted(set(item.resource_ids or ()) - self.stored.resources)
        if unknown:
            raise _RowError(
                "RESOURCE_NOT_FOUND", f"X-KALTURA-RESOURCE-IDS: this partner has no resource {unknown[0]}."
            )

    # -------------------------------------------------------- series and single events

    def _target(self, item: _Item) -> ScheduleEvent | None:
        """The stored event a series or single VEVENT is about: by X-KALTURA-ID, then UID."""
        stored = self.stored
        if item.kaltura_id in stored.by_pk:
            return stored.by_pk[item.kaltura_id]
        if not item.uid:
            return None
        return stored.by_reference.get(item.uid) or stored.by_uid.get(item.uid)

    def _series(self, item: _Item) -> None:
        target = self._target(item)
        if target is None:
            self._create_series(item)
        else:
            self._update(item, target)
        keys = [k for k in (item.uid, item.kaltura_id) if k]
        result = self.results[item.line]
        for key in keys:
            if result.status == "ok":
                self.series[key] = result.object_id
            else:
                self.failed_series[key] = item.line

    def _create_series(self, item: _Item) -> None:
        try:
            with transaction.atomic():
                event = scheduling.create_event(
                    self.actor, self._new_data(item), resource_ids=item.resource_ids or (), ical_uid=item.uid
                )
                excluded = self._exclude(event, item.exdates)
        except SchedulingError as error:
            self._fail(item, "add", error)
            return
        note = f"; EXDATE cancelled {excluded} occurrence(s)" if excluded else ""
        self._ok(item, "add", event.pk, f"Created a series of {event.occurrences.count()} occurrences{note}.")

    def _singles(self, items: list[_Item]) -> None:
        new = []
        for item in items:
            target = self._target(item)
            if item.cancelled:
                self._cancel(item, target)
            elif target is not None:
                self._update(item, target)
            else:
                new.append(item)
        rows = [
            batch_scheduling.NewEvent(self._new_data(item), item.resource_ids or (), item.uid) for item in new
        ]
        for item, result in zip(new, batch_scheduling.create_events(self.actor, rows), strict=True):
            if isinstance(result, SchedulingError):
                self._fail(item, "add", result)
            else:
                self._ok(item, "add", result, "Created.")

    def _new_data(self, item: _Item) -> dict[str, Any]:
        assert item.start is not None and item.end is not None  # read for every non-cancel item
        data = {
            "type": self.default_type if item.type is None else item.type,
            "reference_id": item.uid,
            **item.values,
            "start": item.start.at,
            "end": item.end,
        }
        if item.is_series:
            data["recurrence_type"] = RecurrenceType.RECURRING
            data["recurrence"] = self._recurrence(item)
        return data

    def _recurrence(self, item: _Item) -> dict[str, Any]:
        assert item.rrule is not None and item.series_zone is not None
        return recurrence.from_rrule(item.rrule, time_zone=item.series_zone)

    # -------------------------------------------------------- occurrences

    def _occurrence(self, item: _Item) -> None:
        try:
            target, ical_uid = self._occurrence_target(item)
        except _RowError as error:
            if item.cancelled and error.code in ("SERIES_NOT_FOUND", "OCCURRENCE_NOT_FOUND"):
                self._cancel(item, None)
            else:
                self._fail(item, self._action(item, None), error)
            return
        if item.cancelled:
            self._cancel(item, target, ical_uid)
        else:
            self._update(item, target, ical_uid)

    def _occurrence_target(self, item: _Item) -> tuple[ScheduleEvent, str]:
        """The stored occurrence, and the UID to give it when it is known by its slot alone and
        the file names it by a UID of its own (as our export does)."""
        stored = self.stored
        if item.kaltura_id in stored.by_pk:
            named = stored.by_pk[item.kaltura_id]
            if named.is_series:
                raise _RowError(
                    "NOT_AN_OCCURRENCE",
                    f"X-KALTURA-ID {named.pk} is a series, but this VEVENT is one of its occurrences.",
                )
            return named, ""
        known = stored.by_uid.get(item.uid)
        if known is not None and known.is_occurrence:
            return known, ""
        series = self._series_of(item)
        occurrence = (
            series.occurrences.exclude(status=EventStatus.DELETED).filter(original_start=item.slot).first()
        )
        if occurrence is None:
            raise _RowError(
                "OCCURRENCE_NOT_FOUND",
                f"Series {series.pk} has no occurrence at {item.slot:%Y-%m-%d %H:%M}Z.",
            )
        shared = item.uid in (series.ical_uid, series.reference_id)
        return occurrence, "" if shared or item.uid == occurrence.ical_uid else item.uid

    def _series_of(self, item: _Item) -> ScheduleEvent:
        """An occurrence's series: the one its X-KALTURA-PARENT-ID names (a series of this file,
        or a stored one of the partner's), else the one with its UID."""
        for key in (item.parent_label, item.uid):
            if not key:
                continue
            if key in self.series:
                return scheduling.get_event(self.actor.partner, self.series[key])
            stored = self.stored.by_pk.get(key) if isinstance(key, int) else self._target(item)
            if stored is not None and stored.is_series:
                return stored
        for key in (item.parent_label, item.uid):
            if key in self.failed_series:
                raise _RowError(
                    "SERIES_NOT_IMPORTED", f"Its series (VEVENT {self.failed_series[key]}) was not imported."
                )
        raise _RowError(
            "SERIES_NOT_FOUND", "No series of this partner has this occurrence's UID or X-KALTURA-PARENT-ID."
        )

    # -------------------------------------------------------- updates and cancellations

    def _update(self, item: _Item, target: ScheduleEvent, ical_uid: str = "") -> None:
        try:
            plan = self._plan(item, target, ical_uid)
            excluded = self._active_slots(target, item.exdates) if item.is_series else []
            if not plan and not excluded:
                self._ok(item, "update", target.pk, "unchanged", "UNCHANGED")
                return
            with transaction.atomic():
                self._write(target, plan)
                excluded = self._exclude(target, item.exdates)
        except SchedulingError as error:
            self._fail(item, "update", error)
            return
        what = (
            sorted(plan.changes)
            + ["resources"] * (plan.resource_ids is not None)
            + ["UID"] * bool(plan.ical_uid)
        )
        if excluded:
            what.append(f"EXDATE cancelled {excluded} occurrence(s)")
        self._ok(item, "update", target.pk, f"Updated event {target.pk}: {', '.join(what)}.")

    def _plan(self, item: _Item, event: ScheduleEvent, ical_uid: str) -> _Plan:
        if item.type is not None and item.type != event.type:
            raise _RowError(
                "EVENT_TYPE_CANT_CHANGE",
                f"Event {event.pk} is of type {event.type}: X-KALTURA-TYPE {item.type} cannot change it.",
            )
        cleaned = input_rules.clean(input_rules.EVENT_RULES, item.values, kind=event.type, creating=False)
        changes = {k: v for k, v in cleaned.items() if not _same(k, getattr(event, k), v)}
        changes.update(self._time_changes(item, event))
        resources = item.resource_ids
        if resources is not None and set(resources) == self.stored.links.get(event.pk, set()):
            resources = None
        return _Plan(changes, resources, ical_uid)

    def _time_changes(self, item: _Item, event: ScheduleEvent) -> dict[str, Any]:
        assert item.start is not None and item.end is not None
        start, end = item.start.at, item.end
        if not item.is_series:
            if event.is_series:
                return {"recurrence_type": RecurrenceType.NONE, "start": start, "end": end}
            return {} if (event.start, event.end) == (start, end) else {"start": start, "end": end}
        data = self._recurrence(item)
        rule = recurrence.parse(data, default_zone=item.series_zone or "UTC")
        same = (
            event.is_series
            and event.recurrence == rule.as_dict()
            and event.duration == int((end - start).total_seconds())
            # A DTSTART off the rule is stored as the rule's first slot.
            and (
                event.start == start or recurrence.expand(rule, start, scheduling.limits())[0] == event.start
            )
        )
        if same:
            return {}
        return {"recurrence_type": RecurrenceType.RECURRING, "recurrence": data, "start": start, "end": end}

    def _write(self, event: ScheduleEvent, plan: _Plan) -> None:
        if plan.ical_uid:
            scheduling.set_ical_uid(self.actor, event.pk, plan.ical_uid)
        if plan.changes:
            scheduling.update_event(self.actor, event.pk, plan.changes)
        if plan.resource_ids is not None:
            scheduling.replace_resources(self.actor, event.pk, plan.resource_ids)

    def _active_slots(self, series: ScheduleEvent, exdates: list[datetime]) -> list[int]:
        if not exdates or not series.is_series:
            return []
        active = series.occurrences.filter(status=EventStatus.ACTIVE, original_start__in=exdates)
        return list(active.values_list("pk", flat=True))

    def _exclude(self, series: ScheduleEvent, exdates: list[datetime]) -> int:
        """EXDATE: cancel the series' occurrences in those slots (an exception each, as in the API)."""
        slots = self._active_slots(series, exdates)
        for occurrence_id in slots:
            scheduling.cancel_event(self.actor, occurrence_id)
        return len(slots)

    def _cancel(self, item: _Item, target: ScheduleEvent | None, ical_uid: str = "") -> None:
        if target is None:
            self._ok(
                item,
                "cancel",
                None,
                "Nothing to cancel: this partner has no such event.",
                "NOTHING_TO_CANCEL",
            )
            return
        if target.status == EventStatus.CANCELLED and not ical_uid:
            self._ok(item, "cancel", target.pk, "Already cancelled.", "ALREADY_CANCELLED")
            return
        try:
            with transaction.atomic():
                if ical_uid:
                    scheduling.set_ical_uid(self.actor, target.pk, ical_uid)
                if target.status != EventStatus.CANCELLED:
                    scheduling.cancel_event(self.actor, target.pk)
        except SchedulingError as error:
            self._fail(item, "cancel", error)
            return
        self._ok(item, "cancel", target.pk, f"Cancelled event {target.pk}.")

    # -------------------------------------------------------- results

    def _action(self, item: _Item, target: ScheduleEvent | None) -> str:
        if item.cancelled:
            return "cancel"
        if item.is_occurrence:  # an occurrence is made by its series, never added on its own
            return "update"
        return "add" if target is None and self._target(item) is None else "update"

    def _ok(self, item: _Item, action: str, object_id: int | None, reason: str, code: str = "") -> None:
        self.results[item.line] = RowResult(
            item.line, action, "ok", object_id, reason, code, item.row, item.uid
        )

    def _fail(self, item: _Item, action: str, error: SchedulingError) -> None:
        self.results[item.line] = RowResult(
            item.line, action, "error", None, _reason(error), error.code, item.row, item.uid
        )


def _same(name: str, stored: Any, wanted: Any) -> bool:
    if name == "tags":
        return _tag_list(stored) == _tag_list(wanted)
    return stored == wanted


def _reason(error: SchedulingError) -> str:
    if isinstance(error, NotFound):
        return f"No {error.kind} {error.object_id} was found."
    if isinstance(error, ValidationFailed):
        name = error.field.split(".")[0]
        return f"{FIELD_PROPERTIES.get(name, error.field)}: {error.message}"
    if isinstance(error, ConflictDetected):
        return error.message
    return error.message
