"""The door of /api_v3: whatever the input (keys, nesting, encodings, sizes, paths), the answer is a
Kaltura envelope in the format the caller asked for, and a refused call changes nothing.
Each test pins one defect an outside fuzzer found; tests/kaltura_api/test_fuzz_door.py
searches for more."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from icalendar import Calendar

from calendar_app import ical
from calendar_app.kaltura_api import dispatch, params
from calendar_app.models import ScheduleResource
from tests.kaltura_api.http import (
    error_args,
    error_code,
    multirequest,
    post,
    record_event,
    result,
    session_for,
    url,
)

EVENTS, RESOURCES = "schedule_scheduleevent", "schedule_scheduleresource"


@pytest.fixture
def alice_ks(partner, now) -> str:
    return session_for(partner, now)


def list_call(ks: str) -> dict:
    return {"service": EVENTS, "action": "list", "ks": ks}


def add_room(ks: str, name: str = "Room") -> dict:
    room = {"objectType": "KalturaLocationScheduleResource", "name": name}
    return {"service": RESOURCES, "action": "add", "ks": ks, "scheduleResource": room}


def nested(depth: int, *, wrap=lambda value: {"a": value}):
    """What puts a leaf `depth` keys below the top when sent as a top-level parameter."""
    value = 1
    for _ in range(depth - 1):
        value = wrap(value)
    return value


def send_bytes(client, body: bytes, content_type: str):
    """POST a list call's body as is (client.post would encode it in the charset named)."""
    return client.generic("POST", url(EVENTS, "list"), body, content_type=content_type)


def json_answer(response) -> dict:
    assert (response.status_code, response["Content-Type"]) == (200, "application/json")
    return json.loads(response.content)


def ical_answer(response) -> Calendar:
    assert (response.status_code, response["Content-Type"]) == (200, "text/calendar; charset=utf-8")
    return Calendar.from_ical(response.content.decode())


# ---------------------------------------------------------------- 1. multirequest keys


@pytest.mark.parametrize("key", ["00", "01", "０", "²", "١"])
def test_it_takes_a_key_that_is_no_plain_index_for_a_parameter_not_a_call(client, alice_ks, key):
    answer = result(multirequest(client, {key: add_room(alice_ks)}))
    assert list(answer) == []
    assert not ScheduleResource.objects.exists()


def test_it_runs_the_calls_beside_a_key_that_is_no_index(client, alice_ks):
    body = {"0": list_call(alice_ks), "00": add_room(alice_ks), "０": add_room(alice_ks)}
    (only,) = result(multirequest(client, body))
    assert only.findtext("objectType") == "KalturaScheduleEventListResponse"
    assert not ScheduleResource.objects.exists()


def test_it_refuses_a_reference_to_a_result_number_longer_than_int_reads(client, alice_ks):
    call = {**list_call(alice_ks), "filter": {"idEqual": "{" + "9" * 5000 + ":result:id}"}}
    (refused,) = result(multirequest(client, {"0": call}))
    assert refused.findtext("error/code") == "MULTIREQUEST_INVALID_REFERENCE"


def test_it_refuses_a_reference_to_a_list_index_longer_than_int_reads(client, alice_ks):
    reference = "{1:result:objects:" + "9" * 5000 + ":id}"
    body = {"0": list_call(alice_ks), "1": {**list_call(alice_ks), "filter": {"idEqual": reference}}}
    _, refused = result(multirequest(client, body))
    assert refused.findtext("error/code") == "MULTIREQUEST_INVALID_REFERENCE"


def test_it_resolves_a_reference_inside_a_list(client, alice_ks):
    feature = {"objectType": "KalturaLiveCaptionFeature", "systemName": "{1:result:id}", "language": "en"}
    event = record_event(objectType="KalturaLiveStreamScheduleEvent", liveFeatures=[feature])
    add_event = {"service": EVENTS, "action": "add", "ks": alice_ks, "scheduleEvent": event}
    room, live = result(multirequest(client, {"0": add_room(alice_ks), "1": add_event}))
    assert live.findtext("liveFeatures/item/systemName") == room.findtext("id")


# ---------------------------------------------------------------- 2. nesting


def test_it_accepts_parameters_nested_to_the_limit(client, alice_ks):
    response = post(client, EVENTS, "list", {"ks": alice_ks, "clientTag": nested(params.MAX_DEPTH)})
    assert error_code(response) is None


def test_it_refuses_a_json_body_nested_past_the_limit(client, alice_ks):
    response = post(client, EVENTS, "list", {"ks": alice_ks, "clientTag": nested(params.MAX_DEPTH + 1)})
    assert error_code(response) == "NESTING_TOO_DEEP"
    assert error_args(response) == {"MAX_DEPTH": str(params.MAX_DEPTH)}


