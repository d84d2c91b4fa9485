"""`/api_v3/service/<svc>/action/<act>`: find the action, check the session, parse the declared
parameters, call it, and turn every failure into a Kaltura error. Multirequests run each
sub-call the same way, in order, each failure staying in its own slot.

A multirequest's `{N:result:path}` references are resolved down to `params.MAX_DEPTH` keys
inside a sub-call; deeper answers `NESTING_TOO_DEEP` in that sub-call's slot.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError

from calendar_app import writes
from calendar_app.errors import SchedulingError
from calendar_app.kaltura_api import errors
from calendar_app.kaltura_api.auth import Access, Session, authenticate
from calendar_app.kaltura_api.errors import ApiError
from calendar_app.kaltura_api.objects import TYPES, Obj, wire_names
from calendar_app.kaltura_api.params import MAX_DEPTH, too_deep
from calendar_app.kaltura_api.render import Error
from calendar_app.kaltura_api.values import Kind
from calendar_app.models import AuditEntry

log = logging.getLogger(__name__)
MAX_SUBREQUESTS = 100
# A sub-call's key as every client writes it, str() of an int: ASCII digits, no leading zero.
# "00", "01", a fullwidth "０" or "²" are no index (int() would make another key of them, or
# fail): they stay ordinary parameters, copied into each sub-call like `ks`, where nothing reads
# them. The same rule reads a list index in a reference path. Nine digits keep int() cheap.
_INDEX = re.compile(r"0|[1-9][0-9]{0,8}")
_REFERENCE = re.compile(r"\{([0-9]+):result((?::[A-Za-z0-9_]+)*)\}")


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class Action:
    service: str
    name: str
    func: Callable[..., Any]
    params: tuple[Param, ...]
    access: Access
    ical: Callable[..., bytes] | None = None  # the action's answer for format=ical, if it has one


ACTIONS: dict[tuple[str, str], Action] = {}


def action(service: str, name: str, *params: Param, access: Access = Access.READ, ical=None):
    def register(func):
        ACTIONS[(service, name.lower())] = Action(service, name, func, params, access, ical)
        return func

    return register


@dataclass(frozen=True)
class Call:
    """One call as an action sees it: who (session), when (now), for which partner."""

    service: str
    action: str
    session: Session | None
    now: datetime
    # The request's If-None-Match, for an action whose answer can be conditional (conditional.py).
    if_none_match: str | None = None

    @property
    def partner(self):
        assert self.session is not None
        return self.session.partner

    @property
    def actor(self) -> writes.Actor:
        assert self.session is not None
        # The server's clock, not the KS's reftime: a caller moves the "now" its relative times
        # are read against, never the stamps and audit times of what it writes.
        return writes.Actor(
            partner=self.session.partner,
            now=self.session.server_now,
            user_id=self.session.data.user_id,
            source=AuditEntry.Source.API,
        )


def run(
    params: dict[str, Any], now: datetime, *, ical: bool = False, if_none_match: str | None = None
) -> Any:
    """One call; the result in wire form (iCalendar bytes or a `conditional.Tagged` when `ical`),
    or an `Error`."""
    try:
        return _run(params, now, ical, if_none_match)
    except ApiError as error:
        return Error(error)
    except SchedulingError as error:
        return Error(errors.from_domain(error, _wire_name))
    except (OperationalError, InterfaceError) as error:
        # The database is down, restarting or unreachable (or the call lost a deadlock): a clear
        # answer at once, one log line rather than a traceback for every request while it lasts.
        log.warning("database unavailable in %s.%s: %s", params.get("service"), params.get("action"), error)
        return Error(errors.database_unavailable())
    except DatabaseError:
        log.exception("database error in %s.%s", params.get("service"), params.get("action"))
        return Error(ApiError("INTERNAL_DATABASE_ERROR", "Internal database error"))
    except Exception:
        log.exception("unexpected error in %s.%s", params.get("service"), params.get("action"))
        return Error(errors.internal_error())


def _run(params: dict[str, Any], now: datetime, ical: bool = False, if_none_match: str | None = None) -> Any:
    found = find(str(params.get("service") or ""), str(params.get("action") or ""))
    session = None if found.access is Access.PUBLIC else authenticate(params, now)
    if found.access is not Access.PUBLIC:
        if session is None:
            raise ApiError("MISSING_KS", "Missing KS, session not established")
        if not session.may(found.service, found.name.lower(), found.access):
            raise errors.service_forbidden(f"{found.service}->{found.name}")
    if ical and found.ical is None:
        raise ApiError(
            "UNKNOWN_RESPONSE_FORMAT", f"{found.service}.{found.name} has no iCal answer", FORMAT="ical"
        )
    call = Call(found.service, found.name, session, session.now if session else now, if_none_match)
    kwargs = {p.name: _param(p, params, call.now) for p in found.params}
    return (found.ical if ical else found.func)(call, **kwargs)


def find(service: str, action_name: str) -> Action:
    service = service.lower()
    if not any(key[0] == service for key in ACTIONS):
        raise ApiError("SERVICE_DOES_NOT_EXISTS", f"Service [{service}] does not exists", SERVICE=service)
    found = ACTIONS.get((service, action_name.lower()))
    if found is None:
        raise ApiError(
            "ACTION_DOES_NOT_EXISTS",
            f"Action [{action_name}] does not exists for service [{service}]",
            ACTION=action_name,
            SERVICE=service,
        )
    return found


def _param(spec: Param, params: dict[str, Any], now: datetime) -> Any:
    raw = params.get(spec.name)
    if f"{spec.name}__null" in params or raw is None or raw == "" and not isinstance(spec.kind, Obj):
        if spec.required:
            raise errors.missing_parameter(spec.name)
        return spec.default
    return spec.kind.parse(spec.name, raw, now)


def _wire_name(field: str) -> str:
    if not _WIRE_NAMES:
        _load_wire_names()
    return ".".join(_WIRE_NAMES.get(part, part) for part in field.split("."))


_WIRE_NAMES: dict[str, str] = {}


def _load_wire_names() -> None:
    _WIRE_NAMES.update(wire_names(TYPES))
    _WIRE_NAMES["type"] = "objectType"


# ---------------------------------------------------------------- multirequest


def run_multirequest(params: dict[str, Any], now: datetime) -> list[Any]:
    common = {k: v for k, v in params.items() if not _INDEX.fullmatch(k) and k not in ("service", "action")}
    indexes = sorted(int(k) for k, v in params.items() if _INDEX.fullmatch(k) and isinstance(v, dict))
    results: list[Any] = []
    for index in indexes[:MAX_SUBREQUESTS]:
        call = params[str(index)]
        if not call.get("service") or not call.get("action"):
            break  # Kaltura stops at the first index without service or action
        try:
            resolved = _resolve_references({**common, **call}, results)
        except ApiError as error:
            results.append(Error(error))
            continue
        results.append(run(resolved, now))
    return results


def _resolve_references(value: Any, results: list[Any], depth: int = 0) -> Any:
    """`{N:result:field}` -> that field of the N-th result (counting from 1), in every value of a
    sub-call, lists included (Kaltura's PHP arrays are lists and objects alike), at most
    MAX_DEPTH keys down."""
    if depth > MAX_DEPTH:
        raise too_deep()
    if isinstance(value, dict):
        return {k: _resolve_references(v, results, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_references(v, results, depth + 1) for v in value]
    if not isinstance(value, str) or "{" not in value:
        return value
    whole = _REFERENCE.fullmatch(value)
    if whole:
        return _lookup(whole, results)
    return _REFERENCE.sub(lambda m: str(_lookup(m, results)), value)


def _lookup(match: re.Match[str], results: list[Any]) -> Any:
    number, path = _result_number(match.group(1)), [p for p in match.group(2).split(":") if p]
    node = results[number - 1] if 1 <= number <= len(results) else None
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and _INDEX.fullmatch(part) and int(part) < len(node):
            node = node[int(part)]
        else:
            node = None
    if node is None or isinstance(node, Error | dict | list):
        raise ApiError(
            "MULTIREQUEST_INVALID_REFERENCE",
            f"Cannot resolve {match.group(0)}: that result has no such value",
            REFERENCE=match.group(0),
        )
    return node


def _result_number(digits: str) -> int:
    """0 (no result) for a number longer than any result count: int() refuses 4,300 digits."""
    return int(digits) if len(digits) <= len(str(MAX_SUBREQUESTS)) else 0
