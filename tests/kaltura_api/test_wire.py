"""The wire protocol of /api_v3 (docs/kaltura-compatibility.md §1), byte by byte: every URL form
and parameter encoding a Kaltura client uses, the XML and JSON shapes it parses, the error
envelope with its stable codes, and hostile requests that must still get a Kaltura answer."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from calendar_app.kaltura_api import ks as ks_codec
from calendar_app.models import EventType, ScheduleEvent, ScheduleResource
from tests.kaltura_api.http import (
    START,
    document,
    error_args,
    error_code,
    fields,
    items,
    listed_ids,
    multirequest,
    post,
    record_event,
    result,
    session_for,
    url,
)

EVENTS, RESOURCES, LINKS = (
    "schedule_scheduleevent",
    "schedule_scheduleresource",
    "schedule_scheduleeventresource",
)
INTERNAL_ERRORS = {"INTERNAL_SERVERL_ERROR", "INTERNAL_DATABASE_ERROR"}
SCHEDULE_EVENT_FIELDS = [
    "id", "partnerId", "parentId", "summary", "description", "status", "startDate", "endDate",
    "referenceId", "linkedTo", "linkedBy", "classificationType", "geoLatitude", "geoLongitude",
    "location", "organizer", "ownerId", "priority", "sequence", "recurrenceType", "duration",
    "contact", "comment", "tags", "createdAt", "updatedAt", "recurrence",
]  # fmt: skip
ENTRY_EVENT_FIELDS = [
    *SCHEDULE_EVENT_FIELDS,
    "templateEntryId",
    "entryIds",
    "categoryIds",
    "blackoutConflicts",
]
LIVE_EVENT_FIELDS = [
    *ENTRY_EVENT_FIELDS, "sourceEntryId", "projectedAudience", "preStartTime", "postEndTime",
    "preStartEntryId", "postEndEntryId", "isContentInterruptible", "liveFeatures",
]  # fmt: skip
RESOURCE_FIELDS = [
    "id", "parentId", "partnerId", "name", "systemName", "description", "status", "tags", "createdAt",
    "updatedAt",
]  # fmt: skip


@pytest.fixture
def alice_ks(partner, now) -> str:
    return session_for(partner, now)


@pytest.fixture
def call(client, alice_ks):
    """POST a JSON body as the official client does, with Alice's admin KS."""

    def send(service: str, action: str, **params):
        return post(client, service, action, {"ks": alice_ks, **params})

    return send


def live_event(**extra) -> dict:
    return record_event(objectType="KalturaLiveStreamScheduleEvent", **extra)


def location(name: str = "Room", **extra) -> dict:
    return {"objectType": "KalturaLocationScheduleResource", "name": name, **extra}


# ---------------------------------------------------------------- URL forms and encodings


def test_it_adds_from_a_json_body(call, partner):
    answer = fields(result(call(RESOURCES, "add", scheduleResource=location("Aula"))))
    assert answer["objectType"] == "KalturaLocationScheduleResource"
    assert ScheduleResource.objects.for_partner(partner).get(pk=answer["id"]).name == "Aula"


def test_it_reads_bracket_keys_from_the_query_string(client, alice_ks, make_event):
    make_event()
    blackout = make_event(type=EventType.BLACKOUT)
    query = urlencode(
        {"ks": alice_ks, "filter[objectType]": "KalturaBlackoutScheduleEventFilter", "filter[statusIn]": "2"}
    )
    assert listed_ids(client.get(f"{url(EVENTS, 'list')}?{query}")) == [blackout.pk]


def test_it_reads_bracket_keys_from_a_form_body(client, alice_ks, partner):
    body = {
        "ks": alice_ks,
        "scheduleResource[objectType]": "KalturaCameraScheduleResource",
        "scheduleResource[name]": "Cam",
        "scheduleResource[streamUrl]": "rtsp://cam",
    }
    response = client.post(url(RESOURCES, "add"), urlencode(body), "application/x-www-form-urlencoded")
    assert fields(result(response))["objectType"] == "KalturaCameraScheduleResource"
    assert ScheduleResource.objects.for_partner(partner).get().stream_url == "rtsp://cam"


def test_it_reads_colon_keys_from_a_form_body(client, alice_ks, make_event):
    make_event()
    blackout = make_event(type=EventType.BLACKOUT)
    body = urlencode({"ks": alice_ks, "filter:objectType": "KalturaBlackoutScheduleEventFilter"})
    response = client.post(url(EVENTS, "list"), body, "application/x-www-form-urlencoded")
    assert listed_ids(response) == [blackout.pk]