def test_it_counts_json_lists_as_levels(client, alice_ks):
    body = {"ks": alice_ks, "clientTag": nested(params.MAX_DEPTH + 1, wrap=lambda value: [value])}
    assert error_code(post(client, EVENTS, "list", body)) == "NESTING_TOO_DEEP"


def test_it_refuses_a_json_body_nested_past_the_limit_in_the_format_it_names(client, alice_ks):
    body = {"ks": alice_ks, "format": "1", "clientTag": nested(params.MAX_DEPTH + 1)}
    assert json_answer(post(client, EVENTS, "list", body))["code"] == "NESTING_TOO_DEEP"


def test_it_refuses_a_format_nested_as_deep_as_json_allows(client):
    """The format is read before the depth is checked: a structure is no format, and turning it
    into text would recurse as deep as the body."""
    body = b'{"format": ' + b"[" * 900 + b"]" * 900 + b"}"
    response = client.post(url(EVENTS, "list"), body, "application/json")
    assert error_code(response) == "UNKNOWN_RESPONSE_FORMAT"


def test_it_refuses_a_bracket_key_nested_past_the_limit(client, alice_ks):
    key = "clientTag" + "[a]" * params.MAX_DEPTH
    response = client.get(url(EVENTS, "list") + "?" + urlencode({"ks": alice_ks, key: "1"}))
    assert error_code(response) == "NESTING_TOO_DEEP"


def test_it_refuses_a_deep_multirequest_sub_call_at_once_even_with_debug_on(client, alice_ks, settings):
    settings.DEBUG = True  # Django's debug page took 50-112 s to render the RecursionError
    started = time.perf_counter()
    response = multirequest(client, {"0": {**list_call(alice_ks), "filter": nested(500)}})
    assert error_code(response) == "NESTING_TOO_DEEP"
    assert time.perf_counter() - started < 1


def test_it_refuses_a_megabyte_of_nested_brackets_at_once(client):
    body = b'{"clientTag": ' + b"[" * 1_000_000
    started = time.perf_counter()
    response = client.post(url(EVENTS, "list"), body, content_type="application/json")
    assert error_code(response) == "NESTING_TOO_DEEP"
    assert time.perf_counter() - started < 1


def test_it_refuses_to_resolve_references_past_the_limit(now):
    """dispatch is safe on its own too, whoever collected the parameters."""
    (refused,) = dispatch.run_multirequest({"0": {**list_call(""), "filter": nested(40)}}, now)
    assert refused.error.code == "NESTING_TOO_DEEP"


# ---------------------------------------------------------------- 3. encodings


@pytest.mark.parametrize("charset", ["latin1", "utf-16", "nonexistent", "rot13", "UTF8"])
def test_it_reads_a_form_body_as_utf8_whatever_its_charset(client, alice_ks, charset):
    body = urlencode({"ks": alice_ks, "format": "1"})
    response = send_bytes(client, body.encode(), f"application/x-www-form-urlencoded; charset={charset}")
    assert json_answer(response)["objectType"] == "KalturaScheduleEventListResponse"


def test_it_reads_a_multipart_body_as_utf8_whatever_its_charset(client, alice_ks):
    body = (
        b'--b\r\nContent-Disposition: form-data; name="json"\r\n\r\n'
        + json.dumps({"ks": alice_ks, "format": "1"}).encode()
        + b"\r\n--b--\r\n"
    )
    response = send_bytes(client, body, "multipart/form-data; boundary=b; charset=utf-16")
    assert json_answer(response)["objectType"] == "KalturaScheduleEventListResponse"


def test_it_reads_the_query_string_as_utf8_whatever_the_body_charset(client, alice_ks):
    # cp500 (EBCDIC) decodes any byte, so Django would read the ASCII query as other letters.
    response = client.get(
        url(EVENTS, "list") + f"?ks={alice_ks}&format=1", CONTENT_TYPE="text/plain; charset=cp500"
    )
    assert json_answer(response)["objectType"] == "KalturaScheduleEventListResponse"


def test_it_answers_a_broken_multipart_body_in_the_format_of_the_query(client):
    response = client.post(url(EVENTS, "list") + "?format=1", b"--nope\r\n", "multipart/form-data; boundary=")
    assert json_answer(response)["code"] == "INVALID_REQUEST"


def test_it_answers_invalid_utf8_json_in_the_format_of_the_path(client):
    response = client.post(url(EVENTS, "list") + "/format/1", b'{"ks": "\xff\xfe"}', "application/json")
    assert json_answer(response)["code"] == "INVALID_JSON"


def test_it_refuses_a_content_length_that_is_no_number(client):
    response = client.post(url(EVENTS, "list"), b"{}", "application/json", CONTENT_LENGTH="12abc")
    assert error_code(response) == "INVALID_REQUEST"


# ---------------------------------------------------------------- 4. text no format can carry


