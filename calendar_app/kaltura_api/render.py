"""Responses in Kaltura's two formats (docs/kaltura-compatibility.md §1 "Responses").

XML (format 2, the default, the only one the official client reads): objectType first, every
field, null as an empty element, booleans 1/0, arrays as <item> children. JSON (format 1):
nulls omitted, as Kaltura's JSON serializer does. The string is built by hand: a page of 500
events is ~25,000 elements, and an element tree would double the time spent here.
"""

from __future__ import annotations

import json
from typing import Any

from calendar_app.input_rules import UNWRITABLE_CHARS
from calendar_app.kaltura_api.errors import ApiError

XML_FORMAT, JSON_FORMAT = "2", "1"
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


class Error:
    """A failed call's slot: rendered as Kaltura's error object."""

    def __init__(self, error: ApiError):
        self.error = error

    def as_wire(self) -> dict[str, Any]:
        """Error text may echo what a client sent (a KS, a value): it leaves without the
        characters XML, UTF-8 or a strict JSON parser cannot carry, whatever the format."""
        return {
            "objectType": "KalturaAPIException",
            "code": writable(self.error.code),
            "message": writable(self.error.message),
            "args": {writable(name): writable(value) for name, value in self.error.args_.items()},
        }


def writable(value: Any) -> str:
    text = str(value)
    # search first: most text has nothing to drop, and sub() costs a fifth more (rendering is hot)
    return UNWRITABLE_CHARS.sub("", text) if UNWRITABLE_CHARS.search(text) else text


def xml_document(result: Any, execution_time: float) -> bytes:
    out = ['<?xml version="1.0" encoding="utf-8"?><xml><result>']
    _xml_result(result, out)
    out.append(f"</result><executionTime>{execution_time:.4f}</executionTime></xml>")
    return "".join(out).encode()


def _xml_result(result: Any, out: list[str]) -> None:
    if isinstance(result, Error):
        out.append("<error>")
        _xml_error(result, out)
        out.append("</error>")
    else:
        _xml_value(result, out)


def _xml_error(error: Error, out: list[str]) -> None:
    wire = error.as_wire()
    out.append(f"<objectType>KalturaAPIException</objectType><code>{_text(wire['code'])}</code>")
    out.append(f"<message>{_text(wire['message'])}</message><args>")
    for name, value in wire["args"].items():
        out.append(
            "<item><objectType>KalturaApiExceptionArg</objectType>"
            f"<name>{_text(name)}</name><value>{_text(value)}</value></item>"
        )
    out.append("</args>")


def _xml_value(value: Any, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            out.append(f"<{key}>")
            _xml_value(child, out)
            out.append(f"</{key}>")
    elif isinstance(value, list):
        for item in value:
            out.append("<item>")
            _xml_result(item, out)
            out.append("</item>")
    elif isinstance(value, bool):
        out.append("1" if value else "0")
    elif isinstance(value, str):
        out.append(_text(value))
    else:
        out.append(str(value))


def _text(value: Any) -> str:
    return writable(value).translate(_ESCAPES)


def json_document(result: Any) -> bytes:
    return json.dumps(_json_value(result), separators=(",", ":")).encode()


def _json_value(value: Any) -> Any:
    if isinstance(value, Error):
        return value.as_wire()
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value
