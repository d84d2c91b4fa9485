"""The one clock. Logic takes `now` as an argument; only the edges (views, tasks, commands) call
`clock.now()`, and tests pin it with `clock.pinned(...)`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

_pinned: datetime | None = None

# Kaltura's relative-time rule: a time filter value below this (1980-01-01) is relative to now.
RELATIVE_TIME_LIMIT = 315_964_800


def now() -> datetime:
    return _pinned if _pinned is not None else datetime.now(UTC)


@contextlib.contextmanager
def pinned(moment: datetime) -> Iterator[datetime]:
    if moment.tzinfo is None:
        raise ValueError("pin the clock to an aware datetime")
    global _pinned
    previous, _pinned = _pinned, moment
    try:
        yield moment
    finally:
        _pinned = previous


def from_unix(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def to_unix(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def resolve_relative(seconds: int, now: datetime) -> datetime:
    """Wire time -> datetime, applying the relative-time rule (values before 1980 are offsets)."""
    if seconds < RELATIVE_TIME_LIMIT:
        return from_unix(int(now.timestamp()) + seconds)
    return from_unix(seconds)
