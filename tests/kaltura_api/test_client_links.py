"""scheduleEventResource through the official client: which resource an event books."""

from __future__ import annotations

import pytest
from KalturaClient.Plugins.Schedule import KalturaScheduleEventResource

from tests.kaltura_api.builders import (
    HOUR,
    add_event,
    add_resource,
    blackout,
    build,
    error_code,
    error_of,
    link,
    links,
    location,
    occurrences,
    record,
    series,
)


@pytest.fixture
def lecture(admin_client, soon):
    return add_event(admin_client, record(soon))


@pytest.fixture
def service(admin_client):
    return admin_client.schedule.scheduleEventResource


def test_it_links_a_resource_to_an_event(admin_client, partner, room, lecture):
    added = link(admin_client, lecture.id, room.id)
    assert isinstance(added, KalturaScheduleEventResource)
    assert (added.eventId, added.resourceId, added.partnerId) == (lecture.id, room.id, partner.pk)
    assert added.createdAt > 0


def test_it_gets_a_link(admin_client, service, room, lecture):
    link(admin_client, lecture.id, room.id)
    got = service.get(lecture.id, room.id)
    assert (got.eventId, got.resourceId) == (lecture.id, room.id)


def test_it_lists_links_by_event_and_by_resource(admin_client, room, lecture, soon):
    other = add_event(admin_client, record(soon + 2 * HOUR), room)
    link(admin_client, lecture.id, room.id)
    assert links(admin_client, eventIdEqual=lecture.id) == [(lecture.id, room.id)]
    assert links(admin_client, resourceIdEqual=room.id) == sorted(
        [(lecture.id, room.id), (other.id, room.id)]
    )


def test_an_update_confirms_the_link(admin_client, service, room, lecture):
    link(admin_client, lecture.id, room.id)
    same = build(KalturaScheduleEventResource, eventId=lecture.id, resourceId=room.id)
    updated = service.update(lecture.id, room.id, same)
    assert (updated.eventId, updated.resourceId) == (lecture.id, room.id)


def test_an_update_cannot_move_the_link(admin_client, service, room, lecture):
    link(admin_client, lecture.id, room.id)
    other = add_resource(admin_client, location("Hall 2"))
    moved = build(KalturaScheduleEventResource, eventId=lecture.id, resourceId=other.id)
    assert error_code(service.update, lecture.id, room.id, moved) == "PROPERTY_VALIDATION_NOT_UPDATABLE"
    assert links(admin_client, eventIdEqual=lecture.id) == [(lecture.id, room.id)]


def test_it_deletes_a_link(admin_client, service, room, lecture):
    link(admin_client, lecture.id, room.id)
    assert service.delete(lecture.id, room.id) is None
    assert links(admin_client, eventIdEqual=lecture.id) == []
    assert error_code(service.get, lecture.id, room.id) == "INVALID_OBJECT_ID"


def test_linking_a_series_links_its_occurrences(admin_client, room, soon):
    parent = add_event(admin_client, series(soon, count=3), room)
    second = occurrences(admin_client, parent.id)[1]
    assert links(admin_client, eventIdEqual=second.id) == [(second.id, room.id)]


def test_unlinking_a_series_unlinks_its_occurrences(admin_client, service, room, soon):
    parent = add_event(admin_client, series(soon, count=3), room)
    service.delete(parent.id, room.id)
    assert links(admin_client, resourceIdEqual=room.id) == []


def test_an_occurrence_finds_the_resources_of_its_series(admin_client, room, soon):
    parent = add_event(admin_client, series(soon, count=3), room)
    second = occurrences(admin_client, parent.id)[1]
    found = links(admin_client, eventIdOrItsParentIdEqual=second.id)
    assert [resource for _, resource in found] == [room.id]


def test_a_single_event_finds_its_own_resources(admin_client, room, lecture):
    link(admin_client, lecture.id, room.id)
    assert links(admin_client, eventIdOrItsParentIdEqual=lecture.id) == [(lecture.id, room.id)]


