"""Time zones of one iCalendar file, resolved for import: TZIDs (IANA, Windows and vendor
names, a file's own VTIMEZONEs), floating times and X-WR-TIMEZONE, read into UTC moments. What
a file reads as depends on that file alone (see Zones).

Read leniently, apply strictly (issue #18): a time whose zone had to be guessed is read, and
its Moment says what was guessed (`guess`, a warning on the row), rather than failing the row."""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from icalendar import Calendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from calendar_app import recurrence
from calendar_app.imports.row_results import RowError

FIRST_YEAR, LAST_YEAR = 1900, 2999
X_WR_TIMEZONE = "X-WR-TIMEZONE"


@dataclass(frozen=True)
class Moment:
    at: datetime  # UTC
    zone: str | None  # the IANA zone the wall time was read in; None: a zone only the file defines
    wall: datetime  # as written (midnight for a date), or in `zone` for a UTC time it was read in
    all_day: bool = False
    tzid: str = ""  # the TZID it was read with
    guess: str = ""  # for people: what had to be guessed to read it; "" when nothing was


@dataclass(frozen=True)
class _Zone:
    """A TZID resolved: the zone, its IANA name (None: the file's VTIMEZONE) and the guess made."""

    tz: tzinfo
    iana: str | None
    guess: str = ""


