"""Bulk upload jobs (imports/jobs.py): every job ends, a row is applied exactly when its result is
stored, abort and recover end a job at once and its worker stops between chunks."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import transaction

from calendar_app import clock, scheduling
from calendar_app.imports import jobs, resource_csv, row_results
from calendar_app.models import BulkUpload, ResourceStatus, ScheduleEvent, ScheduleResource

Status = BulkUpload.Status
CSV = b"""*action,name,type,systemName
1,Hall A,location,hall-a
1,Hall B,location,hall-b
1,Hall C,location,hall-c
"""


class WorkerDied(BaseException):
    """What no handler catches: the process killed in the middle of a row."""


def processed(actor, data: bytes = CSV) -> BulkUpload:
    job = jobs.submit(actor, BulkUpload.Kind.RESOURCES_CSV, data)
    jobs.process(job.pk, actor.now)  # what the task does once the upload commits
    return BulkUpload.objects.get(pk=job.pk)


def halls(partner) -> list[str]:
    live = ScheduleResource.objects.for_partner(partner).exclude(status=ResourceStatus.DELETED)
    return sorted(live.values_list("system_name", flat=True))


def codes(job: BulkUpload) -> list[tuple[int, str, str]]:
    return [(r.line, r.status, r.code) for r in jobs.results(job)]


@pytest.fixture
def failing_on(monkeypatch):
    """Make scheduling.create_resource raise `error` for the resource named `name`."""

    def patch(name: str, error: BaseException) -> None:
        real = scheduling.create_resource

        def create(actor, data):
            if data.get("name") == name:
                raise error
            return real(actor, data)

        monkeypatch.setattr(scheduling, "create_resource", create)

    return patch


@pytest.fixture
def one_row_per_chunk(monkeypatch):
    monkeypatch.setattr(row_results, "CHUNK_ROWS", 1)


def stuck(actor, *, beat_ago: timedelta | None, started_ago: timedelta = timedelta(hours=2)) -> BulkUpload:
    """A job some worker claimed and then went quiet: its last heartbeat `beat_ago` (None: none)."""
    job = jobs.submit(actor, BulkUpload.Kind.RESOURCES_CSV, CSV)
    beat = None if beat_ago is None else actor.now - beat_ago
    BulkUpload.objects.filter(pk=job.pk).update(
        status=Status.PROCESSING, started_at=actor.now - started_ago, heartbeat_at=beat
    )
    return job


# ---------------------------------------------------------------- every job ends


def test_a_row_that_raises_fails_alone_and_the_file_goes_on(actor, failing_on):
    failing_on("Hall B", ZeroDivisionError("division by zero"))
    job = processed(actor)
    assert job.status == Status.FINISHED_PARTIALLY
    assert codes(job) == [(0, "ok", ""), (1, "error", "INTERNAL_ERROR"), (2, "ok", "")]
    assert "ZeroDivisionError" in jobs.results(job)[1].reason
    assert halls(actor.partner) == ["hall-a", "hall-c"]


def test_the_traceback_of_a_failed_row_is_logged_not_reported(actor, failing_on, caplog):
    failing_on("Hall B", ZeroDivisionError("division by zero"))
    with caplog.at_level(logging.ERROR):
        job = processed(actor)
    assert "Traceback" not in jobs.results(job)[1].reason
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is ZeroDivisionError]
    assert len(logged) == 1 and f"bulk upload {job.pk}" in logged[0].getMessage()


def test_a_failure_of_the_whole_file_before_any_row_fails_the_job(actor, monkeypatch):
    def broken(actor, job, ledger):
        raise RuntimeError("the importer broke")

    monkeypatch.setitem(jobs.IMPORTERS, BulkUpload.Kind.RESOURCES_CSV, broken)
    job = processed(actor)
    assert (job.status, job.error_code, job.results) == (Status.FAILED, "BULK_UPLOAD_INTERNAL_ERROR", [])
    assert "RuntimeError" in job.error and job.finished_at is not None


def test_a_failure_of_the_whole_file_after_some_chunks_keeps_the_rows_done(
    actor, monkeypatch, one_row_per_chunk
):
    real = resource_csv._import_row

    def crash_on_the_third_row(actor, ledger, columns, line, cells):
        if line == 2:
            raise RuntimeError("outside any row")
        return real(actor, ledger, columns, line, cells)

    monkeypatch.setattr(resource_csv, "_import_row", crash_on_the_third_row)
    job = processed(actor)
    assert (job.status, job.error_code) == (Status.FINISHED_PARTIALLY, "BULK_UPLOAD_INTERNAL_ERROR")
    assert codes(job) == [(0, "ok", ""), (1, "ok", "")] and "after 2 of 3 rows" in job.error
    assert halls(actor.partner) == ["hall-a", "hall-b"]


def test_a_refused_file_fails_the_job_with_the_refusal(actor):
    job = processed(actor, b"no header\n")
    assert (job.status, job.error_code, job.num_rows) == (Status.FAILED, "CSV_MISSING_HEADER", 0)


# ---------------------------------------------------------------- rows and results together


def test_rows_applied_before_the_worker_died_have_their_results(actor, failing_on, one_row_per_chunk):
    failing_on("Hall C", WorkerDied())
    job = jobs.submit(actor, BulkUpload.Kind.RESOURCES_CSV, CSV)
    with pytest.raises(WorkerDied):
        jobs.process(job.pk, actor.now)
    job.refresh_from_db()
    assert (job.status, job.num_rows, job.num_processed) == (Status.PROCESSING, 3, 2)
    assert codes(job) == [(0, "ok", ""), (1, "ok", "")] and halls(actor.partner) == ["hall-a", "hall-b"]


def test_a_processing_job_records_its_progress_and_heartbeat_per_chunk(actor, monkeypatch, one_row_per_chunk):
    ticks = iter(actor.now + timedelta(seconds=n) for n in range(1000))
    monkeypatch.setattr(clock, "now", lambda: next(ticks))  # a wall clock that moves
    seen, real = [], scheduling.create_resource

    def create(who, data):
        seen.append(BulkUpload.objects.values_list("num_processed", "heartbeat_at").get())
        return real(who, data)

    monkeypatch.setattr(scheduling, "create_resource", create)
    processed(actor)
    assert [done for done, _ in seen] == [0, 1, 2]
    assert seen[0][1] < seen[1][1] < seen[2][1]


# ---------------------------------------------------------------- abort


def test_abort_ends_a_waiting_job_before_it_starts(actor):
    job = jobs.abort(actor, jobs.submit(actor, BulkUpload.Kind.RESOURCES_CSV, CSV).pk)
    assert (job.status, job.error_code) == (Status.ABORTED, "BULK_UPLOAD_ABORTED")
    assert jobs.process(job.pk, actor.now) is None and halls(actor.partner) == []


def test_abort_ends_a_processing_job_at_once(actor):
    job = jobs.abort(actor, stuck(actor, beat_ago=timedelta(seconds=1)).pk)
    assert (job.status, job.finished_at) == (Status.ABORTED, actor.now)
    assert "the others were not applied" in job.error


def test_an_ended_job_cannot_be_aborted(actor):
    job = processed(actor)
    with pytest.raises(jobs.ValidationFailed) as error:
        jobs.abort(actor, job.pk)
    assert error.value.code == "BULK_UPLOAD_ABORT_FAILED"


def _abort(actor, job_id):
    jobs.abort(actor, job_id)


def _give_up(actor, job_id):
    jobs.recover(actor.now + jobs.LOST_AFTER + timedelta(seconds=1))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("end", [_abort, _give_up], ids=["aborted", "given up"])
def test_a_live_worker_stops_at_the_chunk_after_its_job_ended(actor, monkeypatch, one_row_per_chunk, end):
    monkeypatch.setattr(jobs, "_dispatch", lambda job_id: None)  # this test is the worker
    job = jobs.submit(actor, BulkUpload.Kind.RESOURCES_CSV, CSV)
    real = scheduling.create_resource

    def create(who, data):
        if data["name"] == "Hall B":  # ended by someone else just after this row's chunk commits
            transaction.on_commit(lambda: end(actor, job.pk))
        return real(who, data)

    monkeypatch.setattr(scheduling, "create_resource", create)
    jobs.process(job.pk, actor.now)
    job.refresh_from_db()
    assert job.status in (Status.ABORTED, Status.FATAL)
    assert codes(job) == [(0, "ok", ""), (1, "ok", "")] and halls(actor.partner) == ["hall-a", "hall-b"]


# ---------------------------------------------------------------- recover


def test_recover_gives_up_on_a_job_whose_heartbeat_stopped(actor):
    job = stuck(actor, beat_ago=jobs.LOST_AFTER + timedelta(seconds=1))
    assert jobs.recover(actor.now) == (0, 1)
    job.refresh_from_db()
    assert (job.status, job.error_code) == (Status.FATAL, "BULK_UPLOAD_WORKER_LOST")


def test_recover_leaves_a_job_whose_worker_beats_however_long_it_runs(actor):
    job = stuck(actor, beat_ago=timedelta(seconds=30), started_ago=timedelta(hours=5))
    assert jobs.recover(actor.now) == (0, 0)
    assert BulkUpload.objects.get(pk=job.pk).status == Status.PROCESSING


def test_recover_gives_up_on_a_job_from_before_heartbeats_by_its_start(actor):
    stuck(actor, beat_ago=None, started_ago=jobs.LOST_AFTER + timedelta(seconds=1))
    assert jobs.recover(actor.now) == (0, 1)


def test_recover_sends_a_job_waiting_too_long_again_once(actor, monkeypatch):
    sent = []
    monkeypatch.setattr(jobs, "_dispatch", sent.append)
    job = jobs.submit(actor, BulkUpload.Kind.RESOURCES_CSV, CSV)
    later = actor.now + jobs.REDISPATCH_AFTER + timedelta(seconds=1)
    assert [jobs.recover(later), jobs.recover(later)] == [(1, 0), (0, 0)]
    assert sent == [job.pk]


def test_recover_goes_on_when_a_job_cannot_be_sent(actor, monkeypatch):
    def broker_down(job_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(jobs, "_dispatch", broker_down)
    jobs.submit(actor, BulkUpload.Kind.RESOURCES_CSV, CSV)
    assert jobs.recover(actor.now + jobs.REDISPATCH_AFTER + timedelta(seconds=1)) == (0, 0)


# ---------------------------------------------------------------- a lost iCal job, redone once

ICAL = b"""BEGIN:VCALENDAR
VERSION:2.0
BEGIN:VEVENT
UID:weekly@jobs
DTSTART:20270104T090000Z
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Weekly
END:VEVENT
BEGIN:VEVENT
UID:one@jobs
DTSTART:20270105T090000Z
DURATION:PT1H
SUMMARY:One
END:VEVENT
BEGIN:VEVENT
UID:two@jobs
DTSTART:20270106T090000Z
DURATION:PT1H
SUMMARY:Two
END:VEVENT
END:VCALENDAR
"""


def died_after_first_chunk(actor, monkeypatch) -> BulkUpload:
    """An iCal job whose worker died in its second chunk: the series applied, the singles not."""
    monkeypatch.setattr(jobs, "_dispatch", lambda job_id: None)  # this test is the worker
    monkeypatch.setattr(row_results, "CHUNK_ROWS", 1)
    job = jobs.submit(actor, BulkUpload.Kind.EVENTS_ICAL, ICAL)
    saves, real = [], jobs._JobLedger.save

    def save(ledger):
        saves.append(1)
        if len(saves) == 2:  # the series' chunk saved; this one is the singles'
            raise WorkerDied()
        real(ledger)

    with monkeypatch.context() as patched:
        patched.setattr(jobs._JobLedger, "save", save)
        with pytest.raises(WorkerDied):
            jobs.process(job.pk, actor.now)
    return BulkUpload.objects.get(pk=job.pk)


def summaries(partner) -> list[str]:
    return sorted(
        ScheduleEvent.objects.for_partner(partner).filter(parent=None).values_list("summary", flat=True)
    )


def test_recover_runs_a_lost_ical_job_again_and_it_ends_with_every_event_once(actor, monkeypatch):
    lost = died_after_first_chunk(actor, monkeypatch)
    assert (lost.status, lost.num_processed, summaries(actor.partner)) == (Status.PROCESSING, 1, ["Weekly"])

    assert jobs.recover(actor.now + jobs.LOST_AFTER + timedelta(seconds=1)) == (1, 0)
    assert BulkUpload.objects.get(pk=lost.pk).status == Status.QUEUED
    job = jobs.process(lost.pk, actor.now)
    assert (job.status, job.attempts, job.num_processed) == (Status.FINISHED, 2, 3)
    assert summaries(actor.partner) == ["One", "Two", "Weekly"]
    assert jobs.results(job)[0] == jobs.results(lost)[0]  # the series, as the lost attempt did it


def test_a_job_lost_twice_is_given_up(actor, monkeypatch):
    job = stuck(actor, beat_ago=jobs.LOST_AFTER + timedelta(seconds=1))
    BulkUpload.objects.filter(pk=job.pk).update(kind=BulkUpload.Kind.EVENTS_ICAL, attempts=2)
    assert jobs.recover(actor.now) == (0, 1)
    assert BulkUpload.objects.get(pk=job.pk).status == Status.FATAL


def test_the_lost_attempt_stops_when_its_job_was_queued_again(actor, monkeypatch):
    lost = died_after_first_chunk(actor, monkeypatch)
    jobs.recover(actor.now + jobs.LOST_AFTER + timedelta(seconds=1))
    BulkUpload.objects.filter(pk=lost.pk).update(status=Status.PROCESSING, attempts=2)  # the redo runs
    with pytest.raises(row_results.Stopped):
        jobs._JobLedger(lost).save()  # the first attempt, alive after all, beats
