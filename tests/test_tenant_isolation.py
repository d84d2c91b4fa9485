"""Charlie (another partner) must find nothing of Alice's through any service function."""

from __future__ import annotations

import pytest

from calendar_app import scheduling
from calendar_app.errors import NotFound, ValidationFailed
from calendar_app.models import AuditEntry, ResourceType, ScheduleEvent, ScheduleResource
from tests.conftest import at


@pytest.fixture
def alices(make_resource, make_event, make_series):
    room = make_resource("Alice's room", system_name="room-101")
    return {
        "room": room,
        "event": make_event(resources=[room]),
        "series": make_series(count=3, resources=[room]),
    }


@pytest.mark.parametrize(
    "call",
    [
        lambda who, a: scheduling.get_event(who.partner, a["event"].pk),
        lambda who, a: scheduling.update_event(who, a["event"].pk, {"summary": "Mine now"}),
        lambda who, a: scheduling.update_event(who, a["series"].occurrences.first().pk, {"summary": "x"}),
        lambda who, a: scheduling.cancel_event(who, a["series"].pk),
        lambda who, a: scheduling.delete_event(who, a["event"].pk),
        lambda who, a: scheduling.get_resource(who.partner, a["room"].pk),
        lambda who, a: scheduling.update_resource(who, a["room"].pk, {"name": "Mine"}),
        lambda who, a: scheduling.delete_resource(who, a["room"].pk),
        lambda who, a: scheduling.link_resource(who, a["event"].pk, a["room"].pk),
        lambda who, a: scheduling.unlink_resource(who, a["event"].pk, a["room"].pk),
        lambda who, a: scheduling.get_link(who.partner, a["event"].pk, a["room"].pk),
    ],
)
def test_an_outsider_finds_nothing(outsider, alices, call):
    with pytest.raises(NotFound):
        call(outsider, alices)


def test_an_outsider_cannot_book_alices_room(outsider, alices):
    with pytest.raises(NotFound):
        scheduling.create_event(
            outsider,
            {"type": 1, "summary": "x", "start": at("2026-09-07 09:00"), "end": at("2026-09-07 10:00")},
            resource_ids=[alices["room"].pk],
        )


def test_an_outsider_cannot_link_alices_room_to_their_own_event(outsider, alices, make_event):
    theirs = make_event(who=outsider)
    with pytest.raises(NotFound):
        scheduling.link_resource(outsider, theirs.pk, alices["room"].pk)


def test_an_outsider_cannot_hang_a_resource_under_alices(outsider, alices):
    with pytest.raises(ValidationFailed) as error:
        scheduling.create_resource(
            outsider, {"type": ResourceType.CAMERA, "name": "cam", "parent_id": alices["room"].pk}
        )
    assert error.value.code == "RESOURCE_PARENT_ID_NOT_FOUND"


def test_nothing_of_alices_changed_and_nothing_was_audited_for_charlie(outsider, alices):
    for call in (
        lambda: scheduling.update_event(outsider, alices["event"].pk, {"summary": "Mine"}),
        lambda: scheduling.delete_resource(outsider, alices["room"].pk),
    ):
        with pytest.raises(NotFound):
            call()
    assert ScheduleEvent.objects.get(pk=alices["event"].pk).summary == "Lecture"
    assert ScheduleResource.objects.get(pk=alices["room"].pk).status == 2
    assert not AuditEntry.objects.filter(partner=outsider.partner).exists()


def test_scoped_querysets_show_only_the_partners_rows(partner, outsider, alices, make_event):
    make_event(who=outsider)
    assert set(ScheduleEvent.objects.for_partner(outsider.partner).values_list("partner", flat=True)) == {
        outsider.partner.pk
    }
    assert ScheduleEvent.objects.for_partner(partner).count() == 5
