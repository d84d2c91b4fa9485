"""Multirequests through the official client: calls in order, `{N:result:field}` references
counting from 1, and one failing call never aborting the others."""

from __future__ import annotations

from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Schedule import (
    KalturaCameraScheduleResource,
    KalturaLocationScheduleResource,
    KalturaRecordScheduleEvent,
    KalturaScheduleEventResource,
)

from tests.kaltura_api.builders import (
    add_resource,
    build,
    camera,
    hours_from_now,
    links,
    location,
    record,
    resource_ids,
)
from tests.kaltura_api.conftest import start_session

UNKNOWN_ID = 999_999


def run_room_camera_and_unknown(client) -> list:
    """A room, a camera in it (by back-reference), and a get of an id that does not exist."""
    client.startMultiRequest()
    room = client.schedule.scheduleResource.add(location("Hall 1"))
    client.schedule.scheduleResource.add(camera("Camera 1", parentId=room.id))
    client.schedule.scheduleEvent.get(UNKNOWN_ID)
    return client.doMultiRequest()


def test_it_answers_each_call_in_order(admin_client):
    room, cam, missing = run_room_camera_and_unknown(admin_client)
    assert isinstance(room, KalturaLocationScheduleResource)
    assert isinstance(cam, KalturaCameraScheduleResource)
    assert isinstance(missing, KalturaException)
    assert missing.code == "INVALID_OBJECT_ID"


def test_a_reference_counts_results_from_one(admin_client):
    room, cam, _ = run_room_camera_and_unknown(admin_client)
    assert cam.parentId == room.id
    assert admin_client.schedule.scheduleResource.get(cam.id).parentId == room.id


def test_a_failed_call_does_not_abort_the_others(admin_client):
    admin_client.startMultiRequest()
    admin_client.schedule.scheduleEvent.get(UNKNOWN_ID)
    admin_client.schedule.scheduleResource.add(location("Hall 1"))
    missing, room = admin_client.doMultiRequest()
    assert isinstance(missing, KalturaException)
    assert resource_ids(admin_client) == [room.id]


def test_a_reference_to_a_failed_call_fails_its_slot(admin_client):
    admin_client.startMultiRequest()
    missing = admin_client.schedule.scheduleResource.get(UNKNOWN_ID)
    admin_client.schedule.scheduleResource.add(camera(parentId=missing.id))
    admin_client.schedule.scheduleResource.add(location("Hall 1"))
    failed, dependent, room = admin_client.doMultiRequest()
    assert isinstance(failed, KalturaException) and isinstance(dependent, KalturaException)
    assert resource_ids(admin_client) == [room.id]


def test_it_books_a_room_in_one_round_trip(admin_client):
    admin_client.startMultiRequest()
    room = admin_client.schedule.scheduleResource.add(location("Hall 1"))
    lecture = admin_client.schedule.scheduleEvent.add(record(hours_from_now(24)))
    link = build(KalturaScheduleEventResource, eventId=lecture.id, resourceId=room.id)
    admin_client.schedule.scheduleEventResource.add(link)
    room, lecture, linked = admin_client.doMultiRequest()
    assert isinstance(lecture, KalturaRecordScheduleEvent)
    assert (linked.eventId, linked.resourceId) == (lecture.id, room.id)
    assert links(admin_client, eventIdEqual=lecture.id) == [(lecture.id, room.id)]


def test_a_later_call_may_use_a_session_started_earlier(client_for, partner):
    client = client_for()
    client.startMultiRequest()
    ks = client.session.start(partner.admin_secret, "alice", 2, partner.pk)
    client.setKs(ks)
    client.schedule.scheduleResource.add(location("Hall 1"))
    started, room = client.doMultiRequest()
    assert isinstance(room, KalturaLocationScheduleResource)
    assert client_for(started).session.get().userId == "alice"


def test_each_call_keeps_its_own_session(client_for, partner, admin_client):
    anonymous = client_for()
    anonymous.startMultiRequest()
    anonymous.schedule.scheduleEvent.list()
    anonymous.session.start(partner.admin_secret, "alice", 2, partner.pk)
    refused, started = anonymous.doMultiRequest()
    assert refused.code == "MISSING_KS"
    assert isinstance(started, str) and started


def test_another_partners_ids_stay_unknown_inside_a_multirequest(admin_client, outsider_client):
    room = add_resource(admin_client, location("Hall 1"))
    outsider_client.startMultiRequest()
    outsider_client.schedule.scheduleResource.get(room.id)
    outsider_client.schedule.scheduleResource.list()
    missing, listed = outsider_client.doMultiRequest()
    assert missing.code == "INVALID_OBJECT_ID"
    assert listed.totalCount == 0


def test_a_multirequest_of_a_user_session_cannot_write(client_for, partner):
    client = client_for(start_session(client_for(), partner, admin=False))
    client.startMultiRequest()
    client.schedule.scheduleResource.list()
    client.schedule.scheduleResource.add(location("Hall 1"))
    listed, refused = client.doMultiRequest()
    assert listed.totalCount == 0
    assert refused.code == "SERVICE_FORBIDDEN"


def test_a_reference_reaches_into_a_list(admin_client):
    room = add_resource(admin_client, location("Hall 1"))
    admin_client.startMultiRequest()
    found = admin_client.schedule.scheduleResource.list()
    admin_client.schedule.scheduleResource.get(found.objects[0].id)
    _, got = admin_client.doMultiRequest()
    assert got.id == room.id
