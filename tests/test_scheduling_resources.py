"""Resources: hierarchy without cycles, unique system names among the living, type rules."""

from __future__ import annotations

import pytest

from calendar_app import scheduling
from calendar_app.errors import NotFound, ValidationFailed
from calendar_app.models import ResourceStatus, ResourceType


def test_it_builds_a_building_room_camera_hierarchy(make_resource):
    building = make_resource("Building A", system_name="bldg-a")
    room = make_resource("A-101", parent_id=building.pk)
    camera = make_resource("A-101 cam", type=ResourceType.CAMERA, parent_id=room.pk, stream_url="rtsp://x")
    assert (camera.parent.parent, camera.stream_url) == (building, "rtsp://x")


def test_a_system_name_is_unique_per_partner(make_resource):
    make_resource(system_name="room-101")
    with pytest.raises(ValidationFailed) as error:
        make_resource(system_name="room-101")
    assert (error.value.code, error.value.error_args) == (
        "SYSTEM_NAME_ALREADY_EXISTS",
        {"SYS_NAME": "room-101"},
    )


def test_a_deleted_resource_frees_its_system_name(actor, make_resource):
    old = make_resource(system_name="room-101")
    scheduling.delete_resource(actor, old.pk)
    assert make_resource(system_name="room-101").pk != old.pk


def test_another_partner_may_use_the_same_system_name(outsider, make_resource):
    make_resource(system_name="room-101")
    assert make_resource(system_name="room-101", who=outsider).pk


def test_resources_without_system_names_do_not_collide(make_resource):
    make_resource(system_name="")
    assert make_resource(system_name="").system_name is None


def test_a_system_name_is_a_slug(make_resource):
    with pytest.raises(ValidationFailed) as error:
        make_resource(system_name="room 101!")
    assert error.value.field == "system_name"


def test_a_parent_must_exist(make_resource):
    with pytest.raises(ValidationFailed) as error:
        make_resource(parent_id=999)
    assert (error.value.code, error.value.error_args) == ("RESOURCE_PARENT_ID_NOT_FOUND", {"PARENT_ID": 999})


def test_a_resource_cannot_become_its_own_ancestor(actor, make_resource):
    building = make_resource("Building")
    room = make_resource("Room", parent_id=building.pk)
    with pytest.raises(ValidationFailed) as error:
        scheduling.update_resource(actor, building.pk, {"parent_id": room.pk})
    assert error.value.code == "RESOURCE_PARENT_CYCLE"
    with pytest.raises(ValidationFailed):
        scheduling.update_resource(actor, building.pk, {"parent_id": building.pk})


def test_parent_zero_means_no_parent(actor, make_resource):
    room = make_resource(parent_id=make_resource().pk)
    assert scheduling.update_resource(actor, room.pk, {"parent_id": 0}).parent is None


def test_a_live_entry_resource_needs_its_entry(actor):
    with pytest.raises(ValidationFailed) as error:
        scheduling.create_resource(actor, {"type": ResourceType.LIVE_ENTRY, "name": "Live"})
    assert error.value.field == "entry_id"


def test_a_stream_url_belongs_to_cameras_only(make_resource):
    with pytest.raises(ValidationFailed) as error:
        make_resource(type=ResourceType.LOCATION, stream_url="rtsp://x")
    assert error.value.field == "stream_url"


def test_an_update_changes_only_what_is_sent(actor, make_resource):
    room = make_resource("Room", description="Big", tags="a,b")
    scheduling.update_resource(actor, room.pk, {"name": "Hall"})
    room.refresh_from_db()
    assert (room.name, room.description, room.tags) == ("Hall", "Big", "a,b")


def test_the_type_cannot_change(actor, make_resource):
    with pytest.raises(ValidationFailed) as error:
        scheduling.update_resource(actor, make_resource().pk, {"type": ResourceType.CAMERA})
    assert error.value.code == "PROPERTY_VALIDATION_NOT_UPDATABLE"


def test_delete_is_soft_and_hides_the_resource(actor, make_resource):
    room = make_resource()
    assert scheduling.delete_resource(actor, room.pk).status == ResourceStatus.DELETED
    with pytest.raises(NotFound):
        scheduling.get_resource(actor.partner, room.pk)


def test_a_deleted_resource_cannot_be_linked(actor, make_resource, make_event):
    room = make_resource()
    scheduling.delete_resource(actor, room.pk)
    with pytest.raises(NotFound):
        scheduling.link_resource(actor, make_event().pk, room.pk)
