"""A booking's sync state (calendar_app/sync/status.py), from the operations a worker left."""

from __future__ import annotations

import pytest

from calendar_app.models import KalturaConnection, SyncOperation, UpstreamObject
from calendar_app.sync.status import FAILED, PENDING, SYNCED, operation_of, state_of

Status = SyncOperation.Status


@pytest.fixture
def linked(partner) -> KalturaConnection:
    # Off: nothing is queued by the writes, so each test lays down the operations it is about.
    return KalturaConnection.objects.create(
        partner=partner, service_url="https://kaltura.example", upstream_partner_id=1
    )


def op(event, status: int, **fields) -> SyncOperation:
    """An operation of `event` as a worker left it."""
    return SyncOperation.objects.create(
        partner_id=event.partner_id, kind="event", object_id=event.pk, status=status, **fields
    )


def test_it_has_no_state_without_an_upstream(make_event):
    event = make_event()
    op(event, Status.DONE)
    assert state_of(event) is None


def test_it_has_no_state_for_a_booking_never_queued(linked, make_event):
    assert state_of(make_event()) is None


def test_it_is_synced_as_of_the_last_push_done(linked, make_event, now):
    event = make_event()
    op(event, Status.DONE, finished_at=now.replace(hour=7))
    last = op(event, Status.DONE, finished_at=now)
    op(event, Status.SUPERSEDED)
    UpstreamObject.objects.create(
        partner_id=event.partner_id, kind="event", local_id=str(event.pk), upstream_id="55"
    )
    state = state_of(event)
    assert (state.label, state.when, state.upstream_id, state.op_id) == (SYNCED, now, "55", last.pk)


def test_a_failure_outranks_a_newer_change_waiting_behind_it(linked, make_event):
    event = make_event()
    failure = op(event, Status.FAILED, error_code="BAD", error="no")
    op(event, Status.PENDING)
    state = state_of(event)
    assert (state.label, state.op_id, state.error_code) == (FAILED, failure.pk, "BAD")


def test_a_pending_push_is_retrying_once_an_attempt_failed(linked, make_event):
    event = make_event()
    op(event, Status.DONE)
    pending = op(event, Status.PENDING, attempts=1, error_code="UPSTREAM_UNREACHABLE", error="refused")
    state = state_of(event)
    assert (state.label, state.op_id, state.retrying) == (PENDING, pending.pk, True)


def test_an_occurrence_edited_alone_still_waits_for_its_series(linked, make_series):
    series = make_series(count=2)
    occurrence = series.occurrences.first()
    op(occurrence, Status.DONE)
    op(series, Status.PENDING)
    assert state_of(occurrence).label == PENDING


def test_it_reads_a_few_rows_whatever_the_history(linked, make_event, django_assert_max_num_queries):
    event = make_event()
    for _ in range(20):
        op(event, Status.DONE)
    with django_assert_max_num_queries(4):
        state_of(event)


def test_an_operation_is_found_only_for_the_booking_it_pushes(linked, make_series, make_event):
    series, other = make_series(count=2), make_event("2026-09-08 09:00")
    occurrence = series.occurrences.first()
    of_series = op(series, Status.FAILED)
    assert operation_of(occurrence, of_series.pk) == of_series
    assert operation_of(other, of_series.pk) is None