def test_it_reads_the_params_of_a_multipart_body_from_its_json_part(client, alice_ks, partner):
    params = json.dumps({"ks": alice_ks, "format": "2", "scheduleResource": location("Lab")})
    data = {"json": params, "fileData": SimpleUploadedFile("rooms.csv", b"*name\nLab\n")}
    assert error_code(client.post(url(RESOURCES, "add"), data)) is None
    assert ScheduleResource.objects.for_partner(partner).get().name == "Lab"


def test_it_reads_name_value_pairs_from_the_path(client, alice_ks, make_resource, make_event):
    room = make_resource()
    booked = make_event(resources=[room])
    make_event("2026-09-08 09:00")
    path = (
        f"{url(EVENTS, 'list')}/filter[objectType]/KalturaScheduleEventFilter"
        f"/filter[resourceIdsLike]/{room.pk}/ks/{alice_ks}"
    )
    assert listed_ids(client.get(path)) == [booked.pk]


def test_it_answers_on_index_php(client, alice_ks, make_event):
    event = make_event()
    query = urlencode({"service": EVENTS, "action": "get", "ks": alice_ks, "scheduleEventId": event.pk})
    assert fields(result(client.get(f"/api_v3/index.php?{query}")))["id"] == str(event.pk)


def test_it_matches_service_and_action_names_in_any_case(client, alice_ks, make_resource, make_event):
    room = make_resource()
    booked = make_event(resources=[room])
    params = {"ks": alice_ks, "resourceIds": str(room.pk), "scheduleEvent": record_event()}
    response = client.post(
        url("schedule_scheduleEvent", "getconflicts"), json.dumps(params), content_type="application/json"
    )
    assert listed_ids(response) == [booked.pk]


# ---------------------------------------------------------------- scalars as strings, nulls, lists


def test_it_accepts_every_scalar_as_a_string(call):
    event = record_event(geoLatitude="51.5", priority="3", classificationType="2", duration="3600")
    answer = fields(result(call(EVENTS, "add", scheduleEvent=event)))
    assert (answer["startDate"], answer["endDate"]) == (str(START), str(START + 3600))
    assert (answer["geoLatitude"], answer["priority"], answer["classificationType"]) == ("51.5", "3", "2")


@pytest.mark.parametrize(
    ("sent", "written"), [("True", "1"), ("False", "0"), ("true", "1"), ("1", "1"), ("0", "0")]
)
def test_it_reads_booleans_as_strings_and_writes_1_or_0(call, sent, written):
    answer = result(call(EVENTS, "add", scheduleEvent=live_event(isContentInterruptible=sent)))
    assert answer.findtext("isContentInterruptible") == written


def test_it_clears_a_field_sent_as_null(call, make_event):
    event = make_event(description="Bring a laptop")
    patch = {"objectType": "KalturaRecordScheduleEvent", "description__null": ""}
    answer = call(EVENTS, "update", scheduleEventId=str(event.pk), scheduleEvent=patch)
    assert result(answer).findtext("description") == ""
    assert ScheduleEvent.objects.get(pk=event.pk).description == ""


def test_it_reads_the_empty_list_marker(call):
    caption = {"objectType": "KalturaLiveCaptionFeature", "systemName": "cap", "language": "en"}
    added = fields(result(call(EVENTS, "add", scheduleEvent=live_event(liveFeatures=[caption]))))
    patch = {"objectType": "KalturaLiveStreamScheduleEvent", "liveFeatures": {"-": ""}}
    call(EVENTS, "update", scheduleEventId=added["id"], scheduleEvent=patch)
    assert items(result(call(EVENTS, "get", scheduleEventId=added["id"])).find("liveFeatures")) == []


def test_it_ignores_the_client_bookkeeping_keys(call, partner):
    response = call(
        RESOURCES,
        "add",
        scheduleResource=location("Aula"),
        clientTag="python-26-10-22",
        apiVersion="23.10.0",
        kalsig="0cc175b9c0f1b6a831c399e269772661",
        language="he",
        responseProfile={"objectType": "KalturaDetachedResponseProfile", "fields": "id"},
    )
    assert error_code(response) is None
    assert ScheduleResource.objects.for_partner(partner).get().name == "Aula"


# ---------------------------------------------------------------- XML shape


