"""THE write path: every single change to events, series, occurrences, resources and links goes
through these functions, so validation, occurrence expansion, conflict enforcement and the audit
trail happen in exactly one place. No HTTP here; callers pass an `Actor` read at the edge.

Each public function runs in one write envelope (writes.py): it applies completely or not at
all, and stamps, audits and refreshes the feeds on its way out. Many new events at once (an
import) go through batch_scheduling.py, which applies these same rules a chunk at a time.
"""

from __future__ import annotations

import enum
import logging
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When

from calendar_app import conflicts, input_rules, recurrence, writes
from calendar_app.conflicts import Conflict, ConflictType, Window
from calendar_app.errors import (
    ConflictDetected,
    NotFound,
    ValidationFailed,
)
from calendar_app.models import (
    AuditEntry,
    Entry,
    EventStatus,
    EventType,
    Partner,
    RecurrenceType,
    ResourceStatus,
    ResourceType,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)
from calendar_app.writes import STAMP_FIELDS, Actor

logger = logging.getLogger(__name__)

DAY = timedelta(days=1)
# Longest single booking per type (Kaltura: 24 h, meetings 3 days). Blackouts may cover a whole
# closure (a holiday week), up to the series horizon: we go further than Kaltura's 24 h there.
MAX_SINGLE_DURATION: dict[int, timedelta] = {
    EventType.RECORD: DAY,
    EventType.LIVE_STREAM: DAY,
    EventType.MEETING: 3 * DAY,
}
TIME_FIELDS = frozenset({"start", "end", "duration", "recurrence", "recurrence_type"})
# Fields an occurrence copies from its series. Times, identity and state are its own.
NOT_INHERITED = frozenset(
    {
        "id", "partner", "parent", "recurrence_type", "recurrence", "start", "end",
        "original_start", "is_exception", "overridden_fields", "status", "sequence",
        "ical_uid", "created_at", "updated_at", "linked_to", "linked_to_offset",
        "ical_fragment", "ical_fragment_of", "materialized_until",
    }
)  # fmt: skip
INHERITED = tuple(f.name for f in ScheduleEvent._meta.concrete_fields if f.name not in NOT_INHERITED)
TIMES = "times"  # pseudo-field in overridden_fields: the occurrence was moved or resized
RESOURCES = "resources"  # pseudo-field: the occurrence's resources were changed on their own


class OnConflict(enum.Enum):
    """What a write does when the event it leaves behind collides (conflicts.py)."""

    PARTNER = "partner"  # refuse if the partner prevents conflicts: the API and imports
    REFUSE = "refuse"  # refuse: the web calendar, where staff must confirm a conflict
    BOOK_ANYWAY = "book_anyway"  # save, and audit what it collides with: that confirmation
    IGNORE = "ignore"  # save unchecked: compound writes that check once at their end

    def refuses(self, partner: Partner) -> bool:
        return self is OnConflict.REFUSE or (self is OnConflict.PARTNER and partner.prevent_conflicts)


def limits() -> recurrence.Limits:
    return recurrence.Limits(
        max_occurrences=settings.SCHEDULE_MAX_OCCURRENCES,
        horizon=timedelta(days=settings.SCHEDULE_MAX_HORIZON_DAYS),
    )


# The largest sequence the column holds: 2**31 - 1, also RFC 5545's largest INTEGER.
SEQUENCE_MAX = input_rules.column_range(ScheduleEvent._meta.get_field("sequence"))[1]
# Kaltura's step adds at most 11 (ceil(n / 10) * 10 + 2 <= n + 11): from here it could overflow.
_LAST_STEP = SEQUENCE_MAX - 11


def next_sequence(current: int) -> int:
    """Kaltura's kDataCenterMgr::incrementVersion on data centre 0: 1 -> 12 -> 22 -> 32 ...

    It stops at the column's maximum. A client may write any sequence up to it (to mirror its
    own), and each change adds about 10: past the maximum, every later change and cancel of the
    event would fail. Refusing the change would freeze the event as surely, and wrapping or
    lowering the number would make calendars drop the change as older than what they hold
    (iCal SEQUENCE only ever grows). So from the maximum on, a change keeps the sequence, and
    its DTSTAMP and LAST-MODIFIED still tell calendars it is newer."""
    if current > _LAST_STEP:
        return SEQUENCE_MAX
    return math.ceil(current / 10) * 10 + 2


# next_sequence() in SQL, for bulk updates (integer division on both databases). The maximum is
# tested first: PostgreSQL's integer arithmetic raises on overflow even in an intermediate sum.
NEXT_SEQUENCE = Case(
    When(sequence__gt=_LAST_STEP, then=Value(SEQUENCE_MAX)),
    default=(F("sequence") + 9) / 10 * 10 + 2,
)


def _updated_sequence(stored: int, values: dict[str, Any]) -> int:
    """The next sequence, unless the caller sent a higher one (Kaltura lets it set its own)."""
    return max(next_sequence(stored), values.get("sequence", 0))


# ---------------------------------------------------------------- reads (partner-scoped)


def get_event(partner: Partner, event_id: int) -> ScheduleEvent:
    return _get_live(ScheduleEvent, "event", partner, event_id)


def get_resource(partner: Partner, resource_id: int) -> ScheduleResource:
    return _get_live(ScheduleResource, "resource", partner, resource_id)


def _get_live(model, kind: str, partner: Partner, pk: int):
    """The partner's row, unless deleted: another partner's row is as unknown as a missing one."""
    # EventStatus.DELETED and ResourceStatus.DELETED are both Kaltura's 3.
    row = model.objects.for_partner(partner).exclude(status=EventStatus.DELETED).filter(pk=pk).first()
    if row is None:
        raise NotFound(kind, pk)
    return row