class Zones:
    """TZIDs of one file, resolved. A name tzdata or Windows knows wins over a VTIMEZONE of the
    same name in the file (tzdata is maintained; some producers, Kaltura among them, write
    wrong VTIMEZONE rules); a TZID only the file defines is read with the file's VTIMEZONE, and
    a VTIMEZONE that cannot be read fails the VEVENTs that name it (ICAL_BAD_VTIMEZONE). A TZID
    nobody defines is read, if it is an Outlook display name, in the zone of a city it lists,
    else as a floating time (see _zoned).

    icalendar resolves TZIDs too, from a cache of VTIMEZONEs by TZID that lives as long as the
    process (and that another file, another partner's, may have filled). So we take the wall time
    icalendar read and resolve the TZID ourselves, from this file's components only.

    Floating times are read in the partner's zone, or in their calendar's X-WR-TIMEZONE when it
    names a zone (Google's exports): `for_calendar` gives the view for one VCALENDAR of the file;
    Zones itself takes the X-WR-TIMEZONE all of the file's calendars agree on. The rule is
    x_wr_timezone's (recurring_ical_events applies it), but not its to_standard: that rewrites a
    whole calendar into zoned values, losing what a row is warned of, and raises on a name
    zoneinfo does not know."""

    def __init__(self, partner_zone: str, calendars: list[Calendar]):
        self.partner_zone = partner_zone
        self.defined = {
            str(c["TZID"]): c
            for cal in calendars
            for c in cal.subcomponents
            if c.name == "VTIMEZONE" and "TZID" in c
        }
        self.cache: dict[str, _Zone | RowError | None] = {}  # None: a TZID nobody defines
        self.equivalents: dict[tuple[str, int], str | None] = {}  # (TZID, year) -> IANA zone
        named = {_x_wr_timezone(calendar) for calendar in calendars}
        # The X-WR-TIMEZONE as written, and the IANA zone it names (None: none, or one nobody knows).
        self.x_wr_timezone, self.calendar_zone = named.pop() if len(named) == 1 else ("", None)

    def for_calendar(self, calendar: Calendar) -> Zones:
        """These zones as `calendar`, one VCALENDAR of the file, reads floating times: in its own
        X-WR-TIMEZONE. The view shares what was resolved (TZIDs are the file's, not a calendar's)."""
        view = copy.copy(self)
        view.x_wr_timezone, view.calendar_zone = _x_wr_timezone(calendar)
        return view

    def moment(self, value: Any, name: str, tzid: Any = None) -> Moment:
        """`value` read as a moment; `tzid`, when given, is the TZID of the line it is one of."""
        when = getattr(value, "dt", None)
        if isinstance(when, date) and not FIRST_YEAR <= when.year <= LAST_YEAR:
            # Far dates overflow time arithmetic (a zone's offset, a series' horizon).
            raise RowError("DATE_OUT_OF_RANGE", f"{name} must fall between {FIRST_YEAR} and {LAST_YEAR}.")
        if isinstance(when, datetime):
            tzid = tzid or value.params.get("TZID")
            wall = when.replace(tzinfo=None)
            if tzid:
                return self._zoned(wall, str(tzid))
            if when.tzinfo is not None:  # "…Z"
                return self._utc_moment(when.astimezone(UTC))
            return self._floating(wall)
        if isinstance(when, date):  # all day, in the partner's zone
            wall = datetime(when.year, when.month, when.day)
            zone = ZoneInfo(self.partner_zone)
            return Moment(recurrence.to_utc(wall, zone), self.partner_zone, wall, all_day=True)
        raise RowError("ICAL_BAD_PROPERTY", f"{name} must be a date or a date and time.")

    def _zoned(self, wall: datetime, tzid: str) -> Moment:
        found = self.zone(tzid, wall)
        if found is None:
            # A TZID that neither a zone database nor the file defines: read as a floating time.
            # icalendar gives it as floating, and recurring_ical_events (the corpus' reference)
            # reads it in the calendar's X-WR-TIMEZONE when there is one; khal, a calendar
            # client, reads it in the user's zone (its own test of khal__event_dtr_no_tz_exdatez
            # in the corpus). The row is kept, with the guess said.
            zone, where = self._floating_zone()
            at = recurrence.to_utc(wall, ZoneInfo(zone))
            guess = f'TZID "{tzid}" names no known zone and the file defines none: read in {where}.'
            return Moment(at, zone, wall, tzid=tzid, guess=guess)
        return Moment(self._utc(wall, found.tz, tzid), found.iana, wall, tzid=tzid, guess=found.guess)

    def _utc_moment(self, at: datetime) -> Moment:
        # x_wr_timezone (which recurring_ical_events applies) moves UTC times into the calendar's
        # X-WR-TIMEZONE too: the instant stays, and a series from it repeats at that zone's
        # wall time across DST, as recurring_ical_events expands it. Nothing is guessed.
        if self.calendar_zone:
            zone = ZoneInfo(self.calendar_zone)
            return Moment(at, self.calendar_zone, at.astimezone(zone).replace(tzinfo=None))
        return Moment(at, "UTC", at.replace(tzinfo=None))

    def _floating(self, wall: datetime) -> Moment:
        zone, where = self._floating_zone()
        # The partner's zone is the documented rule for a floating time: no guess. The
        # calendar's X-WR-TIMEZONE is a vendor's word, not RFC 5545's: said, as is one ignored.
        guess = ""
        if self.calendar_zone:
            guess = f"A floating time is read in {where}."
        elif self.x_wr_timezone:
            ignored = self.x_wr_timezone
            guess = f'A floating time is read in {where}: X-WR-TIMEZONE "{ignored}" names no known zone.'
        return Moment(recurrence.to_utc(wall, ZoneInfo(zone)), zone, wall, guess=guess)

    def _floating_zone(self) -> tuple[str, str]:
        """The zone a floating time is read in, and how people are told where that is."""
        if self.calendar_zone:
            return self.calendar_zone, f"the calendar's X-WR-TIMEZONE {self.calendar_zone}"
        return self.partner_zone, f"the partner's zone {self.partner_zone}"

    def to_utc(self, wall: datetime, like: Moment) -> datetime:
        """`wall` read in the zone `like` was read in."""
        if like.zone:
            return recurrence.to_utc(wall, ZoneInfo(like.zone))
        found = self.zone(like.tzid, like.wall)
        assert found is not None  # a moment without a zone was read with the file's VTIMEZONE
        return self._utc(wall, found.tz, like.tzid)

    def _utc(self, wall: datetime, zone: tzinfo, tzid: str | None) -> datetime:
        try:
            return recurrence.to_utc(wall, zone)
        except (ValueError, TypeError, ArithmeticError) as error:
            if tzid is None or _known_zone(tzid) is not None:
                raise
            # A zone the file's VTIMEZONE made, whose rules give no offset for this time.
            raise _bad_vtimezone(tzid, error) from None

    def zone(self, tzid: str, wall: datetime) -> _Zone | None:
        """The zone `tzid` names, or None when nothing defines it. `wall`, a time read in it,
        checks the offset an Outlook display name states (the first one read decides)."""
        if tzid not in self.cache:
            try:
                self.cache[tzid] = self._resolve(tzid, wall)
            except RowError as error:
                if error.code != "ICAL_BAD_VTIMEZONE":
                    raise
                self.cache[tzid] = error  # read once: every VEVENT naming it fails alike
        found = self.cache[tzid]
        if isinstance(found, RowError):
            raise found
        return found

    def _resolve(self, tzid: str, wall: datetime) -> _Zone | None:
        iana = _known_zone(tzid)
        if iana is not None:
            return _Zone(ZoneInfo(iana), iana)
        if tzid in self.defined:
            try:
                # Made afresh from this file's component (lookup_tzid=False): never icalendar's cache.
                return _Zone(self.defined[tzid].to_tz(lookup_tzid=False), None)
            except Exception as error:  # noqa: BLE001  (icalendar's word for any rule it cannot use)
                raise _bad_vtimezone(tzid, error) from None
        iana = _display_name_zone(tzid, wall.year)
        if iana is not None:
            return _Zone(ZoneInfo(iana), iana, f'TZID "{tzid}" read as {iana}, the zone of a city it names.')
        return None

    def iana(self, start: Moment) -> str:
        """An IANA zone for a series whose DTSTART names a zone only the file defines: one that
        agrees with it on every day of the year from the start (the partner's zone first)."""
        key = (start.tzid, start.at.year)
        if key not in self.equivalents:
            found = self.zone(start.tzid, start.wall)
            assert found is not None  # a moment without a zone was read with the file's VTIMEZONE
            try:
                self.equivalents[key] = _equivalent_zone(found.tz, start.at, self.partner_zone)
            except (ValueError, TypeError, ArithmeticError) as error:
                raise _bad_vtimezone(start.tzid, error) from None
        equivalent = self.equivalents[key]
        if equivalent is None:
            raise RowError(
                "UNKNOWN_TIME_ZONE",
                f"The time zone {start.tzid!r} the file's VTIMEZONE defines agrees with no IANA zone "
                "over the year from DTSTART, and a series needs one to repeat in: name an IANA zone "
                "such as Europe/Berlin in DTSTART's TZID.",
            )
        return equivalent


