"""What `scheduleEvent.list` delivers to whoever polls it: the version of its answer (the iCal
ETag), and a delivery receipt for the device (devices/receipts.py).

Two things name an answer, because the partner's version moves with every write and a device's
answer does not:
- the request (`poll`), known without listing anything: the filter and pager as parsed, and
  whether the session sees stream credentials (its answer then holds live endpoints, so it is
  another document); with the partner's schedule version (feeds.schedule_version: a
  committed-write counter and the newest `updated_at`s, one query), read by `recall`;
- the answer's tag, the ETag (`answer_tag`): what the listing selects, each row by its id and
  `updated_at` (which every write through scheduling.py stamps, links included), the total, and
  the live entries the answer shows. It is the same until a row the device would be sent changes.

The shared cache remembers each request's answer tag with the version it was worked out at, so a
poll at an unchanged version costs no listing; after a write anywhere in the partner, a device's
next poll lists its rows once (ids and stamps, no rendering) and is still answered 304 unless its
own rows changed. Before this, every write sent every device of the partner a full answer (30 ms
of rendering for a room's term), which under load was most of the web servers' work
(bench/load.py, issue #20). Relative times are parsed against the request's now, so a filter of
relative dates names a new request every second: its rows are listed each poll, and it is
answered 304 when they are the same.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches

from calendar_app import feeds, fragments
from calendar_app.devices import receipts
from calendar_app.kaltura_api.auth import Session
from calendar_app.kaltura_api.dispatch import Call
from calendar_app.kaltura_api.objects import Parsed
from calendar_app.kaltura_api.values import int_list, str_list
from calendar_app.models import AppToken, Entry, ResourceStatus, ScheduleEvent, ScheduleResource
from scheduler_site.redis_cache import get_each

# The filter fields that name the resources a list is about (schedule_event.EVENT_TABLE's specials).
_OPERATORS = ("Like", "MultiLikeOr", "MultiLikeAnd")
BY_ID = ("resourceIdEqual", *(f"resourceIds{op}" for op in _OPERATORS))
BY_PARENT = tuple(f"parentResourceIds{op}" for op in _OPERATORS)
BY_SYSTEM_NAME = tuple(f"resourceSystemNames{op}" for op in _OPERATORS)


# An answer's tag is remembered with the version it was worked out at, so an entry is never wrong,
# only of no more use once the partner writes again. An hour spans many polls of an unchanged
# schedule, and bounds what a device whose filter names relative times (a new request every
# second) leaves in the cache: one small key a poll, 60 an hour at a poll a minute.
REMEMBER_SECONDS = 3600


@dataclass
class Poll:
    """A device's iCal poll: what it asks (`request`, the filter and pager as parsed, and whether
    its session sees stream credentials), who asks (its receipt), and, once `recall`ed, the
    partner's version and what was last said at it."""

    call: Call
    request: str
    credentials: bool
    resource_ids: list[int] | None
    version: str = ""
    remembered: str | None = None  # the answer's tag at `version`, if already worked out
    last_written: Any = None  # the receipts cache's entry for this device and fetch


def poll(call: Call, filter: Parsed | None, pager: Parsed | None) -> Poll:
    credentials = _session(call).may_see_stream_credentials
    request = {
        "partner": call.partner.pk,
        "credentials": credentials,
        "filter": _plain(filter),
        "pager": _plain(pager),
    }
    return Poll(call, _digest(request), credentials, fetched_resources(call.partner.pk, filter))


def recall(poll: Poll) -> None:
    """The partner's version, the answer remembered for the request and the device's last receipt:
    three caches read in one round trip (redis_cache.get_each), then the version's query."""
    partner_id = poll.call.partner.pk
    device, _ = _device(_session(poll.call))
    counter, answer, poll.last_written = get_each(
        (caches["feeds"], fragments.version_key(partner_id)),
        (caches["feeds"], f"answer:{poll.request}"),
        (caches["receipts"], receipts.recent_key(partner_id, device, poll.resource_ids)),
    )
    poll.version = feeds.schedule_version(partner_id, live_entries=poll.credentials, counter=counter or 0)
    if answer is not None and answer[0] == poll.version:
        poll.remembered = answer[1]


def answer_tag(poll: Poll, rows: list[ScheduleEvent], total: int, entries: dict[str, Entry]) -> str:
    """The ETag of the answer listing `rows`: their ids and stamps, the total, the live entries
    it shows (whose endpoints only sessions that may see credentials get); remembered for the
    request at its version. Two requests that select the same rows get the same document, and
    the same tag."""
    seen = {
        "credentials": poll.credentials,
        "rows": [(row.pk, row.updated_at.isoformat()) for row in rows],
        "total": total,
        "entries": sorted((pk, entry.updated_at.isoformat()) for pk, entry in entries.items()),
    }
    tag = f'"{_digest(seen)}"'
    caches["feeds"].set(f"answer:{poll.request}", (poll.version, tag), REMEMBER_SECONDS)
    return tag


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def list_version(call: Call) -> str:
    """An XML or JSON list's version, for its receipt: the partner's schedule version."""
    return feeds.schedule_version(call.partner.pk)


def record(call: Call, filter: Parsed | None, channel: str, version: str) -> None:
    """The session's device fetched what the filter names (the whole schedule when it names no
    resource) in this version."""
    _record(call, fetched_resources(call.partner.pk, filter), channel, version, receipts.UNREAD)


def record_poll(poll: Poll, tag: str) -> None:
    """The device's iCal poll was answered with `tag` (304 or not)."""
    _record(poll.call, poll.resource_ids, receipts.Channel.ICAL, tag, poll.last_written)


def _record(call: Call, resource_ids: list[int] | None, channel: str, version: str, last: Any) -> None:
    session = _session(call)
    device, label = _device(session)
    fetched = (resource_ids, channel, version, session.server_now)
    receipts.record(call.partner.pk, device, label, *fetched, last_written=last)


def fetched_resources(partner_id: int, filter: Parsed | None) -> list[int] | None:
    """The resources a list filter names: by id, as a parent (which covers those below it), or
    by system name; None when it names none."""
    values = filter.values if filter is not None else {}
    named = [(wire, values[wire]) for wire in (*BY_ID, *BY_PARENT, *BY_SYSTEM_NAME) if values.get(wire)]
    if not named:
        return None
    ids: set[int] = set()
    names: list[str] = []
    for wire, value in named:
        if wire in BY_SYSTEM_NAME:
            names += str_list(wire, value)
        else:
            ids.update(int_list(wire, value))
    if names:
        living = ScheduleResource.objects.for_partner(partner_id).exclude(status=ResourceStatus.DELETED)
        ids.update(living.filter(system_name__in=names).values_list("pk", flat=True))
    return sorted(ids)


def _device(session: Session) -> tuple[str, Any]:
    """The device's key, and its label as a function (read only when the receipt is written)."""
    token = session.data.privilege("apptoken")
    if token:
        token_id = token[0]

        def label() -> str:
            found = AppToken.objects.for_partner(session.partner).filter(pk=token_id).first()
            return (found.description if found else "") or f"app token {token_id}"

        return receipts.app_token_device(token_id), label
    user = session.data.user_id
    return receipts.user_device(user), user or "(no user id)"


def _session(call: Call) -> Session:
    assert call.session is not None  # list needs a session (dispatch checks it)
    return call.session


def _plain(parsed: Any) -> Any:
    if isinstance(parsed, Parsed):
        return {"objectType": parsed.type.name, **{k: _plain(v) for k, v in parsed.values.items()}}
    if isinstance(parsed, list | tuple):
        return [_plain(v) for v in parsed]
    return parsed
