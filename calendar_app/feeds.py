"""Per-resource iCal feeds for people (`/feeds/<token>.ics`; design.md "Feeds").

A feed holds the events on a resource and everything below it (a room's cameras), in a window
around today: occurrences and single events as separate UTC VEVENTs, never series rows, never
stream credentials. Cancelled events stay listed, as CANCELLED, for a grace period, so that
subscribed calendars remove them instead of keeping a stale copy.

Calendar apps poll: `ETag` / `Last-Modified` let them ask "anything new?" for the price of one
aggregate query, and a 304.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from calendar_app import clock, fragments, ical
from calendar_app.models import (
    EventStatus,
    FeedToken,
    RecurrenceType,
    ResourceStatus,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)

PAST_DAYS, FUTURE_DAYS, MAX_DAYS = 30, 365, 3 * 366
CANCELLED_GRACE = timedelta(days=14)
REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def window(now: datetime, past_days: int, future_days: int) -> Window:
    """Whole UTC days, so the feed (and its ETag) stays the same all day long."""
    today = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    return Window(today - timedelta(days=past_days), today + timedelta(days=future_days + 1))


def resource_ids_below(resource: ScheduleResource) -> list[int]:
    """The resource and the living ones under it (a building's rooms, a room's cameras)."""
    living = ScheduleResource.objects.for_partner(resource.partner_id).exclude(status=ResourceStatus.DELETED)
    return [resource.pk, *living.below([resource.pk])[resource.pk]]


def events(feed: FeedToken, span: Window, now: datetime) -> QuerySet:
    linked = ScheduleEventResource.objects.filter(resource_id__in=resource_ids_below(feed.resource))
    shown = Q(status=EventStatus.ACTIVE) | Q(
        status=EventStatus.CANCELLED, updated_at__gte=now - CANCELLED_GRACE
    )
    return (
        ScheduleEvent.objects.for_partner(feed.partner_id)
        .filter(pk__in=linked.values("event_id"))
        .exclude(recurrence_type=RecurrenceType.RECURRING)
        .filter(shown)
        .overlapping(span.start, span.end)
        .order_by("start", "pk")
    )


def etag(feed: FeedToken, span: Window, count: int, newest: datetime | None) -> str:
    """Changes when the feed's identity, window, or any event in it (or their number) changes."""
    identity = f"{feed.pk}:{feed.token}:{span.start:%Y%m%d}:{span.end:%Y%m%d}:{count}:{newest}"
    return '"' + hashlib.sha256(identity.encode()).hexdigest()[:32] + '"'


def not_modified(request: HttpRequest, tag: str, *stamps: datetime | None) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since. Tags are compared weakly, and an
    unquoted tag (some clients strip the quotes) counts as the same tag."""
    header = request.headers.get("If-None-Match")
    if header is not None:
        wanted = tag.strip('"')
        sent = {t.strip().removeprefix("W/").strip('"') for t in header.split(",")}
        return "*" in sent or wanted in sent
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    last_modified = max(filter(None, stamps), default=None)
    return since is not None and last_modified is not None and int(last_modified.timestamp()) <= since


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
    found = FeedToken.objects.select_related("resource").filter(token=token).first()
    if found is None or found.resource.status == ResourceStatus.DELETED:
        raise Http404("No such feed")
    try:
        span = window(now, _days(request, "past", PAST_DAYS), _days(request, "future", FUTURE_DAYS))
    except ValueError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    rows = events(found, span, now)
    if _conditional(request):
        # A poll: one aggregate query decides, and most polls end here with a 304.
        stats = rows.aggregate(count=Count("pk"), newest=Max("updated_at"))
        headers = _validators(found, span, stats["count"], stats["newest"])
        if not_modified(request, headers["ETag"], found.rotated_at, stats["newest"]):
            return HttpResponse(status=304, headers=headers)
    shown = list(rows.only("pk", "updated_at", "ical_fragment", "ical_fragment_of"))
    newest = max((r.updated_at for r in shown), default=None)
    headers = _validators(found, span, len(shown), newest)
    body = ical.assemble(fragments.texts(shown), name=found.resource.name, refresh=REFRESH)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8", headers=headers)


def _conditional(request: HttpRequest) -> bool:
    return "If-None-Match" in request.headers or "If-Modified-Since" in request.headers


def _validators(found: FeedToken, span: Window, count: int, newest: datetime | None) -> dict[str, str]:
    last_modified = max(filter(None, [newest, found.rotated_at]))
    return {
        "ETag": etag(found, span, count, newest),
        "Last-Modified": http_date(last_modified.timestamp()),
        "Cache-Control": "no-cache",
    }