def test_it_wraps_the_result_as_kaltura_does(call, make_event):
    response = call(EVENTS, "get", scheduleEventId=str(make_event().pk))
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?><xml><result>')
    root = document(response)
    assert [child.tag for child in root] == ["result", "executionTime"]
    assert float(root.findtext("executionTime")) >= 0


@pytest.mark.parametrize(
    ("event_type", "object_type", "expected"),
    [
        (EventType.RECORD, "KalturaRecordScheduleEvent", ENTRY_EVENT_FIELDS),
        (EventType.LIVE_STREAM, "KalturaLiveStreamScheduleEvent", LIVE_EVENT_FIELDS),
        (EventType.BLACKOUT, "KalturaBlackoutScheduleEvent", SCHEDULE_EVENT_FIELDS),
    ],
)
def test_it_writes_the_object_type_first_then_every_event_field(
    call, make_event, event_type, object_type, expected
):
    answer = result(call(EVENTS, "get", scheduleEventId=str(make_event(type=event_type).pk)))
    tags = [child.tag for child in answer]
    assert (tags[0], answer.findtext("objectType")) == ("objectType", object_type)
    assert set(expected) <= set(tags)


def test_it_writes_every_resource_field(call, make_resource):
    camera = make_resource(type=3, stream_url="rtsp://cam")
    tags = [child.tag for child in result(call(RESOURCES, "get", scheduleResourceId=str(camera.pk)))]
    assert tags[0] == "objectType"
    assert {*RESOURCE_FIELDS, "streamUrl"} <= set(tags)


def test_it_writes_every_event_resource_field(call, make_resource, make_event):
    room = make_resource()
    event = make_event(resources=[room])
    answer = result(call(LINKS, "get", scheduleEventId=str(event.pk), scheduleResourceId=str(room.pk)))
    assert [child.tag for child in answer][0] == "objectType"
    assert {"eventId", "resourceId", "partnerId", "createdAt", "updatedAt"} <= set(fields(answer))


def test_it_writes_null_as_an_empty_element(call, make_event):
    answer = result(call(EVENTS, "get", scheduleEventId=str(make_event().pk)))
    for name in ("parentId", "priority", "geoLatitude", "recurrence"):
        element = answer.find(name)
        assert element is not None and element.text is None and len(element) == 0, name


def test_it_writes_nested_objects_with_their_object_type(call, make_series):
    series = make_series(count=3)
    recurrence = result(call(EVENTS, "get", scheduleEventId=str(series.pk))).find("recurrence")
    assert recurrence.findtext("objectType") == "KalturaScheduleEventRecurrence"
    assert (recurrence.findtext("frequency"), recurrence.findtext("count")) == ("weeks", "3")


def test_it_writes_arrays_as_items_each_with_its_object_type(call, make_event):
    lecture = make_event()
    blackout = make_event(type=EventType.BLACKOUT, minutes=600, start="2026-09-07 06:00")
    conflicts = result(call(EVENTS, "get", scheduleEventId=str(lecture.pk))).find("blackoutConflicts")
    assert [item.tag for item in conflicts] == ["item"]
    assert fields(conflicts[0])["objectType"] == "KalturaBlackoutScheduleEvent"
    assert fields(conflicts[0])["id"] == str(blackout.pk)


def test_it_writes_a_list_response(call, make_event):
    make_event()
    make_event("2026-09-08 09:00", type=EventType.BLACKOUT)
    answer = result(call(EVENTS, "list", filter={"objectType": "KalturaScheduleEventFilter"}))
    assert [child.tag for child in answer] == ["objectType", "objects", "totalCount"]
    assert answer.findtext("objectType") == "KalturaScheduleEventListResponse"
    assert [fields(item)["objectType"] for item in answer.find("objects")] == [
        "KalturaRecordScheduleEvent",
        "KalturaBlackoutScheduleEvent",
    ]
    assert answer.findtext("totalCount") == "2"


def test_it_writes_a_void_result_as_an_empty_result(call, make_resource, make_event):
    room = make_resource()
    event = make_event(resources=[room])
    answer = result(call(LINKS, "delete", scheduleEventId=str(event.pk), scheduleResourceId=str(room.pk)))
    assert (len(answer), answer.text) == (0, None)


def test_it_writes_a_plain_value_as_the_text_of_the_result(client, partner, now):
    params = {"secret": partner.admin_secret, "type": "2", "partnerId": str(partner.pk), "userId": "alice"}
    answer = result(post(client, "session", "start", params))
    assert len(answer) == 0
    assert ks_codec.validate(answer.text, [partner.admin_secret], int(now.timestamp())).partner_id == 101


