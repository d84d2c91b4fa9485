from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse

from calendar_app.admin.schedule import ResourceForm
from calendar_app.imports.row_results import RowResult
from calendar_app.models import (
    AppToken,
    AuditEntry,
    BulkUpload,
    DropFolder,
    DropFolderFile,
    Entry,
    EventStatus,
    EventType,
    FeedToken,
    Membership,
    Partner,
    RecurrenceType,
    ResourceStatus,
    ResourceType,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)
from tests.imports.drop_servers import free_port

MODELS = [
    Partner, Membership, ScheduleResource, ScheduleEvent, ScheduleEventResource, Entry, AppToken, AuditEntry,
    FeedToken, DropFolder, DropFolderFile, BulkUpload,
]  # fmt: skip
ADDABLE = [model for model in MODELS if model not in (AuditEntry, DropFolderFile, BulkUpload)]
SECRET = "s3cret-Passw0rd"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"


def admin_url(model, view: str = "changelist", *args) -> str:
    # Quoted as the admin's own links are: an entry id such as "0_40ab12cd" reads as "0@ab12cd"
    # unquoted (1 run in ~200 failed on Entry's random ids).
    return reverse(f"admin:calendar_app_{model._meta.model_name}_{view}", args=[quote(arg) for arg in args])


def event_form(start: str = "2026-09-07 09:00", end: str = "2026-09-07 10:30", **fields) -> dict:
    """What the event add/change page posts; times in UTC, the admin's zone."""
    (start_day, start_time), (end_day, end_time) = start.split(), end.split()
    return {
        "type": EventType.RECORD,
        "summary": "Admin lecture",
        "start_0": start_day,
        "start_1": start_time,
        "end_0": end_day,
        "end_1": end_time,
        "recurrence_type": RecurrenceType.NONE,
        "classification_type": 1,
        "pre_start_time": 0,
        "post_end_time": 0,
        "resource_links-TOTAL_FORMS": 0,
        "resource_links-INITIAL_FORMS": 0,
        **fields,
    }


def edit_form(event: ScheduleEvent, start: str = "", end: str = "", **fields) -> dict:
    """The change page of `event` posted back unchanged, except for what is given."""
    recurrence = {"recurrence": json.dumps(event.recurrence)} if event.recurrence else {}
    data = {"summary": event.summary, "recurrence_type": event.recurrence_type, **recurrence, **fields}
    start = start or f"{event.start:%Y-%m-%d %H:%M}"
    return event_form(start, end or f"{event.end:%Y-%m-%d %H:%M}", **data)


def link_rows(*resources) -> dict:
    """New rows of the event page's resources inline, one per resource."""
    rows = {f"resource_links-{i}-resource": resource.pk for i, resource in enumerate(resources)}
    return {"resource_links-TOTAL_FORMS": len(resources), **rows}


@pytest.fixture
def world(partner, make_resource, make_series, django_user_model):
    room = make_resource("Lecture Hall A")
    series = make_series(count=3, resources=[room], summary="Physics")
    Entry.objects.create(partner=partner, name="Physics template")
    AppToken.objects.create(id=AppToken.new_id(), partner=partner, token="t" * 64)
    FeedToken.objects.create(partner=partner, resource=room)
    alice = django_user_model.objects.create(username="alice")
    Membership.objects.create(user=alice, partner=partner, role=Membership.Role.ADMIN)
    folder, job = drop_folder_with_a_file(partner, room)
    return SimpleNamespace(
        room=room, series=series, occurrence=series.occurrences.order_by("start")[0], folder=folder, job=job
    )


def drop_folder_with_a_file(partner, room) -> tuple[DropFolder, BulkUpload]:
    folder = DropFolder.objects.create(
        partner=partner, name="Timetables", kind="sftp", host="127.0.0.1", username="drop",
        password=SECRET, private_key=KEY, path="/incoming",
    )  # fmt: skip
    results = [
        RowResult(line=2, action="add", status="ok", object_id=room.pk),
        RowResult(
            line=3, action="add", status="error", object_id=None, reason="Unknown type", code="BAD_TYPE"
        ),
    ]
    job = BulkUpload.objects.create(
        partner=partner, kind=BulkUpload.Kind.RESOURCES_CSV, status=BulkUpload.Status.FINISHED_PARTIALLY,
        source=BulkUpload.Source.DROP_FOLDER, file_name="rooms.csv", file_data=b"*name\nA\nB\n",
        results=[r.as_dict() for r in results], num_rows=2, num_processed=2, num_errors=1,
    )  # fmt: skip
    DropFolderFile.objects.create(
        partner=partner, folder=folder, name="rooms.csv", size=12, fingerprint="1", bulk_upload=job,
        status=DropFolderFile.Status.HANDLED, detected_at=folder.created_at,
    )  # fmt: skip
    return folder, job


