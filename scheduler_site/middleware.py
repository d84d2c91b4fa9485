"""django-prometheus' request metrics, hardened against what a hostile client sends: the
library's middleware reads Content-Length with a bare int() (a request saying `12abc` became a
500 before the API door could refuse it with its envelope), and labels the latency histogram
with the raw HTTP method, so a client inventing methods would add a time series per name to
every process's metrics files."""

from __future__ import annotations

from django_prometheus.middleware import PrometheusAfterMiddleware


class RequestMetrics(PrometheusAfterMiddleware):
    def process_request(self, request):
        try:
            int(request.headers.get("content-length") or 0)
        except ValueError:
            return None  # uncounted: the door answers it (kaltura_api/views.py refuses it)
        return super().process_request(request)

    def process_response(self, request, response):
        if self._method(request) != request.method and hasattr(request, "prometheus_after_middleware_event"):
            # Counted as django_http_requests_unknown_latency, under no name of the client's.
            del request.prometheus_after_middleware_event
        return super().process_response(request, response)
