"""The shared caches on a Redis that goes away (scheduler_site/redis_cache.py): a miss, never an
error, so feeds and devices' polls keep being answered from the database through an outage."""

from __future__ import annotations

import time

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from calendar_app import clock, feed_tokens, fragments
from scheduler_site.redis_cache import TolerantRedisCache, get_each
from tests.background import fixture_redis_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)
OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}


def shared(url: str) -> dict:
    backend = {"BACKEND": "scheduler_site.redis_cache.TolerantRedisCache", "LOCATION": url}
    backend["OPTIONS"] = OPTIONS
    names = ("default", "feeds", "receipts", "health", "auth")
    return {name: {**backend, "KEY_PREFIX": name} for name in names}


@pytest.fixture
def stopped_redis(redis_server):
    """The shared caches on the session's Redis, stopped for the test and started after it."""
    with override_settings(CACHES=shared(redis_server.url)):
        redis_server.stop()
        try:
            yield redis_server
        finally:
            redis_server.start()


def test_it_is_a_cache_while_redis_answers(redis_server):
    cache = TolerantRedisCache(redis_server.url, {"OPTIONS": OPTIONS, "KEY_PREFIX": "tolerant-test"})
    cache.set("a", 1)
    assert cache.get("a") == 1 and cache.add("a", 2) is False and cache.incr("a") == 2
    assert cache.get_many(["a", "b"]) == {"a": 2}


def test_a_stopped_redis_is_a_miss_and_writes_are_dropped_at_once(stopped_redis):
    cache = TolerantRedisCache(stopped_redis.url, {"OPTIONS": OPTIONS})
    began = time.monotonic()
    assert cache.get("a", "default") == "default" and cache.get_many(["a"]) == {}
    assert cache.add("a", 1) is False and cache.set_many({"a": 1}) == ["a"]
    cache.set("a", 1)
    with pytest.raises(ValueError):  # what incr says of a key it does not have
        cache.incr("a")
    assert time.monotonic() - began < 2


def test_bookings_and_feeds_work_while_redis_is_stopped(stopped_redis, client, make_resource, make_event):
    room = make_resource("Hall 1")
    feed_tokens.ensure(room.partner, [room], clock.now())
    make_event(resources=[room])  # the write commits; its counter bump is dropped
    assert fragments.version(room.partner_id) == 0  # the counter is a miss
    first = client.get(f"/feeds/{room.feed.token}.ics")
    assert first.status_code == 200 and b"Lecture" in first.content
    again = client.get(f"/feeds/{room.feed.token}.ics", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert caches["feeds"].get("anything") is None


def test_several_caches_are_read_in_one_round_trip(redis_server):
    with override_settings(CACHES=shared(redis_server.url)):
        feeds, receipts = caches["feeds"], caches["receipts"]
        feeds.set("counter", 7)
        receipts.set("counter", ("v1", "then"))  # the same key in another cache is another entry
        with redis.Redis.from_url(redis_server.url) as server:
            server.config_resetstat()
            found = get_each((feeds, "counter"), (receipts, "counter"), (feeds, "none"))
            calls = {name: stats["calls"] for name, stats in server.info("commandstats").items()}
    assert found == [7, ("v1", "then"), None]
    assert calls["cmdstat_mget"] == 1 and "cmdstat_get" not in calls


def test_caches_on_other_backends_are_read_one_by_one(redis_server):
    local = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "each"}
    with override_settings(CACHES={**shared(redis_server.url), "receipts": local}):
        caches["feeds"].set("a", 1)
        caches["receipts"].set("b", 2)
        assert get_each((caches["feeds"], "a"), (caches["receipts"], "b")) == [1, 2]


def test_a_stopped_redis_reads_as_misses_in_one_round_trip_too(stopped_redis):
    began = time.monotonic()
    assert get_each((caches["feeds"], "a"), (caches["auth"], "b")) == [None, None]
    assert time.monotonic() - began < 2