def drop_folder_form(folder: DropFolder, **fields) -> dict:
    """The change page of `folder` posted back with empty secret fields, except for what is given."""
    names = ["partner", "name", "kind", "events_type", "poll_interval", "stable_seconds", "path", "host"]
    names += ["username", "host_key", "bucket", "prefix", "region", "endpoint_url"]
    data = {name: getattr(folder, name + "_id" if name == "partner" else name) for name in names}
    return {**data, "enabled": "on", "port": "", "password": "", "private_key": "", **fields}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_it_lists_every_model(admin_client, world, model):
    response = admin_client.get(admin_url(model))
    assert response.status_code == 200
    assert response.context["cl"].result_count > 0


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_it_shows_every_change_page(admin_client, world, model):
    response = admin_client.get(admin_url(model, "change", model.objects.first().pk))
    assert response.status_code == 200


@pytest.mark.parametrize("model", ADDABLE, ids=lambda m: m.__name__)
def test_it_shows_every_add_page(admin_client, model):
    assert admin_client.get(admin_url(model, "add")).status_code == 200


def test_it_lists_events_in_a_fixed_number_of_queries(
    admin_client, world, make_series, django_assert_max_num_queries
):
    for _ in range(5):
        make_series(count=3, resources=[world.room])
    with django_assert_max_num_queries(9):
        admin_client.get(admin_url(ScheduleEvent))


def test_it_links_a_series_to_its_occurrences(admin_client, world):
    page = admin_client.get(admin_url(ScheduleEvent, "change", world.series.pk)).content.decode()
    link = f"?parent__exact={world.series.pk}"
    assert f'{link}">3 occurrences</a>' in page
    response = admin_client.get(admin_url(ScheduleEvent) + link)
    assert response.context["cl"].result_count == 3


def test_it_lists_partners_with_counts(admin_client, world, partner):
    response = admin_client.get(admin_url(Partner))
    assert response.context["cl"].result_list[0].event_count == 4  # the series and 3 occurrences


def test_it_searches_events(admin_client, world, make_event):
    make_event(summary="Chemistry")
    response = admin_client.get(admin_url(ScheduleEvent), {"q": "chemistry"})
    assert [e.summary for e in response.context["cl"].result_list] == ["Chemistry"]


def test_it_filters_events_by_resource(admin_client, world, make_event):
    make_event(summary="Elsewhere")
    response = admin_client.get(admin_url(ScheduleEvent), {"resource": world.room.pk})
    summaries = {e.summary for e in response.context["cl"].result_list}
    assert summaries == {"Physics"}
    assert response.context["cl"].result_count == 4


def test_it_adds_an_event_through_the_service(admin_client, partner, now):
    response = admin_client.post(admin_url(ScheduleEvent, "add"), event_form(partner=partner.pk))
    assert response.status_code == 302
    event = ScheduleEvent.objects.get(summary="Admin lecture")
    audit = AuditEntry.objects.get(object_id=str(event.pk))
    assert (audit.source, audit.actor, audit.action) == ("admin", "admin", "create")


def test_it_adds_a_series_with_its_occurrences(admin_client, partner, now):
    rule = json.dumps({"frequency": "weeks", "count": 4})
    form = event_form(partner=partner.pk, recurrence_type=RecurrenceType.RECURRING, recurrence=rule)
    admin_client.post(admin_url(ScheduleEvent, "add"), form)
    series = ScheduleEvent.objects.get(recurrence_type=RecurrenceType.RECURRING)
    assert series.occurrences.count() == 4


