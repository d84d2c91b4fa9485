"""Batched writes for imports: create_events writes what create_event writes, row by row in
effect, and a row the database refuses takes no other row with it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.forms.models import model_to_dict

from calendar_app import batch_scheduling, scheduling, writes
from calendar_app.batch_scheduling import NewEvent
from calendar_app.errors import ConflictDetected, DatabaseRefused, NotFound, ValidationFailed
from calendar_app.models import AuditEntry, EventType, RecurrenceType, ScheduleEvent, ScheduleEventResource
from calendar_app.scheduling import OnConflict
from tests.conftest import at


def lecture(start: str = "2026-09-07 09:00", minutes: int = 90, **extra) -> dict:
    begin = at(start)
    return {
        "type": EventType.RECORD,
        "summary": "Lecture",
        "start": begin,
        "end": begin + timedelta(minutes=minutes),
        **extra,
    }


def columns(event: ScheduleEvent) -> dict:
    return model_to_dict(event, exclude=["id", "ical_uid", "ical_fragment", "ical_fragment_of"])


def test_it_writes_what_create_event_writes(actor, make_resource):
    room = make_resource("Hall 1")
    one = scheduling.create_event(actor, lecture(tags="x"), resource_ids=[room.pk])
    (many,) = batch_scheduling.create_events(actor, [NewEvent(lecture(tags="x"), (room.pk,))])
    made = ScheduleEvent.objects.get(pk=many)
    assert columns(made) == columns(ScheduleEvent.objects.get(pk=one.pk))
    assert scheduling.resource_ids_of(made) == [room.pk]
    audit = AuditEntry.objects.get(object_type="ScheduleEvent", object_id=str(many))
    reference = AuditEntry.objects.get(object_type="ScheduleEvent", object_id=str(one.pk))
    assert (audit.action, audit.source, audit.at, audit.before) == ("create", "api", actor.now, None)
    assert {k: v for k, v in audit.after.items() if k not in ("id", "ical_uid")} == {
        k: v for k, v in reference.after.items() if k not in ("id", "ical_uid")
    }


def test_it_keeps_the_uid_it_is_given(actor):
    (event,) = batch_scheduling.create_events(actor, [NewEvent(lecture(), ical_uid="from-the-file@uni")])
    assert ScheduleEvent.objects.get(pk=event).ical_uid == "from-the-file@uni"


def test_a_refused_row_leaves_the_others_alone(actor, make_resource):
    room = make_resource("Hall 1")
    results = batch_scheduling.create_events(
        actor,
        [
            NewEvent(lecture()),
            NewEvent(lecture(summary="")),
            NewEvent(lecture(), (room.pk, 999_999)),
            NewEvent(lecture(minutes=3000)),
            NewEvent(lecture("2026-09-08 09:00")),
        ],
    )
    assert [type(r) for r in results] == [int, ValidationFailed, NotFound, ValidationFailed, int]
    assert ScheduleEvent.objects.count() == 2 and not ScheduleEventResource.objects.exists()


def test_a_series_goes_through_create_event(actor):
    series = lecture(recurrence_type=RecurrenceType.RECURRING, recurrence={"frequency": "weeks", "count": 3})
    (event,) = batch_scheduling.create_events(actor, [NewEvent(series, ical_uid="course@uni")])
    made = ScheduleEvent.objects.get(pk=event)
    assert (made.occurrences.count(), made.ical_uid) == (3, "course@uni")


def test_it_writes_a_chunk_in_a_few_queries(actor, make_resource, django_assert_max_num_queries):
    rooms = [make_resource(f"Hall {n}").pk for n in range(5)]
    rows = [NewEvent(lecture(f"2026-09-{7 + n % 20:02d} 09:00"), (rooms[n % 5],)) for n in range(200)]
    # Per chunk, not per row: the resources, then the INSERTs (SQLite takes at most 999
    # parameters a statement, ~22 events; PostgreSQL loads them with COPY, which is not counted).
    with django_assert_max_num_queries(len(rows) // 10):
        results = batch_scheduling.create_events(actor, rows)
    assert all(isinstance(r, int) for r in results)
    assert ScheduleEventResource.objects.count() == 200


def test_it_refuses_rows_that_collide_with_stored_bookings(strict, make_event, make_resource):
    room, other = make_resource("Hall 1"), make_resource("Hall 2")
    booked = make_event("2026-09-07 09:00", resources=[room])
    results = batch_scheduling.create_events(
        strict, [NewEvent(lecture(), (room.pk,)), NewEvent(lecture(), (other.pk,))]
    )
    assert isinstance(results[0], ConflictDetected) and isinstance(results[1], int)
    assert [c.event.pk for c in results[0].conflicts] == [booked.pk]


def test_it_refuses_a_row_that_collides_with_an_earlier_row(strict, make_resource):
    room = make_resource("Hall 1")
    first, second, third = batch_scheduling.create_events(
        strict,
        [
            NewEvent(lecture(), (room.pk,)),
            NewEvent(lecture("2026-09-07 10:00"), (room.pk,)),
            NewEvent(lecture("2026-09-07 10:30"), (room.pk,)),  # back to back with the first
        ],
    )
    assert isinstance(second, ConflictDetected) and [c.event.pk for c in second.conflicts] == [first]
    assert isinstance(third, int)


def test_blackouts_refuse_later_rows_and_are_never_refused(strict, make_event, make_resource):
    room = make_resource("Hall 1")
    make_event("2026-09-07 09:00", resources=[room])
    blackout, booking = batch_scheduling.create_events(
        strict,
        [NewEvent(lecture(type=EventType.BLACKOUT, minutes=600)), NewEvent(lecture("2026-09-07 12:00"))],
    )
    assert isinstance(blackout, int) and booking.code == "SCHEDULE_EVENT_BLACKOUT_CONFLICT"


def test_book_anyway_saves_a_conflicting_row(strict, make_event, make_resource):
    room = make_resource("Hall 1")
    make_event("2026-09-07 09:00", resources=[room])
    (event,) = batch_scheduling.create_events(
        strict, [NewEvent(lecture(), (room.pk,))], on_conflict=OnConflict.BOOK_ANYWAY
    )
    assert isinstance(event, int)


@pytest.fixture
def refuse_boom(db):
    """A trigger that makes the database itself refuse events named 'boom' (rolled back with
    the test, DDL included)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN IF NEW.summary = 'boom' "
                "THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_boom BEFORE INSERT ON calendar_app_scheduleevent "
                "FOR EACH ROW EXECUTE FUNCTION refuse_boom()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse_boom BEFORE INSERT ON calendar_app_scheduleevent "
                "WHEN NEW.summary = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END"
            )


