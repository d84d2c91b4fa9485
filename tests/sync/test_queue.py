"""The outbox's bookkeeping: same transaction as the write, recovery of lost work, backoff, the
nightly reconcile. Pushes go to the live upstream (conftest.py); tasks run eagerly here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from calendar_app import clock, scheduling
from calendar_app.models import Entry, KalturaConnection, SyncOperation, UpstreamObject
from calendar_app.sync import push, queue, tasks
from calendar_app.sync.client import client_for
from tests.sync.test_push import events_upstream

Status = SyncOperation.Status


class Undone(Exception):
    pass


def test_an_operation_is_written_with_the_change_or_not_at_all(linked, make_event):
    with pytest.raises(Undone), transaction.atomic():
        make_event(summary="Rolled back")
        assert SyncOperation.objects.count() == 1
        raise Undone
    assert not SyncOperation.objects.exists()


def test_recovery_sends_what_no_worker_took(linked, make_event, theirs, now):
    event = make_event(summary="Its task was lost")
    op = SyncOperation.objects.get(object_id=event.pk)
    later = now + timedelta(minutes=5)

    assert queue.recover(now) == 0  # just queued: its task may still be on its way
    with clock.pinned(later):
        assert queue.recover(later) == 1  # sent, and run at once here (tasks are eager)

    op.refresh_from_db()
    assert op.status == Status.DONE
    assert [o["summary"] for o in events_upstream(theirs)] == ["Its task was lost"]


def test_recovery_takes_back_what_a_dead_worker_held_and_applies_it_once(linked, make_event, theirs, now):
    event = make_event(summary="Half done")
    op = SyncOperation.objects.get(object_id=event.pk)
    op = queue.claim(op.pk, now)
    # The worker reached the upstream and died before it recorded anything.
    push.apply(linked, client_for(linked), op)
    UpstreamObject.objects.all().delete()

    much_later = now + timedelta(hours=1)
    with clock.pinned(much_later):
        assert queue.recover(much_later) == 1
    op.refresh_from_db()
    assert (op.status, op.attempts) == (Status.DONE, 2)
    assert len(events_upstream(theirs)) == 1


def test_a_failed_object_is_not_sent_again_until_retried(linked, actor, make_event, now):
    Entry.objects.create(partner=actor.partner, id="0_nowhere1", name="Here, not upstream")
    event = make_event(summary="No such template", template_entry_id="0_nowhere1")
    # Deleted here before it ever reached the upstream: no push can make it there.
    Entry.objects.filter(pk="0_nowhere1").update(status=Entry.Status.DELETED)
    failed = SyncOperation.objects.get(object_id=event.pk)
    queue.run(failed.pk)
    scheduling.update_event(actor, event.pk, {"summary": "Changed since"})
    later = now + timedelta(hours=1)
    with clock.pinned(later):
        assert queue.recover(later) == 0
        queue.retry(SyncOperation.objects.get(pk=failed.pk))
    statuses = dict(SyncOperation.objects.values_list("pk", "status"))
    assert statuses[failed.pk] == Status.SUPERSEDED  # the newer change carries on in its place


def test_backoff_grows_and_is_capped(settings):
    settings.SYNC_RETRY_BASE_SECONDS, settings.SYNC_RETRY_MAX_SECONDS = 2, 60
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (6, 60), (30, 60)]:
        delays = [queue.backoff(attempts) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_a_push_waits_while_sync_is_off(linked, make_event):
    event = make_event(summary="Waits")
    KalturaConnection.objects.filter(pk=linked.pk).update(enabled=False)
    op = SyncOperation.objects.get(object_id=event.pk)
    queue.run(op.pk)
    op.refresh_from_db()
    assert (op.status, op.attempts) == (Status.PENDING, 1)


def test_the_nightly_reconcile_keeps_its_counts_and_survives_a_dead_upstream(linked, upstream, make_event):
    make_event(summary="Not pushed")  # no worker drains it: missing upstream
    assert tasks.sync_reconcile() == {str(linked.partner_id): {"event missing": 1}}
    linked.refresh_from_db()
    assert linked.last_reconcile["counts"] == {"event missing": 1}
    upstream.stop()
    try:
        assert tasks.sync_reconcile() == {}
    finally:
        upstream.start()
    linked.refresh_from_db()
    assert linked.last_reconcile["error"].startswith("UPSTREAM_UNREACHABLE")
