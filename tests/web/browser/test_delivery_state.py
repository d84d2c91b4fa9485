"""Delivery receipts in Chromium: the calendar page flags a capture device gone quiet before a
booking, and the booking's details say which devices have its latest version. Screenshots go to
test-artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from calendar_app.devices import receipts
from calendar_app.devices.receipts import Channel
from tests.conftest import NOW
from tests.web.browser import calendar_page as cal
from tests.web.browser.accounts import signed_in

pytestmark = pytest.mark.usefixtures("now")


@pytest.fixture
def room(make_resource):
    return make_resource("Lovelace 101")


@pytest.fixture
def lecture(make_event, room):
    return make_event(
        "2026-09-01 18:00", 90, zone="Europe/Berlin", summary="Evening lecture", resources=[room]
    )


def fetch(room, device: str, label: str, at) -> None:
    receipts.record(room.partner_id, device, label, [room.pk], Channel.ICAL, "v1", at)


def test_staff_see_a_quiet_device_and_who_has_the_booking(page, live_server, bob, room, lecture, screenshot):
    fetch(room, "app-token:0_old", "Lovelace encoder", NOW - timedelta(hours=3))
    fetch(room, "feed:1", "feed subscribers (Thunderbird)", NOW)  # as the booking was made
    page = signed_in(page, live_server, bob)
    banner = page.get_by_role("status", name="Quiet devices")
    expect(banner).to_contain_text("Lovelace encoder (Lovelace 101): last seen Tue 1 Sep 07:00")
    cal.booking(page, "Evening lecture").click()
    devices = page.locator("#panel .delivery-state")
    expect(devices).to_contain_text("feed subscribers (Thunderbird) fetched the latest version")
    expect(devices).to_contain_text(
        "Lovelace encoder has not fetched this version (last seen 1 Sep 2026, 07:00)"
    )
    screenshot(page, "delivery-state")
