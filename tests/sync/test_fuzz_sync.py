"""Generated bookings, pushed to the live upstream and read back: whatever a booking holds (any
text the write path accepts, every type, singles and series with edited occurrences), the
upstream ends equal to it field by field, as reconcile sees it, and the official Kaltura client
reads what was pushed."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.Plugins.Core import KalturaFilterPager, KalturaSessionType
from KalturaClient.Plugins.Schedule import KalturaScheduleEventFilter

from calendar_app import scheduling
from calendar_app.errors import SchedulingError
from calendar_app.models import EventType, RecurrenceType, SyncOperation
from calendar_app.sync import reconcile
from calendar_app.sync.client import client_for
from tests.conftest import NOW
from tests.sync.test_push import drain, upstream_of

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


bookings = st.fixed_dictionaries(
    {
        "type": st.sampled_from(EventType.values),
        "summary": TEXT.filter(str.strip),
        "description": TEXT,
        "tags": TEXT,
        "location": TEXT,
        "organizer": TEXT,
        "reference_id": TEXT,
        "comment": TEXT,
        "priority": st.none() | st.integers(0, 10),
        "classification_type": st.sampled_from([1, 2, 3]),
        "geo_latitude": st.none() | st.floats(-90, 90, allow_nan=False),
        "start": st.integers(0, 400 * 24 * 4).map(lambda q: NOW + timedelta(minutes=15 * q)),
        "minutes": st.integers(1, 12 * 60),
        "weeks": st.none() | st.integers(1, 6),
        "edit": st.none() | TEXT.filter(str.strip),
    }
)


@EXAMPLES
@given(booking=bookings)
def test_whatever_a_booking_holds_reaches_the_upstream_unchanged(linked, actor, booking):
    weeks, minutes, edit = booking.pop("weeks"), booking.pop("minutes"), booking.pop("edit")
    booking["end"] = booking["start"] + timedelta(minutes=minutes)
    if weeks:
        booking |= {"recurrence_type": RecurrenceType.RECURRING, "recurrence": {"frequency": "weeks",
                    "count": weeks, "time_zone": "Europe/Berlin"}}  # fmt: skip
    try:
        event = scheduling.create_event(actor, booking, on_conflict=scheduling.OnConflict.BOOK_ANYWAY)
        if weeks and edit:
            first = event.occurrences.order_by("start").first()
            scheduling.update_event(
                actor, first.pk, {"summary": edit}, on_conflict=scheduling.OnConflict.BOOK_ANYWAY
            )
    except SchedulingError:
        return  # the write path refused it: nothing to push
    ops = drain(actor.partner)
    assert [(op.object_id, op.error) for op in ops if op.status != SyncOperation.Status.DONE] == []

    report = reconcile.reconcile(linked, client_for(linked))
    assert report.counts() == {}, [d.line() for d in report.drifts]


def test_the_official_client_reads_what_was_pushed(linked, upstream, actor, make_series, make_resource):
    room = make_resource("Hall Ü", system_name="hall-u")
    series = make_series("2026-09-07 09:00", 90, count=3, by_day="MO", resources=[room], summary="Lecture ✓")
    drain(actor.partner)

    client = KalturaClient(KalturaConfiguration(upstream.url))
    client.setKs(
        client.session.start(upstream.admin_secret, "sync", KalturaSessionType.ADMIN, upstream.partner_id)
    )
    found = client.schedule.scheduleEvent.list(
        KalturaScheduleEventFilter(idEqual=upstream_of("event", series.pk)), KalturaFilterPager(pageSize=10)
    )
    [pushed] = found.objects
    assert (pushed.summary, pushed.recurrence.count, pushed.recurrence.timeZone) == (
        "Lecture ✓",
        3,
        "Europe/Berlin",
    )
    occurrences = client.schedule.scheduleEvent.list(
        KalturaScheduleEventFilter(parentIdEqual=pushed.id), KalturaFilterPager(pageSize=10)
    )
    assert occurrences.totalCount == 3
    links = client.schedule.scheduleEventResource.list()
    assert {(link.eventId, link.resourceId) for link in links.objects} >= {
        (pushed.id, upstream_of("resource", room.pk))
    }
