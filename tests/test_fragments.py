"""Stored feed fragments: a feed is assembled from them, so a stale one must never be served and
a write must never wait for a long re-render."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from calendar_app import fragments, scheduling
from calendar_app.models import ScheduleEvent
from tests.test_feeds import feed_of, fetch

pytestmark = pytest.mark.django_db


def stale(partner) -> int:
    return ScheduleEvent.objects.for_partner(partner).filter(fragments.SHOWN).filter(fragments.STALE).count()


def summaries(client, feed) -> list[str]:
    return [str(e["SUMMARY"]) for e in Calendar.from_ical(fetch(client, feed).content).walk("VEVENT")]


@pytest.fixture
def room(make_resource):
    return make_resource("Hall 1")


def test_a_write_stores_the_fragment_the_feed_would_render(make_event, room):
    event = make_event(resources=[room])
    event.refresh_from_db()
    assert event.ical_fragment_of == event.updated_at
    assert event.ical_fragment == fragments.render([event])[0]
    assert f"X-KALTURA-RESOURCE-IDS:{room.pk}" in event.ical_fragment


def test_a_second_write_at_the_same_instant_still_refreshes_it(make_event, actor, room):
    # One actor.now for both writes, as in an import: the stamp alone would call it fresh.
    event = make_event(resources=[room], summary="Before")
    scheduling.update_event(actor, event.pk, {"summary": "After"})
    event.refresh_from_db()
    assert "SUMMARY:After" in event.ical_fragment and event.ical_fragment_of == event.updated_at


def test_a_link_change_refreshes_the_resource_ids(make_event, make_resource, actor, room):
    event = make_event(resources=[room])
    camera = make_resource("Cam")
    scheduling.link_resource(actor, event.pk, camera.pk)
    event.refresh_from_db()
    assert f"X-KALTURA-RESOURCE-IDS:{room.pk},{camera.pk}" in event.ical_fragment


def test_a_long_series_is_published_after_commit_not_inside_the_write(
    make_series, room, partner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_series(count=fragments.INLINE_LIMIT + 5, by_day="MO", resources=[room])
    assert stale(partner) == fragments.INLINE_LIMIT + 5
    for callback in callbacks:
        callback()  # the publish_feeds task, run in-process (CELERY_TASK_ALWAYS_EAGER)
    assert stale(partner) == 0


def test_a_feed_renders_stale_fragments_itself_and_keeps_them(
    client, make_series, room, partner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        make_series(count=fragments.INLINE_LIMIT + 5, by_day="MO", resources=[room], summary="Physics")
    assert summaries(client, feed_of(room)) == ["Physics"] * (fragments.INLINE_LIMIT + 5)
    assert stale(partner) == 0


def test_a_fragment_left_behind_by_a_write_is_never_served(client, make_event, room, now):
    event = make_event(resources=[room], summary="Old")
    # A write that bypassed scheduling.py (a bulk UPDATE, a data migration) but stamped the row.
    ScheduleEvent.objects.filter(pk=event.pk).update(summary="New", updated_at=now + timedelta(seconds=1))
    assert summaries(client, feed_of(room)) == ["New"]


def test_publish_is_idempotent(make_series, room, partner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        make_series(count=30, by_day="MO", resources=[room])
    assert fragments.publish(partner.pk) == 30
    assert fragments.publish(partner.pk) == 0


def test_publish_touches_only_its_partner(
    make_series, room, partner, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        make_series(count=30, by_day="MO", resources=[room])
        theirs = scheduling.create_resource(outsider, {"type": 1, "name": "Their hall"})
        make_series(count=30, by_day="MO", resources=[theirs], who=outsider)
    fragments.publish(partner.pk)
    assert stale(partner) == 0 and stale(outsider.partner) == 30


def test_an_occurrence_given_a_new_uid_is_served_under_it(client, make_series, actor, room):
    # An import renames the occurrences its series just generated, at that same instant: the
    # rename must make their stored VEVENTs stale even though updated_at does not move.
    series = make_series(count=2, by_day="MO", resources=[room])
    first = series.occurrences.order_by("start").first()
    scheduling.set_ical_uid(actor, first.pk, "lecture-1@other-calendar")
    feed = Calendar.from_ical(fetch(client, feed_of(room)).content)
    assert "lecture-1@other-calendar" in [str(e["UID"]) for e in feed.walk("VEVENT")]


def test_an_organizer_typed_on_two_lines_still_renders(make_event, room):
    # Found by tests/sync/test_fuzz_sync.py: icalendar refuses CR/LF in a CAL-ADDRESS, and the
    # write that stored such an organizer failed while rendering its fragment.
    event = make_event(resources=[room], organizer="Prof. Ada\nLovelace")
    event.refresh_from_db()
    assert "ORGANIZER:Prof. Ada Lovelace" in event.ical_fragment
