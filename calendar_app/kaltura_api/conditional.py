"""Conditional iCal answers: `ETag` and `304 Not Modified` for the API's polls.

A capture device polls `scheduleEvent.list` with format=ical every minute or so, and almost
every time nothing changed. A conditional action returns a `Tagged` answer: the HTTP door
(views.py) sends the tag as `ETag`, and answers `304` with no body when the answer carries none
(the caller already has that version, `matches`). `scheduleEvent.list` then skips the rendering,
and the listing too while the partner's version stands (deliveries.py). The door hands the
header to the action on `Call.if_none_match`.

Only iCal answers are conditional (XML and JSON are what the official client reads, and it
sends no If-None-Match), and only `scheduleEvent.list` makes them: an action returning plain
bytes is answered as before. A POST is answered 304 too (RFC 9110 would have 412): devices poll
with whichever method their Kaltura client uses, and the answer is a read either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponse

from calendar_app.feeds import etag_matches

ICAL_CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class Tagged:
    etag: str  # quoted, as the header carries it
    body: bytes | None  # None: the caller already has this version


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether a caller who sent `if_none_match` already has the answer tagged `etag`. "*" is not
    honoured: the caller could not have seen this answer, and a filter that the listing would
    refuse must still be refused."""
    return if_none_match is not None and etag_matches(if_none_match, etag, star=False)


def response(tagged: Tagged) -> HttpResponse:
    # no-cache: a proxy may keep the answer but must ask again, as the feeds do.
    headers = {"ETag": tagged.etag, "Cache-Control": "no-cache"}
    if tagged.body is None:
        return HttpResponse(status=304, headers=headers)
    return HttpResponse(tagged.body, content_type=ICAL_CONTENT_TYPE, headers=headers)
