"""Single events through the write path: validation, partial updates, cancel/delete, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calendar_app import scheduling, writes
from calendar_app.errors import NotFound, ValidationFailed
from calendar_app.models import AuditEntry, Entry, EntryType, EventStatus, EventType, ScheduleEvent
from tests.conftest import at


def lecture(**extra):
    return {
        "type": EventType.RECORD,
        "summary": "Physics 101",
        "start": at("2026-09-07 09:00"),
        "end": at("2026-09-07 10:30"),
        **extra,
    }


def test_it_creates_an_event(actor):
    event = scheduling.create_event(actor, lecture(tags="physics"))
    event.refresh_from_db()
    assert (event.summary, event.status, event.duration) == ("Physics 101", EventStatus.ACTIVE, 5400)
    assert event.partner == actor.partner and event.tags == "physics"


def test_a_new_event_has_kalturas_first_sequence(actor):
    assert scheduling.create_event(actor, lecture()).sequence == 12


def test_it_audits_who_created_what(actor):
    event = scheduling.create_event(actor, lecture())
    entry = AuditEntry.objects.get(object_type="ScheduleEvent", object_id=str(event.pk))
    assert (entry.action, entry.actor, entry.source, entry.before) == ("create", "alice", "api", None)
    assert entry.after["summary"] == "Physics 101"


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        (lecture(end=at("2026-09-07 08:00")), "end", "INVALID_SCHEDULE_END_BEFORE_START"),
        (lecture(summary=""), "summary", "PROPERTY_VALIDATION_CANNOT_BE_NULL"),
        (lecture(end=None), "end", "PROPERTY_VALIDATION_CANNOT_BE_NULL"),
        (lecture(summary="x" * 257), "summary", "PROPERTY_VALIDATION_MAX_LENGTH"),
        (lecture(priority=10), "priority", "PROPERTY_VALIDATION_MAX_VALUE"),
        (lecture(type=9), "type", "INVALID_ENUM_VALUE"),
        (lecture(recurrence_type=2), "recurrence_type", "INVALID_ENUM_VALUE"),
        (lecture(status=1), "status", "PROPERTY_VALIDATION_NOT_UPDATABLE"),
        (lecture(entry_ids="0_abc,BAD ID"), "entry_ids", "INVALID_FIELD_VALUE"),
        (lecture(start="2026-09-07"), "start", "INVALID_FIELD_VALUE"),
        (lecture(end=at("2026-09-08 10:00")), "end", "MAX_SCHEDULE_DURATION_REACHED"),
        (
            lecture(type=EventType.BLACKOUT, template_entry_id="0_abc"),
            "template_entry_id",
            "INVALID_FIELD_VALUE",
        ),
        (lecture(post_end_time=60), "post_end_time", "INVALID_FIELD_VALUE"),
        (lecture(recurrence={"frequency": "days", "count": 2}), "recurrence", "INVALID_FIELD_VALUE"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(actor, data, field, code):
    with pytest.raises(ValidationFailed) as error:
        scheduling.create_event(actor, data)
    assert (error.value.field, error.value.code) == (field, code)
    assert not ScheduleEvent.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_blackout_may_cover_a_whole_week(actor):
    week = lecture(type=EventType.BLACKOUT, end=at("2026-09-14 09:00"))
    assert scheduling.create_event(actor, week).duration == 7 * 86400


def test_a_live_event_carries_live_fields(actor):
    Entry.objects.create(partner=actor.partner, id="0_live0001", type=EntryType.LIVE_STREAM, name="Hall 1")
    event = scheduling.create_event(
        actor, lecture(type=EventType.LIVE_STREAM, pre_start_time=300, template_entry_id="0_live0001")
    )
    assert (event.pre_start_time, event.template_entry_id) == (300, "0_live0001")


def test_an_update_changes_only_what_is_sent(actor, make_event):
    event = make_event(tags="physics", description="Mechanics")
    scheduling.update_event(actor, event.pk, {"summary": "Physics 102"})
    event.refresh_from_db()
    assert (event.summary, event.tags, event.description) == ("Physics 102", "physics", "Mechanics")


def test_an_update_bumps_the_sequence(actor, make_event):
    event = make_event()
    assert scheduling.update_event(actor, event.pk, {"summary": "x"}).sequence == 22


def test_an_empty_update_changes_nothing(actor, make_event):
    event = make_event()
    assert scheduling.update_event(actor, event.pk, {}).sequence == 12
    assert AuditEntry.objects.filter(action="update").count() == 0


def test_a_sequence_sent_higher_wins(actor, make_event):
    event = make_event()
    assert scheduling.update_event(actor, event.pk, {"sequence": 100}).sequence == 100


def test_moving_the_end_recomputes_the_duration(actor, make_event):
    event = make_event("2026-09-07 09:00", 60)
    scheduling.update_event(actor, event.pk, {"end": at("2026-09-07 11:00")})
    event.refresh_from_db()
    assert event.duration == 7200


def test_sending_a_duration_moves_the_end(actor, make_event):
    event = make_event("2026-09-07 09:00", 60)
    updated = scheduling.update_event(actor, event.pk, {"duration": 1800})
    assert updated.end == at("2026-09-07 09:30")


def test_a_bad_update_changes_nothing(actor, make_event):
    event = make_event("2026-09-07 09:00", 60)
    with pytest.raises(ValidationFailed):
        scheduling.update_event(actor, event.pk, {"summary": "New", "end": at("2026-09-07 08:00")})
    event.refresh_from_db()
    assert (event.summary, event.end) == ("Lecture", at("2026-09-07 10:00"))


def test_the_type_cannot_change(actor, make_event):
    event = make_event()
    with pytest.raises(ValidationFailed) as error:
        scheduling.update_event(actor, event.pk, {"type": EventType.LIVE_STREAM})
    assert error.value.field == "type"


def test_cancel_sets_cancelled_and_is_audited(actor, make_event):
    event = make_event()
    assert scheduling.cancel_event(actor, event.pk).status == EventStatus.CANCELLED
    assert AuditEntry.objects.filter(action="cancel", object_id=str(event.pk)).exists()


def test_a_cancelled_event_can_still_be_read(actor, make_event):
    event = make_event()
    scheduling.cancel_event(actor, event.pk)
    assert scheduling.get_event(actor.partner, event.pk).status == EventStatus.CANCELLED


def test_delete_is_a_soft_delete_that_hides_the_event(actor, make_event):
    event = make_event()
    assert scheduling.delete_event(actor, event.pk).status == EventStatus.DELETED
    assert ScheduleEvent.objects.filter(pk=event.pk, status=EventStatus.DELETED).exists()
    with pytest.raises(NotFound):
        scheduling.get_event(actor.partner, event.pk)


def test_an_unknown_id_is_not_found(actor):
    with pytest.raises(NotFound) as error:
        scheduling.update_event(actor, 999, {"summary": "x"})
    assert (error.value.code, error.value.error_args) == ("INVALID_OBJECT_ID", {"ID": 999})


def test_the_edge_clock_is_used_for_timestamps(actor):
    later = writes.Actor(partner=actor.partner, now=actor.now + timedelta(days=1))
    event = scheduling.create_event(later, lecture())
    assert event.created_at == event.updated_at == actor.now + timedelta(days=1)