def _resource_ids_touched(event: ScheduleEvent) -> list[int]:
    """Resources of the event and of its occurrences (which may have their own)."""
    links = ScheduleEventResource.objects.filter(Q(event=event) | Q(event__parent=event))
    return sorted(set(links.values_list("resource_id", flat=True)))


def resource_ids_of(event: ScheduleEvent) -> list[int]:
    return sorted(ScheduleEventResource.objects.filter(event=event).values_list("resource_id", flat=True))


# ---------------------------------------------------------------- events


def create_event(
    actor: Actor,
    data: dict[str, Any],
    *,
    resource_ids: Collection[int] = (),
    on_conflict: OnConflict = OnConflict.PARTNER,
    ical_uid: str = "",
    skip: Collection[datetime] = (),
    longest: timedelta | None = None,
) -> ScheduleEvent:
    """Create a single event or a series (recurrence_type RECURRING) with its occurrences.
    `ical_uid` keeps the UID an imported VEVENT came with (else a new one is made). `skip`
    names occurrence starts of a new series to cancel at once (a booking that leaves out the
    dates it would collide on); they are checked against what the rule generates. `longest`:
    how long the event (each occurrence) may last, instead of its type's (check_span)."""
    kind, values = clean_new_event(data)
    with writes.envelope(actor):
        check_entry(actor.partner, values.get("template_entry_id"))
        resources = _resources(actor.partner, resource_ids)
        _lock(actor, [r.pk for r in resources], kind, on_conflict)
        event, slots = _plan(actor, values, ical_uid, longest)
        event.save()
        _add_links(actor, [event], resources)
        if event.is_series:
            _regenerate(actor, event, slots)
            _skip_occurrences(actor, event, skip)
        elif skip:
            raise ValidationFailed("skip", "only a series has occurrences to skip")
        _enforce(actor, event, on_conflict)
        writes.audit(actor, "create", event, None)
    return event