def test_it_refuses_characters_xml_cannot_carry_and_stores_nothing(call):
    response = call(RESOURCES, "add", scheduleResource=location("Room\x01\x08\x1b A"))
    assert error_code(response) == "INVALID_PARAMETER_CHAR"
    assert not ScheduleResource.objects.exists()


# ---------------------------------------------------------------- JSON (format=1)


def test_it_answers_json_with_nulls_left_out(call, make_event):
    response = call(EVENTS, "get", scheduleEventId=str(make_event().pk), format="1")
    answer = json.loads(response.content)
    assert (answer["objectType"], answer["summary"]) == ("KalturaRecordScheduleEvent", "Lecture")
    assert "priority" not in answer and "parentId" not in answer


def test_it_answers_json_errors_as_kaltura_exceptions(call):
    answer = json.loads(call(EVENTS, "get", scheduleEventId="999", format="1").content)
    assert answer == {
        "objectType": "KalturaAPIException",
        "code": "INVALID_OBJECT_ID",
        "message": "Invalid object id [999]",
        "args": {"ID": "999"},
    }


# ---------------------------------------------------------------- errors


def test_it_writes_the_error_envelope(call):
    error = result(call(EVENTS, "get", scheduleEventId="999")).find("error")
    assert [child.tag for child in error] == ["objectType", "code", "message", "args"]
    assert fields(error)["objectType"] == "KalturaAPIException"
    assert (fields(error)["code"], fields(error)["message"]) == (
        "INVALID_OBJECT_ID",
        "Invalid object id [999]",
    )
    assert [fields(item) for item in error.find("args")] == [
        {"objectType": "KalturaApiExceptionArg", "name": "ID", "value": "999"}
    ]


NO_KS = object()
# name: (code, service, action, params); params get Alice's KS unless they set their own.
# fmt: off
FAILURES = {
    "no ks": ("MISSING_KS", EVENTS, "get", {"ks": NO_KS, "scheduleEventId": "1"}),
    "garbage v2 ks": ("INVALID_KS", EVENTS, "get", {"ks": "djJ8MTAxfGdhcmJhZ2U=", "scheduleEventId": "1"}),
    "ks that is no base64": ("INVALID_KS", EVENTS, "get", {"ks": "not a session", "scheduleEventId": "1"}),
    "partnerId 202, ks of 101": ("INVALID_KS", EVENTS, "get", {"partnerId": "202", "scheduleEventId": "1"}),
    "unknown service": ("SERVICE_DOES_NOT_EXISTS", "schedule_nosuchservice", "list", {}),
    "unknown action": ("ACTION_DOES_NOT_EXISTS", EVENTS, "explode", {}),
    "unknown objectType": ("INVALID_OBJECT_TYPE", EVENTS, "add",
                           {"scheduleEvent": record_event(objectType="KalturaFancyEvent")}),
    "abstract objectType": ("OBJECT_TYPE_ABSTRACT", EVENTS, "add",
                            {"scheduleEvent": record_event(objectType="KalturaScheduleEvent")}),
    "no objectType": ("OBJECT_TYPE_ABSTRACT", RESOURCES, "add", {"scheduleResource": {"name": "Hall"}}),
    "invalid enum value": ("INVALID_ENUM_VALUE", EVENTS, "add",
                           {"scheduleEvent": record_event(classificationType="7")}),
    "word for an id": ("INVALID_FIELD_VALUE", EVENTS, "get", {"scheduleEventId": "abc"}),
    "fraction for an id": ("INVALID_FIELD_VALUE", EVENTS, "get", {"scheduleEventId": "12.5"}),
    "no id": ("MISSING_MANDATORY_PARAMETER", EVENTS, "get", {}),
    "unknown id": ("INVALID_OBJECT_ID", EVENTS, "get", {"scheduleEventId": "999"}),
    "page past 10,000": ("QUERY_EXCEEDED_MAX_MATCHES_ALLOWED", EVENTS, "list",
                         {"pager": {"pageSize": "500", "pageIndex": "21"}}),
    "small page past 10,000": ("QUERY_EXCEEDED_MAX_MATCHES_ALLOWED", EVENTS, "list",
                               {"pager": {"pageSize": "30", "pageIndex": "335"}}),
}
# fmt: on


@pytest.mark.parametrize("name", FAILURES)
def test_it_answers_with_a_stable_error_code(client, alice_ks, name):
    code, service, action, params = FAILURES[name]
    params = {"ks": alice_ks, **params}
    if params["ks"] is NO_KS:
        del params["ks"]
    assert error_code(post(client, service, action, params)) == code


