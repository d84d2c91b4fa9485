"""Every value is checked against what can store it. Each writable field of each object type in
catalog.py, and each filter, pager and scalar parameter of each action, is sent values past
what can hold it: integers past 2**31 and 2**63, 10**400 as a JSON number and as a string, -1
where the column starts at 0, text one character longer than the column. Each is refused with
a Kaltura error a client can act on, never an internal one, and nothing is stored or changed.

The walk reads the catalog and the action registry, so a field or an action added later is
walked too; the bounds it expects are read from models.py, as the server reads them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from calendar_app import input_rules, scheduling
from calendar_app.kaltura_api import dispatch, services  # noqa: F401 (registers the actions)
from calendar_app.kaltura_api.objects import TYPES, Arr, Field, Obj, subtypes
from calendar_app.kaltura_api.values import Float, Int, IntEnum, Kind, Str, Time
from calendar_app.models import (
    AppToken,
    AuditEntry,
    BulkUpload,
    Entry,
    EventStatus,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
    UploadToken,
)
from tests.kaltura_api.http import START, error_args, error_code, post, result, session_for, url

INTERNAL = {"INTERNAL_SERVERL_ERROR", "INTERNAL_DATABASE_ERROR"}
# What a client can act on: the field, the bound or the object it named is wrong.
CLEAR = {
    "INVALID_FIELD_VALUE", "INVALID_ENUM_VALUE", "INVALID_OBJECT_ID",
    "PROPERTY_VALIDATION_MIN_VALUE", "PROPERTY_VALIDATION_MAX_VALUE",
    "PROPERTY_VALIDATION_MAX_LENGTH", "PROPERTY_VALIDATION_NOT_UPDATABLE",
    "RECURRENCE_TOO_LONG", "RECURRENCE_EMPTY", "LINKED_EVENTS_NOT_SUPPORTED",
    "RESOURCE_PARENT_ID_NOT_FOUND",
}  # fmt: skip
# Past any 64-bit integer, as the JSON numbers Python reads without a limit and as strings.
BEYOND_64_BITS = [2**63, -(2**63) - 1, 10**400, str(2**63), str(10**400)]
PAST_32_BITS = 2**31  # past every integer column here
MODELS = {
    "KalturaScheduleEvent": ScheduleEvent,
    "KalturaScheduleResource": ScheduleResource,
    "KalturaScheduleEventResource": ScheduleEventResource,
    "KalturaAppToken": AppToken,
    "KalturaUploadToken": UploadToken,
    "KalturaBaseEntry": Entry,
}
ROWS = (
    ScheduleEvent, ScheduleResource, ScheduleEventResource, AppToken, AuditEntry, BulkUpload, UploadToken,
    Entry,
)  # fmt: skip
SERIES_RULE = {"objectType": "KalturaScheduleEventRecurrence", "frequency": "weeks", "count": 3}


# ---------------------------------------------------------------- the walk


@dataclass(frozen=True)
class Probe:
    """One bad value for one field: `path` from the top object ("recurrence.count")."""

    path: tuple[str, ...]
    value: Any

    def applied(self, obj: dict[str, Any]) -> dict[str, Any]:
        """`obj` with the value set at `path`; nested objects and array items come whole."""
        head, *rest = self.path
        if not rest:
            return {**obj, head: self.value}
        return {**obj, head: Probe(tuple(rest), self.value).applied(obj.get(head) or {})}

    def __str__(self) -> str:
        return f"{'.'.join(self.path)}={str(self.value)[:24]}"


def probes(type_name: str, model: type | None, prefix: tuple[str, ...] = ()) -> Iterator[Probe]:
    """Every bad value for every writable field of `type_name`, nested objects included."""
    for spec in TYPES[type_name].fields:
        if spec.readonly or spec.read:
            continue
        path = (*prefix, spec.wire)
        if isinstance(spec.kind, Obj):
            yield from probes(spec.kind.base, model, path)
        elif isinstance(spec.kind, Arr):
            for item in subtypes(spec.kind.base):
                for probe in probes(item.name, model, ()):
                    feature = probe.applied({"objectType": item.name})
                    yield Probe(path, [feature])
        else:
            for value in bad_values(spec, column(model, spec)):
                yield Probe(path, value)


def column(model: type | None, spec: Field) -> Any:
    """The column a field is stored in: its model's field of the same name, at any depth
    (recurrence.timeZone is ScheduleEvent.time_zone; a live feature's preStartTime is held to
    the event's pre_start_time)."""
    if model is None:
        return None
    return input_rules.column_of(model, spec.name)


def bad_values(spec: Field, stored_in: Any) -> list[Any]:
    kind = spec.kind
    if isinstance(kind, Time):
        # Before 1980 a time is relative to now, as Kaltura reads it: 10**10 s before now is 1709.
        before_earliest = -(10**10)
        return [*BEYOND_64_BITS, 10**15, int(input_rules.LATEST.timestamp()) + 1, before_earliest]
    if isinstance(kind, Int | IntEnum):
        integer = stored_in is not None and input_rules.is_integer(stored_in)
        low = input_rules.column_range(stored_in)[0] if integer else None
        return [*BEYOND_64_BITS, PAST_32_BITS, *([-1] if low == 0 else [])]
    if isinstance(kind, Float):
        return [10**400, "1e400"]
    if isinstance(kind, Str) and getattr(stored_in, "max_length", None):
        return ["a" * (stored_in.max_length + 1)]
    return []


def concrete(base: str) -> list[str]:
    return [kind.name for kind in subtypes(base)]


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def call(client, partner, now) -> Callable[..., Any]:
    ks = session_for(partner, now)

    def send(service: str, action: str, **params: Any):
        return post(client, service, action, {"ks": ks, **params})

    return send


def added(response) -> str:
    assert error_code(response) is None, result(response).findtext("error/message")
    return result(response).findtext("id")


def event(type_name: str, **extra: Any) -> dict[str, Any]:
    base = {"objectType": type_name, "summary": "Lecture", "startDate": START, "endDate": START + 3600}
    return {**base, "recurrenceType": 0, **extra}


def series(type_name: str) -> dict[str, Any]:
    return event(type_name, recurrenceType=1, recurrence=SERIES_RULE)


def resource(type_name: str) -> dict[str, Any]:
    extra = {"entryId": "0_live0001"} if type_name == "KalturaLiveEntryScheduleResource" else {}
    return {"objectType": type_name, "name": "Room", **extra}


def state() -> dict[str, Any]:
    """What the database holds: every row of every table a call could write."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in ROWS}


def refusal(response) -> str | None:
    """None when `response` is a clear refusal; else what is wrong with it."""
    code = error_code(response)
    if code is None:
        return "accepted"
    if code not in CLEAR:
        return f"{code}: {result(response).findtext('error/message')}"
    return None


def walk(send: Callable[[Probe], Any], found: list[Probe]) -> list[str]:
    """Send each probe; the ones not clearly refused, or that changed the database."""
    failures = []
    for probe in found:
        before = state()
        wrong = refusal(send(probe))
        if wrong is None and state() != before:
            wrong = "refused, but the database changed"
        if wrong:
            failures.append(f"{probe}: {wrong}")
    return failures


# ---------------------------------------------------------------- events


def event_probes(type_name: str) -> list[Probe]:
    return list(probes(type_name, ScheduleEvent))


def in_rule(probe: Probe) -> bool:
    return probe.path[0] == "recurrence"


def rule_for(probe: Probe) -> dict[str, Any]:
    """A valid recurrence to carry the probe: a rule has a count or an until, never both."""
    return {k: v for k, v in SERIES_RULE.items() if not (k == "count" and probe.path[-1] == "until")}


def base_event(type_name: str, probe: Probe) -> dict[str, Any]:
    """A valid event to carry the probe: a series when the probe is in its recurrence."""
    return (
        event(type_name, recurrenceType=1, recurrence=rule_for(probe)) if in_rule(probe) else event(type_name)
    )


@pytest.mark.parametrize("type_name", concrete("KalturaScheduleEvent"))
def test_adding_an_event_refuses_every_value_past_its_bounds(call, type_name):
    failures = walk(
        lambda probe: call(
            "schedule_scheduleevent", "add", scheduleEvent=probe.applied(base_event(type_name, probe))
        ),
        event_probes(type_name),
    )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("type_name", concrete("KalturaScheduleEvent"))
def test_updating_an_event_refuses_every_value_past_its_bounds(call, type_name):
    ids = {
        kind: added(call("schedule_scheduleevent", "add", scheduleEvent=build(type_name)))
        for kind, build in (("single", event), ("series", series))
    }

    def send(probe: Probe):
        target = ids["series" if in_rule(probe) else "single"]
        # A recurrence is sent whole, as the official client does.
        change = probe.applied(
            {"objectType": type_name, **({"recurrence": rule_for(probe)} if in_rule(probe) else {})}
        )
        return call("schedule_scheduleevent", "update", scheduleEventId=target, scheduleEvent=change)

    failures = walk(send, event_probes(type_name))
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- resources, links, app tokens


@pytest.mark.parametrize("type_name", concrete("KalturaScheduleResource"))
def test_adding_and_updating_a_resource_refuses_every_value_past_its_bounds(call, type_name):
    found = list(probes(type_name, ScheduleResource))
    resource_id = added(call("schedule_scheduleresource", "add", scheduleResource=resource(type_name)))
    failures = walk(
        lambda probe: call(
            "schedule_scheduleresource", "add", scheduleResource=probe.applied(resource(type_name))
        ),
        found,
    ) + walk(
        lambda probe: call(
            "schedule_scheduleresource",
            "update",
            scheduleResourceId=resource_id,
            scheduleResource=probe.applied({"objectType": type_name}),
        ),  # fmt: skip
        found,
    )
    assert not failures, "\n".join(failures)


def test_linking_refuses_every_value_past_its_bounds(call):
    event_id = added(call("schedule_scheduleevent", "add", scheduleEvent=event("KalturaRecordScheduleEvent")))
    room_id = added(
        call("schedule_scheduleresource", "add", scheduleResource=resource("KalturaLocationScheduleResource"))
    )
    link = {"objectType": "KalturaScheduleEventResource", "eventId": event_id, "resourceId": room_id}
    found = list(probes("KalturaScheduleEventResource", ScheduleEventResource))
    failures = walk(
        lambda probe: call(
            "schedule_scheduleeventresource", "add", scheduleEventResource=probe.applied(link)
        ),
        found,
    )
    added(call("schedule_scheduleeventresource", "add", scheduleEventResource=link))
    failures += walk(
        lambda probe: call(
            "schedule_scheduleeventresource",
            "update",
            scheduleEventId=event_id,
            scheduleResourceId=room_id,
            scheduleEventResource=probe.applied({"objectType": "KalturaScheduleEventResource"}),
        ),  # fmt: skip
        found,
    )
    assert not failures, "\n".join(failures)


def test_app_tokens_refuse_every_value_past_their_bounds(call):
    token = {"objectType": "KalturaAppToken", "hashType": "SHA256"}
    token_id = added(call("apptoken", "add", appToken=token))
    found = list(probes("KalturaAppToken", AppToken))
    failures = walk(lambda probe: call("apptoken", "add", appToken=probe.applied(token)), found)
    failures += walk(
        lambda probe: call(
            "apptoken", "update", id=token_id, appToken=probe.applied({"objectType": "KalturaAppToken"})
        ),
        found,
    )
    assert not failures, "\n".join(failures)


def test_upload_tokens_refuse_every_value_past_their_bounds(call):
    # 2**31 bytes is a file of 2 GiB, within the upload cap: not a bound of fileSize.
    found = [
        p
        for p in probes("KalturaUploadToken", UploadToken)
        if (p.path, p.value) != (("fileSize",), PAST_32_BITS)
    ]
    failures = walk(lambda probe: call("uploadtoken", "add", uploadToken=probe.applied({})), found)
    assert not failures, "\n".join(failures)


def test_the_walk_covers_every_object_an_action_stores():
    """A new object parameter of an action must be walked here (or named as not stored)."""
    # Job data: test_bulk_upload_job_data_...; a content resource only names an upload token.
    walked = set(MODELS) | {"KalturaBulkUploadJobData", "KalturaResource"}
    objects = {
        param.kind.base
        for act in dispatch.ACTIONS.values()
        for param in act.params
        if isinstance(param.kind, Obj) and not _is_query(param.kind.base)
    }
    assert {base for base in objects if not any(TYPES[base].is_a(w) for w in walked)} == set()


# ---------------------------------------------------------------- filters, pagers, parameters


def _is_query(base: str) -> bool:
    return TYPES[base].is_a("KalturaFilter") or TYPES[base].is_a("KalturaPager")


def query_params() -> list[tuple[str, str, str, str]]:
    """(service, action, parameter, object type) for every filter and pager type an action takes."""
    return [
        (act.service, act.name, param.name, kind)
        for act in dispatch.ACTIONS.values()
        if not any(p.required for p in act.params)
        for param in act.params
        if isinstance(param.kind, Obj) and _is_query(param.kind.base)
        for kind in concrete(param.kind.base)
    ]


@pytest.mark.parametrize(("service", "action", "param", "type_name"), query_params())
def test_filters_and_pagers_refuse_integers_past_64_bits(call, service, action, param, type_name):
    failures = []
    for spec in TYPES[type_name].fields:
        if isinstance(spec.kind, Int | IntEnum | Time):
            for value in BEYOND_64_BITS:
                response = call(service, action, **{param: {"objectType": type_name, spec.wire: value}})
                if error_code(response) != "INVALID_FIELD_VALUE":
                    failures.append(f"{spec.wire}={str(value)[:24]}: {error_code(response)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("service", "action", "param", "type_name"), query_params())
def test_filters_and_pagers_take_any_64_bit_integer(call, service, action, param, type_name):
    """Past a column's range but within 64 bits, a filter matches nothing (or everything, for a
    bound below the range): a query, not a failure, on both databases. Id lists likewise."""
    failures = []
    for spec in TYPES[type_name].fields:
        values = _in_range_extremes(spec.kind)
        for value in values:
            response = call(service, action, **{param: {"objectType": type_name, spec.wire: value}})
            if error_code(response) in INTERNAL:
                failures.append(f"{spec.wire}={value}: {error_code(response)}")
    assert not failures, "\n".join(failures)


def _in_range_extremes(kind: Kind) -> list[Any]:
    if isinstance(kind, Int):
        return [2**63 - 1, -(2**63), PAST_32_BITS]
    if isinstance(kind, Str):  # idIn, resourceIdsLike, …: some are lists of ids
        return [f"1,{2**63 - 1}", str(PAST_32_BITS)]
    return []


def scalar_params() -> list[tuple[str, str, str]]:
    return [
        (act.service, act.name, param.name)
        for act in dispatch.ACTIONS.values()
        for param in act.params
        if isinstance(param.kind, Int | IntEnum | Time)
    ]


@pytest.mark.parametrize(("service", "action", "param"), scalar_params())
def test_every_integer_parameter_refuses_10_to_the_400(client, partner, now, service, action, param):
    """Ids and counts sent as JSON numbers reach the server as unbounded Python integers."""
    act = dispatch.find(service, action)
    params = {p.name: _placeholder(p.kind) for p in act.params if p.required}
    body = {"ks": session_for(partner, now), **params, param: 10**400}
    response = client.post(url(service, action), json.dumps(body), content_type="application/json")
    assert (error_code(response), error_args(response).get("FIELD_NAME")) == ("INVALID_FIELD_VALUE", param)


def _placeholder(kind: Kind) -> Any:
    """A well-formed value for a required parameter that is not probed."""
    return {"objectType": concrete(kind.base)[0]} if isinstance(kind, Obj) else "1"


# ---------------------------------------------------------------- bulk upload job data

ICAL = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def upload_actions() -> list[tuple[str, str, str]]:
    return [
        (act.service, act.name, param.kind.base)
        for act in dispatch.ACTIONS.values()
        for param in act.params
        if isinstance(param.kind, Obj) and TYPES[param.kind.base].is_a("KalturaBulkUploadJobData")
    ]


@pytest.mark.parametrize(("service", "action", "base"), upload_actions())
def test_bulk_upload_job_data_is_refused_or_fits_its_columns(client, partner, now, service, action, base):
    """Job data is read only as far as it reaches a column (fileName, eventsType): past 64 bits
    it is refused; otherwise it is refused or stored within the column."""
    ks = session_for(partner, now)
    failures = []
    for type_name in concrete(base):
        for probe in probes(type_name, BulkUpload):
            data = json.dumps({"ks": ks, "bulkUploadData": probe.applied({"objectType": type_name})})
            parts = {"json": data, "fileData": SimpleUploadedFile("x.ics", ICAL)}
            code = error_code(client.post(url(service, action), parts))
            if code in INTERNAL or code is None and not _fits(BulkUpload.objects.order_by("pk").last()):
                failures.append(f"{type_name} {probe}: {code}")
    assert not failures, "\n".join(failures)


def _fits(job: BulkUpload) -> bool:
    columns = [f for f in BulkUpload._meta.concrete_fields if getattr(f, "max_length", None)]
    return all(len(getattr(job, f.attname) or "") <= f.max_length for f in columns)


# ---------------------------------------------------------------- the sequence at its column's maximum

EVENTS, RECORD = "schedule_scheduleevent", "KalturaRecordScheduleEvent"


def sequence_of(response) -> int:
    assert error_code(response) is None, result(response).findtext("error/message")
    return int(result(response).findtext("sequence"))


def test_an_event_given_the_largest_sequence_still_changes_cancels_and_deletes(call):
    """Each change adds about 10 to the sequence: from the column's maximum on, it stays there."""
    event_id = added(call(EVENTS, "add", scheduleEvent=event(RECORD)))
    top = {"objectType": RECORD, "sequence": scheduling.SEQUENCE_MAX - 1}
    sequences = [
        sequence_of(call(EVENTS, "update", scheduleEventId=event_id, scheduleEvent=top)),
        sequence_of(
            call(
                EVENTS,
                "update",
                scheduleEventId=event_id,
                scheduleEvent={"objectType": RECORD, "summary": "x"},
            )
        ),
        sequence_of(call(EVENTS, "cancel", scheduleEventId=event_id)),
        sequence_of(call(EVENTS, "delete", scheduleEventId=event_id)),
    ]
    assert sequences == [scheduling.SEQUENCE_MAX - 1, *[scheduling.SEQUENCE_MAX] * 3]


