"""What staff see of delivery receipts (devices/receipts.py): in a booking's details, whether each
device of its rooms fetched its latest version; on the calendar page, the devices gone quiet
before a booking. Bob only looks; Alice's university is in Europe/Berlin (UTC+2 in September)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from calendar_app import scheduling
from calendar_app.devices import receipts
from calendar_app.devices.receipts import Channel
from calendar_app.models import ResourceType
from tests.conftest import NOW

ENCODER = "app-token:0_enc1"


@pytest.fixture(autouse=True)
def _pinned_clock(now):
    """NOW is Tuesday 1 September 2026, 08:00 UTC (10:00 in Berlin)."""


@pytest.fixture
def viewer(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def room(make_resource):
    return make_resource("Turing Hall")


@pytest.fixture
def lecture(make_event, room):
    return make_event("2026-09-01 16:00", resources=[room], summary="Algebra")


def fetch(room, at, device=ENCODER, label="Turing encoder", version="v1"):
    receipts.record(room.partner_id, device, label, [room.pk], Channel.ICAL, version, at)


def devices_line(client, event) -> str:
    """The details' Devices entry as it reads, whitespace collapsed; "" when it has none."""
    html = client.get(reverse("calendar:event", args=[event.pk])).content.decode()
    found = re.search(r'<ul class="delivery-state">.*?</ul>', html, re.DOTALL)
    return " ".join(strip_tags(found[0]).split()) if found else ""


def test_a_device_that_fetched_the_booking_as_it_is_shows_when(viewer, room, lecture):
    fetch(room, NOW + timedelta(minutes=1))
    assert devices_line(viewer, lecture) == (
        "Turing encoder fetched the latest version 1 Sep 2026, 10:01 (Turing Hall, API iCal)"
    )


def test_a_device_that_has_not_fetched_a_change_shows_when_it_was_last_seen(viewer, room, lecture, actor):
    fetch(room, NOW + timedelta(minutes=1))
    scheduling.update_event(replace(actor, now=NOW + timedelta(minutes=5)), lecture.pk, {"summary": "Moved"})
    assert devices_line(viewer, lecture).startswith(
        "Turing encoder has not fetched this version (last seen 1 Sep 2026, 10:01)"
    )


def test_a_room_no_device_fetched_is_never_seen(viewer, lecture):
    assert devices_line(viewer, lecture) == "Turing Hall never seen"


def test_another_partners_devices_are_not_shown(viewer, lecture, outsider, room):
    theirs = scheduling.create_resource(outsider, {"type": ResourceType.LOCATION, "name": "Theirs"})
    receipts.record(theirs.partner_id, ENCODER, "Their encoder", None, Channel.ICAL, "v1", NOW)
    assert "Their encoder" not in devices_line(viewer, lecture)


# ---------------------------------------------------------------- the calendar page


def banner(client) -> str:
    html = client.get(reverse("calendar:week"), {"date": "2026-09-01"}).content.decode()
    found = re.search(r'<section class="quiet-devices".*?</section>', html, re.DOTALL)
    return " ".join(strip_tags(found[0]).split()) if found else ""


def test_a_device_quiet_before_a_booking_is_flagged(viewer, room, lecture):
    fetch(room, NOW - timedelta(hours=2))
    assert banner(viewer) == (
        "1 device not seen before an upcoming booking "
        "Turing encoder (Turing Hall): last seen Tue 1 Sep 08:00; next “Algebra” Tue 1 Sep 18:00"
    )


def test_a_device_seen_lately_is_not_flagged(viewer, room, lecture):
    fetch(room, NOW - timedelta(minutes=5))
    assert banner(viewer) == ""


def receipt_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("calendar:week")).status_code == 200
    return sum("devicereceipt" in q["sql"] for q in captured.captured_queries)


def test_the_page_asks_for_quiet_devices_in_one_query(viewer, room, lecture, make_resource):
    for n in range(5):
        fetch(make_resource(f"Room {n}"), NOW - timedelta(minutes=5), device=f"app-token:{n}")
    assert receipt_queries(viewer) == 1


def test_many_quiet_devices_are_summed_up_after_five(viewer, room, lecture):
    for n in range(7):
        fetch(room, NOW - timedelta(hours=2), device=f"app-token:enc{n}")
    shown = banner(viewer)
    assert shown.startswith("7 devices not seen before an upcoming booking")
    assert shown.count("last seen") == 5
    assert shown.endswith("and 2 more")
