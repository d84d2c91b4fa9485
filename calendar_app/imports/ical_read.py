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

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component
from icalendar.parser.ical.component import ComponentIcalParser
from icalendar.prop import vDDDTypes
from icalendar.prop.broken import vBroken

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
_END_VCALENDAR = re.compile(rb"^END:VCALENDAR", re.IGNORECASE | re.MULTILINE)  # "END:VCALENDARD" reads too

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


def parse(data: bytes, max_bytes: int, max_events: int) -> tuple[list[Calendar], list[str]]:
    """The VCALENDARs of the file, and what had to be assumed to read it (warnings for every
    row). Every refusal comes before anything is applied, and the cheap ones before the parser:
    100,000 components are counted, not parsed."""
    read_text(data, max_bytes=max_bytes, code="ICAL")
    data = data.removeprefix(b"\xef\xbb\xbf")  # a BOM, as some editors write it
    notes = []
    if not _VCALENDAR.search(data):
        if not _VEVENT.search(data):
            raise FileRefused(
                "ICAL_NOT_ICALENDAR",
                "The file is not iCalendar: it has neither BEGIN:VCALENDAR nor BEGIN:VEVENT.",
            )
        # A bare VEVENT, as khal, vdirsyncer and mail clients store one event a file: calendar
        # clients open it as a calendar of its own, and so do we.
        data = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + data.strip() + b"\r\nEND:VCALENDAR\r\n"
        notes.append("The file has no VCALENDAR around its VEVENTs: read as one calendar.")
    elif not _END_VCALENDAR.search(data):
        # Cut short (a truncated download, a hand-edited file): read as far as it goes.
        data = data.rstrip() + b"\r\nEND:VCALENDAR\r\n"
        notes.append("The file ends without END:VCALENDAR: read to its end.")
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
    return calendars, notes


class _Parser(ComponentIcalParser):
    """icalendar's parser (its template methods are meant to be refined), less its process-wide
    state. At each VTIMEZONE's END it caches the zone by TZID for the life of the process, unless
    the TZID is cached already; so a malformed VTIMEZONE refused the whole file, or passed, by
    what an earlier upload of any partner had defined. ical_zones.Zones builds the zones of each
    file from its own VTIMEZONEs, so nothing of them is cached. The base, unlike icalendar's
    calendar parser, does not parse a file twice when a VTIMEZONE follows the VEVENTs that name
    it (that second pass only serves the cache).

    A property that cannot be read is kept as icalendar's vBroken in every component, not only
    in VEVENTs: a bad TZOFFSETFROM in a VTIMEZONE no VEVENT uses refused the whole file (khal's
    invalid_tzoffset.ics); now only a VEVENT that names that zone fails (ICAL_BAD_VTIMEZONE)."""

    def handle_end_component(self, vals: str) -> None:
        super().handle_end_component("" if vals.upper() == "VTIMEZONE" else vals)

    def handle_property_parse_error(self, *args: Any) -> None:
        component: Any = self.component
        tolerant = component.ignore_exceptions
        component.ignore_exceptions = True  # an instance attribute: the class keeps its own
        try:
            super().handle_property_parse_error(*args)
        finally:
            component.ignore_exceptions = tolerant


class _Calendar(Calendar):
    @classmethod
    def _get_ical_parser(cls, st: str | bytes) -> ComponentIcalParser:
        return _Parser(st, cls._get_component_factory(), cls.types_factory)


def vevents(calendars: list[Calendar]) -> Iterable[tuple[Component, Calendar]]:
    """Each VEVENT of the file, in order, with its calendar."""
    for calendar in calendars:
        for component in calendar.subcomponents:
            if component.name == "VEVENT":
                yield component, calendar


# ---------------------------------------------------------------- one VEVENT, read


@dataclass
class Item:
    """One VEVENT, read: what it asks for, or why it cannot be applied, and what had to be
    guessed or left out to read it (`warnings`: the row's result reports them)."""

    line: int
    uid: str
    row: dict[str, str]
    error: SchedulingError | None = None
    warnings: list[str] = field(default_factory=list)
    cancelled: bool = False
    sequence: int = 0
    kaltura_id: int | None = None
    parent_label: int | None = None  # X-KALTURA-PARENT-ID
    recurrence_id: datetime | None = None
    recurrence_day: date | None = None  # RECURRENCE-ID's date, as written
    this_and_future: bool = False  # RECURRENCE-ID;RANGE=THISANDFUTURE
    start: Moment | None = None
    end: datetime | None = None
    rrule: str | None = None
    extra_rrules: list[str] = field(default_factory=list)  # RRULEs after the first
    rdates: dict[datetime, datetime | None] = field(default_factory=dict)  # start -> a PERIOD's end
    series_zone: str | None = None
    skipped_wall: bool = False  # DTSTART's clock time does not exist in its zone (a DST gap)
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
        return (self.rrule is not None or bool(self.rdates)) and not self.is_occurrence

    @property
    def slot(self) -> datetime | None:
        """The occurrence's place in its series: RECURRENCE-ID, else (as exported) its start."""
        return self.recurrence_id or (self.start.at if self.start else None)


