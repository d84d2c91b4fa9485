"""Bulk upload jobs: submit a file, process it once in the background, keep the results.

`submit` writes the job row in the caller's transaction and hands its id to Celery only after
commit, so a job is never lost and never processed before it exists. `process` claims the job
with one conditional UPDATE, so two deliveries of the same task cannot both run it. A worker that
dies mid-file leaves the job PROCESSING; `recover` marks it FATAL instead of running it again,
because half of its rows may already be applied and an add row applied twice is a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F

from calendar_app import clock, fragments, writes
from calendar_app.errors import NotFound, ValidationFailed
from calendar_app.imports import ical_apply, resource_csv
from calendar_app.imports.row_results import FileRefused, RowResult
from calendar_app.models import AuditEntry, BulkUpload, EventType
from scheduler_site.celery import DATABASE_RETRY

Status = BulkUpload.Status
WAITING = (Status.PENDING, Status.QUEUED)
DONE = (Status.FINISHED, Status.FAILED, Status.ABORTED, Status.FATAL, Status.FINISHED_PARTIALLY)
# A job still QUEUED this long after submission lost its task (broker down at commit): send again.
REDISPATCH_AFTER = timedelta(minutes=5)
# A job PROCESSING this long lost its worker.
LOST_AFTER = timedelta(hours=1)


def max_bytes() -> int:
    return settings.BULK_UPLOAD_MAX_BYTES


def submit(
    actor: writes.Actor,
    kind: str,
    data: bytes,
    *,
    file_name: str = "",
    events_type: int | None = None,
    description: str = "",
    source: str = BulkUpload.Source.API,
) -> BulkUpload:
    """Store the file as a QUEUED job and dispatch it once the transaction commits."""
    if len(data) > max_bytes():
        raise ValidationFailed(
            "fileData", f"the file is {len(data)} bytes; at most {max_bytes()} are accepted",
            code="BULK_UPLOAD_FILE_TOO_LARGE", args={"SIZE": len(data), "MAX": max_bytes()},
        )  # fmt: skip
    if events_type is not None and events_type not in EventType.values:
        raise ValidationFailed("eventsType", f"unknown event type {events_type}", code="INVALID_ENUM_VALUE")
    with transaction.atomic():
        job = BulkUpload.objects.create(
            partner=actor.partner, kind=kind, status=Status.QUEUED, source=source,
            file_name=file_name[:256], file_data=data, events_type=events_type,
            description=description[:1024], uploaded_by=actor.user_id, created_at=actor.now,
        )  # fmt: skip
        transaction.on_commit(lambda: _dispatch(job.pk))
    return job


def _dispatch(job_id: int) -> None:
    process_bulk_upload.delay(job_id)


class BulkUploadNotFound(NotFound):
    code = "BULK_UPLOAD_NOT_FOUND"  # Kaltura's code for it


def get(partner, job_id: int) -> BulkUpload:
    found = BulkUpload.objects.for_partner(partner).filter(pk=job_id).first()
    if found is None:
        raise BulkUploadNotFound("BulkUpload", job_id)
    return found


def abort(actor: writes.Actor, job_id: int) -> BulkUpload:
    """Only a job that has not started can be aborted: rows already applied stay applied."""
    job = get(actor.partner, job_id)
    if BulkUpload.objects.filter(pk=job.pk, status__in=WAITING).update(
        status=Status.ABORTED, finished_at=actor.now
    ):
        job.refresh_from_db()
        return job
    raise ValidationFailed(
        "id", f"bulk upload {job.pk} is {job.get_status_display()}; only a waiting job can be aborted",
        code="BULK_UPLOAD_ABORT_FAILED", args={"ID": job.pk},
    )  # fmt: skip


def process(job_id: int, now: datetime) -> BulkUpload | None:
    """Run a waiting job to its end. Returns None when another delivery already claimed it."""
    claimed = BulkUpload.objects.filter(pk=job_id, status__in=WAITING).update(
        status=Status.PROCESSING, started_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    job = BulkUpload.objects.select_related("partner").get(pk=job_id)
    actor = writes.Actor(
        partner=job.partner, now=now, user_id=job.uploaded_by, source=AuditEntry.Source.IMPORT
    )
    try:
        results = IMPORTERS[job.kind](actor, job)
    except FileRefused as refused:
        return _finish(job, now, Status.FAILED, [], code=refused.code, error=refused.message)
    errors = sum(r.status == "error" for r in results)
    job = _finish(job, now, Status.FINISHED_PARTIALLY if errors else Status.FINISHED, results)
    # Every row the import wrote is stamped `now`: re-render those, on a worker when there is one.
    fragments.publish_later(job.partner_id, now)
    return job


def _import_events(actor: writes.Actor, job: BulkUpload) -> list[RowResult]:
    return ical_apply.import_calendar(
        actor, bytes(job.file_data), default_type=job.events_type or EventType.RECORD
    )


def _import_resources(actor: writes.Actor, job: BulkUpload) -> list[RowResult]:
    return resource_csv.import_resources(actor, bytes(job.file_data))


IMPORTERS: dict[str, Callable[[writes.Actor, BulkUpload], list[RowResult]]] = {
    BulkUpload.Kind.EVENTS_ICAL: _import_events,
    BulkUpload.Kind.RESOURCES_CSV: _import_resources,
}


def _finish(job: BulkUpload, now, status, results: list[RowResult], *, code="", error="") -> BulkUpload:
    job.status, job.finished_at, job.error_code, job.error = status, now, code, error
    job.results = [r.as_dict() for r in results]
    job.num_rows = job.num_processed = len(results)
    job.num_errors = sum(r.status == "error" for r in results)
    job.save(
        update_fields=[
            "status", "finished_at", "error_code", "error", "results", "num_rows", "num_processed",
            "num_errors",
        ]
    )  # fmt: skip
    return job


def recover(now: datetime) -> tuple[int, int]:
    """The periodic safety net: re-dispatch jobs whose task was lost, give up on jobs whose worker
    was. Returns (re-dispatched, given up)."""
    lost = BulkUpload.objects.filter(status=Status.PROCESSING, started_at__lt=now - LOST_AFTER).update(
        status=Status.FATAL,
        finished_at=now,
        error_code="BULK_UPLOAD_WORKER_LOST",
        error="The worker processing this file stopped; rows reported before it stopped may be applied.",
    )
    waiting = list(
        BulkUpload.objects.filter(status=Status.QUEUED, created_at__lt=now - REDISPATCH_AFTER).values_list(
            "pk", flat=True
        )
    )
    for job_id in waiting:
        _dispatch(job_id)
    return len(waiting), lost


def results(job: BulkUpload) -> list[RowResult]:
    return [RowResult.from_dict(r) for r in job.results]


# Task names are pinned: queued messages and the beat schedule name them.
@shared_task(name="calendar_app.tasks.process_bulk_upload", acks_late=True, **DATABASE_RETRY)
def process_bulk_upload(job_id: int) -> int | None:
    job = process(job_id, clock.now())
    return None if job is None else job.status


@shared_task(name="calendar_app.tasks.recover_bulk_uploads")
def recover_bulk_uploads() -> tuple[int, int]:
    return recover(clock.now())
