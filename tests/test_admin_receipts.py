"""Django admin's delivery receipts (calendar_app/admin/receipts.py): the list, and its filter of
devices gone quiet before an upcoming booking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from calendar_app.devices import receipts
from calendar_app.devices.receipts import Channel
from tests.conftest import NOW

LIST = "admin:calendar_app_devicereceipt_changelist"


@pytest.fixture
def room(make_resource):
    return make_resource("Turing Hall")


def fetch(room, device: str, at):
    receipts.record(room.partner_id, device, device.title(), [room.pk], Channel.ICAL, "v1", at)


def listed(admin_client, **params) -> list[str]:
    response = admin_client.get(reverse(LIST), params)
    assert response.status_code == 200
    return sorted(r.device for r in response.context["cl"].result_list)


def test_it_lists_the_receipts(admin_client, room):
    fetch(room, "app-token:a", NOW)
    assert listed(admin_client) == ["app-token:a"]


def test_it_filters_the_devices_quiet_before_a_booking(admin_client, room, make_event, now):
    make_event("2026-09-01 18:00", resources=[room])
    fetch(room, "app-token:quiet", NOW - timedelta(hours=1))
    fetch(room, "app-token:awake", NOW - timedelta(minutes=1))
    assert listed(admin_client, quiet="yes") == ["app-token:quiet"]


def test_receipts_cannot_be_added_or_changed(admin_client, room):
    fetch(room, "app-token:a", NOW)
    assert admin_client.get(reverse("admin:calendar_app_devicereceipt_add")).status_code == 403