def test_a_sequence_past_the_columns_maximum_is_refused(call):
    event_id = added(call(EVENTS, "add", scheduleEvent=event(RECORD)))
    change = {"objectType": RECORD, "sequence": scheduling.SEQUENCE_MAX + 1}
    response = call(EVENTS, "update", scheduleEventId=event_id, scheduleEvent=change)
    assert error_args(response) == {"PROP_NAME": "sequence", "MAX_VAL": str(scheduling.SEQUENCE_MAX)}


@pytest.mark.parametrize(
    "change",
    [{"summary": "Seminar"}, {"endDate": START + 7200}],
    ids=["content", "times"],
)
def test_occurrences_at_the_largest_sequence_follow_their_series(call, change):
    """Occurrences are bumped in SQL, where PostgreSQL refuses even an intermediate overflow.
    Their sequence can only be that high when written another way (an older version, an import)."""
    series_id = added(call(EVENTS, "add", scheduleEvent=series(RECORD)))
    ScheduleEvent.objects.filter(parent_id=series_id).update(sequence=scheduling.SEQUENCE_MAX - 1)
    change = {"objectType": RECORD, **change}
    assert error_code(call(EVENTS, "update", scheduleEventId=series_id, scheduleEvent=change)) is None
    assert error_code(call(EVENTS, "cancel", scheduleEventId=series_id)) is None
    assert set(ScheduleEvent.objects.filter(parent_id=series_id).values_list("sequence", "status")) == {
        (scheduling.SEQUENCE_MAX, EventStatus.CANCELLED)
    }


@pytest.mark.parametrize(
    ("service", "type_name", "param"),
    [
        ("media", "KalturaMediaEntry", "mediaEntry"),
        ("livestream", "KalturaLiveStreamEntry", "liveStreamEntry"),
    ],
)
def test_entries_refuse_every_value_past_their_bounds(call, service, type_name, param):
    add_param = "entry" if service == "media" else param
    entry = {"objectType": type_name, "name": "Lecture", "mediaType": 201 if service == "livestream" else 1}
    entry_id = added(call(service, "add", **{add_param: entry}))
    found = list(probes(type_name, Entry))
    assert found, "the walk found no bounded field"
    failures = walk(lambda probe: call(service, "add", **{add_param: probe.applied(entry)}), found)
    failures += walk(
        lambda probe: call(
            service, "update", entryId=entry_id, **{param: probe.applied({"objectType": type_name})}
        ),
        [probe for probe in found if probe.path[0] not in ("mediaType", "templateEntryId", "type")],
    )
    assert not failures, "\n".join(failures)
