"""scheduleResource through the official client: rooms, cameras and live entries."""

from __future__ import annotations

from KalturaClient.Plugins.Schedule import (
    KalturaCameraScheduleResource,
    KalturaCameraScheduleResourceFilter,
    KalturaLiveEntryScheduleResource,
    KalturaLiveEntryScheduleResourceFilter,
    KalturaLocationScheduleResource,
    KalturaScheduleResourceStatus,
)

from tests.kaltura_api.builders import (
    add_resource,
    add_room_with_camera,
    camera,
    error_code,
    error_of,
    live_entry,
    location,
    resource_ids,
    value,
)

ACTIVE = KalturaScheduleResourceStatus.ACTIVE
DELETED = KalturaScheduleResourceStatus.DELETED


def test_it_adds_a_location(admin_client, partner):
    room = add_resource(admin_client, location("Hall 1", systemName="hall-1", description="Big"))
    assert isinstance(room, KalturaLocationScheduleResource)
    assert (room.name, room.systemName, room.description) == ("Hall 1", "hall-1", "Big")
    assert (room.partnerId, value(room.status)) == (partner.pk, ACTIVE)
    assert room.id > 0 and room.createdAt > 0


def test_it_adds_a_camera_below_a_room(admin_client):
    room, cam = add_room_with_camera(admin_client)
    assert isinstance(cam, KalturaCameraScheduleResource)
    assert cam.parentId == room.id


def test_it_keeps_a_cameras_stream_url(admin_client):
    cam = add_resource(admin_client, camera(streamUrl="rtsp://cam-a.example.org/live"))
    assert admin_client.schedule.scheduleResource.get(cam.id).streamUrl == "rtsp://cam-a.example.org/live"


def test_it_adds_a_live_entry_resource(admin_client):
    added = add_resource(admin_client, live_entry(entry_id="0_abcd1234"))
    assert isinstance(added, KalturaLiveEntryScheduleResource)
    assert added.entryId == "0_abcd1234"


def test_it_gets_a_resource_with_its_type(admin_client):
    room, cam = add_room_with_camera(admin_client)
    got = admin_client.schedule.scheduleResource.get(cam.id)
    assert isinstance(got, KalturaCameraScheduleResource)
    assert (got.id, got.name, got.parentId) == (cam.id, "Camera A", room.id)


def test_it_updates_only_the_fields_sent(admin_client):
    room = add_resource(admin_client, location("Hall 1", description="Big", tags="main"))
    updated = admin_client.schedule.scheduleResource.update(room.id, location("Hall One"))
    assert (updated.name, updated.description, updated.tags) == ("Hall One", "Big", "main")


def test_it_clears_a_field_set_to_none(admin_client):
    room = add_resource(admin_client, location(description="Big"))
    admin_client.schedule.scheduleResource.update(room.id, location(description=None))
    got = admin_client.schedule.scheduleResource.get(room.id)
    assert got.description in ("", None)
    assert got.name == "Room 1"


def test_it_moves_a_camera_to_another_room(admin_client):
    _, cam = add_room_with_camera(admin_client)
    other = add_resource(admin_client, location("Room B"))
    moved = admin_client.schedule.scheduleResource.update(cam.id, camera(parentId=other.id))
    assert moved.parentId == other.id


def test_it_deletes_a_resource_by_status(admin_client):
    room = add_resource(admin_client, location())
    deleted = admin_client.schedule.scheduleResource.delete(room.id)
    assert value(deleted.status) == DELETED


def test_a_deleted_resource_is_gone(admin_client):
    room = add_resource(admin_client, location())
    admin_client.schedule.scheduleResource.delete(room.id)
    assert error_code(admin_client.schedule.scheduleResource.get, room.id) == "INVALID_OBJECT_ID"


def test_an_unknown_id_is_invalid_object_id(admin_client):
    error = error_of(admin_client.schedule.scheduleResource.get, 999_999)
    assert error.code == "INVALID_OBJECT_ID"
    assert "999999" in error.message


def test_another_partners_resource_is_unknown(admin_client, outsider_client):
    room = add_resource(admin_client, location())
    assert error_code(outsider_client.schedule.scheduleResource.get, room.id) == "INVALID_OBJECT_ID"
    assert resource_ids(outsider_client) == []


