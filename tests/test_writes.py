"""The write envelope (writes.py): what every write owes the rest of the system happens once,
whoever calls, and a write that fails leaves nothing behind."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calendar_app import fragments, scheduling, writes
from calendar_app.errors import ConflictDetected
from calendar_app.models import AuditEntry, EventType, ResourceType, ScheduleEvent
from calendar_app.scheduling import OnConflict
from tests.conftest import at

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


@pytest.fixture
def room(make_resource):
    return make_resource("Hall 1")


def lecture(**extra) -> dict:
    start = at("2026-09-07 09:00")
    return {"type": EventType.RECORD, "summary": "Lecture", "start": start, "end": start + HOUR, **extra}


def test_stamping_outside_an_envelope_is_refused(actor, make_event):
    event = make_event()
    with pytest.raises(RuntimeError, match="envelope"):
        writes.stamp(actor, event)


def test_auditing_outside_an_envelope_is_refused(actor, make_event):
    event = make_event()
    with pytest.raises(RuntimeError, match="envelope"):
        writes.audit(actor, "update", event, None)


def test_a_compound_write_moves_the_feed_version_once(
    actor, partner, room, make_resource, make_event, django_capture_on_commit_callbacks
):
    event = make_event(resources=[room])
    hall = make_resource("Hall 2")
    before = fragments.version(partner.pk)
    with django_capture_on_commit_callbacks(execute=True):
        # A relink and a move: four writes inside one (unlink, link, update, the check).
        scheduling.edit_booking(actor, event.pk, {"summary": "Moved"}, [hall.pk])
    assert fragments.version(partner.pk) == before + 1


def test_a_write_that_changes_nothing_leaves_the_feeds_alone(
    actor, partner, make_event, django_capture_on_commit_callbacks
):
    event = make_event()
    before = fragments.version(partner.pk)
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.update_event(actor, event.pk, {})  # an update that names no field
    assert fragments.version(partner.pk) == before


def test_a_caught_failure_inside_a_write_undoes_only_its_own_part(strict, room):
    audited = AuditEntry.objects.count()
    with writes.envelope(strict):
        kept = scheduling.create_event(strict, lecture(), resource_ids=[room.pk])
        with pytest.raises(ConflictDetected):
            scheduling.create_event(strict, lecture(summary="Clash"), resource_ids=[room.pk])
    assert list(ScheduleEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert AuditEntry.objects.count() == audited + 1


def test_a_failed_write_leaves_no_row_no_audit_and_no_stale_fragment(actor, room, make_event):
    make_event(resources=[room])
    audited = AuditEntry.objects.count()
    with pytest.raises(ConflictDetected):
        scheduling.create_event(actor, lecture(), resource_ids=[room.pk], on_conflict=OnConflict.REFUSE)
    assert ScheduleEvent.objects.count() == 1
    assert AuditEntry.objects.count() == audited
    assert not ScheduleEvent.objects.filter(fragments.STALE).exists()


def test_a_write_inside_another_partners_write_finishes_on_its_own(
    actor, outsider, make_event, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), writes.envelope(actor):
        before = fragments.version(outsider.partner.pk)
        scheduling.create_resource(outsider, {"type": ResourceType.LOCATION, "name": "Their room"})
    assert fragments.version(outsider.partner.pk) == before + 1