def test_links_of_events_in_a_blackout_are_hidden_by_default(admin_client, room, lecture, soon):
    link(admin_client, lecture.id, room.id)
    add_event(admin_client, blackout(soon - HOUR, 8 * 60))
    assert links(admin_client, resourceIdEqual=room.id) == []
    assert links(admin_client, True, resourceIdEqual=room.id) == []


def test_links_of_events_in_a_blackout_show_on_request(admin_client, room, lecture, soon):
    link(admin_client, lecture.id, room.id)
    add_event(admin_client, blackout(soon - HOUR, 8 * 60))
    assert links(admin_client, False, resourceIdEqual=room.id) == [(lecture.id, room.id)]


def test_a_blackout_elsewhere_hides_nothing(admin_client, room, lecture, soon):
    link(admin_client, lecture.id, room.id)
    add_event(admin_client, blackout(soon + 3 * HOUR, 60))
    assert links(admin_client, resourceIdEqual=room.id) == [(lecture.id, room.id)]


def test_links_of_deleted_events_are_not_listed(admin_client, room, lecture):
    link(admin_client, lecture.id, room.id)
    admin_client.schedule.scheduleEvent.delete(lecture.id)
    assert links(admin_client, resourceIdEqual=room.id) == []


def test_a_duplicate_link_is_refused(admin_client, room, lecture):
    link(admin_client, lecture.id, room.id)
    assert error_code(link, admin_client, lecture.id, room.id) == "SCHEDULE_EVENT_RESOURCE_ALREADY_EXISTS"
    assert links(admin_client, eventIdEqual=lecture.id) == [(lecture.id, room.id)]


def test_an_unknown_event_is_refused(admin_client, room):
    error = error_of(link, admin_client, 999_999, room.id)
    assert error.code == "INVALID_OBJECT_ID"
    assert "999999" in error.message


def test_an_unknown_resource_is_refused(admin_client, lecture):
    error = error_of(link, admin_client, lecture.id, 999_999)
    assert error.code == "INVALID_OBJECT_ID"
    assert "999999" in error.message


def test_a_deleted_resource_cannot_be_linked(admin_client, room, lecture):
    admin_client.schedule.scheduleResource.delete(room.id)
    assert error_code(link, admin_client, lecture.id, room.id) == "INVALID_OBJECT_ID"


def test_an_unknown_link_is_invalid_object_id(admin_client, service, room, lecture):
    assert error_code(service.get, lecture.id, room.id) == "INVALID_OBJECT_ID"
    assert error_code(service.delete, lecture.id, room.id) == "INVALID_OBJECT_ID"


def test_a_link_needs_both_ids(admin_client, room):
    half = build(KalturaScheduleEventResource, resourceId=room.id)
    error = error_of(admin_client.schedule.scheduleEventResource.add, half)
    assert error.code == "PROPERTY_VALIDATION_CANNOT_BE_NULL"
    assert "eventId" in error.message


def test_another_partner_cannot_link_or_see_links(admin_client, outsider_client, room, lecture, soon):
    link(admin_client, lecture.id, room.id)
    theirs = add_event(outsider_client, record(soon))
    assert error_code(link, outsider_client, theirs.id, room.id) == "INVALID_OBJECT_ID"
    assert error_code(outsider_client.schedule.scheduleEventResource.get, lecture.id, room.id) == (
        "INVALID_OBJECT_ID"
    )
    assert links(outsider_client) == []


def test_a_cancelled_blackout_hides_nothing(admin_client, room, lecture, soon):
    link(admin_client, lecture.id, room.id)
    holiday = add_event(admin_client, blackout(soon - HOUR, 8 * 60))
    admin_client.schedule.scheduleEvent.cancel(holiday.id)
    assert links(admin_client, resourceIdEqual=room.id) == [(lecture.id, room.id)]
