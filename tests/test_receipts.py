"""Delivery receipts (calendar_app/devices/receipts.py): recording what each device fetched, and
what staff ask: has it fetched this booking's latest version, which devices went quiet."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from calendar_app import scheduling
from calendar_app.devices import receipts
from calendar_app.devices.receipts import BEHIND, LATEST, NEVER, Channel
from calendar_app.models import DeviceReceipt, ResourceType, ScheduleEvent
from tests.conftest import NOW

DEVICE = "app-token:0_tok1"


@pytest.fixture
def room(make_resource):
    return make_resource("Hall 1")


@pytest.fixture
def camera(make_resource, room):
    return make_resource("Hall 1 cam", type=ResourceType.CAMERA, parent_id=room.pk)


@pytest.fixture
def fetch(partner):
    """The device fetches `resources` (None: the whole schedule) at `at`, in `version`."""

    def run(resources, at=NOW, version="v1", device=DEVICE, partner_id=partner.pk) -> bool:
        ids = None if resources is None else [r.pk for r in resources]
        return receipts.record(partner_id, device, "Hall 1 encoder", ids, Channel.ICAL, version, at)

    return run


def rows():
    return list(
        DeviceReceipt.objects.order_by("pk").values_list("device", "resource_id", "fetched_at", "version")
    )


# ---------------------------------------------------------------- recording


def test_it_records_one_row_per_resource_fetched(fetch, room, camera):
    fetch([room, camera])
    assert rows() == [(DEVICE, room.pk, NOW, "v1"), (DEVICE, camera.pk, NOW, "v1")]


def test_a_later_fetch_updates_the_same_rows(fetch, room):
    fetch([room])
    fetch([room], at=NOW + timedelta(minutes=5), version="v2")
    assert rows() == [(DEVICE, room.pk, NOW + timedelta(minutes=5), "v2")]


def test_the_whole_schedule_is_one_row_per_device(fetch):
    fetch(None)
    fetch(None, at=NOW + timedelta(minutes=5), version="v2")
    assert rows() == [(DEVICE, None, NOW + timedelta(minutes=5), "v2")]


def test_the_same_version_again_within_the_interval_is_not_written(fetch, room, settings):
    settings.RECEIPT_MIN_INTERVAL = 30
    assert fetch([room]) is True
    assert fetch([room], at=NOW + timedelta(seconds=10)) is False
    assert rows() == [(DEVICE, room.pk, NOW, "v1")]


def test_a_new_version_is_written_at_once(fetch, room):
    fetch([room])
    assert fetch([room], at=NOW + timedelta(seconds=10), version="v2") is True


def test_the_row_is_the_truth_when_the_cache_forgets(fetch, room):
    from django.core.cache import caches

    fetch([room])
    caches["receipts"].clear()
    assert fetch([room], at=NOW + timedelta(seconds=10)) is True
    assert rows() == [(DEVICE, room.pk, NOW + timedelta(seconds=10), "v1")]


def test_a_skipped_poll_costs_no_query(fetch, room, django_assert_num_queries):
    fetch([room])
    with django_assert_num_queries(0):
        fetch([room], at=NOW + timedelta(seconds=10))


def test_a_label_function_is_only_called_to_write(partner, room):
    calls = []

    def label():
        calls.append(1)
        return "Encoder"

    for _ in range(3):
        receipts.record(partner.pk, DEVICE, label, [room.pk], Channel.ICAL, "v1", NOW)
    assert calls == [1]


def test_another_partners_resource_is_never_recorded(fetch, outsider, room):
    theirs = scheduling.create_resource(outsider, {"type": ResourceType.LOCATION, "name": "Theirs"})
    fetch([room, theirs])
    assert [r[1] for r in rows()] == [room.pk]


def test_a_long_user_id_becomes_a_bounded_device_key():
    device = receipts.user_device("x" * 300)
    assert len(device) <= 64 and device != receipts.user_device("x" * 299)


# ---------------------------------------------------------------- for_event


def states(event):
    return [(s.device, s.state) for s in receipts.for_event(event)]


def test_a_fetch_after_the_last_change_has_the_latest_version(fetch, make_event, room):
    event = make_event(resources=[room])
    fetch([room], at=event.updated_at + timedelta(seconds=1))
    assert states(event) == [(DEVICE, LATEST)]


def test_a_fetch_before_a_change_is_behind(fetch, make_event, room, actor):
    event = make_event(resources=[room])
    fetch([room], at=NOW + timedelta(minutes=1))
    later = replace(actor, now=NOW + timedelta(minutes=2))
    event = scheduling.update_event(later, event.pk, {"summary": "Moved"})
    [state] = receipts.for_event(event)
    assert (state.state, state.fetched_at) == (BEHIND, NOW + timedelta(minutes=1))


def test_an_occurrence_is_behind_when_its_series_changed_since(fetch, make_series, room, actor):
    series = make_series(count=3, resources=[room])
    occurrence = ScheduleEvent.objects.filter(parent=series).order_by("start").first()
    fetch([room], at=NOW + timedelta(minutes=1))
    ScheduleEvent.objects.filter(pk=series.pk).update(updated_at=NOW + timedelta(minutes=2))
    assert states(occurrence) == [(DEVICE, BEHIND)]


def test_a_rooms_fetch_covers_its_cameras_bookings(fetch, make_event, room, camera):
    event = make_event(resources=[camera])
    fetch([room], at=NOW + timedelta(minutes=1))
    assert states(event) == [(DEVICE, LATEST)]


def test_a_cameras_fetch_does_not_cover_its_rooms_bookings(fetch, make_event, room, camera):
    event = make_event(resources=[room])
    fetch([camera], at=NOW + timedelta(minutes=1))
    assert [(s.label, s.state) for s in receipts.for_event(event)] == [("Hall 1", NEVER)]


def test_a_whole_schedule_fetch_covers_every_booking(fetch, make_event, room):
    event = make_event(resources=[room])
    fetch(None, at=NOW + timedelta(minutes=1))
    [state] = receipts.for_event(event)
    assert (state.state, state.via) == (LATEST, "")


def test_last_seen_is_the_devices_last_fetch_of_anything(fetch, make_event, make_resource, room, actor):
    other = make_resource("Hall 2")
    event = make_event(resources=[room])
    fetch([room], at=NOW - timedelta(hours=1), version="v0")
    fetch([other], at=NOW + timedelta(hours=1), version="v9")
    [state] = receipts.for_event(event)
    assert (state.state, state.last_seen) == (BEHIND, NOW + timedelta(hours=1))


def test_another_partners_devices_are_not_shown(fetch, make_event, room, outsider_partner):
    event = make_event(resources=[room])
    fetch(None, at=NOW + timedelta(minutes=1), partner_id=outsider_partner.pk)
    assert states(event) == [("", NEVER)]


def test_the_booking_details_take_four_queries(fetch, make_event, room, django_assert_max_num_queries):
    event = make_event(resources=[room])
    for n in range(20):
        fetch([room], device=f"app-token:{n}", at=NOW + timedelta(minutes=1))
    with django_assert_max_num_queries(4):
        assert len(receipts.for_event(event)) == 20


# ---------------------------------------------------------------- quiet devices


def test_a_silent_device_with_a_booking_coming_is_quiet(fetch, make_event, room):
    make_event("2026-09-01 18:00", resources=[room], summary="Evening lecture")
    fetch([room], at=NOW - timedelta(minutes=20))
    [quiet] = receipts.quiet_devices(room.partner, NOW)
    assert (quiet.device, quiet.next_summary, quiet.resource_ids) == (DEVICE, "Evening lecture", {room.pk})


def test_a_device_seen_recently_is_not_quiet(fetch, make_event, room):
    make_event("2026-09-01 18:00", resources=[room])
    fetch([room], at=NOW - timedelta(minutes=10))
    assert receipts.quiet_devices(room.partner, NOW) == []


def test_a_silent_device_without_a_booking_coming_is_not_flagged(fetch, make_event, room):
    make_event("2026-09-03 09:00", resources=[room])  # beyond the next 24 hours
    fetch([room], at=NOW - timedelta(hours=3))
    assert receipts.quiet_devices(room.partner, NOW) == []


def test_a_cancelled_booking_does_not_make_a_device_quiet(fetch, make_event, room, actor):
    event = make_event("2026-09-01 18:00", resources=[room])
    scheduling.cancel_event(actor, event.pk)
    fetch([room], at=NOW - timedelta(hours=3))
    assert receipts.quiet_devices(room.partner, NOW) == []


def test_a_rooms_device_is_quiet_before_a_booking_of_its_camera(fetch, make_event, room, camera):
    make_event("2026-09-01 18:00", resources=[camera])
    fetch([room], at=NOW - timedelta(hours=3))
    [quiet] = receipts.quiet_devices(room.partner, NOW)
    assert quiet.resource_ids == {camera.pk}


def test_its_window_is_a_setting(fetch, make_event, room, settings):
    settings.DEVICE_QUIET_MINUTES = 60
    make_event("2026-09-01 18:00", resources=[room])
    fetch([room], at=NOW - timedelta(minutes=20))
    assert receipts.quiet_devices(room.partner, NOW) == []


def test_quiet_devices_stay_within_their_partner(fetch, make_event, room, outsider_partner):
    make_event("2026-09-01 18:00", resources=[room])
    fetch(None, at=NOW - timedelta(hours=3), partner_id=outsider_partner.pk)
    assert receipts.quiet_devices(room.partner, NOW) == []
    assert receipts.quiet_devices(outsider_partner, NOW) == []


def test_quiet_devices_take_at_most_three_queries(
    fetch, make_event, make_resource, django_assert_max_num_queries
):
    rooms = [make_resource(f"Room {n}") for n in range(10)]
    for n, room in enumerate(rooms):
        make_event("2026-09-01 18:00", resources=[room])
        fetch([room], device=f"app-token:{n}", at=NOW - timedelta(hours=1))
    with django_assert_max_num_queries(3):
        assert len(receipts.quiet_devices(rooms[0].partner, NOW)) == 10


def test_the_same_version_is_written_again_once_the_interval_passed(fetch, room, settings):
    settings.RECEIPT_MIN_INTERVAL = 30
    fetch([room])
    assert fetch([room], at=NOW + timedelta(seconds=30)) is True
    assert rows() == [(DEVICE, room.pk, NOW + timedelta(seconds=30), "v1")]


def test_a_receipt_that_cannot_be_written_does_not_fail_the_fetch(fetch, room, monkeypatch):
    from django.db import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(receipts, "_upsert_each", refuse)
    assert fetch([room]) is False
    assert rows() == []


def test_a_feed_subscriber_is_never_quiet(fetch, make_event, room):
    # People's calendar apps poll when they like (hourly, daily): their silence warns of nothing.
    make_event("2026-09-01 18:00", resources=[room])
    fetch([room], device=receipts.feed_device(room.pk), at=NOW - timedelta(hours=5))
    assert receipts.quiet_devices(room.partner, NOW) == []