_Props = dict[str, Any]  # a VEVENT's properties: name -> value, or a list of values
# Properties a calendar rewrites on every export: a UID made for a VEVENT without one ignores them.
_VOLATILE = frozenset({"DTSTAMP", "LAST-MODIFIED", "CREATED", "SEQUENCE"})


class Reader:
    """Reads VEVENTs into Items: times in UTC, properties as domain fields. Lenient: a VEVENT a
    calendar client would show is read, with a warning for each thing guessed or left out."""

    def __init__(self, partner: Partner, calendars: list[Calendar], name: str = "import", notes=()):
        self.zones = Zones(partner.zone.key, calendars)
        self.name = name  # what the log calls the import
        self.notes = list(notes)  # warnings about the whole file, repeated on every row
        self.made_uids: Counter[str] = Counter()
        self._calendar: Calendar | None = None
        self._calendar_zones = self.current = self.zones

    def item(self, line: int, component: Component, calendar: Calendar) -> Item:
        # A plain dict of the properties (name -> value, or list of values when repeated):
        # read a dozen times per VEVENT, it is faster than the component's case-folding one.
        props = dict(component.items())
        item = Item(line, _text(props.get("UID", "")).strip(), _row(props), warnings=list(self.notes))
        cancel = str(calendar.get("METHOD", "")).upper() == "CANCEL"
        self.current = self._zones_of(calendar)  # what this VEVENT's times are read with
        try:
            if component.errors:  # icalendar notes every property it kept as vBroken
                _leave_out_broken(item, component, props)
            if not item.uid:
                item.uid = self._made_uid(props)
                item.warnings.append(f"The VEVENT has no UID: it is given {item.uid}, the same each import.")
            self._read(item, props, cancel)
        except SchedulingError as error:
            item.error = error
        except Exception as error:  # a bug, or a value a library refuses: this VEVENT fails alone
            item.error = RowError(INTERNAL_ERROR, unexpected(self.name, line, error))
        return item

    def _zones_of(self, calendar: Calendar) -> Zones:
        """The zones as `calendar` reads floating times (its own X-WR-TIMEZONE)."""
        if calendar is not self._calendar:
            self._calendar, self._calendar_zones = calendar, self.zones.for_calendar(calendar)
        return self._calendar_zones

    def _made_uid(self, props: _Props) -> str:
        """A UID for a VEVENT without one, made from what it says (not from what changes at each
        export), so that importing the file again finds the same events; identical VEVENTs are
        told apart by their order."""
        text = "\n".join(f"{k}:{_text(v)}" for k, v in sorted(props.items()) if k not in _VOLATILE)
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        self.made_uids[digest] += 1
        repeat = self.made_uids[digest] - 1
        return f"made-{digest}" + (f"-{repeat}" if repeat else "")

    def _read(self, item: Item, props: _Props, cancel: bool) -> None:
        item.kaltura_id = _integer(props, "X-KALTURA-ID")
        item.parent_label = _integer(props, "X-KALTURA-PARENT-ID")
        item.sequence = (_integer(props, "SEQUENCE") or 0) if "SEQUENCE" in props else 0
        if len(item.uid) > MAX_UID:
            raise RowError(
                "UID_TOO_LONG", f"The UID is {len(item.uid)} characters long; at most {MAX_UID} are kept."
            )
        status = _text(props.get("STATUS", "")).upper()
        item.cancelled = cancel or status == "CANCELLED" or _text(props.get("METHOD", "")).upper() == "CANCEL"
        if "RECURRENCE-ID" in props:
            recurrence_id = _single(props, "RECURRENCE-ID")
            item.this_and_future = str(recurrence_id.params.get("RANGE", "")).upper() == "THISANDFUTURE"
            moment = self._moment(item, recurrence_id, "RECURRENCE-ID")
            item.recurrence_id, item.recurrence_day = moment.at, moment.wall.date()
        if item.cancelled:
            # A cancellation needs to say which event, nothing more; an exported occurrence
            # without RECURRENCE-ID says it by its start.
            if item.parent_label is not None and item.recurrence_id is None and "DTSTART" in props:
                item.start = self._moment(item, _single(props, "DTSTART"), "DTSTART")
            return
        self._times(item, props)
        item.type = _kaltura_type(props)
        item.resource_ids = _resource_ids(props)
        item.values = _values(props)

    def _moment(self, item: Item, value: Any, name: str, tzid: Any = None) -> Moment:
        """`value` read (ical_zones.Zones.moment), its guess, if any, a warning of the row."""
        moment = self.current.moment(value, name, tzid)
        if moment.guess and moment.guess not in item.warnings:
            item.warnings.append(moment.guess)
        return moment

    def _times(self, item: Item, props: _Props) -> None:
        if "DTSTART" not in props:
            raise RowError("MISSING_DTSTART", "The VEVENT has no readable DTSTART: its start is required.")
        start = self._moment(item, _single(props, "DTSTART"), "DTSTART")
        end = self._end(item, props, start)
        if not start.all_day and end is not None and end.all_day:
            # A calendar client reads a date as midnight in the zone of the time beside it.
            item.warnings.append("DTEND is a date but DTSTART a time: it is read as midnight.")
            end = replace(end, at=self.current.to_utc(end.wall, start))
        if start.all_day and end is not None and not end.all_day:
            item.warnings.append("DTSTART is a date but DTEND a time: it is read as midnight.")
            start = replace(start, at=self.current.to_utc(start.wall, end), all_day=False)
        item.start = start
        item.end = end.at if end is not None else self._default_end(item, start)
        if item.end < start.at:  # swapped, as calendar clients read it
            item.warnings.append("DTEND is before DTSTART: the two are read the other way round.")
            item.start = replace(start, at=item.end)
            item.end = start.at
        if ("RRULE" in props or "RDATE" in props) and not item.is_occurrence:
            self._series(item, props, item.start)

    def _end(self, item: Item, props: _Props, start: Moment) -> Moment | None:
        if "DTEND" in props:
            return self._moment(item, _single(props, "DTEND"), "DTEND")
        if "DURATION" in props:
            length = _single(props, "DURATION").dt
            if not isinstance(length, timedelta):
                item.warnings.append("DURATION is not a duration such as PT1H30M: left out.")
                return None
            # Days are nominal (RFC 5545 §3.3.6): "P1D" ends at the same wall time the next day.
            wall = start.wall + timedelta(days=length.days)
            at = self.current.to_utc(wall, start) + timedelta(seconds=length.seconds)
            return replace(start, at=at, wall=wall, guess="")
        return None

    def _default_end(self, item: Item, start: Moment) -> datetime:
        if start.all_day:  # RFC 5545 §3.6.1: an all-day event without an end lasts the day
            return self.current.to_utc(start.wall + timedelta(days=1), start)
        return start.at  # ... and one at a time of day takes no time

    def _series(self, item: Item, props: _Props, start: Moment) -> None:
        rules = [
            text for text in (rule.to_ical().decode() for rule in _all(props, "RRULE")) if text.strip(" ;")
        ]
        if "RRULE" in props and not rules:
            item.warnings.append("The RRULE is empty: left out.")
        if rules:
            item.rrule = rules[0]
            # More RRULEs (RFC 5545 allowed them once; some producers still write them): their
            # dates join the series as extra dates (ical_apply).
            item.extra_rrules = rules[1:]
        item.series_zone = start.zone or self.current.iana(start)
        item.skipped_wall = not start.all_day and _local(start.at, item.series_zone) != start.wall
        for listed in _all(props, "RDATE"):
            tzid = listed.params.get("TZID")
            for value in listed.dts:
                begin, end = self._rdate(item, value, tzid)
                item.rdates[begin] = end
        for listed in _all(props, "EXDATE"):
            # The TZID is the line's: icalendar gives its values one only for a zone it knows.
            tzid = listed.params.get("TZID")
            item.exdates += [self._moment(item, value, "EXDATE", tzid).at for value in listed.dts]

    def _rdate(self, item: Item, value: Any, tzid: Any) -> tuple[datetime, datetime | None]:
        """An RDATE value: a DATE, a DATE-TIME, or a PERIOD (a start and an end or duration)."""
        if not isinstance(value.dt, tuple):
            return self._moment(item, value, "RDATE", tzid).at, None
        first, second = value.dt
        begin = self._moment(item, _Value(first, value.params), "RDATE", tzid)
        if isinstance(second, timedelta):
            return begin.at, begin.at + second
        return begin.at, self._moment(item, _Value(second, value.params), "RDATE", tzid).at


@dataclass(frozen=True)
class _Value:
    """One part of a PERIOD, shaped as the property values Zones.moment reads."""

    dt: Any
    params: Any


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _leave_out_broken(item: Item, component: Component, props: _Props) -> None:
    """Properties icalendar could not read are left out, each a warning: the event is read from
    the rest, as a calendar client shows it (a missing DTSTART then refuses it)."""
    for name, message in component.errors:
        item.warnings.append(f"{name or 'A line'} cannot be read ({message}): left out.")
    for name, value in list(props.items()):
        if isinstance(value, list):
            kept = [v for v in value if not isinstance(v, vBroken)]
            if len(kept) != len(value):
                props[name] = kept if len(kept) > 1 else kept[0] if kept else None
        elif isinstance(value, vBroken):
            props[name] = None
    for name in [n for n, v in props.items() if v is None]:
        del props[name]


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
    calendars, notes = parse(data, max_bytes, max_events)
    reader = Reader(partner, calendars, name, notes)
    return [reader.item(line, event, calendar) for line, (event, calendar) in enumerate(vevents(calendars))]