def clean_new_event(data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The type and cleaned fields of a new event: everything create_event checks before it
    touches the database (create_events checks the same)."""
    for required in ("type", "summary", "start"):
        if data.get(required) in (None, ""):
            raise ValidationFailed(
                required, "is required", code="PROPERTY_VALIDATION_CANNOT_BE_NULL",
                args={"PROP_NAME": required},
            )  # fmt: skip
    kind = input_rules.choice(EventType)("type", data["type"])
    values = input_rules.clean(input_rules.EVENT_RULES, data, kind=kind, creating=True)
    values.setdefault("recurrence_type", RecurrenceType.NONE)
    if values["recurrence_type"] == RecurrenceType.RECURRENCE:
        raise ValidationFailed(
            "recurrence_type", "an occurrence is created through its series",
            code="INVALID_ENUM_VALUE",
        )  # fmt: skip
    if values.get("recurrence") and values["recurrence_type"] != RecurrenceType.RECURRING:
        raise ValidationFailed("recurrence", "only a series (recurrence_type 1) has a recurrence")
    return kind, values


def plan_event(actor: Actor, data: dict[str, Any]) -> tuple[ScheduleEvent, list[datetime]]:
    """The unsaved row create_event would write for `data`, and the starts of its occurrences
    (plan_occurrence makes each once the series has its id). bench/generate.py builds its
    million rows with these, so that they are the write path's own."""
    _, values = clean_new_event(data)
    event, slots = _plan(actor, values, "")
    return event, slots.starts


def _plan(
    actor: Actor, values: dict[str, Any], ical_uid: str, longest: timedelta | None = None
) -> tuple[ScheduleEvent, recurrence.Materialised]:
    event = ScheduleEvent(partner=actor.partner, created_at=actor.now, updated_at=actor.now)
    _assign(event, values)
    event.sequence = next_sequence(1)  # rows start at 1; Kaltura bumps on insert
    if ical_uid:
        event.ical_uid = ical_uid
    return event, _prepare_times(actor, event, values, longest)


def update_event(
    actor: Actor,
    event_id: int,
    changes: dict[str, Any],
    *,
    on_conflict: OnConflict = OnConflict.PARTNER,
    longest: timedelta | None = None,
) -> ScheduleEvent:
    """Partial update. On an occurrence it makes an exception that later series edits keep.
    `longest` as create_event takes it."""
    with writes.envelope(actor):
        event = get_event(actor.partner, event_id)
        values = input_rules.clean(input_rules.EVENT_RULES, changes, kind=event.type, creating=False)
        if not values:
            return event  # nothing to change: no new sequence, no audit entry
        if values.get("template_entry_id") != event.template_entry_id:
            check_entry(actor.partner, values.get("template_entry_id"))  # one kept as it is may stay
        _check_recurrence_type_change(event, values)
        _lock(actor, _resource_ids_touched(event), event.type, on_conflict)
        before = writes.snapshot(event)
        if event.is_occurrence:
            _update_occurrence(actor, event, values, longest)
        else:
            _update_event_or_series(actor, event, values, longest)
        _enforce(actor, event, on_conflict)
        writes.audit(actor, "update", event, before)
    return event


def cancel_event(actor: Actor, event_id: int) -> ScheduleEvent:
    """Cancel an event; a series cancels all its occurrences; an occurrence becomes an EXDATE."""
    with writes.envelope(actor):
        event = get_event(actor.partner, event_id)
        before = writes.snapshot(event)
        if event.status != EventStatus.CANCELLED:
            _set_status(actor, event, EventStatus.CANCELLED)
            if event.is_occurrence:
                mark_exception(event, ["status"])
                event.save(update_fields=["is_exception", "overridden_fields"])
        writes.audit(actor, "cancel", event, before)
    return event


def delete_event(actor: Actor, event_id: int) -> ScheduleEvent:
    """Soft-delete an event or a whole series. A single occurrence is cancelled, not deleted."""
    with writes.envelope(actor):
        event = get_event(actor.partner, event_id)
        if event.is_occurrence:
            raise ValidationFailed(
                "id", f"occurrence {event.pk} cannot be deleted: cancel it, or delete its series",
                code="RECURRENCE_CANT_BE_DELETE", args={"ID": event.pk, "PARENT_ID": event.parent_id},
            )  # fmt: skip
        before = writes.snapshot(event)
        _set_status(actor, event, EventStatus.DELETED)
        writes.audit(actor, "delete", event, before)
    return event


def check_entry(partner: Partner, entry_id: str | None, field: str = "template_entry_id") -> None:
    """An entry a write names must be the partner's and not deleted: another partner's is as
    unknown as a missing one (Kaltura: ENTRY_ID_NOT_FOUND)."""
    if not entry_id:
        return
    live = Entry.objects.for_partner(partner).exclude(status=Entry.Status.DELETED)
    if not live.filter(pk=entry_id).exists():
        raise ValidationFailed(
            field, f'entry "{entry_id}" not found', code="ENTRY_ID_NOT_FOUND", args={"ENTRY_ID": entry_id}
        )


def _check_recurrence_type_change(event: ScheduleEvent, values: dict[str, Any]) -> None:
    target = values.get("recurrence_type", event.recurrence_type)
    transitions: dict[int, set[int]] = {
        RecurrenceType.NONE: {RecurrenceType.NONE, RecurrenceType.RECURRING},
        RecurrenceType.RECURRING: {RecurrenceType.NONE, RecurrenceType.RECURRING},
        RecurrenceType.RECURRENCE: {RecurrenceType.RECURRENCE},
    }
    allowed = transitions[event.recurrence_type]
    if target not in allowed:
        raise ValidationFailed(
            "recurrence_type", f"cannot change from {event.recurrence_type} to {target}",
            code="SCHEDULE_EVENT_TYPE_CANT_BE_UPDATED",
            args={"SOURCE_TYPE": event.recurrence_type, "TARGET_TYPE": target},
        )  # fmt: skip
    if "recurrence" in values and target != RecurrenceType.RECURRING and values["recurrence"]:
        raise ValidationFailed("recurrence", "only a series (recurrence_type 1) has a recurrence")


def _update_event_or_series(
    actor: Actor, event: ScheduleEvent, values: dict[str, Any], longest: timedelta | None = None
) -> None:
    was_series = event.is_series
    content = {k: v for k, v in values.items() if k not in TIME_FIELDS and k != "sequence"}
    sequence = _updated_sequence(event.sequence, values)
    _assign(event, values)
    event.sequence = sequence
    writes.stamp(actor, event)
    if not event.is_series:
        event.recurrence = None
        _prepare_times(actor, event, values, longest)
        event.save()
        if was_series:  # RECURRING -> NONE: the occurrences go, as in Kaltura
            event.occurrences.all().delete()
        return
    if not was_series and not values.get("recurrence"):
        raise ValidationFailed(
            "recurrence", "is required for a series", code="PROPERTY_VALIDATION_CANNOT_BE_NULL",
            args={"PROP_NAME": "recurrence"},
        )  # fmt: skip
    if TIME_FIELDS & values.keys() or not was_series:
        slots = _prepare_times(actor, event, values, longest)
        event.save()
        _regenerate(actor, event, slots)
    else:
        event.save()
    _propagate(actor, event, content)


def _update_occurrence(
    actor: Actor, event: ScheduleEvent, values: dict[str, Any], longest: timedelta | None = None
) -> None:
    if change_occurrence(event, values, longest):
        writes.stamp(actor, event)
        event.save()


def change_occurrence(event: ScheduleEvent, values: dict[str, Any], longest: timedelta | None = None) -> bool:
    """An occurrence's update, in memory: it becomes an exception for what changed (unstamped,
    unsaved; bench/generate.py moves occurrences with it). False when nothing changes."""
    values.pop("recurrence_type", None)
    changed = [k for k, v in values.items() if getattr(event, k) != v and k != "sequence"]
    if not changed:
        return False
    sequence = event.sequence
    _assign(event, values)
    if TIME_FIELDS & set(changed):
        if "duration" in values and "end" not in values:
            event.end = event.start + timedelta(seconds=values["duration"])
        check_span(event.type, event.start, event.end, "end", longest)
        event.duration = int((event.end - event.start).total_seconds())
    mark_exception(event, [TIMES if k in TIME_FIELDS else k for k in changed])
    event.sequence = _updated_sequence(sequence, values)
    return True


def _prepare_times(
    actor: Actor, event: ScheduleEvent, values: dict[str, Any], longest: timedelta | None = None
) -> recurrence.Materialised:
    """Settle start/end/duration (and the occurrence starts of a series) before saving; an
    open-ended series is made to the horizon from its start and from now (recurrence.materialise)."""
    if event.is_series:
        if "duration" not in values and ("end" in values or event.pk is None):
            if event.end is None:
                raise required_error("end")
            event.duration = int((event.end - event.start).total_seconds())
        # Occurrences of no length are as valid as single events of none (a reminder, a deadline).
        check_span(event.type, event.start, event.start + timedelta(seconds=event.duration), "end", longest)
        rule = recurrence.parse(event.recurrence or {}, default_zone=_default_zone(actor.partner))
        event.recurrence = rule.as_dict()
        event.time_zone = rule.time_zone
        slots = recurrence.materialise(rule, event.start, limits(), actor.now)
        event.materialized_until = slots.until
        event.start = slots.starts[0]
        event.end = occurrence_end(event, slots.starts[0])
        return slots
    event.materialized_until = None
    event.end = single_end(event.type, event.start, event.end, values, longest)
    event.duration = int((event.end - event.start).total_seconds())
    return recurrence.Materialised([])


def single_end(
    kind: int, start: datetime, end: datetime | None, values: dict[str, Any], longest: timedelta | None = None
) -> datetime:
    """A new or retimed single booking's end: the one it has, or its start plus the `duration`
    `values` give without an end; checked for its type's longest span (or `longest`)."""
    if "duration" in values and "end" not in values:
        end = start + timedelta(seconds=values["duration"])
    if end is None:
        raise required_error("end")
    check_span(kind, start, end, "end", longest)
    return end


def _default_zone(partner: Partner) -> str:
    """The zone a series is expanded in when its recurrence names none."""
    return partner.zone.key


def check_span(
    kind: int, start: datetime, end: datetime, field: str, longest: timedelta | None = None
) -> None:
    """`longest`: the cap to apply instead of the type's (MAX_SINGLE_DURATION)."""
    if end < start:
        raise ValidationFailed(
            field, "must not be before the start", code="INVALID_SCHEDULE_END_BEFORE_START",
            args={"START": int(start.timestamp()), "END": int(end.timestamp())},
        )  # fmt: skip
    longest = longest or MAX_SINGLE_DURATION.get(kind) or limits().horizon  # limits() only when needed
    if end - start > longest:
        raise ValidationFailed(
            field, f"a booking of this type may last at most {longest}",
            code="MAX_SCHEDULE_DURATION_REACHED", args={"MAX": int(longest.total_seconds())},
        )  # fmt: skip


def required_error(name: str) -> ValidationFailed:
    return ValidationFailed(
        name, "is required", code="PROPERTY_VALIDATION_CANNOT_BE_NULL", args={"PROP_NAME": name}
    )


def _assign(obj: Any, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(obj, name, value)


def mark_exception(event: ScheduleEvent, overridden: Iterable[str]) -> None:
    event.is_exception = True
    event.overridden_fields = sorted(set(event.overridden_fields) | set(overridden))


def _set_status(actor: Actor, event: ScheduleEvent, status: int) -> None:
    event.status = status
    event.sequence = next_sequence(event.sequence)
    writes.stamp(actor, event)
    event.save(update_fields=["status", "sequence", *STAMP_FIELDS])
    if event.is_series:
        # Occurrences already deleted stay deleted; a cancelled series keeps nothing active.
        event.occurrences.exclude(status=EventStatus.DELETED).update(
            status=status, sequence=NEXT_SEQUENCE, **writes.stamped(actor)
        )


# ---------------------------------------------------------------- series


def _match_slots(series: ScheduleEvent, existing: list[ScheduleEvent], starts: Sequence[datetime]):
    """Pair stored occurrences with the new rule's starts: first the same instant, then, for
    daily-or-coarser rules, the same local date (so moving a 09:00 series to 10:00 keeps its
    occurrences and their exceptions). Returns (pairs, unmatched starts, orphaned occurrences)."""
    by_start = {o.original_start: o for o in existing}
    pairs, unmatched = [], []
    for start in starts:
        occurrence = by_start.pop(start, None)
        if occurrence is None:
            unmatched.append(start)
        else:
            pairs.append((occurrence, start))
    if (series.recurrence or {}).get("frequency") in ("seconds", "minutes", "hours"):
        return pairs, unmatched, list(by_start.values())
    zone = ZoneInfo(series.time_zone)
    same_day = defaultdict(list)
    for occurrence in sorted(by_start.values(), key=_slot):
        same_day[_slot(occurrence).astimezone(zone).date()].append(occurrence)
    new = []
    for start in unmatched:
        candidates = same_day.get(start.astimezone(zone).date())
        if candidates:
            pairs.append((candidates.pop(0), start))
        else:
            new.append(start)
    return pairs, new, [o for day in same_day.values() for o in day]


def _slot(occurrence: ScheduleEvent) -> datetime:
    """An occurrence's place in its series (original_start is only ever unset mid-move)."""
    return occurrence.original_start or occurrence.start


def _regenerate(actor: Actor, series: ScheduleEvent, slots: recurrence.Materialised) -> None:
    """Make the series' occurrences match `slots`, keeping exceptions (we go further than
    Kaltura, which drops them): an edited occurrence keeps what it overrode. The occurrences an
    open-ended series has in the past its slots skip (`gap`) stay as they are: they happened."""
    wanted = set(slots.starts)
    existing = [
        o
        for o in series.occurrences.exclude(status=EventStatus.DELETED)
        if _slot(o) in wanted or not _in_gap(o, slots)  # an extra date may fall in the gap
    ]
    pairs, new_starts, orphans = _match_slots(series, existing, slots.starts)
    moved = [
        (occurrence, start)
        for occurrence, start in pairs
        if occurrence.original_start != start
        or (TIMES not in occurrence.overridden_fields and occurrence.end != occurrence_end(series, start))
    ]
    # An occurrence moved or resized on its own is a booking someone made: it outlives its slot.
    # Anything else whose slot is gone (plain or merely cancelled occurrences) goes.
    gone = [o.pk for o in orphans if TIMES not in o.overridden_fields or o.status != EventStatus.ACTIVE]
    ScheduleEvent.objects.filter(pk__in=gone).delete()
    _move_occurrences(actor, series, moved)
    new = [plan_occurrence(actor, series, start) for start in new_starts]
    ScheduleEvent.objects.bulk_create(new, batch_size=500)
    _add_links(actor, new, _resources(actor.partner, resource_ids_of(series)))


def _in_gap(occurrence: ScheduleEvent, slots: recurrence.Materialised) -> bool:
    return slots.gap is not None and slots.gap[0] < _slot(occurrence) < slots.gap[1]


def _skip_occurrences(actor: Actor, series: ScheduleEvent, starts: Collection[datetime]) -> None:
    """Cancel the new series' occurrences at `starts`, as cancel_event cancels one (an EXDATE).
    A start the rule did not generate means the caller's preview is stale: refused, not ignored."""
    if not starts:
        return
    skipped = series.occurrences.filter(original_start__in=list(starts))
    if skipped.count() != len(set(starts)):
        raise ValidationFailed("skip", "names a date the series does not have; check the dates again")
    skipped.update(
        status=EventStatus.CANCELLED, is_exception=True, overridden_fields=["status"], **writes.stamped(actor)
    )


def plan_occurrence(actor: Actor, series: ScheduleEvent, start: datetime) -> ScheduleEvent:
    occurrence = ScheduleEvent(
        partner_id=series.partner_id,
        parent=series,
        recurrence_type=RecurrenceType.RECURRENCE,
        status=series.status,
        start=start,
        end=occurrence_end(series, start),
        original_start=start,
        created_at=actor.now,
        updated_at=actor.now,
    )
    for name in INHERITED:
        setattr(occurrence, name, getattr(series, name))
    return occurrence


def occurrence_end(series: ScheduleEvent, start: datetime) -> datetime:
    """Where the occurrence of `series` at `start` ends: its duration later, except that whole
    days from a midnight of the series' zone are calendar days (RFC 5545 §3.3.6, nominal): an
    all-day occurrence ends at the midnight N days on, 23 or 25 hours later across DST."""
    length = timedelta(seconds=series.duration)
    if not series.duration or series.duration % DAY.total_seconds():
        return start + length
    zone = ZoneInfo(series.time_zone or "UTC")
    local = start.astimezone(zone).replace(tzinfo=None)
    if local.time() != datetime.min.time():
        return start + length
    return recurrence.to_utc(local + length, zone)


def _move_occurrences(
    actor: Actor, series: ScheduleEvent, moved: list[tuple[ScheduleEvent, datetime]]
) -> None:
    if not moved:
        return
    # Two passes, because a slot may take the original_start another one is leaving and the
    # (parent, original_start) uniqueness is checked row by row.
    ScheduleEvent.objects.filter(pk__in=[o.pk for o, _ in moved]).update(original_start=None)
    for occurrence, start in moved:
        occurrence.original_start = start
        if TIMES not in occurrence.overridden_fields:
            occurrence.start, occurrence.end = start, occurrence_end(series, start)
            occurrence.duration = series.duration
        occurrence.sequence = next_sequence(occurrence.sequence)
        writes.stamp(actor, occurrence)
    ScheduleEvent.objects.bulk_update(
        [o for o, _ in moved],
        ["original_start", "start", "end", "duration", "sequence", *STAMP_FIELDS],
        batch_size=500,
    )


def _propagate(actor: Actor, series: ScheduleEvent, content: dict[str, Any]) -> None:
    """Copy changed series fields to occurrences, except what an exception set itself."""
    if not content:
        return
    bump = {"sequence": NEXT_SEQUENCE, **writes.stamped(actor)}
    occurrences = series.occurrences.exclude(status=EventStatus.DELETED)
    occurrences.filter(is_exception=False).update(**content, **bump)
    for occurrence in occurrences.filter(is_exception=True):
        own = {k: v for k, v in content.items() if k not in occurrence.overridden_fields}
        if own:
            _assign(occurrence, own)
            occurrence.sequence = next_sequence(occurrence.sequence)
            writes.stamp(actor, occurrence)
            occurrence.save()


# ---------------------------------------------------------------- open-ended series


def extend_series(actor: Actor, series_id: int) -> list[ScheduleEvent]:
    """Make an open-ended series' occurrences after its `materialized_until`, up to `actor.now`
    plus the horizon (recurrence.extension), and move the mark: run twice at one moment, it
    makes them once. They follow the series (its fields and resources). Where the partner
    prevents conflicts, one that would collide is made cancelled, as a skipped date is, instead
    of the extension being refused: a refused extension would end the series for good. A
    cancelled or deleted series is not extended. Returns the occurrences made."""
    with writes.envelope(actor):
        series = get_event(actor.partner, series_id)
        if series.status != EventStatus.ACTIVE or series.materialized_until is None:
            return []
        rule = recurrence.parse(series.recurrence or {}, default_zone=_default_zone(actor.partner))
        slots = recurrence.extension(rule, series.start, limits(), actor.now, series.materialized_until)
        assert slots.until is not None  # an extension always says how far it reaches
        if slots.until == series.materialized_until or not _claim(series, slots.until):
            return []
        made = _made(series, slots.starts)  # an extra date (RDATE) the rule also has
        new = [plan_occurrence(actor, series, start) for start in slots.starts if start not in made]
        if not new:
            return []  # only the mark moved (a weekly series, six days in seven): nothing to tell
        resources = list(live_resources(actor.partner, resource_ids_of(series)))
        skipped = _skip_colliding(actor, series, new, [r.pk for r in resources])
        ScheduleEvent.objects.bulk_create(new, batch_size=500)
        _add_links(actor, new, resources)
        writes.audit(actor, "extend", series, None, after={
            "materialized_until": slots.until, "occurrences": len(new), **skipped,
        })  # fmt: skip
    return new


def extend_due(now: datetime) -> list[int]:
    """Extend every active open-ended series whose occurrences end more than a day before
    `now` plus the horizon (the beat: calendar_app/tasks.py), each as its own write as the
    system, so that one that fails does not stop the rest. Returns the ids of those extended."""
    due = ScheduleEvent.objects.filter(
        recurrence_type=RecurrenceType.RECURRING,
        status=EventStatus.ACTIVE,
        materialized_until__lt=now + limits().horizon - DAY,
    ).select_related("partner")
    extended = []
    for series in due.order_by("materialized_until"):
        actor = Actor(series.partner, now, source=AuditEntry.Source.SYSTEM)
        try:
            if extend_series(actor, series.pk):
                extended.append(series.pk)
        except Exception:  # noqa: BLE001 - one broken series must not stop the others
            logger.exception("extending series %s failed", series.pk)
    return extended


def _made(series: ScheduleEvent, starts: Sequence[datetime]) -> set[datetime | None]:
    if not starts:
        return set()
    found = series.occurrences.filter(original_start__gte=starts[0], original_start__lte=starts[-1])
    return set(found.values_list("original_start", flat=True))


def _claim(series: ScheduleEvent, until: datetime) -> bool:
    """Move the mark if no one else has since it was read (a conditional UPDATE: two beats
    extending one series make its occurrences once; the other waits for this one's commit)."""
    claimed = ScheduleEvent.objects.filter(pk=series.pk, materialized_until=series.materialized_until)
    if not claimed.update(materialized_until=until):
        return False
    series.materialized_until = until
    return True


def _skip_colliding(
    actor: Actor, series: ScheduleEvent, new: Sequence[ScheduleEvent], resource_ids: Collection[int]
) -> dict[str, list[dict[str, Any]]]:
    """Cancel the new occurrences that collide where the partner prevents conflicts (elsewhere
    they are booked, as any write is): what the audit says of them, with what they collide with."""
    if series.type == EventType.BLACKOUT or not new:
        return {}  # blackouts are never refused
    refuses = OnConflict.PARTNER.refuses(actor.partner)
    _lock(actor, resource_ids, series.type, OnConflict.PARTNER if refuses else OnConflict.IGNORE)
    windows = [Window(o.start, o.end) for o in new]
    colliding: dict[datetime, set[int]] = defaultdict(set)
    for conflict in conflicts.find(actor.partner, windows, resource_ids, ConflictType.BOTH, [series.pk]):
        colliding[conflict.window.start].add(conflict.event.pk)
    for occurrence in new:
        if refuses and occurrence.start in colliding:
            occurrence.status = EventStatus.CANCELLED
            mark_exception(occurrence, ["status"])
    said = [{"start": start, "conflicts_with": sorted(ids)} for start, ids in sorted(colliding.items())]
    return {"skipped" if refuses else "booked_anyway": said} if said else {}


# ---------------------------------------------------------------- conflicts


def windows_for(actor: Actor, proposal: dict[str, Any], *, probe: bool = False) -> list[Window]:
    """The slots a proposed (unsaved) event would occupy: one, or one per occurrence. A `probe`
    (getConflicts) may be of any length up to the horizon: Kaltura applies its 24-hour cap to the
    events it inserts, never to a probe, and the horizon keeps the check bounded."""
    kind = proposal.get("type", EventType.RECORD)
    longest = limits().horizon if probe else None
    values = input_rules.clean(input_rules.EVENT_RULES, proposal, kind=kind, creating=True)
    start, end = values.get("start"), values.get("end")
    if start is None:
        raise required_error("start")
    if values.get("recurrence_type") != RecurrenceType.RECURRING:
        if end is None:
            raise required_error("end")
        check_span(kind, start, end, "end", longest)
        return [Window(start, end)]
    length = timedelta(seconds=values.get("duration") or 0)
    if not length and end is not None:
        length = end - start
    check_span(kind, start, start + length, "end", longest)
    rule = recurrence.parse(values.get("recurrence") or {}, default_zone=_default_zone(actor.partner))
    return [Window(s, s + length) for s in recurrence.expand(rule, start, limits(), now=actor.now)]


def check_proposal(
    actor: Actor,
    proposal: dict[str, Any],
    resource_ids: Collection[int],
    conflict_type: ConflictType = ConflictType.RESOURCE,
    ignore_ids: Collection[int] = (),
) -> list[Conflict]:
    """What a probe (getConflicts) would collide with, per occurrence: of any length up to the
    horizon (`windows_for`)."""
    return conflicts.find(
        actor.partner, windows_for(actor, proposal, probe=True), resource_ids, conflict_type, ignore_ids
    )


def conflicts_of(event: ScheduleEvent) -> list[Conflict]:
    """What a stored event (each active occurrence of a series) collides with now."""
    rows = list(event.occurrences.bookable()) if event.is_series else [event]
    rows = [r for r in rows if r.status == EventStatus.ACTIVE]
    if not rows:
        return []
    links = defaultdict(set)
    for event_id, resource_id in ScheduleEventResource.objects.filter(
        event_id__in=[r.pk for r in rows]
    ).values_list("event_id", "resource_id"):
        links[event_id].add(resource_id)
    by_resources: dict[frozenset[int], list[Window]] = defaultdict(list)
    for row in rows:
        by_resources[frozenset(links[row.pk])].append(Window(row.start, row.end))
    found = []
    for resource_ids, windows in by_resources.items():
        found += conflicts.find(event.partner, windows, resource_ids, ConflictType.BOTH, [event.pk])
    return found


def _lock(actor: Actor, resource_ids: Collection[int], kind: int, on_conflict: OnConflict) -> None:
    if on_conflict.refuses(actor.partner):
        conflicts.lock_for_write(actor.partner, resource_ids, blackout=kind == EventType.BLACKOUT)


def _enforce(actor: Actor, event: ScheduleEvent, on_conflict: OnConflict) -> None:
    """Apply `on_conflict` to the event as the write leaves it: refuse the write (rolling the
    transaction back), or record that it was booked anyway. Blackouts are never refused:
    closing a date is the admin's decision."""
    refuses = on_conflict.refuses(actor.partner)
    if event.type == EventType.BLACKOUT or not (refuses or on_conflict is OnConflict.BOOK_ANYWAY):
        return
    found = conflicts_of(event)
    if not found:
        return
    if refuses:
        raise ConflictDetected(found)
    colliding = sorted({c.event.pk for c in found})
    writes.audit(actor, "book_anyway", event, None, after={"conflicts_with": colliding})


# ---------------------------------------------------------------- links


def link_resource(
    actor: Actor, event_id: int, resource_id: int, *, on_conflict: OnConflict = OnConflict.PARTNER
) -> ScheduleEventResource:
    """Link a resource to an event; linking a series links every occurrence that follows it."""
    with writes.envelope(actor):
        event = get_event(actor.partner, event_id)
        resource = get_resource(actor.partner, resource_id)
        if ScheduleEventResource.objects.filter(event=event, resource=resource).exists():
            raise ValidationFailed(
                "resource_id", f"event {event.pk} is already linked to resource {resource.pk}",
                code="SCHEDULE_EVENT_RESOURCE_ALREADY_EXISTS",
                args={"EVENT_ID": event.pk, "RESOURCE_ID": resource.pk},
            )  # fmt: skip
        _lock(actor, [resource.pk], event.type, on_conflict)
        _add_links(actor, [event, *_followers(event)], [resource])
        _touch_for_links(actor, event)
        _enforce(actor, event, on_conflict)
        link = ScheduleEventResource.objects.get(event=event, resource=resource)
        writes.audit(actor, "link", link, None)
    return link


def unlink_resource(actor: Actor, event_id: int, resource_id: int) -> None:
    with writes.envelope(actor):
        link = get_link(actor.partner, event_id, resource_id)
        before = writes.snapshot(link)
        event = link.event
        ScheduleEventResource.objects.filter(
            event__in=[event, *_followers(event)], resource_id=resource_id
        ).delete()
        _touch_for_links(actor, event)
        writes.audit(actor, "unlink", link, before, after=None)


def get_link(partner: Partner, event_id: int, resource_id: int) -> ScheduleEventResource:
    link = (
        ScheduleEventResource.objects.for_partner(partner)
        .filter(event_id=event_id, resource_id=resource_id)
        .exclude(event__status=EventStatus.DELETED)
        .select_related("event")
        .first()
    )
    if link is None:
        raise NotFound("link", f"{event_id},{resource_id}")
    return link


def _followers(event: ScheduleEvent) -> list[ScheduleEvent]:
    """Occurrences whose resources follow the series (those not given resources of their own)."""
    if not event.is_series:
        return []
    return [
        o
        for o in event.occurrences.exclude(status=EventStatus.DELETED)
        if RESOURCES not in o.overridden_fields
    ]


def _touch_for_links(actor: Actor, event: ScheduleEvent) -> None:
    if event.is_occurrence:
        mark_exception(event, [RESOURCES])
    writes.stamp(actor, event)
    event.save(update_fields=["is_exception", "overridden_fields", *STAMP_FIELDS])


def _add_links(actor: Actor, events: Sequence[ScheduleEvent], resources) -> None:
    ScheduleEventResource.objects.bulk_create(
        [
            ScheduleEventResource(
                partner_id=event.partner_id,
                event=event,
                resource=resource,
                created_at=actor.now,
                updated_at=actor.now,
            )  # fmt: skip
            for event in events
            for resource in resources
        ],
        batch_size=500,
    )


def live_resources(partner: Partner, resource_ids: Collection[int]) -> QuerySet[ScheduleResource]:
    """Those of `resource_ids` that are the partner's and not deleted: what a booking may use."""
    return (
        ScheduleResource.objects.for_partner(partner)
        .exclude(status=ResourceStatus.DELETED)
        .filter(pk__in=resource_ids)
    )


def _resources(partner: Partner, resource_ids: Collection[int]) -> list[ScheduleResource]:
    wanted = set(resource_ids)
    found = list(live_resources(partner, wanted))
    missing = wanted - {r.pk for r in found}
    if missing:
        raise NotFound("resource", min(missing))
    return found


# ---------------------------------------------------------------- resources


def create_resource(actor: Actor, data: dict[str, Any]) -> ScheduleResource:
    for required in ("type", "name"):
        if data.get(required) in (None, ""):
            raise required_error(required)
    kind = input_rules.choice(ResourceType)("type", data["type"])
    values = input_rules.clean(input_rules.RESOURCE_RULES, data, kind=kind, creating=True)
    if kind == ResourceType.LIVE_ENTRY and not values.get("entry_id"):
        raise required_error("entry_id")
    resource = ScheduleResource(partner=actor.partner, created_at=actor.now, updated_at=actor.now)
    return _save_resource(actor, resource, values, "create")


def update_resource(actor: Actor, resource_id: int, changes: dict[str, Any]) -> ScheduleResource:
    resource = get_resource(actor.partner, resource_id)
    values = input_rules.clean(input_rules.RESOURCE_RULES, changes, kind=resource.type, creating=False)
    if resource.type == ResourceType.LIVE_ENTRY and "entry_id" in values and not values["entry_id"]:
        raise required_error("entry_id")
    resource.updated_at = actor.now
    return _save_resource(actor, resource, values, "update")


def delete_resource(actor: Actor, resource_id: int) -> ScheduleResource:
    with writes.envelope(actor):
        resource = get_resource(actor.partner, resource_id)
        before = writes.snapshot(resource)
        resource.status = ResourceStatus.DELETED
        resource.updated_at = actor.now
        resource.save(update_fields=["status", "updated_at"])
        writes.audit(actor, "delete", resource, before)
    return resource


def _save_resource(actor: Actor, resource: ScheduleResource, values, action: str) -> ScheduleResource:
    with writes.envelope(actor):
        before = writes.snapshot(resource) if resource.pk else None
        if values.get("parent_id") == 0:
            values["parent_id"] = None
        if values.get("parent_id") is not None:
            _check_parent(actor.partner, resource, values["parent_id"])
        _assign(resource, values)
        _check_system_name(actor.partner, resource)
        try:
            with transaction.atomic():
                resource.save()
        except IntegrityError:  # lost a race for the name
            raise _system_name_taken(resource.system_name) from None
        writes.audit(actor, action, resource, before)
    return resource


def _check_parent(partner: Partner, resource: ScheduleResource, parent_id: int) -> None:
    try:
        parent: ScheduleResource | None = get_resource(partner, parent_id)
    except NotFound:
        raise ValidationFailed(
            "parent_id", f"no resource {parent_id}", code="RESOURCE_PARENT_ID_NOT_FOUND",
            args={"PARENT_ID": parent_id},
        ) from None  # fmt: skip
    seen = set()
    while parent is not None and parent.pk not in seen:
        if resource.pk is not None and parent.pk == resource.pk:
            raise ValidationFailed(
                "parent_id", "a resource cannot be its own ancestor", code="RESOURCE_PARENT_CYCLE"
            )
        seen.add(parent.pk)
        parent = parent.parent


def _check_system_name(partner: Partner, resource: ScheduleResource) -> None:
    if not resource.system_name:
        resource.system_name = None
        return
    taken = (
        ScheduleResource.objects.for_partner(partner)
        .exclude(status=ResourceStatus.DELETED)
        .filter(system_name=resource.system_name)
        .exclude(pk=resource.pk)
        .exists()
    )
    if taken:
        raise _system_name_taken(resource.system_name)


def _system_name_taken(name: str | None) -> ValidationFailed:
    return ValidationFailed(
        "system_name", f"system name {name!r} is already in use",
        code="SYSTEM_NAME_ALREADY_EXISTS", args={"SYS_NAME": name},
    )  # fmt: skip


# ---------------------------------------------------------------- compound writes


def replace_resources(
    actor: Actor,
    event_id: int,
    resource_ids: Collection[int],
    *,
    on_conflict: OnConflict = OnConflict.PARTNER,
) -> None:
    """Make the event's resources exactly `resource_ids`, in one transaction: link_resource and
    unlink_resource for the difference, so each change is checked and audited as on its own."""
    with writes.envelope(actor):
        event = get_event(actor.partner, event_id)
        wanted = {r.pk for r in _resources(actor.partner, resource_ids)}
        linked = set(resource_ids_of(event))
        for resource_id in sorted(linked - wanted):
            unlink_resource(actor, event.pk, resource_id)
        for resource_id in sorted(wanted - linked):
            link_resource(actor, event.pk, resource_id, on_conflict=on_conflict)


def edit_booking(
    actor: Actor,
    event_id: int,
    wanted: dict[str, Any],
    resource_ids: Collection[int] | None = None,
    *,
    on_conflict: OnConflict = OnConflict.PARTNER,
) -> ScheduleEvent:
    """Make the booking look like `wanted` (fields as create_event takes them, all or some) with
    `resource_ids`: update_event and replace_resources as one write, checked once, as it ends.
    Dragging a booking to another room's column both moves it and changes its room, and only
    the result may collide. Each step is audited as on its own."""
    with writes.envelope(actor):
        event = get_event(actor.partner, event_id)
        changes = _booking_changes(actor.partner, event, wanted)
        touched = set(_resource_ids_touched(event)) | set(resource_ids or ())
        _lock(actor, touched, event.type, on_conflict)
        if resource_ids is not None:
            replace_resources(actor, event.pk, resource_ids, on_conflict=OnConflict.IGNORE)
        update_event(actor, event.pk, changes, on_conflict=OnConflict.IGNORE)
        event = get_event(actor.partner, event_id)
        _enforce(actor, event, on_conflict)
    return event


def _booking_changes(partner: Partner, event: ScheduleEvent, wanted: dict[str, Any]) -> dict[str, Any]:
    """Only what differs: an unchanged field must not make an occurrence an exception for it."""
    if "type" in wanted and wanted["type"] != event.type:
        raise ValidationFailed("type", "a booking keeps its type; cancel it and book a new one")
    data = dict(wanted)
    if data.get("recurrence"):  # compared as stored: parse fills in the defaults
        data["recurrence"] = recurrence.parse(
            data["recurrence"], default_zone=_default_zone(partner)
        ).as_dict()
    changes = {
        k: v for k, v in data.items() if k not in ("type", "recurrence_type") and getattr(event, k) != v
    }
    if event.is_series and {"start", "end"} <= data.keys() and changes.keys() & {"start", "end"}:
        # A series keeps a duration, not an end: moving only the start must not keep its length.
        changes.pop("end", None)
        changes["start"] = data["start"]
        changes["duration"] = int((data["end"] - data["start"]).total_seconds())
    return changes


def set_ical_uid(actor: Actor, event_id: int, ical_uid: str) -> ScheduleEvent:
    """Give an event the UID a calendar knows it by (an import matching an occurrence its series
    just generated to the file's VEVENT for it). A new UID starts a new revision history, so the
    sequence stays; the stamp makes the event's stored VEVENT stale, so it is rendered again."""
    with writes.envelope(actor):
        event = get_event(actor.partner, event_id)
        if event.ical_uid != ical_uid:
            before = writes.snapshot(event)
            event.ical_uid = ical_uid
            writes.stamp(actor, event)
            event.save(update_fields=["ical_uid", *STAMP_FIELDS])
            writes.audit(actor, "update", event, before)
    return event
