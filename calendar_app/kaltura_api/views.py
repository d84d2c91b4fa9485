"""The HTTP door of the Kaltura API. Whatever happens, the answer is a Kaltura response with
HTTP 200 (clients ignore the status) in the format the caller asked for; never an HTML error
page. A request refused before its body is read (too large, unreadable) is answered in the
format its query string or path named, XML if none."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from calendar_app import clock, ical
from calendar_app.devices import uploads
from calendar_app.imports import jobs
from calendar_app.kaltura_api import conditional, dispatch, params, render, services  # noqa: F401 (registers actions)
from calendar_app.kaltura_api.errors import ApiError, internal_error

log = logging.getLogger(__name__)
ICAL_FORMAT = "ical"
REQUEST_OVERHEAD = 1024 * 1024  # the params and multipart framing around an upload


@csrf_exempt
def api(request: HttpRequest, service: str = "", action: str = "", tail: str = "") -> HttpResponse:
    started = time.perf_counter()
    now = clock.now()
    fmt = render.XML_FORMAT
    try:
        fmt = params.requested_format(request, tail or "") or fmt
        _check_size(request, _limit(request, service, action, tail or ""))
        values = params.collect(request, tail or "")
        fmt = _format(values.get("format"))
        params.check_depth(values)  # once the format is known: the refusal answers in it
        result = _call(values, service, action, fmt, now, request.headers.get("If-None-Match"))
    except ApiError as error:
        result = render.Error(error)
    except (RequestDataTooBig, TooManyFieldsSent):
        result = render.Error(ApiError("REQUEST_TOO_LARGE", "The request is too large"))
    except (MultiPartParserError, UnreadablePostError) as error:
        result = render.Error(ApiError("INVALID_REQUEST", f"The request body cannot be read: {error}"))
    except (SuspiciousOperation, BadRequest) as error:
        result = render.Error(ApiError("INVALID_REQUEST", str(error)))
    except Exception:
        # The last resort: a bug still answers in the envelope (dispatch catches what actions raise).
        log.exception("unexpected error at the API door, %s", request.path)
        result = render.Error(internal_error())
    return respond(result, fmt, time.perf_counter() - started)


def _format(value: Any) -> str:
    if isinstance(value, dict | list):  # no format; and its str() could recurse as deep as the body
        return "(object)"
    return str(value or render.XML_FORMAT)


def _call(
    values: dict[str, Any], service: str, action: str, fmt: str, now: datetime, if_none_match: str | None
) -> Any:
    """The format is checked first: a call answered with an error must have changed nothing.
    An iCal answer may be conditional on the request's If-None-Match (conditional.py)."""
    service = service or str(values.get("service") or "")
    ical_answer = fmt.lower() == ICAL_FORMAT
    if fmt not in (render.XML_FORMAT, render.JSON_FORMAT) and not ical_answer:
        raise _unknown_format(fmt)
    if service.lower() == "multirequest":
        if ical_answer:
            raise ApiError("UNKNOWN_RESPONSE_FORMAT", "A multirequest has no iCal answer", FORMAT=fmt)
        return dispatch.run_multirequest(values, now)
    one = {**values, "service": service, "action": action or values.get("action")}
    return dispatch.run(one, now, ical=ical_answer, if_none_match=if_none_match if ical_answer else None)


def _unknown_format(fmt: str) -> ApiError:
    shown = fmt[:16]
    return ApiError("UNKNOWN_RESPONSE_FORMAT", f"Response format [{shown}] is not supported", FORMAT=shown)


def _limit(request: HttpRequest, service: str, action: str, tail: str) -> int:
    """The largest body a request may send: a chunk of an upload (uploadtoken.upload, named in
    the URL or its query string, as every client names it), else the bulk upload cap."""
    query = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    named = dict([*query, *params.path_pairs(tail)])
    service, action = service or named.get("service", ""), action or named.get("action", "")
    if (service.lower(), action.lower()) == ("uploadtoken", "upload"):
        return uploads.chunk_max_bytes() + REQUEST_OVERHEAD
    return jobs.max_bytes() + REQUEST_OVERHEAD


def _check_size(request: HttpRequest, limit: int) -> None:
    """Refuse a body larger than `limit` before reading any of it: Django would stream an
    uploaded file of any size to disk first."""
    raw = request.META.get("CONTENT_LENGTH") or "0"
    if not (raw.isascii() and raw.isdigit()):  # Django would fail on it when reading the body
        raise ApiError("INVALID_REQUEST", f"The Content-Length [{raw[:32]}] is not a number of bytes")
    digits = raw.lstrip("0") or "0"
    # By length first: int() refuses more than 4,300 digits.
    if len(digits) > len(str(limit)) or int(digits) > limit:
        raise ApiError(
            "REQUEST_TOO_LARGE", f"The request is {digits[:32]} bytes; at most {limit} are accepted"
        )


def respond(result, fmt: str, elapsed: float) -> HttpResponse:
    try:
        return _render(result, fmt, elapsed)
    except Exception:
        log.exception("cannot render the answer in format %r", fmt[:16])
        return _render(render.Error(internal_error()), fmt, elapsed)


def _render(result, fmt: str, elapsed: float) -> HttpResponse:
    if fmt.lower() == ICAL_FORMAT:
        if isinstance(result, render.Error):
            wire = result.as_wire()
            result = ical.error(wire["code"], wire["message"], wire["args"])
        if isinstance(result, conditional.Tagged):
            return conditional.response(result)
        return HttpResponse(result, content_type="text/calendar; charset=utf-8")
    if fmt == render.JSON_FORMAT:
        return HttpResponse(render.json_document(result), content_type="application/json")
    if fmt != render.XML_FORMAT:  # an unknown format is refused in XML, Kaltura's default
        result = render.Error(_unknown_format(fmt))
    return HttpResponse(render.xml_document(result, elapsed), content_type="text/xml; charset=utf-8")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 handler (settings' `handler400`): a request refused before any view, such as one
    for a Host outside ALLOWED_HOSTS, still gets the envelope under /api_v3/."""
    if not request.path.startswith("/api_v3/"):
        return defaults.bad_request(request, exception)
    fmt = params.requested_format(request) or render.XML_FORMAT
    return respond(render.Error(ApiError("INVALID_REQUEST", "The request cannot be served here")), fmt, 0.0)
