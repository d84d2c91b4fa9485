"""Bulk uploads through the official client (docs/kaltura-compatibility.md §7): a file goes up
as multipart, the job comes back at once, and `bulkUpload_bulk.get` reports its status and one
result per row. The live server runs Celery tasks in-process after commit, so the job is done by
the time we ask."""

from __future__ import annotations

import pytest
from KalturaClient.Plugins.Core import KalturaBatchJobStatus, KalturaBulkUploadFilter
from KalturaClient.Plugins.Schedule import KalturaScheduleEventFilter
from KalturaClient.Plugins.ScheduleBulkUpload import KalturaBulkUploadICalJobData

from calendar_app.imports import jobs
from calendar_app.models import BulkUpload
from tests.kaltura_api.builders import build, error_of, local_time, resource_ids, value

pytestmark = pytest.mark.django_db(transaction=True)

ROOMS = b"""*action,name,type,systemName,tags,parentType,parentSystemName
1,Building A,location,bldg-a,"campus,north",,
1,Room 101,location,room-101,,location,bldg-a
1,Camera 1,camera,cam-1,,location,room-101
"""


def upload(client, tmp_path, data: bytes, name: str = "rooms.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    with path.open("rb") as file:
        return client.schedule.scheduleResource.addFromBulkUpload(file)


def test_a_resource_csv_is_taken_at_once_and_reported_row_by_row(admin_client, tmp_path):
    job = upload(admin_client, tmp_path, ROOMS)
    assert value(job.status) == KalturaBatchJobStatus.QUEUED
    assert (job.fileName, value(job.bulkUploadObjectType)) == (
        "rooms.csv",
        "scheduleBulkUpload.SCHEDULE_RESOURCE",
    )

    done = admin_client.bulkUpload.bulk.get(job.id)
    assert value(done.status) == KalturaBatchJobStatus.FINISHED and done.numOfObjects == 3
    rows = [(r.lineIndex, value(r.status), r.systemName, value(r.action)) for r in done.results]
    # Kaltura's CSV engine counts data records from 1 (its iCal engine counts VEVENTs from 0).
    assert rows == [(1, "2", "bldg-a", "1"), (2, "2", "room-101", "1"), (3, "2", "cam-1", "1")]
    assert {int(r.objectId) for r in done.results} == set(resource_ids(admin_client))
    assert type(done.results[0]).__name__ == "KalturaBulkUploadResultScheduleResource"


def test_a_bad_row_is_reported_and_the_others_applied(admin_client, tmp_path):
    job = upload(admin_client, tmp_path, b"*name,type\nGood hall,location\nBad,spaceship\n")
    done = admin_client.bulkUpload.bulk.get(job.id)
    assert value(done.status) == KalturaBatchJobStatus.FINISHED_PARTIALLY
    good, bad = done.results
    assert (value(good.status), value(bad.status)) == ("2", "1")
    assert "spaceship" in bad.errorDescription and not bad.objectId
    assert len(resource_ids(admin_client)) == 1


def test_a_file_that_is_not_csv_fails_the_job_and_changes_nothing(admin_client, tmp_path):
    job = upload(admin_client, tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00", name="photo.csv")
    done = admin_client.bulkUpload.bulk.get(job.id)
    assert value(done.status) == KalturaBatchJobStatus.FAILED and done.error
    assert done.results == [] and resource_ids(admin_client) == []


def test_a_file_over_the_limit_is_refused_before_any_job(admin_client, tmp_path, settings):
    settings.BULK_UPLOAD_MAX_BYTES = 100
    error = error_of(upload, admin_client, tmp_path, ROOMS * 5)
    assert error.code == "BULK_UPLOAD_FILE_TOO_LARGE"
    assert admin_client.bulkUpload.bulk.list().totalCount == 0


def test_jobs_are_listed_newest_first_without_their_results(admin_client, tmp_path):
    first = upload(admin_client, tmp_path, ROOMS)
    second = upload(admin_client, tmp_path, b"*name\nHall\n")
    listed = admin_client.bulkUpload.bulk.list()
    assert [j.id for j in listed.objects] == [second.id, first.id] and listed.totalCount == 2
    assert all(j.results == [] for j in listed.objects)
    finished = build(KalturaBulkUploadFilter, statusEqual=KalturaBatchJobStatus.FINISHED)
    assert admin_client.bulkUpload.bulk.list(finished).totalCount == 2


def test_a_finished_job_cannot_be_aborted(admin_client, tmp_path):
    job = upload(admin_client, tmp_path, ROOMS)
    assert error_of(admin_client.bulkUpload.bulk.abort, job.id).code == "BULK_UPLOAD_ABORT_FAILED"


def test_an_upload_answers_with_its_job_even_when_processing_fails(admin_client, tmp_path, monkeypatch):
    def broken(actor, job, ledger):
        raise RuntimeError("a bug in the importer")

    monkeypatch.setitem(jobs.IMPORTERS, BulkUpload.Kind.RESOURCES_CSV, broken)
    job = upload(admin_client, tmp_path, ROOMS)
    done = admin_client.bulkUpload.bulk.get(job.id)
    assert value(done.status) == KalturaBatchJobStatus.FAILED and "internal error" in done.error
    assert resource_ids(admin_client) == []


def test_an_upload_answers_with_its_job_even_when_its_task_raises(admin_client, tmp_path, monkeypatch):
    def task_fails(job_id, now):  # what an eager task raising, or a broker down, does to the request
        raise RuntimeError("the task failed before the job was claimed")

    monkeypatch.setattr(jobs, "process", task_fails)
    job = upload(admin_client, tmp_path, ROOMS)
    assert value(admin_client.bulkUpload.bulk.get(job.id).status) == KalturaBatchJobStatus.QUEUED


def test_a_stuck_job_can_be_aborted(admin_client, tmp_path):
    job = upload(admin_client, tmp_path, ROOMS)
    BulkUpload.objects.filter(pk=job.id).update(status=BulkUpload.Status.PROCESSING)  # its worker died
    aborted = admin_client.bulkUpload.bulk.abort(job.id)
    assert value(aborted.status) == KalturaBatchJobStatus.ABORTED and aborted.error


def test_another_partner_finds_no_job(admin_client, outsider_client, tmp_path):
    job = upload(admin_client, tmp_path, ROOMS)
    assert error_of(outsider_client.bulkUpload.bulk.get, job.id).code == "BULK_UPLOAD_NOT_FOUND"
    assert outsider_client.bulkUpload.bulk.list().totalCount == 0


def test_a_request_far_over_the_limit_is_refused_unread(admin_client, tmp_path, settings):
    settings.BULK_UPLOAD_MAX_BYTES = 10
    error = error_of(upload, admin_client, tmp_path, b"x" * (2 * 1024 * 1024))
    assert error.code == "REQUEST_TOO_LARGE"


TERM = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//registrar//EN\r
BEGIN:VEVENT\r
UID:physics-101@registrar\r
DTSTART;TZID=Europe/Berlin:20270104T090000\r
DTEND;TZID=Europe/Berlin:20270104T103000\r
RRULE:FREQ=WEEKLY;COUNT=4\r
SUMMARY:Physics 101\r
X-KALTURA-RESOURCE-IDS:{room}\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:welcome@registrar\r
DTSTART:20270103T160000Z\r
DTEND:20270103T170000Z\r
SUMMARY:Welcome stream\r
X-KALTURA-TYPE:2\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:broken@registrar\r
SUMMARY:No start\r
END:VEVENT\r
END:VCALENDAR\r
"""


def upload_ical(client, tmp_path, data: str, events_type: int = 1):
    path = tmp_path / "term.ics"
    path.write_text(data, newline="")
    job_data = build(KalturaBulkUploadICalJobData, eventsType=events_type)
    with path.open("rb") as file:
        return client.schedule.scheduleEvent.addFromBulkUpload(file, job_data)


def test_an_ical_file_becomes_events_one_result_per_vevent(admin_client, room, tmp_path):
    job = upload_ical(admin_client, tmp_path, TERM.format(room=room.id))
    assert value(job.bulkUploadObjectType) == "scheduleBulkUpload.SCHEDULE_EVENT"
    done = admin_client.bulkUpload.bulk.get(job.id)
    assert value(done.status) == KalturaBatchJobStatus.FINISHED_PARTIALLY
    series, welcome, broken = done.results
    assert [value(r.status) for r in done.results] == ["2", "2", "1"]
    assert (series.referenceId, welcome.referenceId, broken.referenceId) == (
        "physics-101@registrar", "welcome@registrar", "broken@registrar",
    )  # fmt: skip
    assert type(series).__name__ == "KalturaBulkUploadResultScheduleEvent" and broken.errorDescription
    lectures = admin_client.schedule.scheduleEvent.list(
        build(KalturaScheduleEventFilter, parentIdEqual=int(series.objectId))
    )
    assert lectures.totalCount == 4
    assert {local_time(e.startDate, "Europe/Berlin") for e in lectures.objects} == {"09:00"}
    stream = admin_client.schedule.scheduleEvent.get(int(welcome.objectId))
    assert type(stream).__name__ == "KalturaLiveStreamScheduleEvent"


def test_the_same_file_again_changes_nothing(admin_client, room, tmp_path):
    first = admin_client.bulkUpload.bulk.get(
        upload_ical(admin_client, tmp_path, TERM.format(room=room.id)).id
    )
    before = admin_client.schedule.scheduleEvent.get(int(first.results[0].objectId))
    again = admin_client.bulkUpload.bulk.get(
        upload_ical(admin_client, tmp_path, TERM.format(room=room.id)).id
    )
    assert [r.objectId for r in again.results[:2]] == [r.objectId for r in first.results[:2]]
    after = admin_client.schedule.scheduleEvent.get(before.id)
    assert (after.updatedAt, after.sequence) == (before.updatedAt, before.sequence)