def test_it_adds_a_series_with_a_resource(admin_client, partner, make_resource, now):
    room = make_resource()
    rule = json.dumps({"frequency": "days", "count": 2})
    form = event_form(
        partner=partner.pk, recurrence_type=RecurrenceType.RECURRING, recurrence=rule, **link_rows(room)
    )
    admin_client.post(admin_url(ScheduleEvent, "add"), form)
    assert ScheduleEventResource.objects.filter(resource=room).count() == 3


def test_it_books_an_event_with_its_resources_in_one_audited_write(admin_client, partner, make_resource, now):
    hall, camera = make_resource("Hall"), make_resource("Camera", type=ResourceType.CAMERA)
    form = event_form(partner=partner.pk, **link_rows(hall, camera))
    assert admin_client.post(admin_url(ScheduleEvent, "add"), form).status_code == 302
    event = ScheduleEvent.objects.get(summary="Admin lecture")
    assert set(event.resource_links.values_list("resource_id", flat=True)) == {hall.pk, camera.pk}
    written = AuditEntry.objects.filter(source="admin").values_list("action", "object_id")
    assert list(written) == [("create", str(event.pk))]


def test_it_refuses_a_colliding_booking_with_its_room_as_a_whole(
    admin_client, strict, partner, make_resource, make_event
):
    room = make_resource()
    booked = make_event(resources=[room])
    form = event_form(partner=partner.pk, **link_rows(room))
    response = admin_client.post(admin_url(ScheduleEvent, "add"), form)
    assert response.status_code == 200
    assert f"(id {booked.pk})" in str(response.context["adminform"].form.non_field_errors())
    assert list(ScheduleEvent.objects.all()) == [booked]
    assert list(ScheduleEventResource.objects.values_list("event_id", flat=True)) == [booked.pk]


def test_it_refuses_an_edit_and_its_new_room_together(admin_client, strict, make_resource, make_event):
    room = make_resource()
    make_event(resources=[room])
    mine = make_event(summary="Mine")  # at the same time, in no room yet
    form = edit_form(mine, summary="Renamed", **link_rows(room))
    response = admin_client.post(admin_url(ScheduleEvent, "change", mine.pk), form)
    assert "overlaps another booking on the same resource" in response.content.decode()
    mine.refresh_from_db()
    assert (mine.summary, mine.resource_links.exists()) == ("Mine", False)


def test_it_turns_an_event_into_a_series(admin_client, make_event, now):
    event = make_event()
    rule = json.dumps({"frequency": "weeks", "count": 3})
    form = edit_form(event, recurrence_type=RecurrenceType.RECURRING, recurrence=rule)
    assert admin_client.post(admin_url(ScheduleEvent, "change", event.pk), form).status_code == 302
    event.refresh_from_db()
    assert event.is_series and event.occurrences.count() == 3


def test_it_validates_a_form_without_writing(partner, now):
    form = ResourceForm(data={"partner": partner.pk, "type": ResourceType.LOCATION, "name": "Hall B"})
    assert form.is_valid()
    assert not ScheduleResource.objects.exists()


def test_it_shows_end_before_start_on_the_form(admin_client, partner, now):
    form = event_form(end="2026-09-07 08:00", partner=partner.pk)
    response = admin_client.post(admin_url(ScheduleEvent, "add"), form)
    assert response.status_code == 200
    assert "must not be before the start" in response.content.decode()
    assert not ScheduleEvent.objects.exists()
    assert not AuditEntry.objects.exists()


def test_it_shows_a_recurrence_error_on_the_recurrence_field(admin_client, partner, now):
    rule = json.dumps({"frequency": "weeks", "count": 2, "until": 1_800_000_000})  # both ends
    form = event_form(partner=partner.pk, recurrence_type=RecurrenceType.RECURRING, recurrence=rule)
    response = admin_client.post(admin_url(ScheduleEvent, "add"), form)
    assert "recurrence.until" in str(response.context["adminform"].form.errors["recurrence"])


def test_it_shows_a_conflict_as_a_form_error(admin_client, partner, make_resource, make_event, now):
    partner.prevent_conflicts = True
    partner.save()
    room = make_resource()
    first = make_event("2026-09-07 09:00", resources=[room])
    second = make_event("2026-09-07 11:00", resources=[room], summary="Second")
    form = edit_form(second, start="2026-09-07 09:30", end="2026-09-07 10:00")
    response = admin_client.post(admin_url(ScheduleEvent, "change", second.pk), form)
    assert f"(id {first.pk})" in response.content.decode()
    second.refresh_from_db()
    assert second.start.hour == 11


