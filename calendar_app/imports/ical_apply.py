"""iCal bulk import: a file in, one result per VEVENT out. ical_read.py reads the file
into items; this module applies them.

Every write goes through scheduling.py with the caller's actor, so partner scoping, validation,
conflict enforcement and the audit trail are the API's own; a bad VEVENT is reported on its own
and never blocks the others: each one applies completely or not at all, in a savepoint of its
own, and one that meets a bug fails alone (INTERNAL_ERROR). VEVENTs are applied a chunk at a
time, each chunk with its results (row_results.apply_in_chunks). The whole file is refused
(FileRefused) only when it cannot be read at all, before anything is applied. No HTTP and no
job here: those call us.

Matching (the fixes to Kaltura's importer that need the database): X-KALTURA-RESOURCE-IDS are
linked, and an event is matched by its X-KALTURA-ID, then by UID against its reference id, then
against the UID we export it with, so our own feed re-imports onto the same rows. Matching is
scoped to the partner: another partner's ids and UIDs match nothing.

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

import contextlib
import functools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q

from calendar_app import batch_scheduling, input_rules, recurrence, scheduling, writes
from calendar_app.errors import ConflictDetected, NotFound, SchedulingError, ValidationFailed
from calendar_app.imports import ical_read
from calendar_app.imports.ical_read import Item, RowError
from calendar_app.imports.row_results import (
    INTERNAL_ERROR,
    Ledger,
    RowResult,
    Unit,
    apply_in_chunks,
    unexpected,
)
from calendar_app.models import (
    EventStatus,
    EventType,
    Partner,
    RecurrenceType,
    ResourceStatus,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)

logger = logging.getLogger(__name__)

DAY = scheduling.DAY
UNTITLED = "(no title)"
# What capture devices record or stream, as a row's warning names them.
DEVICE_TYPES = {EventType.RECORD: "recording", EventType.LIVE_STREAM: "live stream"}
LOOKUP_CHUNK = 400  # keys per look-up query; two IN lists of it stay under SQLite's 999 parameters


def import_calendar(
    actor: writes.Actor,
    data: bytes,
    *,
    default_type: int = EventType.RECORD,
    max_bytes: int = ical_read.MAX_BYTES,
    max_events: int = ical_read.MAX_EVENTS,
    ledger: Ledger | None = None,
) -> list[RowResult]:
    """Apply each VEVENT of an iCalendar file for `actor`'s partner; one result per VEVENT, in
    file order. `default_type` is the event type of VEVENTs without X-KALTURA-TYPE. `ledger`
    receives the results as chunks of VEVENTs are applied (a job's stores them)."""
    ledger = ledger or Ledger()
    items = ical_read.read(actor.partner, data, max_bytes=max_bytes, max_events=max_events, name=ledger.name)
    ledger.started(len(items))
    return _Import(actor, items, default_type, ledger).run()


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
    # Single events by reference id: overrides imported without their series share one UID.
    singles: dict[str, list[ScheduleEvent]] = field(default_factory=dict)
    resources: set[int] = field(default_factory=set)  # live resource ids
    links: dict[int, set[int]] = field(default_factory=dict)  # event id -> resource ids

    @classmethod
    def look_up(cls, partner: Partner, items: list[Item]) -> _Stored:
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
                    if not event.is_series:
                        found.singles.setdefault(event.reference_id, []).append(event)
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

    def __init__(self, actor: writes.Actor, items: list[Item], default_type: int, ledger: Ledger):
        self.actor = actor
        self.items = items
        self.default_type = default_type
        self.ledger = ledger
        self.stored = _Stored.look_up(actor.partner, [i for i in items if i.error is None])
        # Series of this file once applied, by UID and by the X-KALTURA-ID the file gives them:
        # an exported occurrence names its series by that id, even another partner's.
        self.series: dict[str | int, int] = {}
        self.failed_series: dict[str | int, int] = {}  # UID or X-KALTURA-ID -> its VEVENT's index
        self.sequences = {item.uid: item.sequence for item in items if item.is_series}  # by UID
        self.recurrences: dict[int, dict[str, Any]] = {}  # by VEVENT: see _recurrence

    def run(self) -> list[RowResult]:
        apply_in_chunks(self.ledger, self._units())
        return [self.ledger.results[item.line] for item in self.items]

    def _units(self) -> Iterator[Unit]:
        """The VEVENTs to apply, one unit each (new single events a batch per unit), in the order
        they must be applied. A generator: what comes later is decided once what came before is
        applied (an occurrence standalone or not depends on the series applied)."""
        items = list(self._usable())
        rest = [item for item in items if not item.is_series]  # before a series turns single (_series)
        for item in items:
            if item.is_series:
                yield self._row(item, self._series)
        uids = Counter(item.uid for item in items)
        standalone = self._standalone_lines(rest, uids)
        rest = [item for item in rest if item.line not in standalone or standalone[item.line]]
        yield from self._singles([item for item in rest if not item.is_occurrence or item.line in standalone])
        occurrences = [item for item in rest if item.is_occurrence and item.line not in standalone]
        # THISANDFUTURE first, by slot: an override of one later slot then wins over it.
        ranges = sorted((i for i in occurrences if i.this_and_future), key=lambda i: i.slot or datetime.min)
        for item in ranges + [i for i in occurrences if not i.this_and_future]:
            yield self._row(item, self._occurrence, savepoint=False)

    def _row(self, item: Item, apply: Callable[..., None], *args: Any, savepoint: bool = True) -> Unit:
        """One VEVENT applied in a savepoint: an unexpected failure undoes it and fails it alone.
        `savepoint=False` for updates and cancellations, which write inside an atomic block of
        their own and nothing after it: most of a file imported again is unchanged VEVENTs, which
        write nothing, and a savepoint each made that 25% slower on PostgreSQL (5,000 VEVENTs:
        1.65 s, 2.1 s with). A database error in their reads, which spoils PostgreSQL's
        transaction, then ends the import instead (row_results.unexpected)."""

        def unit() -> int:
            try:
                with transaction.atomic() if savepoint else contextlib.nullcontext():
                    apply(item, *args)
            except Exception as error:  # a bug, or a value a library refuses: the file goes on
                self._unexpected(item, error)
            return 1

        return unit

    def _unexpected(self, item: Item, error: Exception) -> None:
        reason = unexpected(self.ledger.name, item.line, error)
        if item.is_series:  # its occurrences must not look for it
            for key in (item.uid, item.kaltura_id):
                if key:
                    self.series.pop(key, None)
                    self.failed_series[key] = item.line
        self.ledger.add(
            RowResult(
                item.line,
                self._action(item, None),
                "error",
                None,
                reason,
                INTERNAL_ERROR,
                item.row,
                item.uid,
                item.warnings,
            )  # fmt: skip
        )

    def _standalone_lines(self, items: list[Item], uids: Counter[str]) -> dict[int, bool]:
        """The occurrences among `items` that import as events of their own (True), and those
        that met an unexpected failure deciding it (False: they failed, and go no further)."""
        found: dict[int, bool] = {}
        for item in items:
            if not item.is_occurrence:
                continue
            try:
                with transaction.atomic():  # it may read the database: a failure must not spoil the chunk
                    if self._standalone(item, uids):
                        found[item.line] = True
            except Exception as error:  # noqa: BLE001  (reported on the row and logged)
                self._unexpected(item, error)
                found[item.line] = False
        return found

    def _standalone(self, item: Item, uids: Counter[str]) -> bool:
        """An occurrence whose series is neither in the file nor stored, imported as an event of
        its own, as calendar clients show it:
        - an exported one: a feed lists occurrences alone (Kaltura's capture devices ask for
          recurrenceTypeIn=0,2). Not when it shares its UID with another VEVENT (Kaltura's
          occurrences of a series with a reference id), which only means something beside it;
        - an override (RECURRENCE-ID) whose series the file left out (khal and Google export
          one edited occurrence alone): a warning says so."""
        if item.kaltura_id in self.stored.by_pk:
            return False
        if item.recurrence_id is None and uids[item.uid] > 1 or item.recurrence_id and item.cancelled:
            return False
        known = self.stored.by_uid.get(item.uid)
        if known is not None and known.is_occurrence:
            return False
        try:
            self._series_of(item)
        except RowError as error:
            if error.code != "SERIES_NOT_FOUND":
                return False
            if item.recurrence_id is not None:
                item.warnings.append(
                    "Its series (the VEVENT with this UID and an RRULE) is neither in the file nor "
                    "stored: imported as an event of its own."
                )
            return True
        return False

    def _usable(self) -> Iterable[Item]:
        """The items that can be applied; the others get their error result now."""
        replaced_by = self._superseded()
        for item in self.items:
            if item.line in replaced_by:
                self._replaced(item, replaced_by[item.line])
                continue
            if item.error is None:
                try:
                    self._check(item)
                except SchedulingError as error:
                    item.error = error
                except Exception as error:  # noqa: BLE001  (reported on the row and logged)
                    item.error = RowError(INTERNAL_ERROR, unexpected(self.ledger.name, item.line, error))
            if item.error is not None:
                self._fail(item, self._action(item, None), item.error)
            else:
                yield item

    def _superseded(self) -> dict[int, int]:
        """VEVENTs another one of the same UID (and RECURRENCE-ID) replaces -> the line of that
        one: of several, the highest SEQUENCE, then the last in the file, as calendar clients
        keep the newest revision they are given."""
        newest: dict[tuple[Any, Any], Item] = {}
        for item in self.items:
            if item.error is None:
                key = (item.uid or item.kaltura_id, item.slot if item.is_occurrence else None)
                kept = newest.get(key)
                if kept is None or item.sequence >= kept.sequence:
                    newest[key] = item
        return {
            item.line: kept.line
            for item in self.items
            if item.error is None
            and (kept := newest[(item.uid or item.kaltura_id, item.slot if item.is_occurrence else None)])
            is not item
        }

    def _replaced(self, item: Item, by: int) -> None:
        same = "UID and RECURRENCE-ID" if item.is_occurrence else "UID"
        self._ok(
            item, "", None,
            f"Left out: VEVENT {by} has the same {same} and replaces it "
            "(a higher SEQUENCE, or later in the file).",
            "SUPERSEDED",
        )  # fmt: skip

    def _check(self, item: Item) -> None:
        unknown = sorted(set(item.resource_ids or ()) - self.stored.resources)
        if unknown:
            raise RowError(
                "RESOURCE_NOT_FOUND", f"X-KALTURA-RESOURCE-IDS: this partner has no resource {unknown[0]}."
            )

    # -------------------------------------------------------- series and single events

    def _target(self, item: Item) -> ScheduleEvent | None:
        """The stored event a series or single VEVENT is about: by X-KALTURA-ID, then UID. An
        override imported on its own shares its UID with the others of its series: it is the
        one of them at its start."""
        stored = self.stored
        if item.kaltura_id in stored.by_pk:
            return stored.by_pk[item.kaltura_id]
        if not item.uid:
            return None
        if item.recurrence_id is not None:
            start = item.start.at if item.start else None
            return next((e for e in stored.singles.get(item.uid, ()) if e.start == start), None)
        return self._by_uid(item.uid)

    def _by_uid(self, uid: str) -> ScheduleEvent | None:
        return self.stored.by_reference.get(uid) or self.stored.by_uid.get(uid)

    def _single(self, item: Item) -> None:
        """A VEVENT that was to be a series or an occurrence, applied as a single event."""
        target = self._target(item)
        if target is None:
            self._new_events([item])
        else:
            self._update(item, target)

    def _series(self, item: Item) -> None:
        try:
            ends_first = self._ends_before_it_starts(item)
        except SchedulingError as error:
            self._fail(item, "add", error)
            return
        if ends_first:
            self._ok(item, "", None, "Left out: its RRULE ends (UNTIL) before DTSTART.", "RECURRENCE_EMPTY")
            return
        target = self._target(item)
        if target is None:
            self._create_series(item)
        else:
            self._update(item, target)
        if self._never_repeats(item):
            item.rrule, item.extra_rrules = None, []
            item.warnings.append("The RRULE gives no date after DTSTART: imported as a single event.")
            self._single(item)
            return
        keys = [k for k in (item.uid, item.kaltura_id) if k]
        result = self.ledger.results[item.line]
        for key in keys:
            if result.status == "ok":
                self.series[key] = result.object_id
            else:
                self.failed_series[key] = item.line

    def _create_series(self, item: Item) -> None:
        try:
            with transaction.atomic():
                data = self._new_data(item)
                event = scheduling.create_event(
                    self.actor, data, resource_ids=item.resource_ids or (), ical_uid=item.uid,
                    longest=_longest(data["type"]),
                )  # fmt: skip
                excluded = self._exclude(event, item.exdates)
                self._period_ends(event, item)
                made = event.occurrences.count()
        except SchedulingError as error:
            self._fail(item, "add", error)
            return
        note = f"; EXDATE cancelled {excluded} occurrence(s)" if excluded else ""
        self._ok(item, "add", event.pk, f"Created a series of {made} occurrences{note}.")

    def _ends_before_it_starts(self, item: Item) -> bool:
        """A series whose UNTIL is before its DTSTART: no occurrence at all, as khal and
        recurring_ical_events read it (each has a test of such a file)."""
        until = self._recurrence(item).get("until") if item.rrule else None
        assert item.start is not None
        dated = bool(item.rdates or item.extra_rrules)
        return until is not None and not dated and int(until) < item.start.at.timestamp()

    def _never_repeats(self, item: Item) -> bool:
        """A series refused for a rule that matches no date (RFC 5545: DTSTART is its one
        instance then): the write path said so (RECURRENCE_EMPTY), and wrote nothing."""
        result = self.ledger.results[item.line]
        dated = bool(item.rdates or item.extra_rrules)
        return result.code == "RECURRENCE_EMPTY" and item.rrule is not None and not dated

    def _singles(self, items: list[Item]) -> Iterator[Unit]:
        new = []
        for item in items:
            target = self._target(item)
            if item.cancelled:
                yield self._row(item, self._cancel, target, savepoint=False)
            elif target is not None:
                yield self._row(item, self._update, target, savepoint=False)
            else:
                new.append(item)
        batch = batch_scheduling.CREATE_CHUNK
        for start in range(0, len(new), batch):
            yield functools.partial(self._create, new[start : start + batch])

    def _create(self, items: list[Item]) -> int:
        """New single events, as one batch (batch_scheduling.create_events). Should the batch meet
        an unexpected failure, its VEVENTs are applied again one by one, so the one at fault
        fails alone."""
        try:
            with transaction.atomic():
                created = self._new_events(items)
        except Exception:
            logger.exception(
                "%s: a batch of %d new events failed; applying them one by one", self.ledger.name, len(items)
            )
            for item in items:
                self._row(item, lambda one: self._new_events([one]))()
            return len(items)
        return len(created)

    def _new_events(self, items: list[Item]) -> list[int | SchedulingError]:
        rows = []
        for item in items:
            data = self._new_data(item)
            rows.append(
                batch_scheduling.NewEvent(data, item.resource_ids or (), item.uid, _longest(data["type"]))
            )
        created = batch_scheduling.create_events(self.actor, rows)
        for item, result in zip(items, created, strict=True):
            if isinstance(result, SchedulingError):
                self._fail(item, "add", result)
            else:
                self._ok(item, "add", result, "Created.")
        return created

    def _new_data(self, item: Item) -> dict[str, Any]:
        assert item.start is not None and item.end is not None  # read for every non-cancel item
        data = {
            "type": self._kind(item),
            "reference_id": item.uid,
            **item.values,
            "start": item.start.at,
            "end": item.end,
        }
        if not str(data.get("summary") or "").strip():
            # Kaltura requires a summary; calendar clients show such an event untitled.
            data["summary"] = UNTITLED
            item.warnings.append(f"The VEVENT has no SUMMARY: it is called {UNTITLED!r}.")
        if item.is_series:
            data["recurrence_type"] = RecurrenceType.RECURRING
            data["recurrence"] = self._recurrence(item)
            data["duration"] = _length(item)
        return data

    def _kind(self, item: Item) -> Any:
        """The type of a new event: X-KALTURA-TYPE, else the upload's. An event of the upload's
        type longer than that type may last (Kaltura's 24 hours for what devices record or
        stream: an all-day conference in a recording upload) is a meeting, the type no device
        acts on, with a warning; X-KALTURA-TYPE asks for its type, and is refused as too long."""
        if item.type is not None:
            return item.type
        kind = self.default_type
        assert item.start is not None and item.end is not None
        longest = scheduling.MAX_SINGLE_DURATION.get(kind)
        if kind not in DEVICE_TYPES or longest is None or item.end - item.start.at <= longest:
            return kind
        item.warnings.append(
            f"It lasts {_hours(item.end - item.start.at)}, longer than a {DEVICE_TYPES[kind]} may "
            f"({_hours(longest)}): imported as a meeting, which no device records or streams."
        )
        return EventType.MEETING

    def _recurrence(self, item: Item) -> dict[str, Any]:
        """The series' recurrence: its (first) RRULE, and as extra dates (`rdates`) its RDATEs
        and the dates of any further RRULE. Worked out once a VEVENT (its extra rules expanded,
        its warnings given): deciding what to do with a series and doing it both read it."""
        if item.line not in self.recurrences:
            self.recurrences[item.line] = self._work_out_recurrence(item)
        return dict(self.recurrences[item.line])

    def _work_out_recurrence(self, item: Item) -> dict[str, Any]:
        assert item.series_zone is not None
        zone = item.series_zone
        data: dict[str, Any] = {"time_zone": zone}
        extra = set(item.rdates) | self._extra_rule_dates(item)
        if item.rrule:
            data = recurrence.from_rrule(_cleaned(item.rrule), time_zone=zone)
            if "count" in data and "until" in data:
                data = self._earlier_end(item, data)
            repeats = str(data.get("count", "")) != "1" and data.get("frequency") not in recurrence.SUB_DAILY
            if item.skipped_wall and repeats:
                data = self._written_time(item, data)
                extra.add(item.start.at)
        assert item.start is not None
        early = sorted(moment for moment in extra if moment < item.start.at)
        if early:
            # A series starts at its DTSTART (its rule is anchored there): a date before it is not made.
            item.warnings.append(f"RDATE {early[0]:%Y-%m-%d %H:%M}Z is before DTSTART: left out.")
        if extra:
            data["rdates"] = sorted(int(moment.timestamp()) for moment in extra)
        return data

    def _written_time(self, item: Item, data: dict[str, Any]) -> dict[str, Any]:
        """A DTSTART at a clock time its zone skips (02:30 on the night clocks go forward): the
        first occurrence is after the gap, and RFC 5545 keeps the written time for the others.
        A series repeats at its first slot's clock time, so the rule is given the written time
        (BYHOUR, BYMINUTE, BYSECOND) and DTSTART joins as an extra date, which COUNT then no
        longer counts (the rule's slots begin the next day)."""
        assert item.start is not None
        wall = item.start.wall
        item.warnings.append(
            f"DTSTART {wall:%Y-%m-%d %H:%M} does not exist in {item.series_zone} (the clocks go "
            f"forward): that occurrence is after the gap, the others at {wall:%H:%M}."
        )
        written = {"by_hour": wall.hour, "by_minute": wall.minute, "by_second": wall.second}
        data = {**{k: str(v) for k, v in written.items()}, **data}
        if str(data.get("count", "")).isdigit():
            data["count"] = str(int(data["count"]) - 1)
        return data

    def _earlier_end(self, item: Item, data: dict[str, Any]) -> dict[str, Any]:
        """RFC 5545 allows COUNT or UNTIL, not both; a rule with both ends at the earlier."""
        assert item.start is not None and item.series_zone is not None
        counted = {k: v for k, v in data.items() if k != "until"}
        if not str(data["count"]).isdigit() or int(data["count"]) < 1:
            item.warnings.append(f"The RRULE's COUNT {data['count']} is no number of times: UNTIL ends it.")
            return {k: v for k, v in data.items() if k != "count"}
        rule = recurrence.parse(counted, default_zone=item.series_zone)
        last = recurrence.expand(rule, item.start.at, scheduling.limits())[-1]
        item.warnings.append("The RRULE has both COUNT and UNTIL: it ends at the earlier of the two.")
        if last.timestamp() > int(data["until"]):
            return {k: v for k, v in data.items() if k != "count"}
        return counted

    def _extra_rule_dates(self, item: Item) -> set[datetime]:
        """The dates of the RRULEs after the first: the core keeps one rule a series."""
        if not item.extra_rrules:
            return set()
        assert item.start is not None and item.series_zone is not None
        found: set[datetime] = set()
        zone = item.series_zone
        for text in item.extra_rrules:
            rule = recurrence.parse(recurrence.from_rrule(_cleaned(text), time_zone=zone), default_zone=zone)
            found.update(recurrence.expand(rule, item.start.at, scheduling.limits(), now=self.actor.now))
            if rule.open_ended:
                item.warnings.append(
                    f"RRULE {text} has no end: its dates are made as far as the horizon, not beyond."
                )
        return found

    def _period_ends(self, series: ScheduleEvent, item: Item) -> None:
        """An RDATE PERIOD gives its occurrence a length of its own: that occurrence is changed
        to end as the PERIOD says (an exception, as an edit in the calendar makes one)."""
        ends = {start: end for start, end in item.rdates.items() if end is not None}
        if not ends:
            return
        for occurrence in series.occurrences.filter(original_start__in=list(ends), status=EventStatus.ACTIVE):
            end = ends[occurrence.original_start]
            if occurrence.end != end:
                scheduling.update_event(
                    self.actor, occurrence.pk, {"end": end}, longest=_longest(series.type)
                )

    # -------------------------------------------------------- occurrences

    def _occurrence(self, item: Item) -> None:
        try:
            target, ical_uid = self._occurrence_target(item)
        except RowError as error:
            if item.cancelled and error.code in ("SERIES_NOT_FOUND", "OCCURRENCE_NOT_FOUND"):
                self._cancel(item, None)
            elif error.code == "OCCURRENCE_NOT_FOUND":
                self._unmatched(item, error)
            else:
                self._fail(item, self._action(item, None), error)
            return
        if item.cancelled:
            self._cancel(item, target, ical_uid)
        else:
            self._update(item, target, ical_uid)
            if item.this_and_future and self.ledger.results[item.line].status == "ok":
                self._and_future(item, target)

    def _occurrence_target(self, item: Item) -> tuple[ScheduleEvent, str]:
        """The stored occurrence, and the UID to give it when it is known by its slot alone and
        the file names it by a UID of its own (as our export does)."""
        stored = self.stored
        if item.kaltura_id in stored.by_pk:
            named = stored.by_pk[item.kaltura_id]
            if named.is_series:
                raise RowError(
                    "NOT_AN_OCCURRENCE",
                    f"X-KALTURA-ID {named.pk} is a series, but this VEVENT is one of its occurrences.",
                )
            return named, ""
        known = stored.by_uid.get(item.uid)
        if known is not None and known.is_occurrence:
            return known, ""
        series = self._series_of(item)
        live = series.occurrences.exclude(status=EventStatus.DELETED)
        occurrence = live.filter(original_start=item.slot).first() or self._same_day(series, live, item)
        if occurrence is None:
            raise RowError(
                "OCCURRENCE_NOT_FOUND",
                f"Series {series.pk} has no occurrence at {item.slot:%Y-%m-%d %H:%M}Z.",
            )
        shared = item.uid in (series.ical_uid, series.reference_id)
        return occurrence, "" if shared or item.uid == occurrence.ical_uid else item.uid

    def _unmatched(self, item: Item, error: RowError) -> None:
        """An override naming no slot of its series: an instance of its own (RFC 5545 lets a
        RECURRENCE-ID add one), unless it is an older revision than its series (a lower
        SEQUENCE): then it was left over by an edit of the rule, and calendar clients show no
        instance for it."""
        if item.sequence < self.sequences.get(item.uid, item.sequence):
            self._ok(
                item,
                "",
                None,
                f"Left out, an older revision than its series: {error}",
                "OCCURRENCE_NOT_FOUND",
            )
            return
        item.warnings.append(f"{error} It is imported as an event of its own, as calendars show it.")
        self._single(item)

    def _and_future(self, item: Item, target: ScheduleEvent) -> None:
        """RANGE=THISANDFUTURE (RFC 5545 §3.8.4.4): the change holds for every later occurrence
        too, each moved by the same shift and given the same length and content. Overrides of
        later slots are applied after this one (_units), so theirs win."""
        assert item.start is not None and item.end is not None and target.original_start is not None
        shift, length = item.start.at - target.original_start, item.end - item.start.at
        later = ScheduleEvent.objects.filter(
            parent_id=target.parent_id, status=EventStatus.ACTIVE, original_start__gt=target.original_start
        ).order_by("original_start")
        try:
            with transaction.atomic():
                for occurrence in later:
                    start = occurrence.original_start + shift
                    changes = {**item.values, "start": start, "end": start + length}
                    scheduling.update_event(
                        self.actor, occurrence.pk, changes, longest=_longest(occurrence.type)
                    )
        except SchedulingError as error:
            self._fail(item, "update", error)
            return
        done = self.ledger.results[item.line]
        self._ok(item, "update", target.pk, f"{done.reason} RANGE=THISANDFUTURE: later occurrences too.")

    def _same_day(self, series: ScheduleEvent, live: Any, item: Item) -> ScheduleEvent | None:
        """The occurrence a RECURRENCE-ID names in another form than the series' slots (a date for
        a timed series, a time in another zone for an all-day one, as Outlook writes them): the
        one on its date in the series' zone, when the series has one slot a day at most."""
        day = item.recurrence_day
        if day is None or (series.recurrence or {}).get("frequency") in recurrence.SUB_DAILY:
            return None
        zone = ZoneInfo(series.time_zone)
        near = datetime.combine(day, time(), UTC)
        found = [
            o
            for o in live.filter(original_start__gt=near - DAY, original_start__lt=near + 2 * DAY)
            if o.original_start.astimezone(zone).date() == day
        ]
        if len(found) != 1:
            return None
        item.warnings.append(
            f"RECURRENCE-ID names no slot of its series exactly: it is read as the occurrence of {day}."
        )
        return found[0]

    def _series_of(self, item: Item) -> ScheduleEvent:
        """An occurrence's series: the one its X-KALTURA-PARENT-ID names (a series of this file,
        or a stored one of the partner's), else the one with its UID."""
        for key in (item.parent_label, item.uid):
            if not key:
                continue
            if key in self.series:
                return scheduling.get_event(self.actor.partner, self.series[key])
            stored = self.stored.by_pk.get(key) if isinstance(key, int) else self._by_uid(key)
            if stored is not None and stored.is_series:
                return stored
        for key in (item.parent_label, item.uid):
            if key in self.failed_series:
                raise RowError(
                    "SERIES_NOT_IMPORTED", f"Its series (VEVENT {self.failed_series[key]}) was not imported."
                )
        raise RowError(
            "SERIES_NOT_FOUND", "No series of this partner has this occurrence's UID or X-KALTURA-PARENT-ID."
        )

    # -------------------------------------------------------- updates and cancellations

    def _update(self, item: Item, target: ScheduleEvent, ical_uid: str = "") -> None:
        try:
            plan = self._plan(item, target, ical_uid)
            excluded = self._active_slots(target, item.exdates) if item.is_series else []
            if not plan and not excluded:
                self._ok(item, "update", target.pk, "unchanged", "UNCHANGED")
                return
            with transaction.atomic():
                self._write(target, plan)
                excluded = self._exclude(target, item.exdates)
                if item.is_series:
                    self._period_ends(target, item)
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

    def _plan(self, item: Item, event: ScheduleEvent, ical_uid: str) -> _Plan:
        if item.type is not None and item.type != event.type:
            raise RowError(
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

    def _time_changes(self, item: Item, event: ScheduleEvent) -> dict[str, Any]:
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
            and event.duration == _length(item)
            # A DTSTART off the rule is stored as the rule's first slot.
            and (
                event.start == start or recurrence.expand(rule, start, scheduling.limits())[0] == event.start
            )
        )
        if same:
            return {}
        return {
            "recurrence_type": RecurrenceType.RECURRING, "recurrence": data, "start": start, "end": end,
            "duration": _length(item),
        }  # fmt: skip

    def _write(self, event: ScheduleEvent, plan: _Plan) -> None:
        if plan.ical_uid:
            scheduling.set_ical_uid(self.actor, event.pk, plan.ical_uid)
        if plan.changes:
            scheduling.update_event(self.actor, event.pk, plan.changes, longest=_longest(event.type))
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

    def _cancel(self, item: Item, target: ScheduleEvent | None, ical_uid: str = "") -> None:
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

    def _action(self, item: Item, target: ScheduleEvent | None) -> str:
        if item.cancelled:
            return "cancel"
        if item.is_occurrence:  # an occurrence is made by its series, never added on its own
            return "update"
        return "add" if target is None and self._target(item) is None else "update"

    def _ok(self, item: Item, action: str, object_id: int | None, reason: str, code: str = "") -> None:
        # A row applied again (a batch retried one by one) warns once.
        warnings = list(dict.fromkeys(item.warnings))
        self.ledger.add(
            RowResult(item.line, action, "ok", object_id, reason, code, item.row, item.uid, warnings)
        )

    def _fail(self, item: Item, action: str, error: SchedulingError) -> None:
        self.ledger.add(
            RowResult(
                item.line,
                action,
                "error",
                None,
                _reason(error),
                error.code,
                item.row,
                item.uid,
                list(dict.fromkeys(item.warnings)),
            )  # fmt: skip
        )


def _hours(length: timedelta) -> str:
    hours = length / timedelta(hours=1)
    return f"{hours:g} hours" if hours < 48 or hours % 24 else f"{hours / 24:g} days"


def _length(item: Item) -> int:
    """Seconds of one occurrence. An all-day event's are whole days (a date's length is days of
    the calendar, RFC 5545 §3.3.4), though a DST change between its dates makes them an hour
    more or less: the series then ends each occurrence at midnight (scheduling.occurrence_end)."""
    assert item.start is not None and item.end is not None
    length = item.end - item.start.at
    if item.start.all_day:
        return round(length / DAY) * int(DAY.total_seconds())
    return int(length.total_seconds())


def _longest(kind: Any) -> timedelta | None:
    """How long an imported event of `kind` may last: meetings, which no device acts on, as long
    as a series may run (a conference, a holiday week from another calendar); other types as
    the write path allows them (recordings and live streams: Kaltura's 24 hours)."""
    return scheduling.limits().horizon if kind == EventType.MEETING else None


def _cleaned(rule: str | None) -> str:
    """An RRULE without the empty parts some producers leave ("FREQ=YEARLY;")."""
    return ";".join(part for part in (rule or "").split(";") if part.strip())


def _same(name: str, stored: Any, wanted: Any) -> bool:
    if name == "tags":
        return ical_read.tag_list(stored) == ical_read.tag_list(wanted)
    if name == "organizer":  # the export adds `mailto:` (ical.py) and the reading takes it off
        return ical_read.without_mailto(stored) == wanted
    return stored == wanted


def _reason(error: SchedulingError) -> str:
    if isinstance(error, NotFound):
        return f"No {error.kind} {error.object_id} was found."
    if isinstance(error, ValidationFailed):
        name = error.field.split(".")[0]
        return f"{ical_read.FIELD_PROPERTIES.get(name, error.field)}: {error.message}"
    if isinstance(error, ConflictDetected):
        return error.message
    return error.message
