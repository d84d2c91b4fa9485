"""Bookings pushed to a live upstream: a second instance of this server, its own process and
database, reached over HTTP (tests/sync/conftest.py). The outbox is drained in this process
here; tests/sync/test_worker.py drains it with a real Celery worker over Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calendar_app import scheduling
from calendar_app.models import (
    Entry,
    EventStatus,
    EventType,
    ResourceType,
    SyncOperation,
    UpstreamObject,
)
from calendar_app.sync import queue
from calendar_app.sync.client import KalturaError
from tests.conftest import at

Status = SyncOperation.Status


def drain(partner) -> list[SyncOperation]:
    """Run every due operation, as the workers would, until none is left."""
    for _ in range(50):
        due = SyncOperation.objects.for_partner(partner).filter(status=Status.PENDING).order_by("pk")
        ids = list(due.values_list("pk", flat=True))
        if not ids:
            break
        for pk in ids:
            queue.run(pk)
        if not SyncOperation.objects.filter(pk__in=ids, status=Status.DONE).exists():
            break  # all waiting (backoff, a failure): the caller looks at why
    return list(SyncOperation.objects.for_partner(partner).order_by("pk"))


def upstream_of(kind: str, local_id) -> int:
    return int(UpstreamObject.objects.get(kind=kind, local_id=str(local_id)).upstream_id)


def events_upstream(theirs, **conditions) -> list[dict]:
    return theirs.call(
        "schedule_scheduleevent", "list",
        filter={"objectType": "KalturaScheduleEventFilter", **conditions},
        pager={"objectType": "KalturaFilterPager", "pageSize": 500},
    )["objects"] or []  # fmt: skip


def links_upstream(theirs, event_id: int) -> set[int]:
    found = theirs.call(
        "schedule_scheduleeventresource", "list",
        filter={"objectType": "KalturaScheduleEventResourceFilter", "eventIdEqual": event_id},
    )["objects"] or []  # fmt: skip
    return {link["resourceId"] for link in found}


def test_a_booking_reaches_the_upstream_with_its_rooms(linked, actor, make_resource, make_event, theirs):
    hall = make_resource("Hall A", system_name="hall-a")
    camera = make_resource("Cam A", type=ResourceType.CAMERA, parent_id=hall.pk, stream_url="rtsp://cam-a")
    event = make_event("2026-09-07 09:00", 90, summary="Algebra", resources=[hall, camera])

    ops = drain(actor.partner)

    assert {(op.kind, op.status) for op in ops} == {("event", Status.DONE), ("resource", Status.DONE)}
    up = theirs.call("schedule_scheduleevent", "get", scheduleEventId=upstream_of("event", event.pk))
    assert (up["summary"], up["startDate"], up["endDate"]) == (
        "Algebra", int(event.start.timestamp()), int(event.end.timestamp()),
    )  # fmt: skip
    assert up["objectType"] == "KalturaRecordScheduleEvent"
    up_hall, up_camera = upstream_of("resource", hall.pk), upstream_of("resource", camera.pk)
    assert links_upstream(theirs, up["id"]) == {up_hall, up_camera}
    camera_there = theirs.call("schedule_scheduleresource", "get", scheduleResourceId=up_camera)
    assert (camera_there["parentId"], camera_there["streamUrl"]) == (up_hall, "rtsp://cam-a")


def test_updates_cancel_and_delete_follow_without_duplicates(
    linked, actor, make_resource, make_event, theirs
):
    hall, other = make_resource("Hall A", system_name="hall-a"), make_resource("Hall B", system_name="hall-b")
    event = make_event(summary="Draft", resources=[hall])
    drain(actor.partner)
    later = event.start + timedelta(hours=2)
    scheduling.update_event(
        actor, event.pk, {"summary": "Final", "start": later, "end": later + timedelta(hours=1)}
    )
    scheduling.replace_resources(actor, event.pk, [other.pk])
    drain(actor.partner)

    [up] = events_upstream(theirs)
    assert (up["summary"], up["startDate"]) == ("Final", int(later.timestamp()))
    assert links_upstream(theirs, up["id"]) == {upstream_of("resource", other.pk)}

    scheduling.cancel_event(actor, event.pk)
    drain(actor.partner)
    assert events_upstream(theirs)[0]["status"] == EventStatus.CANCELLED

    scheduling.delete_event(actor, event.pk)
    drain(actor.partner)
    assert events_upstream(theirs) == []
    assert not UpstreamObject.objects.filter(kind="event", local_id=str(event.pk)).exists()


def test_resources_are_matched_by_system_name_and_deleted_upstream(linked, actor, make_resource, theirs):
    room_there = {"objectType": "KalturaLocationScheduleResource", "name": "Old name", "systemName": "aula"}
    existing = theirs.call("schedule_scheduleresource", "add", scheduleResource=room_there)
    room = make_resource("Aula Magna", system_name="aula")
    drain(actor.partner)
    assert upstream_of("resource", room.pk) == existing["id"]
    assert (
        theirs.call("schedule_scheduleresource", "get", scheduleResourceId=existing["id"])["name"]
        == "Aula Magna"
    )

    scheduling.delete_resource(actor, room.pk)
    drain(actor.partner)
    with pytest.raises(KalturaError):
        theirs.call("schedule_scheduleresource", "get", scheduleResourceId=existing["id"])


def test_an_open_ended_series_goes_up_ending_where_it_is_made_to(linked, actor, make_series, theirs):
    # Kaltura refuses a rule without count or until (PROPERTY_VALIDATION_ALL_MUST_BE_NULL_BUT_ONE).
    series = make_series("2026-09-07 09:00", 90, by_day="MO", summary="Seminar")
    assert series.materialized_until is not None
    drain(actor.partner)
    (theirs_series,) = events_upstream(theirs, recurrenceTypeIn="1")
    rule = theirs_series["recurrence"]
    assert (rule.get("count"), rule["until"]) == (None, int(series.materialized_until.timestamp()))


def test_a_series_keeps_its_exceptions_upstream_when_its_times_change(
    linked, actor, make_resource, make_series, theirs
):
    hall = make_resource("Hall A", system_name="hall-a")
    series = make_series("2026-09-07 09:00", 90, count=4, by_day="MO", resources=[hall], summary="Physics")
    second, third = list(series.occurrences.order_by("start"))[1:3]
    moved = second.start + timedelta(hours=3)
    scheduling.update_event(actor, second.pk, {"summary": "Physics (moved)", "start": moved,
                                               "end": moved + timedelta(minutes=90)})  # fmt: skip
    scheduling.cancel_event(actor, third.pk)
    drain(actor.partner)

    def upstream_occurrences():
        parent = upstream_of("event", series.pk)
        return sorted(
            events_upstream(theirs, parentIdEqual=parent, recurrenceTypeEqual=2), key=lambda o: o["id"]
        )

    def check():
        found = {upstream_of("event", o.pk): o for o in series.occurrences.all()}
        by_local = {found[o["id"]].pk: o for o in upstream_occurrences()}
        assert (by_local[second.pk]["summary"], by_local[second.pk]["startDate"]) == (
            "Physics (moved)", int(moved.timestamp()),
        )  # fmt: skip
        assert by_local[third.pk]["status"] == EventStatus.CANCELLED
        assert len(by_local) == 4

    check()
    # The series moves by half an hour: real Kaltura regenerates its occurrences and drops their
    # edits; whatever the upstream did, the exceptions are applied again.
    start = series.start + timedelta(minutes=30)
    scheduling.update_event(actor, series.pk, {"start": start, "end": start + timedelta(minutes=90)})
    drain(actor.partner)
    check()
    assert len(events_upstream(theirs, recurrenceTypeIn="0,1")) == 1


def test_a_lost_answer_never_duplicates_upstream(linked, actor, make_event, theirs):
    event = make_event(summary="Once")
    op = SyncOperation.objects.get(kind="event", object_id=event.pk)
    queue.run(op.pk)
    # The add reached the upstream, but the worker died before it could record the answer.
    UpstreamObject.objects.filter(kind="event").delete()
    SyncOperation.objects.filter(pk=op.pk).update(status=Status.PENDING)
    queue.run(op.pk)

    assert len(events_upstream(theirs)) == 1
    assert upstream_of("event", event.pk) == events_upstream(theirs)[0]["id"]


def test_an_upstream_that_is_down_keeps_operations_pending_then_drains(
    linked, upstream, actor, make_event, theirs, settings
):
    settings.SYNC_RETRY_BASE_SECONDS = 0
    upstream.stop()
    try:
        first, second = (
            make_event("2026-09-07 09:00", summary="One"),
            make_event("2026-09-08 09:00", summary="Two"),
        )
        ops = drain(actor.partner)
        assert {op.status for op in ops} == {Status.PENDING}
        assert {op.error_code for op in ops} == {"UPSTREAM_UNREACHABLE"}
        assert all(op.attempts == 1 for op in ops)
    finally:
        upstream.start()
    ops = drain(actor.partner)
    assert {op.status for op in ops} == {Status.DONE}
    assert sorted(o["summary"] for o in events_upstream(theirs)) == ["One", "Two"]
    assert {upstream_of("event", e.pk) for e in (first, second)} == {o["id"] for o in events_upstream(theirs)}


def test_a_permanent_error_stops_only_that_object(linked, actor, make_event, theirs):
    Entry.objects.create(partner=actor.partner, id="0_nowhere1", name="Here, not upstream")
    bad = make_event("2026-09-07 09:00", summary="Needs a template", template_entry_id="0_nowhere1")
    # Deleted here before it ever reached the upstream: no push can make it there.
    Entry.objects.filter(pk="0_nowhere1").update(status=Entry.Status.DELETED)
    good = make_event("2026-09-08 09:00", summary="Fine")
    drain(actor.partner)

    failed = SyncOperation.objects.get(kind="event", object_id=bad.pk)
    assert (failed.status, failed.error_code) == (Status.FAILED, "SYNC_ENTRY_NOT_UPSTREAM")
    assert "0_nowhere1" in failed.error
    assert SyncOperation.objects.get(kind="event", object_id=good.pk).status == Status.DONE
    # A later change of the failed booking waits behind the failure until someone retries.
    scheduling.update_event(actor, bad.pk, {"summary": "Still no template"})
    drain(actor.partner)
    waiting = SyncOperation.objects.get(kind="event", object_id=bad.pk, status=Status.PENDING)
    assert waiting.attempts == 0
    scheduling.update_event(actor, bad.pk, {"template_entry_id": ""})
    queue.retry(failed)
    drain(actor.partner)
    assert sorted(o["summary"] for o in events_upstream(theirs)) == ["Fine", "Still no template"]


def test_changes_coalesce_into_one_pending_operation(linked, actor, make_event):
    event = make_event(summary="v1")
    for n in range(2, 6):
        scheduling.update_event(actor, event.pk, {"summary": f"v{n}"})
    assert SyncOperation.objects.filter(kind="event", object_id=event.pk).count() == 1


def test_only_the_chosen_event_types_are_queued_and_nothing_when_sync_is_off(linked, actor, make_event):
    linked.event_types = [EventType.LIVE_STREAM]
    linked.save()
    make_event(summary="A recording")
    assert not SyncOperation.objects.exists()
    linked.event_types, linked.enabled = [], False
    linked.save()
    make_event("2026-09-09 09:00", summary="Sync off")
    assert not SyncOperation.objects.exists()


def test_writes_the_upstream_gave_us_are_not_sent_back(linked, actor, make_resource):
    from calendar_app.models import AuditEntry
    from calendar_app.writes import Actor

    pulled = Actor(actor.partner, actor.now, source=AuditEntry.Source.SYNC)
    make_resource("From upstream", who=pulled)
    assert not SyncOperation.objects.exists()


def test_a_blackout_and_a_live_stream_reach_the_upstream_as_their_types(linked, actor, make_event, theirs):
    make_event("2026-12-24 00:00", 24 * 60, type=EventType.BLACKOUT, summary="Closed")
    drain(actor.partner)
    [up] = events_upstream(theirs)
    assert (up["objectType"], up["summary"]) == ("KalturaBlackoutScheduleEvent", "Closed")
    assert up["startDate"] == int(at("2026-12-24 00:00").timestamp())


def test_a_booking_waits_for_its_new_room_rather_than_adding_it_twice(
    linked, actor, make_resource, make_event, theirs, settings
):
    settings.SYNC_RETRY_BASE_SECONDS = 0  # the clock is pinned: the retry is due at once
    settings.SYNC_DEPENDENCY_WAIT_SECONDS = 0.2  # the room's push is not running: no use waiting
    # Seen with make_run's worker: the room's push and the booking's (which needs the room) ran
    # side by side, both added the room, and the second add failed the booking for good.
    room = make_resource("Hall N", system_name="hall-n")
    event = make_event(summary="Needs Hall N", resources=[room])
    booking_op = SyncOperation.objects.get(kind="event", object_id=event.pk)
    room_op = SyncOperation.objects.get(kind="resource", object_id=room.pk)
    assert room_op.pk < booking_op.pk  # queued, and so sent, first

    queue.run(booking_op.pk)  # a second worker takes the booking while the room is still queued
    booking_op.refresh_from_db()
    assert (booking_op.status, booking_op.error_code) == (Status.PENDING, "SYNC_WAITING")

    assert {op.status for op in drain(actor.partner)} == {Status.DONE}
    assert theirs.call("schedule_scheduleresource", "list")["totalCount"] == 1
    assert links_upstream(theirs, upstream_of("event", event.pk)) == {upstream_of("resource", room.pk)}