def test_it_writes_nothing_when_an_inline_row_is_invalid(admin_client, partner, now):
    form = event_form(partner=partner.pk, **link_rows(SimpleNamespace(pk=999)))  # no such resource
    response = admin_client.post(admin_url(ScheduleEvent, "add"), form)
    assert response.status_code == 200
    assert not ScheduleEvent.objects.exists()


def test_it_sends_only_changed_fields(admin_client, world, now):
    occurrence = world.occurrence
    form = edit_form(occurrence, summary="Physics (moved lab)")
    admin_client.post(admin_url(ScheduleEvent, "change", occurrence.pk), form)
    occurrence.refresh_from_db()
    assert (occurrence.is_exception, occurrence.overridden_fields) == (True, ["summary"])


def test_it_cancels_a_series_and_its_occurrences(admin_client, world, now):
    form = {"action": "cancel_selected", "_selected_action": [world.series.pk]}
    admin_client.post(admin_url(ScheduleEvent), form)
    statuses = set(ScheduleEvent.objects.values_list("status", flat=True))
    assert statuses == {EventStatus.CANCELLED}


def test_it_reports_that_an_occurrence_cannot_be_deleted(admin_client, world, now):
    form = {"action": "delete_selected", "_selected_action": [world.occurrence.pk]}
    response = admin_client.post(admin_url(ScheduleEvent), form, follow=True)
    assert "cannot be deleted: cancel it, or delete its series" in response.content.decode()
    assert set(ScheduleEvent.objects.values_list("status", flat=True)) == {EventStatus.ACTIVE}


def test_it_soft_deletes_a_series(admin_client, world, now):
    form = {"action": "delete_selected", "_selected_action": [world.series.pk]}
    admin_client.post(admin_url(ScheduleEvent), form)
    assert set(ScheduleEvent.objects.values_list("status", flat=True)) == {EventStatus.DELETED}


def test_it_soft_deletes_a_series_from_its_delete_page(admin_client, world, now):
    admin_client.post(admin_url(ScheduleEvent, "delete", world.series.pk), {"post": "yes"})
    assert set(ScheduleEvent.objects.values_list("status", flat=True)) == {EventStatus.DELETED}


def test_it_has_no_delete_page_for_an_occurrence(admin_client, world):
    response = admin_client.get(admin_url(ScheduleEvent, "delete", world.occurrence.pk))
    assert response.status_code == 403


def test_it_links_a_series_occurrences_through_the_inline(admin_client, world, make_resource, now):
    camera = make_resource("Camera 1")
    form = edit_form(world.series, **link_rows(camera))
    admin_client.post(admin_url(ScheduleEvent, "change", world.series.pk), form)
    linked = ScheduleEventResource.objects.filter(resource=camera).values_list("event_id", flat=True)
    assert set(linked) == {world.series.pk, *world.series.occurrences.values_list("pk", flat=True)}


def test_it_unlinks_through_the_inline(admin_client, world, now):
    link = ScheduleEventResource.objects.get(event=world.series)
    form = edit_form(
        world.series,
        **{
            "resource_links-TOTAL_FORMS": 1,
            "resource_links-INITIAL_FORMS": 1,
            "resource_links-0-id": link.pk,
            "resource_links-0-event": world.series.pk,
            "resource_links-0-DELETE": "on",
        },
    )
    admin_client.post(admin_url(ScheduleEvent, "change", world.series.pk), form)
    assert not ScheduleEventResource.objects.exists()
    assert AuditEntry.objects.filter(action="unlink", source="admin").exists()


def test_it_shows_a_taken_system_name_on_its_field_and_writes_nothing(
    admin_client, partner, make_resource, now
):
    make_resource("Hall A", system_name="hall-a")
    form = {"partner": partner.pk, "type": ResourceType.LOCATION, "name": "Hall B", "system_name": "hall-a"}
    response = admin_client.post(admin_url(ScheduleResource, "add"), form)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["system_name"] == ["system name 'hall-a' is already in use"]
    assert not ScheduleResource.objects.filter(name="Hall B").exists()
    assert not AuditEntry.objects.filter(source="admin").exists()


