"""Django admin for entries: written through devices/entries.py (audited), the stream password
write-only, templates of the same partner only; and a booking's template checked on its field."""

from __future__ import annotations

import pytest

from calendar_app.devices import entries
from calendar_app.models import AuditEntry, Entry, EntryType, ScheduleEvent
from tests.test_admin import admin_url, event_form


def entry_form(partner, **fields) -> dict:
    return {"partner": partner.pk, "type": EntryType.LIVE_STREAM, "name": "Hall 1", "media_type": 1, **fields}


@pytest.fixture
def stream(actor):
    return entries.create_entry(actor, EntryType.LIVE_STREAM, {"name": "Hall 1 stream"})


def test_it_adds_a_live_entry_with_endpoints_and_an_audit_row(admin_client, partner, now):
    response = admin_client.post(admin_url(Entry, "add"), entry_form(partner))
    assert response.status_code == 302
    entry = Entry.objects.get(name="Hall 1")
    assert entry.primary_rtmp_endpoint.endswith(f"?t={entry.stream_password}") and entry.stream_password
    assert AuditEntry.objects.filter(object_id=entry.pk, action="create", source="admin").exists()


def test_it_never_shows_the_stream_password(admin_client, stream):
    page = admin_client.get(admin_url(Entry, "change", stream.pk)).content.decode()
    assert stream.primary_rtmp_endpoint.split("?")[0] in page
    assert f'value="{stream.stream_password}"' not in page


def test_an_edit_keeps_the_password_left_empty_and_is_audited(admin_client, partner, stream):
    form = entry_form(partner, name="Renamed", **{f: getattr(stream, f) for f in _endpoints()})
    admin_client.post(admin_url(Entry, "change", stream.pk), form)
    stored = Entry.objects.get(pk=stream.pk)
    assert (stored.name, stored.stream_password) == ("Renamed", stream.stream_password)
    assert AuditEntry.objects.filter(object_id=stream.pk, action="update", source="admin").exists()


def test_a_template_of_another_partner_is_refused_on_its_field(admin_client, partner, outsider):
    theirs = entries.create_entry(outsider, EntryType.LIVE_STREAM, {"name": "Theirs"})
    form = entry_form(partner, type=EntryType.MEDIA, template_entry=theirs.pk)
    response = admin_client.post(admin_url(Entry, "add"), form)
    assert "template_entry" in response.context["adminform"].form.errors
    assert not Entry.objects.filter(partner=partner).exists()


def test_it_shows_the_bookings_of_an_entry(admin_client, stream, make_event):
    event = make_event(template_entry_id=stream.pk, summary="Physics with a template")
    page = admin_client.get(admin_url(Entry, "change", stream.pk)).content.decode()
    assert "Physics with a template" in page and admin_url(ScheduleEvent, "change", event.pk) in page


def test_deleting_marks_it_deleted_through_the_service(admin_client, stream):
    admin_client.post(admin_url(Entry, "delete", stream.pk), {"post": "yes"})
    assert Entry.objects.get(pk=stream.pk).status == Entry.Status.DELETED
    assert AuditEntry.objects.filter(object_id=stream.pk, action="delete", source="admin").exists()


@pytest.mark.parametrize("which", ["missing", "deleted"])
def test_a_booking_with_an_unknown_template_shows_it_on_the_field(admin_client, partner, actor, which, now):
    template_id = "0_nosuch00"
    if which == "deleted":
        template_id = entries.create_entry(actor, EntryType.LIVE_STREAM, {"name": "Gone"}).pk
        entries.delete_entry(actor, template_id)
    form = {"partner": partner.pk, **event_form(template_entry_id=template_id)}
    response = admin_client.post(admin_url(ScheduleEvent, "add"), form)
    assert response.context["adminform"].form.errors["template_entry_id"] == [
        f'entry "{template_id}" not found'
    ]
    assert not ScheduleEvent.objects.exists()


def _endpoints() -> list[str]:
    return ["primary_rtmp_endpoint", "secondary_rtmp_endpoint", "primary_rtsp_endpoint",
            "secondary_rtsp_endpoint", "stream_name"]  # fmt: skip
