"""The HTTP door of the Kaltura API. Whatever happens, the answer is a Kaltura response with
HTTP 200 (clients ignore the status); never an HTML error page."""

from __future__ import annotations

import logging
import time

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from calendar_app import clock, ical
from calendar_app.imports import jobs
from calendar_app.kaltura_api import dispatch, params, render, services  # noqa: F401 (registers actions)
from calendar_app.kaltura_api.errors import ApiError

log = logging.getLogger(__name__)
ICAL_FORMAT = "ical"
REQUEST_OVERHEAD = 1024 * 1024  # the params and multipart framing around an upload


@csrf_exempt
def api(request: HttpRequest, service: str = "", action: str = "", tail: str = "") -> HttpResponse:
    started = time.perf_counter()
    now = clock.now()
    fmt = render.XML_FORMAT
    try:
        _check_size(request)
        values = params.collect(request, tail or "")
        fmt = str(values.get("format") or render.XML_FORMAT)
        service = service or str(values.get("service") or "")
        if service.lower() == "multirequest":
            result = dispatch.run_multirequest(values, now)
        else:
            one = {**values, "service": service, "action": action or values.get("action")}
            result = dispatch.run(one, now, ical=fmt.lower() == ICAL_FORMAT)
    except ApiError as error:
        result = render.Error(error)
    except (RequestDataTooBig, TooManyFieldsSent):
        result = render.Error(ApiError("REQUEST_TOO_LARGE", "The request is too large"))
    except (MultiPartParserError, UnreadablePostError) as error:
        result = render.Error(ApiError("INVALID_REQUEST", f"The request body cannot be read: {error}"))
    except SuspiciousOperation as error:
        result = render.Error(ApiError("INVALID_REQUEST", str(error)))
    return respond(result, fmt, time.perf_counter() - started)


def _check_size(request: HttpRequest) -> None:
    """Refuse a body larger than the biggest upload before reading any of it: Django would
    stream an uploaded file of any size to disk first."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = jobs.max_bytes() + REQUEST_OVERHEAD
    if length > limit:
        raise ApiError("REQUEST_TOO_LARGE", f"The request is {length} bytes; at most {limit} are accepted")


def respond(result, fmt: str, elapsed: float) -> HttpResponse:
    if fmt.lower() == ICAL_FORMAT:
        if not isinstance(result, bytes | render.Error):  # a multirequest has no iCal form
            result = render.Error(ApiError("UNKNOWN_RESPONSE_FORMAT", "No iCal answer for this call"))
        if isinstance(result, render.Error):
            error = result.error
            result = ical.error(error.code, error.message, error.args_)
        return HttpResponse(result, content_type="text/calendar; charset=utf-8")
    if fmt == render.JSON_FORMAT:
        return HttpResponse(render.json_document(result), content_type="application/json")
    if fmt != render.XML_FORMAT:
        result = render.Error(
            ApiError(
                "UNKNOWN_RESPONSE_FORMAT", f"Response format [{fmt[:16]}] is not supported", FORMAT=fmt[:16]
            )
        )
    return HttpResponse(render.xml_document(result, elapsed), content_type="text/xml; charset=utf-8")
