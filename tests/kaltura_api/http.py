"""Raw HTTP against /api_v3 with Django's test client, and the answers read as Kaltura XML.

`document` fails the test on anything a Kaltura client could not read: an HTML page, a JSON
body where XML was asked for, or XML that a strict parser refuses.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from lxml import etree

from calendar_app.kaltura_api import ks as ks_codec

ADMIN, USER = 2, 0
START = 1_788_771_600  # 2026-09-07 09:00Z, the conftest builders' default slot


def record_event(**extra) -> dict[str, Any]:
    """A single record event for an hour from START, as the official client sends it."""
    return {
        "objectType": "KalturaRecordScheduleEvent",
        "summary": "Lecture",
        "startDate": str(START),
        "endDate": str(START + 3600),
        "recurrenceType": "0",
        **extra,
    }


def url(service: str, action: str) -> str:
    return f"/api_v3/service/{service}/action/{action}"


def session_for(partner, now: datetime, *, secret: str = "", partner_id: int = 0, user_id: str = "alice"):
    """An ADMIN KS of `partner`, valid for an hour; `secret`/`partner_id` forge other ones."""
    return ks_codec.issue(
        partner_id or partner.pk,
        secret or partner.admin_secret,
        session_type=ADMIN,
        user_id=user_id,
        expiry=int(now.timestamp()) + 3600,
        privileges="",
    )


def post(client, service: str, action: str, params: dict[str, Any]):
    """What the official client sends: POST with a JSON body."""
    return client.post(url(service, action), json.dumps(params), content_type="application/json")


def upload(client, service: str, action: str, params: dict[str, Any], file: bytes, name: str = "upload"):
    """What the official client sends with a file: multipart, the params as JSON in a `json` part."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    parts = {"json": json.dumps(params), "fileData": SimpleUploadedFile(name, file)}
    return client.post(url(service, action), parts)


def multirequest(client, body: dict[str, Any]):
    return client.post("/api_v3/service/multirequest", json.dumps(body), content_type="application/json")


def document(response) -> etree._Element:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/xml"), response.content[:300]
    root = etree.fromstring(response.content)  # strict: invalid XML raises
    assert root.tag == "xml"
    assert root.find("result") is not None
    return root


def result(response) -> etree._Element:
    return document(response).find("result")


def error_code(response) -> str | None:
    """The Kaltura error code of an XML answer, None when the call succeeded."""
    return result(response).findtext("error/code")


def error_args(response) -> dict[str, str]:
    return {
        item.findtext("name"): item.findtext("value") or ""
        for item in result(response).findall("error/args/item")
    }


def fields(element: etree._Element) -> dict[str, str]:
    """An object's children as {tag: text}; null fields come out as ""."""
    return {child.tag: child.text or "" for child in element}


def items(element: etree._Element | None) -> list[etree._Element]:
    return [] if element is None else list(element)


def listed_ids(response) -> list[int]:
    return [int(item.findtext("id")) for item in items(result(response).find("objects"))]
