"""Per-resource iCal feeds for people (`/feeds/<token>.ics`; docs/architecture.md "Feeds and fragments").

A feed holds the events on a resource and everything below it (a room's cameras), in a window
around today: occurrences and single events as separate UTC VEVENTs, never series rows, never
stream credentials. Cancelled events stay listed, as CANCELLED, for a grace period, so that
subscribed calendars remove them instead of keeping a stale copy.

Calendar apps poll: `ETag` / `Last-Modified` let them ask "anything new?", and most polls get a
304 from a cached entry (see `cache_key`). A feed is assembled from the events' stored VEVENT
fragments (fragments.py), never rendered event by event on a request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.core.cache import caches
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from calendar_app import clock, fragments, ical, metrics
from calendar_app.devices import receipts
from calendar_app.models import (
    Entry,
    EntryType,
    EventStatus,
    FeedToken,
    RecurrenceType,
    ResourceStatus,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)
from scheduler_site.redis_cache import get_each

PAST_DAYS, FUTURE_DAYS, MAX_DAYS = 30, 365, 3 * 366
CANCELLED_GRACE = timedelta(days=14)
REFRESH = timedelta(hours=1)
# An entry outlives its key's version only by this; versions move on every write anyway.
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    cancelled_since: datetime  # cancelled events written since then are still shown


def window(now: datetime, past_days: int, future_days: int) -> Window:
    """Whole UTC days, so the feed (and its ETag) stays the same all day long."""
    today = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    return Window(
        today - timedelta(days=past_days), today + timedelta(days=future_days + 1), today - CANCELLED_GRACE
    )


def resource_ids_below(resource: ScheduleResource) -> list[int]:
    """The resource and the living ones under it (a building's rooms, a room's cameras)."""
    living = ScheduleResource.objects.for_partner(resource.partner_id).exclude(status=ResourceStatus.DELETED)
    return [resource.pk, *living.below([resource.pk])[resource.pk]]


def events(feed: FeedToken, span: Window) -> QuerySet:
    return resource_events(feed.resource, span)


def resource_events(resource: ScheduleResource, span: Window) -> QuerySet:
    """What a feed of `resource` shows in `span` (the schedule files publish the same)."""
    linked = ScheduleEventResource.objects.filter(resource_id__in=resource_ids_below(resource))
    shown = Q(status=EventStatus.ACTIVE) | Q(
        status=EventStatus.CANCELLED, updated_at__gte=span.cancelled_since
    )
    return (
        ScheduleEvent.objects.for_partner(resource.partner_id)
        .filter(pk__in=linked.values("event_id"))
        .exclude(recurrence_type=RecurrenceType.RECURRING)
        .filter(shown)
        .overlapping(span.start, span.end)
        .order_by("start", "pk")
    )


def not_modified(request: HttpRequest, tag: str, last_modified: datetime | None) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since. Tags are compared weakly, and an
    unquoted tag (some clients strip the quotes) counts as the same tag."""
    header = request.headers.get("If-None-Match")
    if header is not None:
        return etag_matches(header, tag)
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and last_modified is not None and int(last_modified.timestamp()) <= since


def etag_matches(header: str, tag: str, *, star: bool = True) -> bool:
    """An If-None-Match header against a tag: weakly, quoted or not, or "*" (when `star`)."""
    sent = {t.strip().removeprefix("W/").strip('"') for t in header.split(",")}
    return star and "*" in sent or tag.strip('"') in sent


def _days(request: HttpRequest, name: str, default: int) -> int:
    value = request.GET.get(name, "")
    if value == "":
        return default
    if not value.isdigit() or int(value) > MAX_DAYS:
        raise ValueError(f"{name} must be a whole number of days from 0 to {MAX_DAYS}")
    return int(value)


@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    now = clock.now()
    found = _polled(token)
    if found is None or found.resource_status == ResourceStatus.DELETED:
        raise Http404("No such feed")
    try:
        span = window(now, _days(request, "past", PAST_DAYS), _days(request, "future", FUTURE_DAYS))
    except ValueError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    device = receipts.feed_device(found.resource_id)
    # The write counter and the subscribers' last receipt in one round trip (as a device's poll).
    counter, last_written = get_each(
        (caches["feeds"], fragments.version_key(found.partner_id)),
        (caches["receipts"], receipts.recent_key(found.partner_id, device, [found.resource_id])),
    )
    key, last_modified = cache_key(found, span, counter or 0)
    published, body = caches["feeds"].get(key), None
    if published is None or not not_modified(request, published.etag, published.last_modified):
        body = caches["feeds"].get(published.body_key) if published else None
        if body is None:  # not assembled under this version yet, or the body was evicted
            published, body = assemble(key, last_modified, found, span)
    _record_receipt(request, found, published.etag, now, last_written)
    unchanged = not_modified(request, published.etag, published.last_modified)
    metrics.device_poll(receipts.Channel.FEED, unchanged)
    if unchanged:
        return HttpResponse(status=304, headers=published.headers)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8", headers=published.headers)


def _record_receipt(
    request: HttpRequest, found: FeedToken, etag: str, now: datetime, last_written: Any
) -> None:
    """A poll answered (200 or 304) is a delivery: whoever holds the address now has this version.
    A feed's subscribers are one device, known by the calendar app they poll with."""
    agent = request.headers.get("User-Agent", "")[:200] or "unknown client"
    receipts.record(
        found.partner_id,
        receipts.feed_device(found.resource_id),
        f"feed subscribers ({agent})",
        [found.resource_id],
        receipts.Channel.FEED,
        etag,
        now,
        last_written=last_written,
    )