def test_a_row_the_database_refuses_takes_no_other_row_with_it(actor, make_resource, refuse_boom):
    room = make_resource("Hall 1")
    rows = [NewEvent(lecture(summary=name), (room.pk,)) for name in ("one", "boom", "three")]
    results = batch_scheduling.create_events(actor, rows)
    assert [type(r) for r in results] == [int, DatabaseRefused, int]
    assert "boom refused" in results[1].message and results[1].code == "DATABASE_ERROR"
    assert sorted(ScheduleEvent.objects.values_list("summary", flat=True)) == ["one", "three"]
    assert (
        ScheduleEventResource.objects.count()
        == AuditEntry.objects.filter(action="create", object_type="ScheduleEvent").count()
        == 2
    )


def test_replace_resources_links_and_unlinks_the_difference(actor, make_event, make_resource):
    room, camera, other = make_resource("Hall 1"), make_resource("Cam 1"), make_resource("Hall 2")
    event = make_event(resources=[room, camera])
    scheduling.replace_resources(actor, event.pk, [camera.pk, other.pk])
    assert scheduling.resource_ids_of(event) == sorted([camera.pk, other.pk])
    assert [a.action for a in AuditEntry.objects.filter(object_type="ScheduleEventResource").order_by("pk")][
        -2:
    ] == [
        "unlink",
        "link",
    ]


def test_set_ical_uid_keeps_the_sequence_and_is_audited(actor, make_event):
    event = make_event()
    later = writes.Actor(actor.partner, actor.now + timedelta(hours=1), "alice")
    scheduling.set_ical_uid(later, event.pk, "theirs@uni")
    event.refresh_from_db()
    assert (event.ical_uid, event.sequence, event.updated_at) == ("theirs@uni", 12, later.now)
    assert AuditEntry.objects.filter(object_id=str(event.pk), action="update").count() == 1
