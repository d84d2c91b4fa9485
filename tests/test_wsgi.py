"""The WSGI application servers run (scheduler_site/wsgi.py), called as a WSGI server (granian) calls it: a
request Django itself cannot read still gets the API's envelope, never a bare 500."""

from __future__ import annotations

import io

import pytest
from lxml import etree

from scheduler_site.wsgi import application


def call(content_type: str, body: bytes = b"{}", host: str = "127.0.0.1") -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/api_v3/service/system/action/ping", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": host,
        "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO(),
    }  # fmt: skip
    answer: dict[str, str] = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = status

    body_out = b"".join(application(environ, start_response))
    return answer["status"], body_out


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset*=bogus''x", "application/json; charset=\x00",
     "application/json; charset=rot13", "application/x-www-form-urlencoded; charset=hex"],
)  # fmt: skip
def test_a_content_type_django_cannot_read_gets_an_envelope(content_type):
    status, body = call(content_type)
    assert status.startswith("200")
    root = etree.fromstring(body)
    assert root.find("result") is not None
    assert root.findtext("result/error/code") in (None, "SERVICE_DOES_NOT_EXISTS")


@pytest.mark.django_db
def test_a_host_outside_allowed_hosts_gets_an_envelope_from_the_api():
    status, body = call("application/json", host="intruder.example")
    assert status.startswith("200")
    assert etree.fromstring(body).findtext("result/error/code") == "INVALID_REQUEST"
