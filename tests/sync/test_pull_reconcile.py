"""Pull, reconcile and the connection's set-up, against the live upstream (conftest.py)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from calendar_app import scheduling
from calendar_app.models import Entry, EventStatus, KalturaConnection, ScheduleResource, SyncOperation
from calendar_app.sync import connection as connections
from calendar_app.sync import reconcile
from calendar_app.sync.client import client_for
from calendar_app.sync.pull import pull
from tests.sync.test_push import drain, events_upstream, upstream_of


@pytest.fixture
def upstream_entries(linked, theirs) -> dict[str, str]:
    """A template and a live entry in the (wiped) upstream account, by what they are: their ids."""
    template = {"objectType": "KalturaMediaEntry", "name": "Template", "tags": "physics", "mediaType": 1}
    live = {"objectType": "KalturaLiveStreamEntry", "name": "Hall A live", "mediaType": 201,
            "primaryBroadcastingUrl": "rtmp://up/live", "streamName": "hall-a"}  # fmt: skip
    return {
        "template": theirs.call("media", "add", entry=template)["id"],
        "live": theirs.call("livestream", "add", liveStreamEntry=live, sourceType="32")["id"],
    }


def add_upstream_room(theirs, name: str, system_name: str, parent: int | None = None, kind="Location") -> int:
    body = {"objectType": f"Kaltura{kind}ScheduleResource", "name": name, "systemName": system_name}
    if parent:
        body["parentId"] = parent
    return theirs.call("schedule_scheduleresource", "add", scheduleResource=body)["id"]


def test_pull_copies_resources_and_entries_once(linked, upstream_entries, theirs, partner):
    hall = add_upstream_room(theirs, "Hall A", "hall-a")
    add_upstream_room(theirs, "Cam A", "cam-a", parent=hall, kind="Camera")

    first = pull(linked, client_for(linked))
    second = pull(linked, client_for(linked))

    assert (first.counts["resource", "created"], first.counts["entry", "created"]) == (2, 2), first.lines()
    assert (second.counts["resource", "unchanged"], second.counts["entry", "unchanged"]) == (2, 2)
    rooms = {r.system_name: r for r in ScheduleResource.objects.for_partner(partner)}
    assert rooms["cam-a"].parent_id == rooms["hall-a"].pk
    live = Entry.objects.get(pk=upstream_entries["live"])  # its Kaltura id: free here
    assert (live.partner_id, live.type, live.primary_rtmp_endpoint, live.stream_name) == (
        partner.pk, "live", "rtmp://up/live", "hall-a",
    )  # fmt: skip
    assert not SyncOperation.objects.exists()  # what came from upstream is not sent back


def test_a_booking_with_a_pulled_template_reaches_the_upstream(linked, upstream_entries, theirs, make_event):
    pull(linked, client_for(linked))
    event = make_event(summary="Recorded", template_entry_id=upstream_entries["template"])
    drain(event.partner)
    up = theirs.call("schedule_scheduleevent", "get", scheduleEventId=upstream_of("event", event.pk))
    assert up["templateEntryId"] == upstream_entries["template"]


def test_reconcile_reports_and_repairs_drift(linked, theirs, make_event, make_resource, actor):
    room = make_resource("Hall A", system_name="hall-a")
    deleted, edited, kept = (
        make_event(f"2026-09-0{d} 09:00", summary=f"E{d}", resources=[room]) for d in (7, 8, 9)
    )
    drain(actor.partner)
    theirs.call("schedule_scheduleevent", "delete", scheduleEventId=upstream_of("event", deleted.pk))
    theirs.call(
        "schedule_scheduleevent", "update", scheduleEventId=upstream_of("event", edited.pk),
        scheduleEvent={"objectType": "KalturaRecordScheduleEvent", "summary": "Edited upstream"},
    )  # fmt: skip
    extra = theirs.call(
        "schedule_scheduleevent", "add",
        scheduleEvent={"objectType": "KalturaRecordScheduleEvent", "summary": "Someone else's",
                       "recurrenceType": 0, "startDate": 1_800_000_000, "endDate": 1_800_003_600},
    )  # fmt: skip

    report = reconcile.reconcile(linked, client_for(linked))
    assert report.counts() == {"event different": 1, "event extra": 1, "event missing": 1}
    [different] = [d for d in report.drifts if d.problem == "different"]
    assert (different.local_id, different.fields["summary"]) == (edited.pk, ("E8", "Edited upstream"))

    assert reconcile.repair(linked, report) == 2
    after = reconcile.reconcile(linked, client_for(linked))
    assert after.counts() == {"event extra": 1}
    assert sorted(o["summary"] for o in events_upstream(theirs)) == ["E7", "E8", "E9", "Someone else's"]

    assert reconcile.prune(client_for(linked), after) == 1
    assert reconcile.reconcile(linked, client_for(linked)).counts() == {}
    assert extra["id"] not in {o["id"] for o in events_upstream(theirs)}
    assert kept.status == EventStatus.ACTIVE


def test_reconcile_checks_the_exceptions_of_a_series(linked, theirs, make_series, actor):
    series = make_series("2026-09-07 09:00", 60, count=3, by_day="MO", summary="Lab")
    first = series.occurrences.order_by("start").first()
    scheduling.update_event(actor, first.pk, {"summary": "Lab (guest)"})
    drain(actor.partner)
    assert reconcile.reconcile(linked, client_for(linked)).counts() == {}
    theirs.call(
        "schedule_scheduleevent", "update", scheduleEventId=upstream_of("event", first.pk),
        scheduleEvent={"objectType": "KalturaRecordScheduleEvent", "summary": "Lab"},
    )  # fmt: skip

    report = reconcile.reconcile(linked, client_for(linked))
    assert report.counts() == {"occurrence different": 1}
    reconcile.repair(linked, report)
    assert reconcile.reconcile(linked, client_for(linked)).counts() == {}


def test_reconcile_never_writes_upstream(linked, theirs, make_event, make_resource, actor):
    make_event(summary="Not pushed yet", resources=[make_resource("Hall Z", system_name="hall-z")])
    report = reconcile.reconcile(linked, client_for(linked))
    assert report.counts() == {"event missing": 1, "resource missing": 1}
    assert events_upstream(theirs) == []
    assert theirs.call("schedule_scheduleresource", "list")["totalCount"] == 0


def test_the_connection_test_says_what_it_found(linked, upstream):
    tested = connections.test(linked)
    assert tested.ok and "partner 4242 ('Upstream')" in tested.message
    linked.admin_secret = "wrong"
    linked.save()
    tested = connections.test(linked)
    assert not tested.ok and tested.message.startswith("START_SESSION_ERROR")
    linked.refresh_from_db()
    assert linked.last_test_result == tested.message and "wrong" not in tested.message


def test_the_commands_connect_pull_and_reconcile(upstream, partner, theirs):
    upstream.wipe()
    add_upstream_room(theirs, "Hall A", "hall-a")
    out = StringIO()
    call_command(
        "kaltura_connect", "--partner-id", str(partner.pk), "--url", upstream.url,
        "--upstream-partner-id", str(upstream.partner_id), "--admin-secret", upstream.admin_secret,
        "--enable", stdout=out,
    )  # fmt: skip
    assert "sync on" in out.getvalue() and "ok: connected to partner 4242" in out.getvalue()
    stored = KalturaConnection.objects.get(partner=partner)
    assert stored.admin_secret == upstream.admin_secret and stored.enabled

    out = StringIO()
    call_command("kaltura_pull", "--partner-id", str(partner.pk), stdout=out)
    assert "resources created: 1" in out.getvalue()

    out = StringIO()
    call_command("kaltura_reconcile", "--partner-id", str(partner.pk), stdout=out)
    assert "in step" in out.getvalue()

    with pytest.raises(CommandError, match="connection test failed"):
        call_command(
            "kaltura_connect", "--partner-id", str(partner.pk), "--admin-secret", "nope", stdout=StringIO()
        )
