"""Sync the way production runs it: bookings committed here, pushed by real Celery worker
processes over a real Redis (tests/background.py) to a live upstream (conftest.py), while the
upstream, Redis or a worker goes away. tests/sync/test_push.py drains the same queue in-process.

Every test ends by counting the upstream's events by summary: nothing lost, nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from calendar_app import clock, scheduling
from calendar_app.models import Entry, SyncOperation
from tests.background import (  # noqa: F401 (fixtures)
    eventually,
    fixture_broker,
    fixture_redis_server,
    fixture_redis_url,
    fixture_start_worker,
    fixture_worker,
)
from tests.sync.test_push import events_upstream, links_upstream, upstream_of

Status = SyncOperation.Status
SETTLED = (Status.DONE, Status.FAILED, Status.SUPERSEDED)
# Retries within two seconds, and the beat's recovery every second, so that tests are quick.
QUICK_RETRY = {"SYNC_RETRY_BASE_SECONDS": "1", "SYNC_RETRY_MAX_SECONDS": "2"}
RECOVERY = {"SYNC_RECOVER_EVERY": "1", "SYNC_LOST_AFTER_SECONDS": "1", "SYNC_RUNNING_TIMEOUT_SECONDS": "1"}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def now():
    """The real clock, not the suite's pinned one: the worker and its recovery read the real
    clock, and compare it with the times this side writes."""
    return clock.now()


def settled(partner) -> Callable[[], bool]:
    """Every operation of the partner done, failed for good or superseded."""
    ops = SyncOperation.objects.for_partner(partner)
    return lambda: ops.exists() and not ops.exclude(status__in=SETTLED).exists()


def summaries(theirs) -> list[str]:
    return sorted(event["summary"] for event in events_upstream(theirs))


def test_a_committed_booking_reaches_the_upstream_through_the_worker(
    linked, worker, actor, make_resource, make_event, theirs
):
    hall = make_resource("Hall A", system_name="hall-a")
    event = make_event(summary="Algebra", resources=[hall])

    eventually(settled(actor.partner), "the push", worker)
    [up] = events_upstream(theirs)
    assert (up["id"], up["summary"]) == (upstream_of("event", event.pk), "Algebra")
    assert links_upstream(theirs, up["id"]) == {upstream_of("resource", hall.pk)}
    assert "calendar_app.tasks.sync_apply[" in worker.read_text()  # the worker pushed it, not this process


def test_operations_wait_for_an_upstream_that_is_down_then_drain_in_order(
    linked, upstream, start_worker, actor, make_event, theirs
):
    worker = start_worker(**QUICK_RETRY)  # no beat: the retries' countdowns alone bring them back
    ops = SyncOperation.objects.for_partner(actor.partner)
    upstream.stop()
    try:
        first = make_event("2026-09-07 09:00", summary="One")
        make_event("2026-09-08 09:00", summary="Two")
        eventually(lambda: set(ops.values_list("error_code", flat=True)) == {"UPSTREAM_UNREACHABLE"},
                   "both attempts failing", worker.log)  # fmt: skip
        assert set(ops.values_list("status", flat=True)) <= {Status.PENDING, Status.RUNNING}
        scheduling.update_event(actor, first.pk, {"summary": "One, renamed"})
    finally:
        upstream.start()

    eventually(settled(actor.partner), "the queue drained", worker.log)
    assert set(ops.values_list("status", flat=True)) <= {Status.DONE, Status.SUPERSEDED}
    assert summaries(theirs) == ["One, renamed", "Two"]  # the last change last, each event once


def test_nothing_is_lost_when_redis_restarts_mid_run(
    linked, redis_server, start_worker, actor, make_event, theirs
):
    worker = start_worker("--beat", **RECOVERY, **QUICK_RETRY)
    before = [f"Before {n}" for n in range(8)]
    for summary in before:
        make_event(summary=summary)
    redis_server.stop()  # with whatever it held: tasks queued, tasks delivered and not acknowledged
    try:
        # Committed although no task can be sent, and without hanging: each of these took 19 s
        # while task results were stored in Redis (CELERY_TASK_IGNORE_RESULT now).
        began = time.monotonic()
        during = [make_event(summary=f"During {n}") for n in (1, 2)]
        assert time.monotonic() - began < 10
        waiting = SyncOperation.objects.filter(object_id__in=[e.pk for e in during], status=Status.PENDING)
        assert waiting.count() == 2
    finally:
        redis_server.start()

    eventually(settled(actor.partner), "every booking pushed", worker.log)
    assert summaries(theirs) == sorted([*before, "During 1", "During 2"])


def test_a_worker_killed_mid_push_leaves_exactly_one_copy_upstream(
    linked, upstream, start_worker, actor, make_event, theirs
):
    first = start_worker()
    make_event(summary="Warm-up")  # its session started, the worker's next push is a single add
    eventually(settled(actor.partner), "the first push", first.log)
    upstream.pause()
    try:
        event = make_event("2026-09-08 09:00", summary="Once")
        op = SyncOperation.objects.get(kind="event", object_id=event.pk)
        running = SyncOperation.objects.filter(pk=op.pk, status=Status.RUNNING)
        eventually(lambda: running.exists() and upstream.request_waiting(), "the add sent", first.log)
        upstream.lose_answer(first.kill)
    finally:
        upstream.resume()
    eventually(lambda: "Once" in summaries(theirs), "the add applied upstream, its answer lost")

    second = start_worker("--beat", **RECOVERY)  # the recovery releases what the dead worker held
    eventually(settled(actor.partner), "the push run again", second.log)
    op.refresh_from_db()
    assert (op.status, op.attempts) == (Status.DONE, 2)
    assert summaries(theirs) == ["Once", "Warm-up"]  # found by its referenceId, not added again
    [once] = [e for e in events_upstream(theirs) if e["summary"] == "Once"]
    assert upstream_of("event", event.pk) == once["id"]


def test_a_permanent_error_holds_up_no_other_booking(linked, worker, actor, make_event, theirs):
    Entry.objects.create(partner=actor.partner, id="0_nowhere1", name="Here, not upstream")
    bad = make_event("2026-09-07 09:00", summary="Needs a template", template_entry_id="0_nowhere1")
    # Deleted here before it ever reached the upstream: no push can make it there.
    Entry.objects.filter(pk="0_nowhere1").update(status=Entry.Status.DELETED)
    make_event("2026-09-08 09:00", summary="Fine")

    eventually(settled(actor.partner), "both operations", worker)
    failed = SyncOperation.objects.get(kind="event", object_id=bad.pk)
    assert (failed.status, failed.error_code) == (Status.FAILED, "SYNC_ENTRY_NOT_UPSTREAM")
    assert summaries(theirs) == ["Fine"]
