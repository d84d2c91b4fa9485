"""Reading an iCalendar file for import: bytes in, one `Item` per VEVENT out, with
times in UTC and properties as domain fields, or the reason it cannot be applied. The whole
file is refused (FileRefused) only when it cannot be read at all. No database here: the
partner only lends its zone; ical_apply.py applies the items.

Kaltura's importer has quirks we fix rather than copy: we parse with the `icalendar` library
(folding, escaping, LF-only files, VTIMEZONE, VALUE=DATE), convert local times at their own
date's offset, and cancel on STATUS:CANCELLED as well as METHOD:CANCEL.

What a file reads as depends on that file alone: TZIDs are resolved from its own VTIMEZONEs
(see ical_zones.Zones and _Calendar), never from what an earlier upload, any partner's, defined. A VEVENT
that cannot be read for a reason nobody foresaw fails alone (INTERNAL_ERROR, logged).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from icalendar import Calendar, Component
from icalendar.parser.ical.component import ComponentIcalParser
from icalendar.prop import vDDDTypes

from calendar_app.errors import SchedulingError
from calendar_app.imports.ical_zones import Moment, Zones
from calendar_app.imports.row_results import INTERNAL_ERROR, FileRefused, RowError, read_text, unexpected
from calendar_app.models import (
    ClassificationType,
    Partner,
)

logger = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MAX_EVENTS = 20_000
# Components of any kind per VEVENT allowed (alarms, zones and their rules): a cap on the
# parser's work that no real file comes near.
COMPONENTS_PER_EVENT = 4
MAX_UID = 255  # ScheduleEvent.ical_uid

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


# ---------------------------------------------------------------- the file


def parse(data: bytes, max_bytes: int, max_events: int) -> list[Calendar]:
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
        parsed = _Calendar.from_ical(data, multiple=True)
    except Exception as error:  # noqa: BLE001  (the parser's word for any unreadable input)
        raise FileRefused("ICAL_MALFORMED", f"The file cannot be read as iCalendar: {error}") from None
    calendars = [c for c in parsed if c.name == "VCALENDAR"]
    if not calendars:
        raise FileRefused(
            "ICAL_MALFORMED", "The file has no complete VCALENDAR (BEGIN:VCALENDAR … END:VCALENDAR)."
        )
    return calendars


class _Parser(ComponentIcalParser):
    """icalendar's parser (its template methods are meant to be refined), less its process-wide
    state. At each VTIMEZONE's END it caches the zone by TZID for the life of the process, unless
    the TZID is cached already; so a malformed VTIMEZONE refused the whole file, or passed, by
    what an earlier upload of any partner had defined. ical_zones.Zones builds the zones of each file from
    its own VTIMEZONEs, so nothing of them is cached. The base, unlike icalendar's calendar
    parser, does not parse a file twice when a VTIMEZONE follows the VEVENTs that name it (that
    second pass only serves the cache)."""

    def handle_end_component(self, vals: str) -> None:
        super().handle_end_component("" if vals.upper() == "VTIMEZONE" else vals)


class _Calendar(Calendar):
    @classmethod
    def _get_ical_parser(cls, st: str | bytes) -> ComponentIcalParser:
        return _Parser(st, cls._get_component_factory(), cls.types_factory)


def vevents(calendars: list[Calendar]) -> Iterable[tuple[Component, bool]]:
    """Each VEVENT of the file, in order, with whether its calendar's METHOD cancels it."""
    for calendar in calendars:
        cancel = str(calendar.get("METHOD", "")).upper() == "CANCEL"
        for component in calendar.subcomponents:
            if component.name == "VEVENT":
                yield component, cancel


# ---------------------------------------------------------------- one VEVENT, read


@dataclass
class Item:
    """One VEVENT, read: what it asks for, or why it cannot be applied."""

    line: int
    uid: str
    row: dict[str, str]
    error: SchedulingError | None = None
    cancelled: bool = False
    kaltura_id: int | None = None
    parent_label: int | None = None  # X-KALTURA-PARENT-ID
    recurrence_id: datetime | None = None
    start: Moment | None = None
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