def test_it_adds_a_resource_through_the_service(admin_client, partner, now):
    form = {"partner": partner.pk, "type": ResourceType.LOCATION, "name": "Hall B", "system_name": "hall-b"}
    admin_client.post(admin_url(ScheduleResource, "add"), form)
    resource = ScheduleResource.objects.get(system_name="hall-b")
    assert AuditEntry.objects.filter(object_id=str(resource.pk), source="admin").exists()


def test_it_shows_a_foreign_parent_on_the_parent_field(admin_client, partner, make_resource, outsider, now):
    foreign = make_resource("Charlie's hall", who=outsider)
    form = {"partner": partner.pk, "type": ResourceType.CAMERA, "name": "Camera", "parent": foreign.pk}
    response = admin_client.post(admin_url(ScheduleResource, "add"), form)
    assert f"no resource {foreign.pk}" in str(response.context["adminform"].form.errors["parent"])
    assert not ScheduleResource.objects.filter(name="Camera").exists()


def test_it_offers_only_the_partners_resources_as_parent(admin_client, world, make_resource, outsider):
    make_resource("Charlie's hall", who=outsider)
    response = admin_client.get(admin_url(ScheduleResource, "change", world.room.pk))
    parents = response.context["adminform"].form.fields["parent"].queryset
    assert not parents.exists()


def test_it_soft_deletes_resources(admin_client, world, now):
    form = {"action": "delete_selected", "_selected_action": [world.room.pk]}
    admin_client.post(admin_url(ScheduleResource), form)
    world.room.refresh_from_db()
    assert world.room.status == ResourceStatus.DELETED


def test_it_links_through_the_link_admin(admin_client, world, make_resource, now):
    camera = make_resource("Camera 2")
    form = {"event": world.series.pk, "resource": camera.pk}
    response = admin_client.post(admin_url(ScheduleEventResource, "add"), form)
    assert response.status_code == 302
    assert ScheduleEventResource.objects.filter(resource=camera).count() == 4