class _Polled(TypedDict):
    resource_status: int
    events_at: datetime | None
    resources_at: datetime | None


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # A token as _polled reads it.
    PolledToken = WithAnnotations[FeedToken, _Polled]


@dataclass(frozen=True)
class Published:
    """What a poll needs of an assembled feed; the body is cached apart, under `body_key`."""

    key: str
    etag: str
    last_modified: datetime

    @property
    def body_key(self) -> str:
        return f"{self.key}:body"

    @property
    def headers(self) -> dict[str, str]:
        return {
            "ETag": self.etag,
            "Last-Modified": http_date(self.last_modified.timestamp()),
            "Cache-Control": "no-cache",
        }


def _polled(token: str) -> PolledToken | None:
    """The token with its resource's status and its partner's newest event and resource
    `updated_at`, in one query: a poll is then that query and cache reads.

    Plain SQL, as `schedule_version`: built with the ORM (two annotated subqueries and the join to
    the resource), the query cost a feed's 304 half its CPU (bench/feed.py "304")."""
    newest = [
        _newest_sql(ScheduleEvent, partner="f.partner_id"),
        _newest_sql(ScheduleResource, partner="f.partner_id"),
    ]
    tokens, resources = (connection.ops.quote_name(m._meta.db_table) for m in (FeedToken, ScheduleResource))
    sql = (
        f"SELECT f.*, r.status AS resource_status, {newest[0]} AS events_at, {newest[1]} AS resources_at"
        f" FROM {tokens} f JOIN {resources} r ON r.id = f.resource_id WHERE f.token = %s"
    )
    found = cast("PolledToken | None", next(iter(FeedToken.objects.raw(sql, [token])), None))
    if found is not None:  # a raw query converts the model's columns only
        found.events_at, found.resources_at = map(_datetime, (found.events_at, found.resources_at))
    return found


def _datetime(value: datetime | str | None) -> datetime | None:
    """A computed `updated_at` as the ORM gives it: SQLite hands it to a raw query as text or a
    naive datetime (PostgreSQL's are aware already)."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    return connection.ops.convert_datetimefield_value(value, None, connection)  # type: ignore[attr-defined]


def schedule_version(partner_id: int, *, live_entries: bool = False, counter: int | None = None) -> str:
    """The partner's schedule as a version: its committed-write counter and newest event and
    resource `updated_at` (and live entries', for answers that carry their endpoints), read in
    one query, as `cache_key` reads them. It moves with every write to what a list can show:
    the API's iCal ETag and its lists' receipts are built on it.

    Plain SQL, each newest an ORDER BY ... LIMIT 1 on a (partner, ...) index: building the same
    query with the ORM cost more than running it (a device's 304 poll, bench/feed.py). `counter`:
    the write counter as the caller already read it."""
    newest = [_newest_sql(ScheduleEvent), _newest_sql(ScheduleResource)]
    params: list[int | str] = [partner_id, partner_id]
    if live_entries:
        newest.append(_newest_sql(Entry, "AND type = %s"))
        params += [partner_id, EntryType.LIVE_STREAM.value]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(newest), params)
        row = cursor.fetchone()
    counter = fragments.version(partner_id) if counter is None else counter
    return ":".join([str(counter), *map(str, row)])


def _newest_sql(model: type[models.Model], condition: str = "", *, partner: str = "%s") -> str:
    """The newest `updated_at` of the partner's rows of `model`: a parameter, or a column of the
    enclosing query (`partner`)."""
    table = connection.ops.quote_name(model._meta.db_table)
    where = f"partner_id = {partner} {condition}"
    return f"(SELECT updated_at FROM {table} WHERE {where} ORDER BY updated_at DESC LIMIT 1)"


def cache_key(found: PolledToken, span: Window, counter: int) -> tuple[str, datetime]:
    """The key of the feed's cached copy, and its Last-Modified.

    The key is current for as long as nothing of the partner's schedule is written: every write
    moves `fragments.version` once committed, and stamps an `updated_at` of its events or
    resources, read with the token (`_polled`). The window and the grace period are
    whole days. So a poll costs one query and cache reads; no query grows with the feed.
    Last-Modified is the partner's last write: never earlier than the feed's own. `counter`:
    `fragments.version`, as the caller read it."""
    events_at, resources_at = found.events_at, found.resources_at
    stamp = f"{counter}:{events_at}:{resources_at}"
    version = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    key = f"feed:{found.pk}:{found.token}:{span.start:%Y%m%d}:{span.end:%Y%m%d}:{version}"
    return key, max(filter(None, [events_at, resources_at, found.rotated_at]))


def assemble(key: str, last_modified: datetime, found: FeedToken, span: Window) -> tuple[Published, bytes]:
    """Header and stored fragments, from one query of plain tuples (model instances cost three
    times the query on 10,000 rows). The ETag hashes the address and the body, so it changes
    exactly when the feed does: a write elsewhere in the partner re-assembles the feed once,
    and polls still get 304."""
    rows = events(found, span).annotate(fresh=fragments.FRESH).values_list("pk", "fresh", "ical_fragment")
    body = ical.assemble(fragments.texts(list(rows)), name=found.resource.name, refresh=REFRESH)
    tag = f'"{hashlib.sha256(found.token.encode() + body).hexdigest()[:32]}"'
    published = Published(key, tag, last_modified)
    caches["feeds"].set_many({key: published, published.body_key: body}, CACHE_SECONDS)
    return published, body