def test_it_lists_the_children_of_a_room(admin_client):
    room, cam = add_room_with_camera(admin_client)
    add_resource(admin_client, camera("Elsewhere"))
    assert resource_ids(admin_client, parentIdEqual=room.id) == [cam.id]


def test_it_lists_by_system_names(admin_client):
    a = add_resource(admin_client, location("A", systemName="room-a"))
    add_resource(admin_client, location("B", systemName="room-b"))
    c = add_resource(admin_client, location("C", systemName="room-c"))
    assert sorted(resource_ids(admin_client, systemNameIn="room-a,room-c")) == [a.id, c.id]


def test_a_list_leaves_deleted_resources_out(admin_client):
    kept = add_resource(admin_client, location("Kept"))
    gone = add_resource(admin_client, location("Gone"))
    admin_client.schedule.scheduleResource.delete(gone.id)
    assert resource_ids(admin_client) == [kept.id]


def test_a_status_filter_lists_deleted_resources(admin_client):
    add_resource(admin_client, location("Kept"))
    gone = add_resource(admin_client, location("Gone"))
    admin_client.schedule.scheduleResource.delete(gone.id)
    assert resource_ids(admin_client, statusIn=str(DELETED)) == [gone.id]


def test_a_camera_filter_lists_only_cameras(admin_client):
    _, cam = add_room_with_camera(admin_client)
    add_resource(admin_client, live_entry())
    assert resource_ids(admin_client, cls=KalturaCameraScheduleResourceFilter) == [cam.id]


def test_a_live_entry_filter_lists_only_live_entries(admin_client):
    add_room_with_camera(admin_client)
    entry = add_resource(admin_client, live_entry())
    assert resource_ids(admin_client, cls=KalturaLiveEntryScheduleResourceFilter) == [entry.id]


def test_it_lists_by_tags(admin_client):
    tagged = add_resource(admin_client, location("A", tags="lecture,hd"))
    add_resource(admin_client, location("B", tags="meeting"))
    assert resource_ids(admin_client, tagsLike="hd") == [tagged.id]


def test_a_taken_system_name_is_refused(admin_client):
    add_resource(admin_client, location("A", systemName="hall-1"))
    error = error_of(add_resource, admin_client, location("B", systemName="hall-1"))
    assert error.code == "SYSTEM_NAME_ALREADY_EXISTS"
    assert resource_ids(admin_client, systemNameIn="hall-1") != []
    assert len(resource_ids(admin_client)) == 1


def test_a_deleted_resource_frees_its_system_name(admin_client):
    old = add_resource(admin_client, location("A", systemName="hall-1"))
    admin_client.schedule.scheduleResource.delete(old.id)
    assert add_resource(admin_client, location("B", systemName="hall-1")).systemName == "hall-1"


def test_a_resource_needs_a_name(admin_client):
    error = error_of(add_resource, admin_client, location(name=None))
    assert error.code == "PROPERTY_VALIDATION_CANNOT_BE_NULL"
    assert "name" in error.message
    assert resource_ids(admin_client) == []


def test_an_unknown_parent_is_refused(admin_client):
    error = error_of(add_resource, admin_client, camera(parentId=999_999))
    assert error.code in ("RESOURCE_PARENT_ID_NOT_FOUND", "INVALID_OBJECT_ID")
    assert resource_ids(admin_client) == []


def test_an_update_cannot_take_a_used_system_name(admin_client):
    add_resource(admin_client, location("A", systemName="hall-1"))
    other = add_resource(admin_client, location("B", systemName="hall-2"))
    renamed = location(systemName="hall-1")
    assert error_code(admin_client.schedule.scheduleResource.update, other.id, renamed) == (
        "SYSTEM_NAME_ALREADY_EXISTS"
    )
    assert admin_client.schedule.scheduleResource.get(other.id).systemName == "hall-2"


def test_a_room_cannot_sit_below_its_own_camera(admin_client):
    room, cam = add_room_with_camera(admin_client)
    change = location(parentId=cam.id)
    assert error_code(admin_client.schedule.scheduleResource.update, room.id, change)  # any refusal
    assert admin_client.schedule.scheduleResource.get(room.id).parentId in (None, 0)