class Reader:
    """Reads VEVENTs into _Items: times in UTC, properties as domain fields."""

    def __init__(self, partner: Partner, calendars: list[Calendar], name: str = "import"):
        self.zones = Zones(partner.zone.key, calendars)
        self.name = name  # what the log calls the import

    def item(self, line: int, component: Component, cancel: bool) -> Item:
        # A plain dict of the properties (name -> value, or list of values when repeated):
        # read a dozen times per VEVENT, it is faster than the component's case-folding one.
        props = dict(component.items())
        item = Item(line, _text(props.get("UID", "")).strip(), _row(props))
        try:
            if component.errors:
                name, message = component.errors[0]
                raise RowError("ICAL_BAD_PROPERTY", f"{name or 'A line'} cannot be read: {message}")
            self._read(item, props, cancel)
        except SchedulingError as error:
            item.error = error
        except Exception as error:  # a bug, or a value a library refuses: this VEVENT fails alone
            item.error = RowError(INTERNAL_ERROR, unexpected(self.name, line, error))
        return item

    def _read(self, item: Item, props: _Props, cancel: bool) -> None:
        item.kaltura_id = _integer(props, "X-KALTURA-ID")
        item.parent_label = _integer(props, "X-KALTURA-PARENT-ID")
        if len(item.uid) > MAX_UID:
            raise RowError(
                "UID_TOO_LONG", f"The UID is {len(item.uid)} characters long; at most {MAX_UID} are kept."
            )
        status = _text(props.get("STATUS", "")).upper()
        item.cancelled = cancel or status == "CANCELLED" or _text(props.get("METHOD", "")).upper() == "CANCEL"
        if "RECURRENCE-ID" in props:
            recurrence_id = _single(props, "RECURRENCE-ID")
            if str(recurrence_id.params.get("RANGE", "")).upper() == "THISANDFUTURE":
                raise RowError("ICAL_UNSUPPORTED", "RECURRENCE-ID with RANGE=THISANDFUTURE is not supported.")
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

    def _times(self, item: Item, props: _Props) -> None:
        if "DTSTART" not in props:
            raise RowError("MISSING_DTSTART", "The VEVENT has no DTSTART: its start is required.")
        start = self.zones.moment(_single(props, "DTSTART"), "DTSTART")
        item.start = start
        item.end = self._end(props, start)
        if "RRULE" in props and not item.is_occurrence:
            self._series(item, props, start)

    def _end(self, props: _Props, start: Moment) -> datetime:
        if "DTEND" in props:
            end = self.zones.moment(_single(props, "DTEND"), "DTEND")
            if end.all_day != start.all_day:
                raise RowError(
                    "ICAL_BAD_DTEND", "DTEND must be a date when DTSTART is one, and a time when it is."
                )
            return end.at
        if "DURATION" in props:
            length = _single(props, "DURATION").dt
            if not isinstance(length, timedelta):
                raise RowError("ICAL_BAD_PROPERTY", "DURATION must be a duration such as PT1H30M.")
            # Days are nominal (RFC 5545 §3.3.6): "P1D" ends at the same wall time the next day.
            wall = start.wall + timedelta(days=length.days)
            return self.zones.to_utc(wall, start) + timedelta(seconds=length.seconds)
        if start.all_day:  # RFC 5545 §3.6.1: an all-day event without an end lasts the day
            return self.zones.to_utc(start.wall + timedelta(days=1), start)
        return start.at  # ... and one at a time of day takes no time

    def _series(self, item: Item, props: _Props, start: Moment) -> None:
        rules = props["RRULE"]
        if isinstance(rules, list):
            raise RowError("ICAL_UNSUPPORTED", "The VEVENT has more than one RRULE; one is supported.")
        if "RDATE" in props:
            raise RowError("ICAL_UNSUPPORTED", "RDATE (dates outside the RRULE) is not supported.")
        item.rrule = rules.to_ical().decode()
        if "COUNT" not in rules and "UNTIL" not in rules:
            raise RowError(
                "RECURRENCE_UNBOUNDED",
                "The RRULE has neither COUNT nor UNTIL: open-ended series are not supported.",
            )
        item.series_zone = start.zone or self.zones.iana(start)
        exdates = props.get("EXDATE", [])
        for listed in exdates if isinstance(exdates, list) else [exdates]:
            # The TZID is the line's: icalendar gives its values one only for a zone it knows.
            tzid = listed.params.get("TZID")
            item.exdates += [self.zones.moment(value, "EXDATE", tzid).at for value in listed.dts]


def _single(props: _Props, name: str) -> Any:
    value = props[name]
    if isinstance(value, list):
        raise RowError("ICAL_BAD_PROPERTY", f"The VEVENT has {len(value)} {name} properties; one is allowed.")
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
        raise RowError("ICAL_BAD_PROPERTY", f"{name} {value!r} is not an id.")
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
            raise RowError("RESOURCE_NOT_FOUND", f"X-KALTURA-RESOURCE-IDS: {part!r} is not a resource id.")
        ids.append(int(part))
    return tuple(dict.fromkeys(ids))


def _values(props: _Props) -> dict[str, Any]:
    """The content fields the VEVENT sets: only the properties it has (see the module doc)."""
    values: dict[str, Any] = {}
    for name, target in TEXT_PROPERTIES.items():
        if name in props:
            values[target] = "\n".join(str(v) for v in _all(props, name))
    if "ORGANIZER" in props:
        values["organizer"] = without_mailto(str(_single(props, "ORGANIZER")))
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


def without_mailto(organizer: str) -> str:
    """An ORGANIZER as the field keeps it: the address, without the URI's `mailto:`."""
    return organizer[7:] if organizer.lower().startswith("mailto:") else organizer


def tag_list(tags: str) -> list[str]:
    return [t.strip() for t in tags.split(",") if t.strip()]


def read(
    partner: Partner,
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_events: int = MAX_EVENTS,
    name: str = "import",
) -> list[Item]:
    """Each VEVENT of the file, read, in file order. `name` is what the log calls the import."""
    calendars = parse(data, max_bytes, max_events)
    reader = Reader(partner, calendars, name)
    return [reader.item(line, event, cancel) for line, (event, cancel) in enumerate(vevents(calendars))]