def test_it_keeps_audit_entries_read_only(admin_client, world):
    entry = AuditEntry.objects.first()
    change = admin_url(AuditEntry, "change", entry.pk)
    assert 'name="_save"' not in admin_client.get(change).content.decode()
    assert admin_client.post(change, {"action": "hacked"}).status_code == 403
    assert admin_client.post(admin_url(AuditEntry, "delete", entry.pk), {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk, action=entry.action).exists()


def test_it_rotates_a_feed_token_and_the_old_address_stops_working(admin_client, client, world):
    feed = FeedToken.objects.get(resource=world.room)
    old = feed.token
    form = {"action": "rotate", "_selected_action": [feed.pk]}
    admin_client.post(admin_url(FeedToken), form)
    feed.refresh_from_db()
    assert feed.token != old
    assert client.get(f"/feeds/{old}.ics").status_code == 404
    assert client.get(f"/feeds/{feed.token}.ics").status_code == 200


def test_it_audits_a_feed_rotation(admin_client, world, now):
    feed = FeedToken.objects.get(resource=world.room)
    admin_client.post(admin_url(FeedToken), {"action": "rotate", "_selected_action": [feed.pk]})
    entry = AuditEntry.objects.get(action="rotate_feed")
    assert (entry.source, entry.actor, entry.at) == ("admin", "admin", now)
    assert (entry.object_type, entry.object_id) == ("ScheduleResource", str(world.room.pk))


def test_it_offers_a_new_app_token_of_32_hex_characters(admin_client, db):
    token = admin_client.get(admin_url(AppToken, "add")).context["adminform"].form.initial["token"]
    assert re.fullmatch("[0-9a-f]{32}", token)


def test_it_gives_a_new_feed_its_resources_partner(admin_client, world, outsider_partner):
    form = {"resource": world.room.pk}
    admin_client.post(admin_url(FeedToken, "add"), form)
    assert FeedToken.objects.filter(resource=world.room).count() == 1  # one feed per resource
    other = ScheduleResource.objects.create(
        partner=outsider_partner, type=ResourceType.LOCATION, name="Elsewhere"
    )
    admin_client.post(admin_url(FeedToken, "add"), {"resource": other.pk})
    assert FeedToken.objects.get(resource=other).partner_id == outsider_partner.pk


def test_it_never_sends_a_drop_folders_secrets_back(admin_client, world):
    for url in (admin_url(DropFolder), admin_url(DropFolder, "change", world.folder.pk)):
        page = admin_client.get(url).content.decode()
        assert SECRET not in page
        assert "PRIVATE KEY" not in page


def test_it_keeps_a_drop_folders_secrets_when_left_empty(admin_client, world):
    form = drop_folder_form(world.folder, name="Renamed")
    assert admin_client.post(admin_url(DropFolder, "change", world.folder.pk), form).status_code == 302
    world.folder.refresh_from_db()
    assert (world.folder.name, world.folder.password, world.folder.private_key) == ("Renamed", SECRET, KEY)


def test_it_replaces_or_forgets_a_drop_folders_secrets(admin_client, world):
    change = admin_url(DropFolder, "change", world.folder.pk)
    admin_client.post(change, drop_folder_form(world.folder, password="new-one"))
    world.folder.refresh_from_db()
    assert (world.folder.password, world.folder.private_key) == ("new-one", KEY)
    admin_client.post(change, drop_folder_form(world.folder, forget_secrets="on"))
    world.folder.refresh_from_db()
    assert (world.folder.password, world.folder.private_key) == ("", "")


def test_it_asks_for_what_a_kind_of_drop_folder_needs(admin_client, world):
    form = drop_folder_form(world.folder, kind="s3", bucket="")
    response = admin_client.post(admin_url(DropFolder, "change", world.folder.pk), form)
    assert response.context["adminform"].form.errors == {
        "bucket": ["Required for a location of kind S3 bucket."]
    }


def test_it_polls_a_drop_folder_now(admin_client, partner, tmp_path, now):
    folder = DropFolder.objects.create(partner=partner, name="Local", kind="local", path=str(tmp_path))
    (tmp_path / "rooms.csv").write_text("*name\nHall\n")
    form = {"action": "poll_now", "_selected_action": [folder.pk]}
    response = admin_client.post(admin_url(DropFolder), form, follow=True)
    assert "Local: 0 file(s) imported, 0 set aside in failed/, 1 waiting" in response.content.decode()
    folder.refresh_from_db()
    assert (folder.last_polled_at, folder.last_error) == (now, "")


def test_it_reports_a_drop_folder_that_cannot_be_polled(admin_client, world, now):
    closed = free_port()
    DropFolder.objects.filter(pk=world.folder.pk).update(port=closed)
    form = {"action": "poll_now", "_selected_action": [world.folder.pk]}
    response = admin_client.post(admin_url(DropFolder), form, follow=True)
    assert f"Timetables: sftp://drop@127.0.0.1:{closed}/incoming: " in response.content.decode()


def test_it_links_a_drop_folder_to_its_files_and_their_jobs(admin_client, world):
    page = admin_client.get(admin_url(DropFolder, "change", world.folder.pk)).content.decode()
    link = f"?folder__id__exact={world.folder.pk}"
    assert f'{link}">1 files</a>' in page
    response = admin_client.get(admin_url(DropFolderFile) + link)
    assert response.context["cl"].result_count == 1
    assert f'{admin_url(BulkUpload, "change", world.job.pk)}">{world.job.pk} (Finished Partially)</a>' in (
        response.content.decode()
    )


def test_it_shows_bulk_upload_results_as_a_table(admin_client, world):
    page = admin_client.get(admin_url(BulkUpload, "change", world.job.pk)).content.decode()
    assert '<table class="bulk-upload-results">' in page
    assert "<td>Unknown type (BAD_TYPE)</td>" in page
    assert f'{admin_url(ScheduleResource, "change", world.room.pk)}">{world.room.pk}</a>' in page
    assert '"object_id"' not in page


def test_it_lists_bulk_uploads_without_loading_their_files(admin_client, world):
    response = admin_client.get(admin_url(BulkUpload))
    (job,) = response.context["cl"].result_list
    assert {"file_data", "results"} <= job.get_deferred_fields()


def test_it_keeps_bulk_uploads_and_drop_folder_files_read_only(admin_client, world):
    for model in (BulkUpload, DropFolderFile):
        change = admin_url(model, "change", model.objects.first().pk)
        assert 'name="_save"' not in admin_client.get(change).content.decode()
        assert admin_client.post(change, {"status": 5}).status_code == 403