def _bad_vtimezone(tzid: str, error: Exception) -> RowError:
    return RowError(
        "ICAL_BAD_VTIMEZONE",
        f"The file's VTIMEZONE {tzid!r} cannot be read ({error or type(error).__name__}): "
        "fix its rules, or name an IANA zone such as Europe/Berlin in the TZID.",
    )


def _x_wr_timezone(calendar: Calendar) -> tuple[str, str | None]:
    """A calendar's X-WR-TIMEZONE as written ("" when it has none) and the IANA zone it names
    (by any name _known_zone reads). x_wr_timezone fails a whole calendar on a name it does not
    know; we read the calendar without it."""
    named = str(calendar.get(X_WR_TIMEZONE, "")).strip()
    return named, _known_zone(named) if named else None


def _known_zone(tzid: str) -> str | None:
    """The IANA name for a TZID: itself, a Windows name's (CLDR's mapping, as icalendar keeps
    it), or the tail of a "globally unique" TZID such as /freeassociation.sourceforge.net/Europe/Berlin
    (RFC 5545 §3.2.19)."""
    cleaned = tzid.strip().strip("/")
    candidates = [cleaned, WINDOWS_TO_OLSON.get(cleaned, "")]
    parts = cleaned.split("/")
    candidates += ["/".join(parts[i:]) for i in range(1, len(parts))]
    for candidate in candidates:
        if candidate and _is_zone(candidate):
            return candidate
    return None


# Outlook and Exchange name a zone by its Windows display name when they write no Windows id:
# "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", older ones
# "(GMT+01.00) Amsterdam / Berlin / …". No maintained table of these names is published (CLDR
# maps Windows ids only), so the cities are looked up in tzdata's own zone names.
_DISPLAY_NAME = re.compile(r"\(\s*(?:UTC|GMT)\s*(?:([+-])(\d{1,2})[:.]?(\d{2})?)?\s*\)\s*(.+)", re.IGNORECASE)


def _display_name_zone(tzid: str, year: int) -> str | None:
    """The zone of the first city a display name lists whose offset is the one it states."""
    match = _DISPLAY_NAME.fullmatch(tzid.strip())
    if match is None:
        return None
    sign, hours, minutes, cities = match.groups()
    stated = timedelta(hours=int(hours or 0), minutes=int(minutes or 0)) * (-1 if sign == "-" else 1)
    for city in re.split(r"\s*[,/;]\s*", cities):
        zone = _zones_by_city().get(city.strip().replace(" ", "_").casefold())
        if zone is not None and stated in _offsets(ZoneInfo(zone), year):
            return zone
    return None


def _offsets(zone: ZoneInfo, year: int) -> set[timedelta | None]:
    """A zone's offsets in winter and in summer of `year` (a display name states standard time)."""
    return {datetime(year, month, 15, tzinfo=zone).utcoffset() for month in (1, 7)}


@functools.cache
def _zones_by_city() -> dict[str, str]:
    """IANA zones by the city that names them ("berlin" -> Europe/Berlin); the first in sorted
    order wins where two name the same city (America/Argentina/Buenos_Aires, America/Buenos_Aires)."""
    found: dict[str, str] = {}
    for name in _zone_names():
        if "/" in name and not name.startswith("Etc/"):
            found.setdefault(name.rsplit("/", 1)[1].casefold(), name)
    return found


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
