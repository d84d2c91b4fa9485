"""Each event row keeps its feed VEVENT, rendered once, so that a feed is a header and stored
fragments put together, not thousands of `icalendar` renderings (≈0.3 ms each) per request.

A fragment is valid while `ical_fragment_of` equals the row's `updated_at`; every write through
scheduling.py stamps `updated_at`, so a write makes the fragment stale even where nobody thought
of it. Small writes re-render their rows at once, in the same transaction (`changed`); big ones
(a long series, an import) leave it to a Celery task after commit (`publish_later`). A feed that
meets a stale fragment renders that one itself: requests never wait for a worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from celery import shared_task
from django.core.cache import caches
from django.db import DatabaseError, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Q

from calendar_app import ical
from calendar_app.models import EventStatus, RecurrenceType, ScheduleEvent
from scheduler_site.celery import DATABASE_RETRY

# Rendering this many inside the write costs a few ms; more goes to the background.
INLINE_LIMIT = 20
BATCH = 500
STALE = Q(ical_fragment_of__isnull=True) | ~Q(ical_fragment_of=F("updated_at"))
# The same test as a column of a feed's query (NULL, for a missing stamp, counts as stale).
FRESH = ExpressionWrapper(Q(ical_fragment_of=F("updated_at")), output_field=BooleanField())
# Feeds show occurrences and single events, never series rows nor deleted ones.
SHOWN = ~Q(recurrence_type=RecurrenceType.RECURRING) & ~Q(status=EventStatus.DELETED)


def render(events: Sequence[ScheduleEvent]) -> list[str]:
    """The feed VEVENTs of `events`, in order: UTC, no RECURRENCE-ID, no stream credentials."""
    return [c.to_ical().decode() for c in ical.vevents(events, recurrence_id=False)]


def attach(events: Sequence[ScheduleEvent]) -> None:
    """Render onto the objects. Each fragment is stamped with the `updated_at` it was rendered
    from, so a row written again meanwhile stays stale instead of getting an outdated fragment."""
    for event, text in zip(events, render(events), strict=True):
        event.ical_fragment, event.ical_fragment_of = text, event.updated_at


def store(events: Sequence[ScheduleEvent]) -> None:
    attach(events)
    _save(events)


def _save(events: Iterable[ScheduleEvent]) -> None:
    ScheduleEvent.objects.bulk_update(events, ["ical_fragment", "ical_fragment_of"], batch_size=BATCH)


def changed(partner_id: int, at: datetime) -> None:
    """After any write to a partner's schedule at `at`: re-render its rows now if they are few,
    else after commit; and once committed, move the partner's feed version."""
    touched(partner_id)
    rows = list(_stale(partner_id, at)[: INLINE_LIMIT + 1])
    if len(rows) <= INLINE_LIMIT:
        store(rows)
    else:
        publish_later(partner_id, at)


def touched(partner_id: int) -> None:
    """Move the partner's feed version once the current transaction commits (feeds.py keys its
    cached copies by it). For writes that leave rendering to `publish_later`. Robust: the write is
    committed, and a cache (Redis) that is down must not turn it into an error for the client
    (who would send it again); cached feeds still see it by its rows' `updated_at`."""
    transaction.on_commit(lambda: _bump(partner_id), robust=True)


def version(partner_id: int) -> int:
    """A counter of the partner's committed writes, in the shared "feeds" cache. Feeds key their
    cached copies by it (with the newest `updated_at`s, which other processes' writes move even
    without a shared cache): two writes in one instant move it too, an `updated_at` would not."""
    return caches["feeds"].get(version_key(partner_id), 0)


def _bump(partner_id: int) -> None:
    cache = caches["feeds"]
    if not cache.add(version_key(partner_id), 1, timeout=None):
        try:
            cache.incr(version_key(partner_id))
        except ValueError:  # evicted between add and incr
            cache.add(version_key(partner_id), 1, timeout=None)


def version_key(partner_id: int) -> str:
    """The counter's key in the "feeds" cache (a poll reads it with others: deliveries.py)."""
    return f"feeds:version:{partner_id}"


def publish_later(partner_id: int, at: datetime | None = None) -> None:
    """Queue a re-render of the partner's stale fragments (those written at `at`, or all)."""
    stamp = None if at is None else at.isoformat()
    # Robust: with the broker down the write stands; a feed renders a stale fragment itself.
    transaction.on_commit(lambda: publish_feeds.delay(partner_id, stamp), robust=True)


# Task names are pinned: queued messages name the task, and they must survive a module move.
@shared_task(name="calendar_app.tasks.publish_feeds", acks_late=True, **DATABASE_RETRY)
def publish_feeds(partner_id: int, changed_at: str | None = None) -> int:
    """Re-render the stale feed fragments of a partner (those of one write, or all)."""
    at = None if changed_at is None else datetime.fromisoformat(changed_at)
    return publish(partner_id, at)


def publish(partner_id: int, at: datetime | None = None) -> int:
    """Re-render stale fragments in batches; returns how many. Safe to run twice or concurrently:
    a row re-rendered by someone else is no longer stale, and bulk_update only writes fragments."""
    done = 0
    while rows := list(_stale(partner_id, at).order_by("pk")[:BATCH]):
        with transaction.atomic():
            store(rows)
        done += len(rows)
    return done


def _stale(partner_id: int, at: datetime | None):
    rows = ScheduleEvent.objects.for_partner(partner_id).filter(SHOWN).filter(STALE)
    return rows if at is None else rows.filter(updated_at=at)


def texts(rows: list[tuple[int, bool | None, str]]) -> list[str]:
    """The fragments of (pk, fresh, fragment) rows read for a feed, rendering the stale ones.
    Keeping those is a courtesy: if the database is busy, the feed is served anyway."""
    stale = [pk for pk, fresh, _ in rows if not fresh]
    if not stale:
        return [text for _, _, text in rows]
    full = ScheduleEvent.objects.in_bulk(stale)
    attach(list(full.values()))
    try:
        with transaction.atomic():
            _save(full.values())
    except DatabaseError:
        pass
    return [text if fresh else full[pk].ical_fragment for pk, fresh, text in rows]
