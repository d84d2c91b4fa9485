"""Collect a request's parameters into one nested dict, from every place Kaltura reads them:
a JSON body, a form body (urlencoded or multipart, with the JSON params in a part named
`json`), uploaded files, the query string, and `/name/value` pairs in the path.

Flat keys nest by brackets or colons (`filter[objectType]`, `filter:objectType`, `1:service`).
Later sources override earlier ones, as in Kaltura's front controller.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest
from django.http.request import RawPostDataException

from calendar_app.kaltura_api.errors import ApiError

_KEY_PARTS = re.compile(r"[^\[\]:]+")
MAX_DEPTH = 8


def collect(request: HttpRequest, path_tail: str = "") -> dict[str, Any]:
    params: dict[str, Any] = {}
    content_type = request.content_type or ""
    if request.method == "POST":
        if content_type == "application/json" or _looks_like_json(request, content_type):
            _merge(params, _json_body(request.body))
        else:
            if "json" in request.POST:
                _merge(params, _json_body(request.POST["json"].encode()))
            _merge_flat(params, ((k, v) for k, v in request.POST.items() if k != "json"))
            _merge_flat(params, request.FILES.items())
    _merge_flat(params, request.GET.items())
    _merge_flat(params, path_pairs(path_tail))
    return params


def path_pairs(tail: str) -> list[tuple[str, str]]:
    """`/format/ical/filter[resourceIdsLike]/12` -> [("format", "ical"), ("filter[...]", "12")]."""
    parts = [p for p in tail.split("/") if p]
    return list(zip(parts[0::2], parts[1::2], strict=False))


def _looks_like_json(request: HttpRequest, content_type: str) -> bool:
    if content_type.startswith("multipart/") or content_type == "application/x-www-form-urlencoded":
        return False
    try:
        return request.body.lstrip()[:1] == b"{"
    except RawPostDataException:
        return False


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError("INVALID_JSON", "The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError("INVALID_JSON", "The request body must be a JSON object")
    return data


def _merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _merge_flat(target: dict[str, Any], items) -> None:
    for key, value in items:
        parts = _KEY_PARTS.findall(key)
        if not parts or len(parts) > MAX_DEPTH:
            continue
        node = target
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