def test_it_names_the_enum_in_an_invalid_enum_error(call, make_resource):
    response = call(
        EVENTS,
        "getConflicts",
        resourceIds=str(make_resource().pk),
        scheduleEvent=record_event(),
        scheduleEventConflictType="9",
    )
    assert error_code(response) == "INVALID_ENUM_VALUE"
    assert error_args(response) == {
        "ENUM_VAL": "9",
        "PARAM_NAME": "scheduleEventConflictType",
        "ENUM_TYPE": "KalturaScheduleEventConflictType",
    }


def test_it_names_the_missing_parameter(call):
    response = call(EVENTS, "get")
    assert error_args(response) == {"PARAM_NAME": "scheduleEventId"}


def test_it_refuses_a_malformed_json_body(client, alice_ks):
    body = '{"ks": "' + alice_ks + '", "scheduleEventId": '
    response = client.post(url(EVENTS, "get"), body, content_type="application/json")
    assert error_code(response) == "INVALID_JSON"


def test_it_refuses_an_unknown_format_in_xml(call, make_event):
    response = call(EVENTS, "get", scheduleEventId=str(make_event().pk), format="3")
    assert error_code(response) == "UNKNOWN_RESPONSE_FORMAT"


def test_it_pages_up_to_the_ten_thousandth_result(call, make_event):
    make_event()
    response = call(EVENTS, "list", pager={"pageSize": "500", "pageIndex": "20"})
    assert error_code(response) is None
    assert result(response).findtext("totalCount") == "1"


# ---------------------------------------------------------------- hostile requests


def _json(ks: str, service: str, action: str, **params):
    return {
        "path": url(service, action),
        "data": json.dumps({"ks": ks, **params}),
        "content_type": "application/json",
    }


def _raw(path: str, data: bytes | str = b"", content_type: str = "application/json", method: str = "POST"):
    return {"method": method, "path": path, "data": data, "content_type": content_type}


def _deep_json(ks: str, depth: int) -> str:
    return '{"ks": "' + ks + '", "filter": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


