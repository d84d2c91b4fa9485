"""calendar_app/devices/entries.py: entries as writes of the schedule, live endpoints, template
metadata, and recordings linked to the booking they were made for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from calendar_app import clock, scheduling, writes
from calendar_app.devices import entries
from calendar_app.errors import ValidationFailed
from calendar_app.models import AuditEntry, Entry, EntryType, EventType, ScheduleEvent
from tests.conftest import at

LIVE, MEDIA = EntryType.LIVE_STREAM, EntryType.MEDIA


@pytest.fixture
def template(actor):
    return entries.create_entry(
        actor, LIVE,
        {"name": "Hall 1 template", "description": "Recorded in Hall 1", "tags": "physics",
         "categories": "Lectures>Physics", "category_ids": "12,13", "owner_id": "prof",
         "entitled_users_edit": "bob", "entitled_users_publish": "carol"},
    )  # fmt: skip


def actor_at(actor: writes.Actor, moment) -> writes.Actor:
    return writes.Actor(actor.partner, moment, actor.user_id, actor.source)


def recording(actor, template, moment, **data) -> Entry:
    return entries.create_entry(
        actor_at(actor, moment), MEDIA, {"template_entry_id": template.pk, **data}, app_token="tok1"
    )


def weekly(make_event, template, summary: str = "Physics") -> ScheduleEvent:
    """Three Mondays at 09:00 Berlin from 2026-10-19, across the end of summer time (10-25)."""
    rule = {"frequency": "weeks", "count": 3, "time_zone": "Europe/Berlin"}
    return make_event(
        "2026-10-19 09:00", 90, zone="Europe/Berlin", recurrence_type=1, recurrence=rule,
        template_entry_id=template.pk, summary=summary,
    )  # fmt: skip


def reloaded(event: ScheduleEvent) -> ScheduleEvent:
    return ScheduleEvent.objects.get(pk=event.pk)


# ---------------------------------------------------------------- create, update, delete


def test_it_creates_a_media_entry_without_content(actor):
    entry = entries.create_entry(actor, MEDIA, {"name": "Talk"}, app_token="tok1")
    stored = Entry.objects.get(pk=entry.pk)
    assert (stored.status, stored.type, stored.name) == (Entry.Status.NO_CONTENT, MEDIA, "Talk")
    assert (stored.creator_id, stored.creator_app_token, stored.owner_id) == ("alice", "tok1", "alice")


def test_it_audits_an_entry_without_its_stream_password(actor):
    entry = entries.create_entry(actor, LIVE, {"name": "Stream"})
    audit = AuditEntry.objects.get(object_type="Entry", object_id=entry.pk)
    assert (audit.action, audit.after["name"], audit.after["stream_password"]) == (
        "create",
        "Stream",
        "********",
    )


def test_it_gives_a_live_entry_endpoints_from_the_partners_ingest(actor):
    actor.partner.live_rtmp_primary = "rtmp://ingest.example:1935/kLive/"
    actor.partner.live_rtsp_secondary = "rtsp://backup.example:554/kLive"
    entry = entries.create_entry(actor, LIVE, {"name": "Stream"})
    token = f"?t={entry.stream_password}"
    assert entry.status == Entry.Status.READY and len(entry.stream_password) == 8
    assert entry.primary_rtmp_endpoint == f"rtmp://ingest.example:1935/kLive{token}"
    assert entry.secondary_rtmp_endpoint == ""  # no secondary RTMP ingest
    assert entry.secondary_rtsp_endpoint == f"rtsp://backup.example:554/kLive/{entry.pk}_%i{token}"
    assert (entry.stream_name, entry.stream_username) == (f"{entry.pk}_%i", entry.pk)


def test_each_live_entry_gets_its_own_password(actor):
    first, second = (entries.create_entry(actor, LIVE, {"name": "S"}) for _ in range(2))
    assert first.stream_password != second.stream_password


def test_it_keeps_endpoints_the_caller_sent(actor):
    entry = entries.create_entry(actor, LIVE, {"name": "S", "primary_rtmp_endpoint": "rtmp://own/app"})
    assert entry.primary_rtmp_endpoint == "rtmp://own/app"


def test_it_updates_an_entry_and_audits_the_change(actor):
    entry = entries.create_entry(actor, MEDIA, {"name": "Old"})
    entries.update_entry(actor, entry.pk, {"name": "New", "tags": "a,b"})
    assert Entry.objects.values_list("name", "tags").get(pk=entry.pk) == ("New", "a,b")
    audit = AuditEntry.objects.get(object_id=entry.pk, action="update")
    assert (audit.before["name"], audit.after["name"]) == ("Old", "New")


def test_the_template_of_an_entry_cannot_change(actor, template):
    entry = entries.create_entry(actor, MEDIA, {"name": "R"})
    with pytest.raises(ValidationFailed) as caught:
        entries.update_entry(actor, entry.pk, {"template_entry_id": template.pk})
    assert caught.value.code == "PROPERTY_VALIDATION_NOT_UPDATABLE"


def test_a_deleted_entry_is_not_found(actor):
    entry = entries.create_entry(actor, MEDIA, {"name": "Gone"})
    entries.delete_entry(actor, entry.pk)
    assert Entry.objects.get(pk=entry.pk).status == Entry.Status.DELETED
    with pytest.raises(entries.EntryNotFound):
        entries.get_entry(actor.partner, entry.pk)


def test_deleting_an_entry_removes_its_file_once_committed(
    actor, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    entry = entries.create_entry(actor, MEDIA, {"name": "Clip"})
    name = default_storage.save("recordings/test-entries/clip.mp4", ContentFile(b"video"))
    Entry.objects.filter(pk=entry.pk).update(media_file=name)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        entries.delete_entry(actor, entry.pk)
    assert default_storage.exists(name)  # not before the commit
    for callback in callbacks:
        callback()
    assert not default_storage.exists(name)


def test_another_partners_entry_is_not_found(actor, outsider):
    theirs = entries.create_entry(outsider, MEDIA, {"name": "Theirs"})
    with pytest.raises(entries.EntryNotFound):
        entries.update_entry(actor, theirs.pk, {"name": "Mine now"})
    assert Entry.objects.get(pk=theirs.pk).name == "Theirs"


def test_a_wrong_kind_of_entry_is_not_found(actor):
    entry = entries.create_entry(actor, MEDIA, {"name": "Clip"})
    with pytest.raises(entries.EntryNotFound):
        entries.get_entry(actor.partner, entry.pk, LIVE)


# ---------------------------------------------------------------- template metadata


def test_a_recording_takes_its_templates_metadata(actor, template):
    entry = recording(actor, template, actor.now)
    taken = [getattr(entry, f) for f in entries.TEMPLATE_FIELDS]
    assert taken == ["Recorded in Hall 1", "physics", "Lectures>Physics", "12,13", "prof", "bob", "carol"]
    assert entry.template_entry_id == template.pk


def test_what_the_caller_sent_wins_over_the_template(actor, template):
    entry = recording(actor, template, actor.now, name="Mine", tags="own", owner_id="dev")
    assert (entry.name, entry.tags, entry.owner_id, entry.description) == (
        "Mine", "own", "dev", "Recorded in Hall 1",
    )  # fmt: skip


def test_a_recording_without_a_booking_is_named_after_its_template(actor, template):
    entry = recording(actor, template, at("2026-09-01 10:00"))
    assert entry.name == "Hall 1 template (2026-09-01)"


def test_an_unknown_template_is_refused_and_nothing_is_written(actor, outsider):
    theirs = entries.create_entry(outsider, LIVE, {"name": "Theirs"})
    for missing in ("0_nosuch00", theirs.pk):
        with pytest.raises(ValidationFailed) as caught:
            entries.create_entry(actor, MEDIA, {"template_entry_id": missing})
        assert (caught.value.code, caught.value.field) == ("ENTRY_ID_NOT_FOUND", "template_entry_id")
    assert not Entry.objects.filter(partner=actor.partner).exists()


# ---------------------------------------------------------------- the booking


def test_a_recording_is_linked_to_the_booking_under_way(actor, template, make_event):
    event = make_event("2026-09-07 09:00", 90, template_entry_id=template.pk, summary="Algebra")
    entry = recording(actor, template, at("2026-09-07 10:00"))
    assert reloaded(event).entry_ids == entry.pk
    assert entry.name == "Algebra (2026-09-07)"


def test_a_second_recording_is_appended(actor, template, make_event):
    event = make_event("2026-09-07 09:00", 90, template_entry_id=template.pk)
    first = recording(actor, template, at("2026-09-07 10:00"))
    second = recording(actor, template, at("2026-09-07 10:05"))
    assert reloaded(event).entry_ids == f"{first.pk},{second.pk}"


def test_a_recording_links_the_booking_ended_within_the_grace(actor, template, make_event, settings):
    settings.RECORDING_MATCH_GRACE = 3600
    event = make_event("2026-09-07 09:00", 60, template_entry_id=template.pk)
    recording(actor, template, at("2026-09-07 10:59"))
    late = recording(actor, template, at("2026-09-07 11:01"))
    assert late.pk not in reloaded(event).entry_ids.split(",")
    assert len(reloaded(event).entry_ids.split(",")) == 1


def test_of_several_bookings_the_latest_start_wins(actor, template, make_event):
    earlier = make_event("2026-09-07 08:00", 60, template_entry_id=template.pk)
    later = make_event("2026-09-07 09:00", 60, template_entry_id=template.pk)
    recording(actor, template, at("2026-09-07 09:30"))
    assert (reloaded(earlier).entry_ids != "", reloaded(later).entry_ids != "") == (False, True)


def test_a_booking_not_yet_started_or_cancelled_is_not_linked(actor, template, make_event):
    future = make_event("2026-09-07 11:00", 60, template_entry_id=template.pk)
    cancelled = make_event("2026-09-07 09:00", 60, template_entry_id=template.pk)
    scheduling.cancel_event(actor, cancelled.pk)
    recording(actor, template, at("2026-09-07 09:30"))
    assert (reloaded(future).entry_ids, reloaded(cancelled).entry_ids) == ("", "")


def test_another_templates_booking_is_not_linked(actor, template, make_event):
    other = entries.create_entry(actor, LIVE, {"name": "Other"})
    event = make_event("2026-09-07 09:00", 60, template_entry_id=other.pk)
    recording(actor, template, at("2026-09-07 09:30"))
    assert reloaded(event).entry_ids == ""


def test_a_recording_links_the_occurrence_in_a_dst_week(actor, template, make_event):
    # Europe/Berlin leaves summer time on 2026-10-25: the 09:00 lecture moves from 07:00 to 08:00 UTC.
    series = weekly(make_event, template)
    with clock.pinned(at("2026-10-26 09:30", "Europe/Berlin")) as moment:
        entry = recording(actor, template, moment)
    occurrence = series.occurrences.get(start=at("2026-10-26 09:00", "Europe/Berlin"))
    assert occurrence.entry_ids == entry.pk
    assert (occurrence.is_exception, occurrence.overridden_fields) == (True, ["entry_ids"])
    assert reloaded(series).entry_ids == ""
    assert series.occurrences.exclude(pk=occurrence.pk).filter(entry_ids="").count() == 2
    assert entry.name == "Physics (2026-10-26)"


def test_the_recording_name_pattern_fills_local_time_and_template(actor, template, make_event):
    actor.partner.recording_name_pattern = "{template}: {summary} {date} {start} {unknown}"
    weekly(make_event, template)
    entry = recording(actor, template, at("2026-10-26 09:10", "Europe/Berlin"))
    assert entry.name == "Hall 1 template: Physics 2026-10-26 09:00 {unknown}"


def test_a_linked_occurrence_keeps_its_recording_through_a_series_edit(actor, template, make_event):
    series = weekly(make_event, template)
    entry = recording(actor, template, at("2026-10-19 09:30", "Europe/Berlin"))
    scheduling.update_event(actor, series.pk, {"entry_ids": "0_series01", "summary": "Renamed"})
    first = series.occurrences.get(start=at("2026-10-19 09:00", "Europe/Berlin"))
    assert (first.entry_ids, first.summary) == (entry.pk, "Renamed")


def test_linking_ignores_the_bookings_conflicts(strict, template, make_event, make_resource):
    room = make_resource()
    event = make_event("2026-09-07 09:00", 60, template_entry_id=template.pk, resources=[room])
    make_event("2026-09-07 09:00", 60, resources=[room], allow_conflicts=True)
    entry = recording(strict, template, at("2026-09-07 09:30"))
    assert reloaded(event).entry_ids == entry.pk


# ---------------------------------------------------------------- templateEntryId on events


@pytest.mark.parametrize("which", ["missing", "outsiders", "deleted"])
def test_an_event_needs_a_live_template_of_its_partner(actor, outsider, make_event, which):
    ids = {
        "missing": "0_nosuch00",
        "outsiders": entries.create_entry(outsider, LIVE, {"name": "Theirs"}).pk,
        "deleted": entries.delete_entry(actor, entries.create_entry(actor, LIVE, {"name": "X"}).pk).pk,
    }
    with pytest.raises(ValidationFailed) as caught:
        make_event(template_entry_id=ids[which])
    assert (caught.value.code, caught.value.field) == ("ENTRY_ID_NOT_FOUND", "template_entry_id")
    assert not ScheduleEvent.objects.filter(partner=actor.partner).exists()


def test_an_event_update_to_an_unknown_template_changes_nothing(actor, template, make_event):
    event = make_event(template_entry_id=template.pk)
    with pytest.raises(ValidationFailed):
        scheduling.update_event(actor, event.pk, {"template_entry_id": "0_nosuch00", "summary": "X"})
    assert (reloaded(event).template_entry_id, reloaded(event).summary) == (template.pk, "Lecture")


def test_an_event_keeps_a_template_deleted_since(actor, template, make_event):
    event = make_event(template_entry_id=template.pk)
    entries.delete_entry(actor, template.pk)
    scheduling.update_event(actor, event.pk, {"template_entry_id": template.pk, "summary": "Kept"})
    assert reloaded(event).summary == "Kept"


def test_a_blackout_takes_no_template(make_event):
    with pytest.raises(ValidationFailed):
        make_event(type=EventType.BLACKOUT, template_entry_id="0_nosuch00")


def test_the_grace_is_a_setting(settings, actor, template, make_event):
    settings.RECORDING_MATCH_GRACE = 0
    event = make_event("2026-09-07 09:00", 60, template_entry_id=template.pk)
    recording(actor, template, at("2026-09-07 10:00") + timedelta(seconds=1))
    assert reloaded(event).entry_ids == ""
