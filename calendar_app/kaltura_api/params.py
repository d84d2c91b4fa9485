"""Collect a request's parameters into one nested dict, from every place Kaltura reads them:
a JSON body, a form body (urlencoded or multipart, with the JSON params in a part named
`json`), uploaded files, the query string, and `/name/value` pairs in the path.

Flat keys nest by brackets or colons (`filter[objectType]`, `filter:objectType`, `1:service`).
Later sources override earlier ones, as in Kaltura's front controller.

Forms and query strings are read as UTF-8 whatever charset the Content-Type names, as the URL
standard says and as Kaltura's PHP front controller does (it never decodes with the charset);
bytes that are not UTF-8 become U+FFFD. A JSON body may be UTF-8, -16 or -32 (RFC 8259's rule,
what `json.loads` detects).

A value sits at most MAX_DEPTH keys below the top of the parameters, in a JSON body as in flat
keys: `0:scheduleEvent:liveFeatures:0:systemName` is 5 deep, our deepest object inside a
multirequest. Kaltura's response profiles and advanced searches, which clients may send and we
ignore, nest a few levels more; 16 leaves them room and keeps every recursion over the
parameters short. Deeper input is refused before any action runs with `NESTING_TOO_DEEP` (arg
`MAX_DEPTH`); multirequest references are resolved within the same limit. A body of 100,000
nested `[` is refused in under a millisecond: Python's JSON parser gives up near 1,000 levels.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest
from django.http.request import RawPostDataException

from calendar_app.kaltura_api.errors import ApiError

_KEY_PARTS = re.compile(r"[^\[\]:]+")
MAX_DEPTH = 16
FORM_CHARSET = "utf-8"


def too_deep() -> ApiError:
    return ApiError(
        "NESTING_TOO_DEEP", f"Parameters may nest at most {MAX_DEPTH} levels deep", MAX_DEPTH=MAX_DEPTH
    )


def collect(request: HttpRequest, path_tail: str = "") -> dict[str, Any]:
    """The parameters, which may still nest too deep: `check_depth` refuses them once the caller
    has read the `format` to answer in."""
    _read_as_utf8(request)
    params: dict[str, Any] = {}
    content_type = request.content_type or ""
    if request.method == "POST":
        if content_type == "application/json" or _looks_like_json(request, content_type):
            _merge(params, _json_body(request.body))
        else:
            form, files = _form(request)
            if "json" in form:
                _merge(params, _json_body(form["json"].encode()))
            _merge_flat(params, ((k, v) for k, v in form.items() if k != "json"))
            _merge_flat(params, files.items())
    _merge_flat(params, request.GET.items())
    _merge_flat(params, path_pairs(path_tail))
    return params


def requested_format(request: HttpRequest, path_tail: str = "") -> str | None:
    """The `format` named in the query string or the path, known before the body is read: a
    request refused unread (too large, unreadable) is still answered in the format it asked for."""
    query = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    named = [value for key, value in [*query, *path_pairs(path_tail)] if key == "format"]
    return named[-1] if named else None


def path_pairs(tail: str) -> list[tuple[str, str]]:
    """`/format/ical/filter[resourceIdsLike]/12` -> [("format", "ical"), ("filter[...]", "12")]."""
    parts = [p for p in tail.split("/") if p]
    return list(zip(parts[0::2], parts[1::2], strict=False))


def _read_as_utf8(request: HttpRequest) -> None:
    # Django decodes the query string and forms with the Content-Type's charset: a form in
    # another charset is refused with BadRequest, and a codec that is no text encoding
    # (`charset=rot13`) raises LookupError. The setter drops what was parsed before.
    if request.encoding != FORM_CHARSET:
        request.encoding = FORM_CHARSET


def _looks_like_json(request: HttpRequest, content_type: str) -> bool:
    if content_type.startswith("multipart/") or content_type == "application/x-www-form-urlencoded":
        return False
    try:
        return request.body.lstrip()[:1] == b"{"
    except RawPostDataException:
        return False


def _form(request: HttpRequest):
    try:
        return request.POST, request.FILES
    except ValueError as error:
        # A part header with an RFC 2231 parameter in an unknown charset (`name*=bogus''x`).
        raise ApiError("INVALID_REQUEST", f"The request body cannot be read: {error}") from None


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except RecursionError:
        raise too_deep() from None
    except ValueError:  # UnicodeDecodeError too: bytes that are no UTF-8, -16 or -32
        raise ApiError("INVALID_JSON", "The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError("INVALID_JSON", "The request body must be a JSON object")
    return data


def check_depth(params: dict[str, Any]) -> None:
    """Refuse a value more than MAX_DEPTH keys below the top. Level by level, not by recursion:
    the input may be as deep as the JSON parser allows."""
    level: list[Any] = [params]
    for _ in range(MAX_DEPTH):
        level = [child for node in level for child in _children(node) if isinstance(child, dict | list)]
    if any(_children(node) for node in level):
        raise too_deep()


def _children(node: dict[str, Any] | list[Any]) -> Any:
    return node.values() if isinstance(node, dict) else node


def _merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _merge_flat(target: dict[str, Any], items) -> None:
    for key, value in items:
        # One level past the limit is enough for check_depth to refuse a deeper key.
        parts = _KEY_PARTS.findall(key)[: MAX_DEPTH + 1]
        if not parts:
            continue
        node = target
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