HOSTILE = {
    "huge bracket key": lambda ks: _raw(
        f"{url(EVENTS, 'list')}?ks={ks}&filter{'[x]' * 3000}=1", method="GET"
    ),
    "deep bracket key": lambda ks: _raw(
        f"{url(EVENTS, 'list')}?ks={ks}&filter" + "".join(f"[{n}]" for n in range(60)) + "=1", method="GET"
    ),
    "deeply nested json": lambda ks: _raw(url(EVENTS, "list"), _deep_json(ks, 100_000)),
    "json array body": lambda ks: _raw(url(EVENTS, "list"), json.dumps([{"ks": ks}])),
    "json string body": lambda ks: _raw(url(EVENTS, "list"), '"ks"'),
    "empty json body": lambda ks: _raw(url(EVENTS, "list")),
    "invalid utf-8 in json": lambda ks: _raw(
        url(RESOURCES, "add"),
        b'{"ks": "' + ks.encode() + b'", "scheduleResource": '
        b'{"objectType": "KalturaLocationScheduleResource", "name": "\xff\xfe"}}',
    ),
    "invalid utf-8 in a form": lambda ks: _raw(
        url(RESOURCES, "add"),
        f"ks={ks}&scheduleResource[objectType]=KalturaLocationScheduleResource&scheduleResource[name]=%ff%fe",
        "application/x-www-form-urlencoded",
    ),
    "invalid utf-8 in the query": lambda ks: _raw(
        f"{url(EVENTS, 'get')}?ks={ks}&scheduleEventId=%ff", method="GET"
    ),
    "nul in a stored string": lambda ks: _json(ks, RESOURCES, "add", scheduleResource=location("Room\x00A")),
    "nul in a filter": lambda ks: _raw(
        f"{url(EVENTS, 'list')}?ks={ks}&filter[referenceIdEqual]=a%00b", method="GET"
    ),
    "nul in the ks": lambda ks: _json(ks + "\x00", EVENTS, "list"),
    "enormous integer string": lambda ks: _json(ks, EVENTS, "get", scheduleEventId="9" * 500),
    "enormous json integer": lambda ks: _json(ks, EVENTS, "get", scheduleEventId=10**30),
    "integer past python's digit limit": lambda ks: _raw(
        url(EVENTS, "get"), '{"ks": "' + ks + '", "scheduleEventId": ' + "9" * 5000 + "}"
    ),
    "date past year 9999": lambda ks: _json(ks, EVENTS, "add", scheduleEvent=record_event(endDate="9" * 15)),
    "not-a-number latitude": lambda ks: _json(
        ks, EVENTS, "add", scheduleEvent=record_event(geoLatitude="NaN")
    ),
    "negative page size and index": lambda ks: _json(
        ks, EVENTS, "list", pager={"pageSize": -5, "pageIndex": -3}
    ),
    "a filter where an event belongs": lambda ks: _json(
        ks, EVENTS, "add", scheduleEvent={"objectType": "KalturaScheduleEventFilter", "idEqual": "1"}
    ),
    "an event that is a string": lambda ks: _json(ks, EVENTS, "add", scheduleEvent="an event"),
    "an event that is a list": lambda ks: _json(ks, EVENTS, "add", scheduleEvent=[record_event()]),
    "a ks that is an object": lambda ks: _json(ks, EVENTS, "list") | {"data": '{"ks": {"v2": "101"}}'},
    "a 100k ks": lambda ks: _json("djJ8" * 25_000, EVENTS, "list"),
    "a format that is an object": lambda ks: _json(ks, EVENTS, "list", format={"x": "1"}),
    "too many form fields": lambda ks: _raw(
        url(EVENTS, "list"), "&".join(f"f{n}=1" for n in range(5000)), "application/x-www-form-urlencoded"
    ),
    "broken multipart": lambda ks: _raw(
        url(EVENTS, "list"), b"--nope\r\n\r\n", "multipart/form-data; boundary=abc"
    ),
    "multipart without a boundary": lambda ks: _raw(url(EVENTS, "list"), b"json=1", "multipart/form-data"),
    "a forward multirequest reference": lambda ks: _raw(
        "/api_v3/service/multirequest",
        json.dumps({"ks": ks, "0": {"service": EVENTS, "action": "get", "scheduleEventId": "{2:result:id}"}}),
    ),
    "a 500-call multirequest": lambda ks: _raw(
        "/api_v3/service/multirequest",
        json.dumps(
            {str(n): {"service": EVENTS, "action": "get", "scheduleEventId": "1"} for n in range(500)}
        ),
    ),
    "a PUT": lambda ks: _raw(url(EVENTS, "list"), json.dumps({"ks": ks}), method="PUT"),
    "an empty action": lambda ks: _raw(f"/api_v3/service/{EVENTS}/action/?ks={ks}", method="GET"),
    "a service name with a dash": lambda ks: _raw(
        f"/api_v3/service/schedule-event/action/list?ks={ks}", method="GET"
    ),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_it_answers_a_hostile_request_with_a_kaltura_document(client, alice_ks, name):
    request = {"method": "POST", **HOSTILE[name](alice_ks)}
    response = client.generic(
        request["method"], request["path"], request["data"], content_type=request["content_type"]
    )
    root = document(response)
    for error in root.iter("error"):
        assert error.findtext("code") and error.findtext("message")
        assert error.findtext("code") not in INTERNAL_ERRORS, error.findtext("message")


# ---------------------------------------------------------------- multirequest


def test_it_runs_a_multirequest_with_a_shared_ks_and_back_references(client, alice_ks, partner):
    body = {
        "ks": alice_ks,
        "0": {"service": RESOURCES, "action": "add", "scheduleResource": location("Hall")},
        "1": {
            "service": RESOURCES,
            "action": "add",
            "scheduleResource": {
                "objectType": "KalturaCameraScheduleResource",
                "name": "Hall camera",
                "parentId": "{1:result:id}",
            },
        },
    }
    hall, camera = (fields(item) for item in result(multirequest(client, body)))
    assert camera["parentId"] == hall["id"]
    assert ScheduleResource.objects.for_partner(partner).get(pk=camera["id"]).parent_id == int(hall["id"])


def test_it_keeps_running_a_multirequest_after_a_failed_call(client, alice_ks, make_event):
    event = make_event()
    body = {
        "0": {"service": EVENTS, "action": "get", "ks": alice_ks, "scheduleEventId": "999"},
        "1": {"service": EVENTS, "action": "get", "ks": alice_ks, "scheduleEventId": str(event.pk)},
    }
    failed, found = result(multirequest(client, body))
    assert failed.findtext("error/code") == "INVALID_OBJECT_ID"
    assert found.findtext("id") == str(event.pk)
