"""Django's Redis cache, tolerant of a Redis that is away.

Every shared cache here (settings.shared_cache: assembled feeds, the partner's write counter,
devices' recent receipts, heartbeats) is a cache in the strict sense: the database holds the
truth, and a miss only costs work. With Django's own backend a Redis that is stopped or
restarting turned every device poll and feed into a 500 (tests/stack/test_faults_queue.py):
the very clients that must keep their schedule through an outage. Here a call that cannot reach
Redis is a miss (reads) or a no-op (writes), logged, and bounded by the socket timeouts
shared_cache sets, so a frozen Redis costs a request a second, not its worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class TolerantRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        return _or(default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return _or({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return _or(False, super().has_key, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return _or(False, super().add, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        _or(None, super().set, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return _or(list(data), super().set_many, data, timeout, version)  # the keys not set

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return _or(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return _or(False, super().delete, key, version)

    def delete_many(self, keys, version=None):
        _or(None, super().delete_many, keys, version)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except RedisError as error:
            _warn(error)
            raise ValueError(f"{key!r} not incremented: the cache is unavailable") from error


def _or(fallback: Any, call: Callable[..., Any], *args: Any) -> Any:
    try:
        return call(*args)
    except RedisError as error:
        _warn(error)
        return fallback


def _warn(error: RedisError) -> None:
    log.warning("shared cache unavailable (%s: %s): answering without it", type(error).__name__, error)


def get_each(*wanted: tuple[BaseCache, str]) -> list[Any]:
    """The value of each (cache, key), None when missing: in one round trip when the caches are
    this module's on one Redis (settings.shared_cache puts every shared cache on REDIS_URL), else
    a get from each. A device's poll reads three caches before it can answer 304, and a round
    trip cost it more CPU than the read (bench/poll_layers.py)."""
    first = wanted[0][0]
    together = isinstance(first, TolerantRedisCache) and all(
        isinstance(cache, TolerantRedisCache) and cache._servers == first._servers for cache, _ in wanted
    )
    if not together:
        return [cache.get(key) for cache, key in wanted]
    assert isinstance(first, TolerantRedisCache)
    keys = [cache.make_and_validate_key(key) for cache, key in wanted]
    try:
        found = first._cache.get_client().mget(keys)
    except RedisError as error:
        _warn(error)
        return [None] * len(wanted)
    # Every cache of this module pickles alike (Django's RedisSerializer).
    return [None if value is None else first._cache._serializer.loads(value) for value in found]
