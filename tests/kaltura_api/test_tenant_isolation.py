"""Charlie (partner 202, admin) against Alice's data (partner 101) through every registered API
action: he must find nothing and change nothing. A new action fails
`test_it_has_a_matrix_entry_for_every_registered_action` until it gets a row here."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import calendar_app.kaltura_api.views  # noqa: F401 (registers the services' actions)
from calendar_app.imports import jobs
from calendar_app.kaltura_api import app_token_sessions, dispatch
from calendar_app.models import (
    AppToken,
    AuditEntry,
    BulkUpload,
    Entry,
    EntryType,
    EventType,
    Membership,
    Partner,
    ResourceType,
    RevokedSession,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
    UploadToken,
)
from tests.kaltura_api.http import (
    error_code,
    fields,
    multirequest,
    post,
    record_event,
    result,
    session_for,
    upload,
)

EVENTS, RESOURCES, LINKS = (
    "schedule_scheduleevent",
    "schedule_scheduleresource",
    "schedule_scheduleeventresource",
)
SCOPED_MODELS = (
    ScheduleResource, ScheduleEvent, ScheduleEventResource, AppToken, Entry, AuditEntry, RevokedSession,
    Membership, BulkUpload, UploadToken,
)  # fmt: skip


@dataclass(frozen=True)
class World:
    room: int
    camera: int
    event: int
    series: int
    occurrence: int
    blackout: int
    token: AppToken
    alice_ks: str
    charlie_ks: str
    charlie_widget_ks: str
    charlie_room: int
    charlie_event: int
    job: int
    entry: str
    media: str
    upload_token: str


@pytest.fixture
def world(
    client, partner, outsider_partner, outsider, actor, now, make_resource, make_event, make_series
) -> World:
    room = make_resource("Alice room", system_name="alice-room")
    camera = make_resource("Alice camera", type=ResourceType.CAMERA, parent_id=room.pk)
    series = make_series(count=3, resources=[room], summary="Alice series")
    charlie_room = make_resource("Charlie room", who=outsider)
    AppToken.objects.create(id=AppToken.new_id(), partner=outsider_partner, token=secrets.token_hex(16))
    Entry.objects.create(id="0_charlie1", partner=outsider_partner, name="Charlie entry")
    Entry.objects.create(
        id="0_charlie2", partner=outsider_partner, type=EntryType.LIVE_STREAM, name="Charlie live"
    )
    Entry.objects.create(id="0_charlie3", partner=outsider_partner, name="Charlie empty", status=7)
    UploadToken.objects.create(partner=outsider_partner, file_name="charlie.mp4")
    media = Entry.objects.create(id="0_alice002", partner=partner, name="Alice recording", status=7)
    upload_token = UploadToken.objects.create(partner=partner, file_name="alice.mp4", user_id="alice")
    entry = Entry.objects.create(
        id="0_alice001", partner=partner, type=EntryType.LIVE_STREAM, name="Alice stream",
        reference_id="alice-entry", stream_password="alice-secret",
    )  # fmt: skip
    return World(
        room=room.pk,
        camera=camera.pk,
        event=make_event(resources=[room, camera], summary="Alice lecture", reference_id="alice-ref").pk,
        series=series.pk,
        occurrence=series.occurrences.order_by("start").first().pk,
        blackout=make_event("2026-09-07 06:00", 600, type=EventType.BLACKOUT, summary="Alice closure").pk,
        token=AppToken.objects.create(
            id=AppToken.new_id(), partner=partner, token=secrets.token_hex(16), description="Alice token"
        ),
        alice_ks=session_for(partner, now),
        charlie_ks=session_for(outsider_partner, now, user_id="charlie"),
        charlie_widget_ks=widget_ks(client, outsider_partner.pk),
        charlie_room=charlie_room.pk,
        charlie_event=make_event("2026-09-08 09:00", who=outsider, resources=[charlie_room]).pk,
        job=jobs.submit(actor, BulkUpload.Kind.RESOURCES_CSV, b"*name\nAlice hall\n").pk,
        entry=entry.pk,
        media=media.pk,
        upload_token=upload_token.pk,
    )


def snapshot(partner_id: int) -> dict[str, list[dict[str, Any]]]:
    rows = {
        m.__name__: list(m.objects.for_partner(partner_id).order_by("pk").values()) for m in SCOPED_MODELS
    }
    rows["Partner"] = list(Partner.objects.filter(pk=partner_id).values())
    return rows


# ---------------------------------------------------------------- the matrix

EMPTY = "an empty list"
OWN_ONLY = "a list of Charlie's own objects, counted without Alice's"
CHARLIES = "a new object of Charlie's own"  # and no error hinting at Alice's


@dataclass(frozen=True)
class Case:
    service: str
    action: str
    variant: str
    params: Callable[[World], dict[str, Any]]
    expect: str  # an error code, EMPTY, OWN_ONLY or CHARLIES
    then: Callable[[Any, World], None] | None = None  # a follow-up check with the test client
    file: bytes | Callable[[World], bytes] | None = None  # sent as the multipart file part `fileData`

    @property
    def id(self) -> str:
        return f"{self.service}.{self.action}[{self.variant}]"


def record(**extra) -> dict[str, Any]:
    return record_event(summary="Charlie probe", **extra)


def _filter(object_type: str, values: dict[str, Any], **extra) -> dict[str, Any]:
    return {"filter": {"objectType": object_type, **values}, **extra}


def entries_where(**values) -> dict[str, Any]:
    return _filter("KalturaBaseEntryFilter", values)


def events_where(**values) -> dict[str, Any]:
    return _filter("KalturaScheduleEventFilter", values)


def resources_where(**values) -> dict[str, Any]:
    return _filter("KalturaScheduleResourceFilter", values)


def links_where(**values) -> dict[str, Any]:
    # Alice's links overlap her blackout: the default filterBlackoutConflicts would hide them.
    return _filter("KalturaScheduleEventResourceFilter", values, filterBlackoutConflicts="False")


def link(event: Any, resource: Any) -> dict[str, Any]:
    link = {"objectType": "KalturaScheduleEventResource", "eventId": event, "resourceId": resource}
    return {"scheduleEventResource": link}


def event_id(target: str, **extra) -> Callable[[World], dict[str, Any]]:
    return lambda world: {"scheduleEventId": getattr(world, target), **extra}


def link_id(world: World) -> dict[str, Any]:
    return {"scheduleEventId": world.event, "scheduleResourceId": world.room}


def conflicts_on(resource_ids: str, conflict_type: str) -> dict[str, Any]:
    return {
        "resourceIds": resource_ids,
        "scheduleEvent": record(),
        "scheduleEventConflictType": conflict_type,
    }


def token_session(world: World) -> dict[str, Any]:
    """Charlie's widget KS with Alice's token id and even the right hash (as if the token leaked)."""
    ks, token = world.charlie_widget_ks, world.token
    return {
        "ks": ks,
        "id": token.pk,
        "tokenHash": app_token_sessions.expected_hash(token.hash_type, ks, token.token),
    }


def widget_ks(client, partner_id: int) -> str:
    answer = result(post(client, "session", "startWidgetSession", {"widgetId": f"_{partner_id}"}))
    return answer.findtext("ks")


def alice_still_reads_her_event(client, world: World) -> None:
    answer = post(client, EVENTS, "get", {"ks": world.alice_ks, "scheduleEventId": str(world.event)})
    assert error_code(answer) is None


def a_widget_session_for_alice_reads_nothing(client, world: World) -> None:
    answer = post(client, EVENTS, "get", {"ks": widget_ks(client, 101), "scheduleEventId": str(world.event)})
    assert error_code(answer) == "SERVICE_FORBIDDEN"


def secret_of_charlie(kind: str) -> str:
    return getattr(Partner.objects.get(pk=202), kind)


E, R, L, T, S, B = EVENTS, RESOURCES, LINKS, "apptoken", "session", "baseentry"
M, LS, U = "media", "livestream", "uploadtoken"
MEDIA = {"objectType": "KalturaMediaEntry", "name": "Charlie's recording", "mediaType": "1"}
LIVE = {"objectType": "KalturaLiveStreamEntry", "name": "Charlie's stream", "mediaType": "201"}
NO_ENTRY, NO_UPLOAD = "ENTRY_ID_NOT_FOUND", "UPLOAD_TOKEN_NOT_FOUND"
RENAME = {"objectType": "KalturaRecordScheduleEvent", "summary": "Charlie was here"}
ROOM = {"objectType": "KalturaLocationScheduleResource", "name": "Charlie's room"}
TOKEN = {"objectType": "KalturaAppToken", "sessionType": "2"}
BLACKOUTS = {"filter": {"objectType": "KalturaBlackoutScheduleEventFilter"}}
NOT_FOUND, NO_TOKEN, NO_PARENT = "INVALID_OBJECT_ID", "INVALID_APP_TOKEN_ID", "RESOURCE_PARENT_ID_NOT_FOUND"
TARGETS = ("event", "series", "occurrence", "blackout")


def charlies_job_finds_no_alice_room(client, world: World) -> None:
    job = BulkUpload.objects.get(partner_id=202)
    jobs.process(job.pk, job.created_at)  # what the worker does after commit
    [row] = jobs.results(BulkUpload.objects.get(pk=job.pk))
    assert (row.status, row.object_id) == ("error", None) and "alice-room" in row.reason


def alice_vevents(world: World) -> bytes:
    """Charlie's file names Alice's event by id and by UID, and books her room."""
    alice = ScheduleEvent.objects.get(pk=world.event)
    event = (
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:20260910T090000Z\r\nDTEND:20260910T100000Z\r\n"
        "{more}END:VEVENT\r\n"
    )
    vevents = [
        event.format(uid=alice.ical_uid, more=f"SUMMARY:Taken over\r\nX-KALTURA-ID:{world.event}\r\n"),
        event.format(uid="alice-ref", more="SUMMARY:By reference\r\nSTATUS:CANCELLED\r\n"),
        event.format(
            uid="in-alice-room", more=f"SUMMARY:In her room\r\nX-KALTURA-RESOURCE-IDS:{world.room}\r\n"
        ),
    ]
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//charlie//EN\r\n" + "".join(vevents) + "END:VCALENDAR\r\n"
    ).encode()


def charlies_import_touches_nothing_of_alice(client, world: World) -> None:
    job = BulkUpload.objects.get(partner_id=202)
    jobs.process(job.pk, job.created_at)  # what the worker does after commit
    taken, cancelled, booked = jobs.results(BulkUpload.objects.get(pk=job.pk))
    assert taken.status == "ok" and ScheduleEvent.objects.get(pk=taken.object_id).partner_id == 202
    assert (cancelled.status, cancelled.object_id) == ("ok", None)  # nothing of Charlie's to cancel
    assert (booked.status, booked.object_id) == ("error", None)


# fmt: off
CASES = [
    # ---- schedule events
    *(Case(E, verb, t, event_id(t), NOT_FOUND) for verb in ("get", "cancel", "delete") for t in TARGETS),
    *(Case(E, "update", t, event_id(t, scheduleEvent=RENAME), NOT_FOUND) for t in TARGETS),
    Case(E, "add", "claiming partner 101", lambda w: {"scheduleEvent": record(), "partnerId": "101"},
         "INVALID_KS"),
    Case(E, "add", "partnerId inside", lambda w: {"scheduleEvent": record(partnerId="101")},
         "PROPERTY_VALIDATION_NOT_UPDATABLE"),
    Case(E, "list", "unfiltered", lambda w: {}, OWN_ONLY),
    Case(E, "list", "every status", lambda w: events_where(statusIn="1,2,3"), OWN_ONLY),
    Case(E, "list", "idEqual", lambda w: events_where(idEqual=w.event), EMPTY),
    Case(E, "list", "idIn", lambda w: events_where(idIn=f"{w.event},{w.series},{w.occurrence}"), EMPTY),
    Case(E, "list", "parentIdEqual", lambda w: events_where(parentIdEqual=w.series), EMPTY),
    Case(E, "list", "resourceIdsLike", lambda w: events_where(resourceIdsLike=w.room), EMPTY),
    Case(E, "list", "resourceIdEqual", lambda w: events_where(resourceIdEqual=w.camera), EMPTY),
    Case(E, "list", "parentResourceIdsLike", lambda w: events_where(parentResourceIdsLike=w.room), EMPTY),
    Case(E, "list", "resourceSystemNamesLike", lambda w: events_where(resourceSystemNamesLike="alice-room"),
         EMPTY),
    Case(E, "list", "referenceIdEqual", lambda w: events_where(referenceIdEqual="alice-ref"), EMPTY),
    Case(E, "list", "blackouts", lambda w: BLACKOUTS, EMPTY),
    Case(E, "getConflicts", "alice's room", lambda w: conflicts_on(f"{w.room}", "1"), EMPTY),
    Case(E, "getConflicts", "both, alice's", lambda w: conflicts_on(f"{w.room},{w.camera}", "3"), EMPTY),
    Case(E, "getConflicts", "alice's blackout", lambda w: conflicts_on(f"{w.charlie_room}", "2"), EMPTY),
    # ---- resources
    Case(R, "get", "room", lambda w: {"scheduleResourceId": w.room}, NOT_FOUND),
    Case(R, "update", "room", lambda w: {"scheduleResourceId": w.room, "scheduleResource": ROOM}, NOT_FOUND),
    Case(R, "delete", "camera", lambda w: {"scheduleResourceId": w.camera}, NOT_FOUND),
    Case(R, "add", "under alice's room", lambda w: {"scheduleResource": {**ROOM, "parentId": w.room}},
         NO_PARENT),
    Case(R, "add", "alice's system name",
         lambda w: {"scheduleResource": {**ROOM, "systemName": "alice-room"}}, CHARLIES),
    Case(R, "update", "own room under alice's",
         lambda w: {"scheduleResourceId": w.charlie_room, "scheduleResource": {"parentId": w.room, **ROOM}},
         NO_PARENT),
    Case(R, "list", "unfiltered", lambda w: {}, OWN_ONLY),
    Case(R, "list", "every status", lambda w: resources_where(statusIn="1,2,3"), OWN_ONLY),
    Case(R, "list", "idEqual", lambda w: resources_where(idEqual=w.room), EMPTY),
    Case(R, "list", "parentIdEqual", lambda w: resources_where(parentIdEqual=w.room), EMPTY),
    Case(R, "list", "systemNameEqual", lambda w: resources_where(systemNameEqual="alice-room"), EMPTY),
    # ---- event-resource links
    Case(L, "get", "alice's link", link_id, NOT_FOUND),
    Case(L, "delete", "alice's link", link_id, NOT_FOUND),
    Case(L, "update", "alice's link", lambda w: {**link_id(w), **link(w.event, w.room)}, NOT_FOUND),
    Case(L, "add", "alice's event and room", lambda w: link(w.event, w.camera), NOT_FOUND),
    Case(L, "add", "own event, alice's room", lambda w: link(w.charlie_event, w.room), NOT_FOUND),
    Case(L, "add", "alice's series, own room", lambda w: link(w.series, w.charlie_room), NOT_FOUND),
    Case(L, "list", "unfiltered", lambda w: {"filterBlackoutConflicts": "False"}, OWN_ONLY),
    Case(L, "list", "eventIdEqual", lambda w: links_where(eventIdEqual=w.event), EMPTY),
    Case(L, "list", "resourceIdIn", lambda w: links_where(resourceIdIn=f"{w.room},{w.camera}"), EMPTY),
    Case(L, "list", "eventIdOrItsParentIdEqual",
         lambda w: links_where(eventIdOrItsParentIdEqual=w.occurrence), EMPTY),
    # ---- app tokens
    Case(T, "get", "alice's token", lambda w: {"id": w.token.pk}, NO_TOKEN),
    Case(T, "update", "alice's token", lambda w: {"id": w.token.pk, "appToken": TOKEN}, NO_TOKEN),
    Case(T, "delete", "alice's token", lambda w: {"id": w.token.pk}, NO_TOKEN),
    Case(T, "add", "own token", lambda w: {"appToken": TOKEN}, CHARLIES),
    Case(T, "list", "unfiltered", lambda w: {}, OWN_ONLY),
    Case(T, "list", "idEqual", lambda w: _filter("KalturaAppTokenFilter", {"idEqual": w.token.pk}), EMPTY),
    Case(T, "startSession", "alice's token, right hash", token_session, NO_TOKEN),
    # ---- entries
    Case(B, "get", "alice's entry", lambda w: {"entryId": w.entry}, "ENTRY_ID_NOT_FOUND"),
    Case(B, "list", "unfiltered", lambda w: {}, OWN_ONLY),
    Case(B, "list", "every status", lambda w: entries_where(statusIn="-2,-1,0,1,2,3,4,5,6,7"), OWN_ONLY),
    Case(B, "list", "idEqual", lambda w: entries_where(idEqual=w.entry), EMPTY),
    Case(B, "list", "idIn", lambda w: entries_where(idIn=w.entry), EMPTY),
    Case(B, "list", "referenceIdEqual", lambda w: entries_where(referenceIdEqual="alice-entry"), EMPTY),
    Case(B, "list", "live entries", lambda w: entries_where(typeIn="7"), OWN_ONLY),
    *(Case(service, "get", "alice's entry", lambda w: {"entryId": w.entry}, NO_ENTRY) for service in (M, LS)),
    Case(M, "get", "alice's recording", lambda w: {"entryId": w.media}, NO_ENTRY),
    Case(M, "update", "alice's recording", lambda w: {"entryId": w.media, "mediaEntry": MEDIA}, NO_ENTRY),
    Case(M, "delete", "alice's recording", lambda w: {"entryId": w.media}, NO_ENTRY),
    Case(M, "add", "own entry", lambda w: {"entry": MEDIA}, CHARLIES),
    Case(M, "add", "alice's template", lambda w: {"entry": {**MEDIA, "templateEntryId": w.media}}, NO_ENTRY),
    Case(M, "addContent", "alice's recording",
         lambda w: {"entryId": w.media, "resource": uploaded(w.upload_token)}, NO_ENTRY),
    Case(M, "addContent", "own entry, alice's upload",
         lambda w: {"entryId": "0_charlie3", "resource": uploaded(w.upload_token)}, NO_UPLOAD),
    Case(M, "list", "unfiltered", lambda w: {}, OWN_ONLY),
    Case(M, "list", "idEqual", lambda w: _filter("KalturaMediaEntryFilter", {"idEqual": w.media}), EMPTY),
    Case(LS, "update", "alice's stream", lambda w: {"entryId": w.entry, "liveStreamEntry": LIVE}, NO_ENTRY),
    Case(LS, "delete", "alice's stream", lambda w: {"entryId": w.entry}, NO_ENTRY),
    Case(LS, "add", "own stream", lambda w: {"liveStreamEntry": LIVE}, CHARLIES),
    Case(LS, "list", "unfiltered", lambda w: {}, OWN_ONLY),
    Case(LS, "list", "idEqual",
         lambda w: _filter("KalturaLiveStreamEntryFilter", {"idEqual": w.entry}), EMPTY),
    # ---- uploads
    Case(U, "get", "alice's token", lambda w: {"uploadTokenId": w.upload_token}, NO_UPLOAD),
    Case(U, "delete", "alice's token", lambda w: {"uploadTokenId": w.upload_token}, NO_UPLOAD),
    Case(U, "upload", "to alice's token", lambda w: {"uploadTokenId": w.upload_token}, NO_UPLOAD,
         file=b"Charlie's bytes"),
    Case(U, "add", "own token", lambda w: {"uploadToken": {"objectType": "KalturaUploadToken"}}, CHARLIES),
    Case(U, "list", "unfiltered", lambda w: {}, OWN_ONLY),
    Case(U, "list", "idEqual",
         lambda w: _filter("KalturaUploadTokenFilter", {"idEqual": w.upload_token}), EMPTY),
    # ---- the account
    Case("partner", "getInfo", "own account", lambda w: {}, ""),
    # ---- sessions
    Case(S, "start", "admin, own secret",
         lambda w: {"secret": secret_of_charlie("admin_secret"), "partnerId": "101", "type": "2"},
         "START_SESSION_ERROR"),
    Case(S, "start", "user, own user secret",
         lambda w: {"secret": secret_of_charlie("secret"), "partnerId": "101", "type": "0"},
         "START_SESSION_ERROR"),
    Case(S, "get", "alice's session", lambda w: {"session": w.alice_ks}, "INVALID_KS"),
    Case(S, "end", "own session", lambda w: {}, "", then=alice_still_reads_her_event),
    Case(S, "startWidgetSession", "for partner 101", lambda w: {"widgetId": "_101"}, "",
         then=a_widget_session_for_alice_reads_nothing),
    # ---- bulk uploads
    *(Case(service, verb, "alice's job", lambda w: {"id": w.job}, "BULK_UPLOAD_NOT_FOUND")
      for service in ("bulkupload_bulk", "bulkupload") for verb in ("get", "abort")),
    Case("bulkupload_bulk", "list", "unfiltered", lambda w: {}, EMPTY),
    Case("bulkupload", "list", "unfiltered", lambda w: {}, EMPTY),
    *(Case(service, verb, "alice's ids and uid", lambda w: {}, "",
           then=charlies_import_touches_nothing_of_alice, file=alice_vevents)
      for service, verb in (("schedule_scheduleevent", "addFromBulkUpload"),
                            ("schedulebulkupload_schedulebulk", "addScheduleEvents"))),
    *(Case(service, verb, "under alice's room", lambda w: {}, "", then=charlies_job_finds_no_alice_room,
           file=b"*name,type,parentType,parentSystemName\nCharlie hall,location,location,alice-room\n")
      for service, verb in (("schedule_scheduleresource", "addFromBulkUpload"),
                            ("schedulebulkupload_schedulebulk", "addScheduleResources"))),
]
# fmt: on


def uploaded(token_id: str) -> dict[str, str]:
    return {"objectType": "KalturaUploadedFileTokenResource", "token": token_id}


def test_it_has_a_matrix_entry_for_every_registered_action():
    covered = {(case.service, case.action.lower()) for case in CASES}
    assert set(dispatch.ACTIONS) - covered == set()


def as_sent(value: Any) -> Any:
    """Every scalar as a string, as the official client sends it."""
    return {k: as_sent(v) for k, v in value.items()} if isinstance(value, dict) else str(value)


def check_answer(expect: str, response) -> None:
    answer = result(response)
    if expect == EMPTY:
        assert (error_code(response), answer.findtext("totalCount"), len(answer.find("objects"))) == (
            None,
            "0",
            0,
        )
    elif expect == OWN_ONLY:
        listed = [fields(item) for item in answer.find("objects")]
        assert {item["partnerId"] for item in listed} == {"202"}
        assert answer.findtext("totalCount") == str(len(listed))
    elif expect == CHARLIES:
        assert (error_code(response), answer.findtext("partnerId")) == (None, "202")
    else:
        assert error_code(response) == (expect or None)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_it_keeps_alices_data_from_charlie(client, world, case):
    before = snapshot(101)
    params = as_sent({"ks": world.charlie_ks, **case.params(world)})
    if case.file is None:
        response = post(client, case.service, case.action, params)
    else:
        file = case.file(world) if callable(case.file) else case.file
        response = upload(client, case.service, case.action, params, file)
    check_answer(case.expect, response)
    assert b"Alice" not in response.content
    if case.then:
        case.then(client, world)
    assert snapshot(101) == before


# ---------------------------------------------------------------- sessions across partners


def test_it_refuses_a_ks_signed_with_charlies_secret_that_claims_partner_101(client, world, now):
    forged = session_for(Partner.objects.get(pk=202), now, partner_id=101)
    response = post(client, EVENTS, "get", {"ks": forged, "scheduleEventId": str(world.event)})
    assert error_code(response) == "INVALID_KS"


def test_it_refuses_a_v1_ks_signed_with_charlies_secret_that_claims_partner_101(client, world, now):
    info = f"101;101;{int(now.timestamp()) + 3600};2;4242;charlie;"
    secret = Partner.objects.get(pk=202).admin_secret
    signature = hashlib.sha1((secret + info).encode()).hexdigest()
    forged = base64.b64encode(f"{signature}|{info}".encode()).decode()
    response = post(client, EVENTS, "get", {"ks": forged, "scheduleEventId": str(world.event)})
    assert error_code(response) == "INVALID_KS"


def test_it_refuses_charlies_ks_sent_with_partner_id_101(client, world):
    params = {"ks": world.charlie_ks, "partnerId": "101", "scheduleEventId": str(world.event)}
    assert error_code(post(client, EVENTS, "get", params)) == "INVALID_KS"


def test_it_keeps_alices_room_out_of_charlies_multirequest(client, world):
    before = snapshot(101)
    body = {
        "ks": world.charlie_ks,
        "0": {"service": EVENTS, "action": "add", "scheduleEvent": record()},
        "1": {"service": LINKS, "action": "add", **link("{1:result:id}", world.room)},
    }
    created, linked = result(multirequest(client, body))
    assert created.findtext("partnerId") == "202"
    assert linked.findtext("error/code") == NOT_FOUND
    assert snapshot(101) == before
