"""Time zones of one iCalendar file, resolved for import: TZIDs (IANA, Windows and vendor
names, a file's own VTIMEZONEs) and floating times, read into UTC moments. What a file reads as
depends on that file alone (see Zones)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from icalendar import Calendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from calendar_app import recurrence
from calendar_app.imports.row_results import RowError

FIRST_YEAR, LAST_YEAR = 1900, 2999


@dataclass(frozen=True)
class Moment:
    at: datetime  # UTC
    zone: str | None  # the IANA zone the wall time was read in; None: a zone only the file defines
    wall: datetime  # as written (midnight for a date)
    all_day: bool = False
    tzid: str = ""  # the TZID it was read with


class Zones:
    """TZIDs of one file, resolved. A name tzdata or Windows knows wins over a VTIMEZONE of the
    same name in the file (tzdata is maintained; some producers, Kaltura among them, write
    wrong VTIMEZONE rules); a TZID only the file defines is read with the file's VTIMEZONE, and
    a VTIMEZONE that cannot be read fails the VEVENTs that name it (ICAL_BAD_VTIMEZONE).

    icalendar resolves TZIDs too, from a cache of VTIMEZONEs by TZID that lives as long as the
    process (and that another file, another partner's, may have filled). So we take the wall time
    icalendar read and resolve the TZID ourselves, from this file's components only."""

    def __init__(self, partner_zone: str, calendars: list[Calendar]):
        self.partner_zone = partner_zone
        self.defined = {
            str(c["TZID"]): c
            for cal in calendars
            for c in cal.subcomponents
            if c.name == "VTIMEZONE" and "TZID" in c
        }
        self.cache: dict[str, tuple[tzinfo, str | None] | RowError] = {}
        self.equivalents: dict[tuple[str, int], str | None] = {}  # (TZID, year) -> IANA zone

    def moment(self, value: Any, name: str, tzid: Any = None) -> Moment:
        """`value` read as a moment; `tzid`, when given, is the TZID of the line it is one of."""
        when = getattr(value, "dt", None)
        if isinstance(when, date) and not FIRST_YEAR <= when.year <= LAST_YEAR:
            # Far dates overflow time arithmetic (a zone's offset, a series' horizon).
            raise RowError("DATE_OUT_OF_RANGE", f"{name} must fall between {FIRST_YEAR} and {LAST_YEAR}.")
        if isinstance(when, datetime):
            tzid = tzid or value.params.get("TZID")
            if tzid:
                tzid = str(tzid)
                zone, iana = self.zone(tzid, name)
            elif when.tzinfo is not None:  # "…Z"
                return Moment(when.astimezone(UTC), "UTC", when.replace(tzinfo=None))
            else:  # floating: the partner's wall clock
                zone, iana = ZoneInfo(self.partner_zone), self.partner_zone
            wall = when.replace(tzinfo=None)
            return Moment(self._utc(wall, zone, tzid), iana, wall, tzid=tzid or "")
        if isinstance(when, date):  # all day, in the partner's zone
            wall = datetime(when.year, when.month, when.day)
            zone = ZoneInfo(self.partner_zone)
            return Moment(recurrence.to_utc(wall, zone), self.partner_zone, wall, all_day=True)
        raise RowError("ICAL_BAD_PROPERTY", f"{name} must be a date or a date and time.")

    def to_utc(self, wall: datetime, like: Moment) -> datetime:
        """`wall` read in the zone `like` was read in."""
        if like.zone:
            return recurrence.to_utc(wall, ZoneInfo(like.zone))
        return self._utc(wall, self.zone(like.tzid, "DTSTART")[0], like.tzid)

    def _utc(self, wall: datetime, zone: tzinfo, tzid: str | None) -> datetime:
        try:
            return recurrence.to_utc(wall, zone)
        except (ValueError, TypeError, ArithmeticError) as error:
            if tzid is None or _known_zone(tzid) is not None:
                raise
            # A zone the file's VTIMEZONE made, whose rules give no offset for this time.
            raise _bad_vtimezone(tzid, error) from None

    def zone(self, tzid: str, name: str) -> tuple[tzinfo, str | None]:
        if tzid not in self.cache:
            try:
                self.cache[tzid] = self._resolve(tzid, name)
            except RowError as error:
                if error.code != "ICAL_BAD_VTIMEZONE":
                    raise
                self.cache[tzid] = error  # read once: every VEVENT naming it fails alike
        found = self.cache[tzid]
        if isinstance(found, RowError):
            raise found
        return found

    def _resolve(self, tzid: str, name: str) -> tuple[tzinfo, str | None]:
        iana = _known_zone(tzid)
        if iana is not None:
            return ZoneInfo(iana), iana
        if tzid in self.defined:
            try:
                # Made afresh from this file's component (lookup_tzid=False): never icalendar's cache.
                return self.defined[tzid].to_tz(lookup_tzid=False), None
            except Exception as error:  # noqa: BLE001  (icalendar's word for any rule it cannot use)
                raise _bad_vtimezone(tzid, error) from None
        raise RowError(
            "UNKNOWN_TIME_ZONE",
            f"{name} names the time zone {tzid!r}, which is neither an IANA or Windows zone name "
            "nor defined by a VTIMEZONE in the file.",
        )

    def iana(self, start: Moment) -> str:
        """An IANA zone for a series whose DTSTART names a zone only the file defines: one that
        agrees with it on every day of the year from the start (the partner's zone first)."""
        key = (start.tzid, start.at.year)
        if key not in self.equivalents:
            zone = self.zone(start.tzid, "DTSTART")[0]
            try:
                self.equivalents[key] = _equivalent_zone(zone, start.at, self.partner_zone)
            except (ValueError, TypeError, ArithmeticError) as error:
                raise _bad_vtimezone(start.tzid, error) from None
        found = self.equivalents[key]
        if found is None:
            raise RowError(
                "UNKNOWN_TIME_ZONE",
                f"The time zone {start.tzid!r} the file defines matches no IANA zone, and a series "
                "needs one to repeat in: name an IANA zone in DTSTART's TZID.",
            )
        return found


def _bad_vtimezone(tzid: str, error: Exception) -> RowError:
    return RowError(
        "ICAL_BAD_VTIMEZONE",
        f"The file's VTIMEZONE {tzid!r} cannot be read ({error or type(error).__name__}): "
        "fix its rules, or name an IANA zone such as Europe/Berlin in the TZID.",
    )


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
