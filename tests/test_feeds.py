"""Per-resource iCal feeds (/feeds/<token>.ics): what an instructor's calendar app subscribes to."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from calendar_app import clock, feed_tokens, scheduling, writes
from calendar_app.models import Entry, EntryType, EventType, FeedToken, ResourceType
from tests.conftest import NOW

# Real commits: a feed's cached copy is keyed by the partner's committed writes.
pytestmark = pytest.mark.django_db(transaction=True)


def feed_of(resource) -> FeedToken:
    feed_tokens.ensure(resource.partner, [resource], clock.now())
    return resource.feed


def fetch(client, feed: FeedToken, **headers):
    return client.get(f"/feeds/{feed.token}.ics", headers=headers)


def ids(response) -> list[int]:
    return [int(e["X-KALTURA-ID"]) for e in Calendar.from_ical(response.content).walk("VEVENT")]


@pytest.fixture
def room(make_resource):
    return make_resource("Hall 1")


@pytest.fixture
def feed(room):
    return feed_of(room)


def test_it_serves_the_rooms_events_as_a_calendar(client, feed, room, make_event, make_resource):
    booked = make_event("2026-09-07 09:00", resources=[room])
    make_event("2026-09-07 09:00", resources=[make_resource("Hall 2")])
    response = fetch(client, feed)
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert ids(response) == [booked.pk]
    calendar = Calendar.from_ical(response.content)
    assert calendar["X-WR-CALNAME"] == "Hall 1"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.content
    assert b"X-PUBLISHED-TTL:PT1H" in response.content


def test_it_includes_the_cameras_of_a_room(client, feed, room, make_resource, make_event):
    camera = make_resource("Hall 1 cam", type=ResourceType.CAMERA, parent_id=room.pk)
    on_camera = make_event("2026-09-08 09:00", resources=[camera])
    assert ids(fetch(client, feed)) == [on_camera.pk]


def test_it_lists_occurrences_in_utc_not_the_series(client, feed, room, make_series):
    series = make_series("2026-10-19 09:00", zone="Europe/Berlin", count=3, by_day="MO", resources=[room])
    events = Calendar.from_ical(fetch(client, feed).content).walk("VEVENT")
    assert len(events) == 3 and series.pk not in {int(e["X-KALTURA-ID"]) for e in events}
    assert [e.decoded("DTSTART").hour for e in events] == [7, 8, 8]  # 09:00 Berlin, DST ends
    assert all("RRULE" not in e and "RECURRENCE-ID" not in e for e in events)


def test_it_keeps_a_cancelled_event_for_a_while_so_calendars_drop_it(client, feed, room, make_event, actor):
    event = make_event("2026-09-07 09:00", resources=[room])
    scheduling.cancel_event(actor, event.pk)
    vevent = Calendar.from_ical(fetch(client, feed).content).walk("VEVENT")[0]
    assert vevent["STATUS"] == "CANCELLED"
    with clock.pinned(NOW + timedelta(days=15)):
        assert ids(fetch(client, feed)) == []


def test_it_shows_a_window_around_today_that_the_url_can_change(client, feed, room, make_event):
    past = make_event("2026-07-01 09:00", resources=[room])  # two months ago
    soon = make_event("2026-09-07 09:00", resources=[room])
    far = make_event("2027-12-01 09:00", resources=[room])  # past the default year ahead
    assert ids(fetch(client, feed)) == [soon.pk]
    wide = client.get(f"/feeds/{feed.token}.ics", {"past": "90", "future": "500"})
    assert ids(wide) == [past.pk, soon.pk, far.pk]


def test_it_refuses_a_window_it_cannot_read(client, feed):
    assert client.get(f"/feeds/{feed.token}.ics", {"past": "-3"}).status_code == 400
    assert client.get(f"/feeds/{feed.token}.ics", {"future": "99999"}).status_code == 400


def test_it_never_shows_stream_credentials(client, feed, room, make_event, partner):
    Entry.objects.create(id="0_live0001", partner=partner, type=EntryType.LIVE_STREAM, name="s",
                         stream_password="s3cret-stream")  # fmt: skip
    make_event(type=EventType.LIVE_STREAM, template_entry_id="0_live0001", resources=[room])
    assert b"s3cret-stream" not in fetch(client, feed).content


def test_it_is_unknown_after_rotation_and_for_a_bad_token(client, feed, now):
    old = feed.token
    feed.rotate(now)
    assert client.get(f"/feeds/{old}.ics").status_code == 404
    assert fetch(client, feed).status_code == 200
    assert client.get("/feeds/not-a-token.ics").status_code == 404


def test_it_is_gone_with_its_resource(client, feed, room, actor):
    scheduling.delete_resource(actor, room.pk)
    assert fetch(client, feed).status_code == 404


@pytest.mark.parametrize(
    "header",
    [
        lambda tag: tag,
        lambda tag: tag.strip('"'),  # some clients strip the quotes
        lambda tag: f"W/{tag}",
        lambda tag: f'"other", {tag}',
        lambda tag: "*",
    ],
    ids=["quoted", "unquoted", "weak", "a list", "star"],
)
def test_it_answers_304_to_a_matching_if_none_match(client, feed, room, make_event, header):
    make_event(resources=[room])
    tag = fetch(client, feed)["ETag"]
    response = fetch(client, feed, if_none_match=header(tag))
    assert response.status_code == 304
    assert response["ETag"] == tag and response.content == b""


def test_it_answers_304_to_if_modified_since(client, feed, room, make_event):
    make_event(resources=[room])
    last_modified = fetch(client, feed)["Last-Modified"]
    assert fetch(client, feed, if_modified_since=last_modified).status_code == 304


@pytest.mark.parametrize("change", ["edit", "cancel", "unlink", "rotate"])
def test_it_changes_its_etag_when_the_feed_changes(client, feed, room, make_event, actor, now, change):
    event = make_event(resources=[room])
    before = fetch(client, feed)["ETag"]
    later = now + timedelta(minutes=5)
    if change == "edit":
        scheduling.update_event(writes.Actor(actor.partner, later), event.pk, {"summary": "Moved"})
    elif change == "cancel":
        scheduling.cancel_event(writes.Actor(actor.partner, later), event.pk)
    elif change == "unlink":
        scheduling.unlink_resource(actor, event.pk, room.pk)
    else:
        feed.rotate(later)
    response = fetch(client, feed, if_none_match=before)
    assert response.status_code == 200 and response["ETag"] != before


def test_it_keeps_its_etag_through_the_day(client, feed, room, make_event):
    make_event(resources=[room])
    morning = fetch(client, feed)["ETag"]
    with clock.pinned(NOW + timedelta(hours=10)):
        assert fetch(client, feed)["ETag"] == morning


def test_it_shows_nothing_of_another_partner(client, feed, outsider, make_event):
    stranger_room = scheduling.create_resource(outsider, {"type": ResourceType.LOCATION, "name": "X"})
    make_event(resources=[stranger_room], who=outsider)
    assert ids(fetch(client, feed)) == []


def test_a_line_break_in_a_tag_cannot_break_the_feed(client, feed, room, make_event):
    make_event(resources=[room], tags="physics,first\nyear")
    (event,) = Calendar.from_ical(fetch(client, feed).content).walk("VEVENT")
    assert str(event["X-KALTURA-TAGS"]) == "physics,first year"
