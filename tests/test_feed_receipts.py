"""The token feed's delivery receipts (feeds.py): a poll answered 200 or 304 is recorded for the
feed's subscribers, known by the feed's resource."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calendar_app import clock, feed_tokens
from calendar_app.devices.receipts import Channel
from calendar_app.models import DeviceReceipt, FeedToken
from tests.conftest import NOW


@pytest.fixture
def room(make_resource):
    return make_resource("Hall 1")


@pytest.fixture
def feed(room) -> FeedToken:
    feed_tokens.ensure(room.partner, [room], clock.now())
    return FeedToken.objects.get(resource=room)


def poll(client, feed: FeedToken, **headers):
    return client.get(f"/feeds/{feed.token}.ics", headers=headers)


def receipts():
    return list(
        DeviceReceipt.objects.values_list(
            "device", "label", "resource_id", "channel", "version", "fetched_at"
        )
    )


def test_a_feed_poll_records_a_receipt(client, feed, room, make_event):
    make_event(resources=[room])
    response = poll(client, feed, user_agent="Thunderbird/128")
    assert receipts() == [
        (
            f"feed:{room.pk}",
            "feed subscribers (Thunderbird/128)",
            room.pk,
            Channel.FEED,
            response["ETag"],
            NOW,
        )
    ]


def test_a_304_is_recorded_too(client, feed, room, make_event):
    make_event(resources=[room])
    etag = poll(client, feed)["ETag"]
    with clock.pinned(NOW + timedelta(minutes=5)):
        assert poll(client, feed, if_none_match=etag).status_code == 304
    assert [r[5] for r in receipts()] == [NOW + timedelta(minutes=5)]


def test_an_unknown_feed_records_nothing(client, feed):
    assert client.get("/feeds/nope.ics").status_code == 404
    assert receipts() == []