def test_it_answers_an_ical_error_echoing_a_lone_surrogate(client):
    body = json.dumps({"ks": "\ud800", "format": "ical"})  # the JSON text carries "\\ud800"
    failure = ical_answer(client.post(url(EVENTS, "list"), body, "application/json")).walk("VERROR")[0]
    assert failure["X-KALTURA-CODE"] == "INVALID_KS"


def test_it_leaves_a_lone_surrogate_out_of_a_json_error(client):
    body = json.dumps({"ks": "a\ud800b", "format": "1"})
    response = client.post(url(EVENTS, "list"), body, "application/json")
    assert json_answer(response)["args"]["KSID"] == "ab"


def test_it_writes_an_ical_error_on_one_line_without_controls_or_surrogates():
    document = ical.error("INVALID_KS", "bad\r\nks\x00\x1b\ud800", {"KSID": "k\udfffs\n"})
    failure = Calendar.from_ical(document.decode("utf-8")).walk("VERROR")[0]
    assert (failure["X-KALTURA-MESSAGE"], failure["X-KALTURA-ARGUMENTS"]) == ("bad ks", "ks")


def test_it_answers_an_ical_error_echoing_a_line_break(client):
    failure = ical_answer(client.get("/api_v3/service/%0A/action/list?format=ical")).walk("VERROR")[0]
    assert failure["X-KALTURA-CODE"] == "SERVICE_DOES_NOT_EXISTS"


# ---------------------------------------------------------------- 5. too large, in the asked format


@pytest.mark.parametrize("where", ["?format=1", "/format/1"])
def test_it_refuses_a_body_too_large_in_the_format_asked_without_the_body(client, where):
    response = client.post(url(EVENTS, "list") + where, b"{}", "application/json", CONTENT_LENGTH=str(10**9))
    assert json_answer(response)["code"] == "REQUEST_TOO_LARGE"


def test_it_refuses_a_body_too_large_in_ical_when_asked(client):
    response = client.post(
        url(EVENTS, "list") + "?format=ical", b"{}", "application/json", CONTENT_LENGTH=str(10**9)
    )
    assert ical_answer(response).walk("VERROR")[0]["X-KALTURA-CODE"] == "REQUEST_TOO_LARGE"


# ---------------------------------------------------------------- 6. every path under /api_v3/


@pytest.mark.parametrize("path", ["/api_v3/nonsense/x/y/z", "/api_v3/service/", "/api_v3/service//action/"])
def test_it_answers_an_unknown_path_with_an_unknown_service_even_with_debug_on(client, settings, path):
    settings.DEBUG = True  # the debug 404 page lists every URL pattern of the site
    assert error_code(client.get(path)) == "SERVICE_DOES_NOT_EXISTS"


def test_it_reads_name_value_pairs_anywhere_in_the_path(client):
    answer = json_answer(client.get("/api_v3/format/1/service/nonsense/action/x"))
    assert (answer["code"], answer["args"]) == ("SERVICE_DOES_NOT_EXISTS", {"SERVICE": "nonsense"})


def test_it_reads_the_path_after_index_php(client, alice_ks):
    response = client.get(f"/api_v3/index.php/service/{EVENTS}/action/list/ks/{alice_ks}")
    assert result(response).findtext("objectType") == "KalturaScheduleEventListResponse"


# ---------------------------------------------------------------- a refused call changes nothing


def test_it_checks_the_format_before_running_the_call(client, alice_ks):
    response = post(client, RESOURCES, "add", {**add_room(alice_ks), "format": "3"})
    assert error_code(response) == "UNKNOWN_RESPONSE_FORMAT"
    assert not ScheduleResource.objects.exists()


def test_it_runs_no_multirequest_asked_for_in_ical(client, alice_ks):
    response = multirequest(client, {"format": "ical", "0": add_room(alice_ks)})
    assert ical_answer(response).walk("VERROR")[0]["X-KALTURA-CODE"] == "UNKNOWN_RESPONSE_FORMAT"
    assert not ScheduleResource.objects.exists()


# ---------------------------------------------------------------- the last resort


def test_it_answers_a_failure_of_its_own_in_the_envelope(client, settings, monkeypatch):
    settings.DEBUG = True

    def broken(request, tail=""):
        raise RuntimeError("a bug")

    monkeypatch.setattr(params, "collect", broken)
    assert error_code(client.get(url(EVENTS, "list"))) == "INTERNAL_SERVERL_ERROR"


def test_it_answers_in_the_envelope_when_a_result_cannot_be_rendered(client, monkeypatch):
    monkeypatch.setattr(dispatch, "run", lambda *args, **kwargs: {"when": object()})
    assert json_answer(client.get(url(EVENTS, "list") + "?format=1"))["code"] == "INTERNAL_SERVERL_ERROR"
