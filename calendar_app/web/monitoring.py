"""What watches the service: /healthz for load balancers and process supervisors (public, no
secrets), /metrics for Prometheus (loopback or a bearer token). The logic is health.py's and
metrics.py's; these only answer."""

from __future__ import annotations

import hmac
import ipaddress

from celery import current_app
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from calendar_app import clock, health, metrics


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    found = health.report(clock.now(), eager=current_app.conf.task_always_eager)
    return JsonResponse(found.as_dict(), status=503 if found.failed else 200)


@require_safe
@never_cache
def metrics_page(request: HttpRequest) -> HttpResponse:
    if not _may_scrape(request):
        return HttpResponseForbidden(
            "Metrics are served on loopback, or with Authorization: Bearer <METRICS_TOKEN>.\n",
            content_type="text/plain; charset=utf-8",
        )
    depths = metrics.QueueDepths(
        celery_queue=lambda: health.celery_queue_length(settings.REDIS_URL, _default_queue()),
        sync_waiting=lambda: health.sync_backlog()[0],
        bulk_uploads=health.bulk_backlog,
    )
    return HttpResponse(metrics.exposition(depths), content_type=CONTENT_TYPE_LATEST)


def _default_queue() -> str:
    return current_app.conf.task_default_queue


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    return _from_loopback(request)


def _from_loopback(request: HttpRequest) -> bool:
    """A client on this host. A proxy on this host connects from loopback too, for whoever it
    forwards: a request it forwarded (X-Forwarded-For) is not this host's."""
    if "X-Forwarded-For" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False
