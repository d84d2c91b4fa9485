"""The write path the web calendar books through (scheduling.py): what each OnConflict policy
does, skipping occurrences of a new series, and edit_booking's one check at the end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calendar_app import scheduling
from calendar_app.errors import ConflictDetected, ValidationFailed
from calendar_app.models import (
    AuditEntry,
    EventStatus,
    EventType,
    RecurrenceType,
    ScheduleEvent,
    ScheduleEventResource,
)
from calendar_app.scheduling import OnConflict
from tests.conftest import at

BERLIN = "Europe/Berlin"


def book(actor, start, minutes=60, resources=(), on_conflict=OnConflict.REFUSE, skip=(), **extra):
    """A booking as the web calendar makes it: Berlin wall time, REFUSE unless told otherwise."""
    begin = at(start, BERLIN)
    data = {"type": EventType.RECORD, "summary": "Lecture", "start": begin, **extra}
    data.setdefault("end", begin + timedelta(minutes=minutes))
    return scheduling.create_event(
        actor, data, resource_ids=[r.pk for r in resources], on_conflict=on_conflict, skip=skip
    )


def weekly(actor, start, count, resources=(), on_conflict=OnConflict.REFUSE, skip=()):
    begin = at(start, BERLIN)
    data = {
        "type": EventType.RECORD,
        "summary": "Physics",
        "start": begin,
        "end": begin + timedelta(minutes=60),
        "recurrence_type": RecurrenceType.RECURRING,
        "recurrence": {"frequency": "weeks", "count": count, "time_zone": BERLIN},
    }
    return scheduling.create_event(
        actor, data, resource_ids=[r.pk for r in resources], on_conflict=on_conflict, skip=skip
    )


def occurrences(series) -> list[ScheduleEvent]:
    return list(series.occurrences.order_by("original_start"))


def book_anyway_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="book_anyway").order_by("pk"))


@pytest.fixture
def room(make_resource):
    return make_resource("Room 101")


@pytest.fixture
def hall(make_resource):
    return make_resource("Hall 2")


# ---------------------------------------------------------------- OnConflict


@pytest.mark.parametrize(
    ("policy", "lenient", "strict"),
    [
        (OnConflict.PARTNER, False, True),
        (OnConflict.REFUSE, True, True),
        (OnConflict.BOOK_ANYWAY, False, False),
        (OnConflict.IGNORE, False, False),
    ],
)
def test_which_policies_refuse(partner, policy, lenient, strict):
    assert policy.refuses(partner) is lenient
    partner.prevent_conflicts = True
    assert policy.refuses(partner) is strict


def test_partner_policy_books_a_conflict_where_the_partner_allows_them(actor, room):
    book(actor, "2026-09-07 09:00", resources=[room])
    assert book(actor, "2026-09-07 09:30", resources=[room], on_conflict=OnConflict.PARTNER).pk
    assert ScheduleEvent.objects.count() == 2


def test_partner_policy_refuses_where_the_partner_prevents_conflicts(strict, room):
    book(strict, "2026-09-07 09:00", resources=[room])
    with pytest.raises(ConflictDetected):
        book(strict, "2026-09-07 09:30", resources=[room], on_conflict=OnConflict.PARTNER)
    assert ScheduleEvent.objects.count() == 1


def test_refuse_refuses_even_where_the_partner_allows_conflicts(actor, room):
    first = book(actor, "2026-09-07 09:00", resources=[room])
    with pytest.raises(ConflictDetected) as error:
        book(actor, "2026-09-07 09:30", resources=[room])
    assert [c.event.pk for c in error.value.conflicts] == [first.pk]
    assert list(ScheduleEvent.objects.values_list("pk", flat=True)) == [first.pk]
    assert ScheduleEventResource.objects.count() == 1
    assert (
        not AuditEntry.objects.filter(object_type="ScheduleEvent").exclude(object_id=str(first.pk)).exists()
    )


def test_book_anyway_saves_and_audits_what_it_collides_with(strict, room, hall):
    one = book(strict, "2026-09-07 09:00", resources=[room])
    two = book(strict, "2026-09-07 10:00", resources=[hall])
    event = book(strict, "2026-09-07 09:30", resources=[room, hall], on_conflict=OnConflict.BOOK_ANYWAY)
    [entry] = book_anyway_entries()
    assert (entry.object_id, entry.after) == (str(event.pk), {"conflicts_with": [one.pk, two.pk]})
    assert entry.source == strict.source and entry.actor == "alice"


def test_book_anyway_without_a_conflict_is_not_audited_as_one(actor, room):
    book(actor, "2026-09-07 09:00", resources=[room], on_conflict=OnConflict.BOOK_ANYWAY)
    assert book_anyway_entries() == []


def test_ignore_saves_a_conflict_without_a_book_anyway_entry(strict, room):
    book(strict, "2026-09-07 09:00", resources=[room])
    assert book(strict, "2026-09-07 09:30", resources=[room], on_conflict=OnConflict.IGNORE).pk
    assert ScheduleEvent.objects.count() == 2
    assert book_anyway_entries() == []


def test_a_blackout_is_never_refused(strict, room):
    book(strict, "2026-09-07 09:00", resources=[room])
    closed = book(strict, "2026-09-07 00:00", 24 * 60, type=EventType.BLACKOUT)
    assert ScheduleEvent.objects.filter(pk=closed.pk).exists()
    assert book_anyway_entries() == []


# ---------------------------------------------------------------- skip


def test_skip_cancels_exactly_those_occurrences(actor):
    skipped = [at("2026-09-14 09:00", BERLIN), at("2026-09-28 09:00", BERLIN)]
    series = weekly(actor, "2026-09-07 09:00", 4, skip=skipped)
    rows = occurrences(series)
    assert [o.status for o in rows] == [EventStatus.ACTIVE, EventStatus.CANCELLED] * 2
    for row in rows[1::2]:
        assert row.is_exception and "status" in row.overridden_fields
    assert not rows[0].is_exception and rows[0].overridden_fields == []


def test_a_skipped_date_the_rule_does_not_generate_is_refused_and_nothing_is_saved(actor, room):
    with pytest.raises(ValidationFailed) as error:
        weekly(actor, "2026-09-07 09:00", 4, resources=[room], skip=[at("2026-09-14 10:00", BERLIN)])
    assert error.value.field == "skip"
    assert not ScheduleEvent.objects.exists()
    assert not ScheduleEventResource.objects.exists()
    assert not AuditEntry.objects.filter(object_type="ScheduleEvent").exists()


def test_skip_on_a_single_event_is_refused(actor):
    with pytest.raises(ValidationFailed) as error:
        book(actor, "2026-09-07 09:00", skip=[at("2026-09-07 09:00", BERLIN)])
    assert error.value.field == "skip"
    assert not ScheduleEvent.objects.exists()


def test_a_series_whose_only_conflict_is_skipped_is_saved(actor, room):
    book(actor, "2026-09-21 09:00", resources=[room])
    series = weekly(actor, "2026-09-07 09:00", 4, resources=[room], skip=[at("2026-09-21 09:00", BERLIN)])
    assert [o.status for o in occurrences(series)].count(EventStatus.CANCELLED) == 1
    assert scheduling.conflicts_of(series) == []


def test_a_series_with_a_conflict_left_unskipped_is_refused_whole(actor, room):
    book(actor, "2026-09-21 09:00", resources=[room])
    with pytest.raises(ConflictDetected):
        weekly(actor, "2026-09-07 09:00", 4, resources=[room], skip=[at("2026-09-14 09:00", BERLIN)])
    assert ScheduleEvent.objects.count() == 1


# ---------------------------------------------------------------- edit_booking


def test_moving_to_a_free_column_is_checked_once_at_the_end(actor, room, hall):
    """Moved first or relinked first, the booking would collide on the way; the result is free."""
    event = book(actor, "2026-09-07 09:00", resources=[room])
    book(actor, "2026-09-07 09:00", resources=[hall])
    book(actor, "2026-09-07 10:00", resources=[room])
    later = {"start": at("2026-09-07 10:00", BERLIN), "end": at("2026-09-07 11:00", BERLIN)}
    scheduling.edit_booking(actor, event.pk, later, [hall.pk], on_conflict=OnConflict.REFUSE)
    event.refresh_from_db()
    assert event.start == later["start"]
    assert scheduling.resource_ids_of(event) == [hall.pk]


def test_an_edit_that_ends_in_a_conflict_changes_nothing(actor, room, hall):
    event = book(actor, "2026-09-07 09:00", resources=[room])
    book(actor, "2026-09-07 10:00", resources=[hall])
    audited = AuditEntry.objects.count()
    later = {"start": at("2026-09-07 10:00", BERLIN), "end": at("2026-09-07 11:00", BERLIN)}
    with pytest.raises(ConflictDetected):
        scheduling.edit_booking(actor, event.pk, later, [hall.pk], on_conflict=OnConflict.REFUSE)
    event.refresh_from_db()
    assert event.start == at("2026-09-07 09:00", BERLIN)
    assert scheduling.resource_ids_of(event) == [room.pk]
    assert AuditEntry.objects.count() == audited


def test_edit_booking_with_book_anyway_saves_and_audits(actor, room):
    event = book(actor, "2026-09-07 09:00", resources=[room])
    other = book(actor, "2026-09-07 10:00", resources=[room])
    later = {"start": at("2026-09-07 09:30", BERLIN), "end": at("2026-09-07 10:30", BERLIN)}
    scheduling.edit_booking(actor, event.pk, later, on_conflict=OnConflict.BOOK_ANYWAY)
    [entry] = book_anyway_entries()
    assert (entry.object_id, entry.after) == (str(event.pk), {"conflicts_with": [other.pk]})


def test_an_occurrence_moved_with_edit_booking_survives_a_series_move(actor, room):
    series = weekly(actor, "2026-09-07 09:00", 3, resources=[room])
    second = occurrences(series)[1]
    own = {"start": at("2026-09-14 14:00", BERLIN), "end": at("2026-09-14 15:00", BERLIN)}
    scheduling.edit_booking(actor, second.pk, own, [room.pk], on_conflict=OnConflict.REFUSE)
    second.refresh_from_db()
    assert second.is_exception
    ten = {"start": at("2026-09-07 10:00", BERLIN), "duration": 3600}
    scheduling.edit_booking(actor, series.pk, ten, [room.pk], on_conflict=OnConflict.REFUSE)
    assert [o.start for o in occurrences(series)] == [
        at("2026-09-07 10:00", BERLIN),
        at("2026-09-14 14:00", BERLIN),
        at("2026-09-21 10:00", BERLIN),
    ]


def test_unchanged_resources_do_not_make_an_occurrence_an_exception(actor, room):
    series = weekly(actor, "2026-09-07 09:00", 3, resources=[room])
    second = occurrences(series)[1]
    scheduling.edit_booking(actor, second.pk, {"summary": "Guest"}, [room.pk], on_conflict=OnConflict.REFUSE)
    second.refresh_from_db()
    assert second.overridden_fields == ["summary"]
