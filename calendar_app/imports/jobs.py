"""Bulk upload jobs: submit a file, process it once in the background, keep the results.

The states (BulkUpload.Status) and who moves them, each move one conditional UPDATE:

    submit -> QUEUED -> PROCESSING -> FINISHED | FINISHED_PARTIALLY | FAILED    (process)
                |  ^         |------> ABORTED   (abort: the worker stops between chunks)
                |  '---------|        QUEUED    (recover: its heartbeat stopped; an iCal file, once)
                |            '------> FATAL     (recover: its heartbeat stopped; otherwise)
                '-------------------> ABORTED   (abort, before it started)

`submit` writes the job row in the caller's transaction and hands its id to Celery only after
commit, robustly: a broker that refuses the task, or an eager task that fails, never fails the
request that sent the file, which always gets its job back (`recover` sends a job again).
`process` claims the job with one conditional UPDATE, so two deliveries of the same task cannot
both run it. It applies the file a chunk of rows at a time (row_results.apply_in_chunks), and
each chunk's transaction ends by storing the results so far on the job with a heartbeat, only
while the job is still PROCESSING. Hence:

- A row is applied exactly when its result is stored: `results` and `num_processed` are true at
  any moment, whatever happens next. A row that meets a bug fails alone (INTERNAL_ERROR).
- Any exception ends the job. A file refused: FAILED with the refusal. A failure of the whole
  file (the database, a bug outside any row): FAILED when no row was applied, else
  FINISHED_PARTIALLY, with BULK_UPLOAD_INTERNAL_ERROR and the rows done. Only when the database
  cannot even record that does the job stay PROCESSING, for `recover` to end.
- `abort` ends a job that has not ended, running or not, at once. A running job's worker finds
  it out at the end of the chunk under way, undoes that chunk and stops; the rows done before
  stay applied and reported. We chose this over "abort only a job gone quiet": a client cannot
  tell a stuck job from a slow one, and a stop between chunks leaves no row without its result,
  whether the worker is alive or dead.
- A worker that dies leaves its job PROCESSING with a heartbeat that stops. Once its heartbeat is
  older than LOST_AFTER, `recover` queues an iCal job again, once (REDO_KINDS, MAX_ATTEMPTS), and
  marks any other FATAL; should the worker be alive after all, it stops at its next chunk as after
  an abort (each attempt beats and ends only its own claim, by its attempt number).
  An iCal file may run twice: every VEVENT is matched by its UID (one is made from its content
  when it has none), so a VEVENT the lost attempt applied is "unchanged" the second time and
  writes nothing; the redo keeps the first attempt's results for the rows it stored (what was
  done) and adds the others. A resource CSV is not run twice: its add rows name no key, and an
  add applied twice is a duplicate room.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, JSONField, Q, QuerySet, Value
from django.db.models.functions import Cast

from calendar_app import clock, fragments, writes
from calendar_app.errors import NotFound, ValidationFailed
from calendar_app.imports import ical_apply, resource_csv
from calendar_app.imports.row_results import FileRefused, Ledger, RowResult, Stopped
from calendar_app.models import AuditEntry, BulkUpload, EventType
from scheduler_site.celery import DATABASE_RETRY

logger = logging.getLogger(__name__)

Status = BulkUpload.Status
WAITING = (Status.PENDING, Status.QUEUED)
DONE = (Status.FINISHED, Status.FAILED, Status.ABORTED, Status.FATAL, Status.FINISHED_PARTIALLY)
# A job still waiting this long after it was last sent lost its task (the broker was down at
# commit, or lost the message): send it again.
REDISPATCH_AFTER = timedelta(seconds=settings.BULK_UPLOAD_REDISPATCH_SECONDS)
# A job PROCESSING with a heartbeat this old lost its worker. A live worker beats when it has read
# the file and at the end of every chunk (CHUNK_SECONDS plus one row: seconds); its longest
# silence is reading the largest file accepted (20,000 VEVENTs, 5 MB: 11 s on a busy 2-CPU machine).
LOST_AFTER = timedelta(seconds=settings.BULK_UPLOAD_LOST_AFTER_SECONDS)
# Files whose rows are idempotent (see the module doc), and how often a job is started at most:
# the lost attempt and one redo. A file that kills its worker each time is not run a third time.
REDO_KINDS = (BulkUpload.Kind.EVENTS_ICAL,)
MAX_ATTEMPTS = 2


ABORTED_WAITING = "Aborted before it started: nothing was applied."
ABORTED_RUNNING = (
    "Aborted while processing: the rows with a result are done as reported; the others were not applied."
)


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
            file_name=_fitted(file_name, "file_name"), file_data=data, events_type=events_type,
            description=_fitted(description, "description"), uploaded_by=actor.user_id, created_at=actor.now,
            heartbeat_at=actor.now,
        )  # fmt: skip
        # Robust: the job is stored whatever becomes of its task (a broker down, an eager run
        # that fails), and the caller gets it back; recover() sends it again if need be.
        transaction.on_commit(lambda: _dispatch(job.pk), robust=True)
    return job


def _fitted(text: str, column: str) -> str:
    """A label the client sent (a file name, a description), cut to what its column holds: it
    names the job and is no reason to refuse the file."""
    return text[: BulkUpload._meta.get_field(column).max_length]


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
    """End a job that has not ended. A waiting job never starts; a running one stops at the end
    of its chunk under way, which is undone (see the module doc)."""
    job = get(actor.partner, job_id)
    this = BulkUpload.objects.filter(pk=job.pk)
    ended = {"status": Status.ABORTED, "finished_at": actor.now, "error_code": "BULK_UPLOAD_ABORTED"}
    waiting = this.filter(status__in=WAITING).update(**ended, error=ABORTED_WAITING)
    if waiting or this.filter(status=Status.PROCESSING).update(**ended, error=ABORTED_RUNNING):
        job.refresh_from_db()
        return job
    raise ValidationFailed(
        "id", f"bulk upload {job.pk} is {job.get_status_display()}; only a job not ended can be aborted",
        code="BULK_UPLOAD_ABORT_FAILED", args={"ID": job.pk},
    )  # fmt: skip


def process(job_id: int, now: datetime) -> BulkUpload | None:
    """Run a waiting job to its end. Returns None when another delivery already claimed it.
    Whatever the file holds, the job ends; this raises only when the database cannot record
    that (recover() ends the job then)."""
    claimed = BulkUpload.objects.filter(pk=job_id, status__in=WAITING).update(
        status=Status.PROCESSING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    job = BulkUpload.objects.select_related("partner").get(pk=job_id)
    if job.attempts > 1:
        logger.warning("bulk upload %s: attempt %s, after its worker was lost", job.pk, job.attempts)
    actor = writes.Actor(
        partner=job.partner, now=now, user_id=job.uploaded_by, source=AuditEntry.Source.IMPORT
    )
    _run(job, actor)
    _publish(job.partner_id, now)
    return BulkUpload.objects.defer("file_data").get(pk=job_id)


def _run(job: BulkUpload, actor: writes.Actor) -> None:
    try:
        results = IMPORTERS[job.kind](actor, job, _JobLedger(job))
    except FileRefused as refused:
        _end(job, Status.FAILED, code=refused.code, error=refused.message)
    except Stopped:
        logger.info("bulk upload %s was ended while processing: stopped", job.pk)
    except Exception as error:
        logger.exception("bulk upload %s failed", job.pk)
        _end_broken(job, error)
    else:
        failed = any(r.status == "error" for r in results)
        _end(job, Status.FINISHED_PARTIALLY if failed else Status.FINISHED)


def _publish(partner_id: int, now: datetime) -> None:
    """Every row the import wrote is stamped `now`: re-render those, on a worker when there is
    one. The job is over whatever comes of it."""
    try:
        fragments.publish_later(partner_id, now)
    except Exception:
        logger.exception("publishing the feeds of partner %s after a bulk upload failed", partner_id)


def _import_events(actor: writes.Actor, job: BulkUpload, ledger: Ledger) -> list[RowResult]:
    return ical_apply.import_calendar(
        actor, bytes(job.file_data), default_type=job.events_type or EventType.RECORD, ledger=ledger
    )


def _import_resources(actor: writes.Actor, job: BulkUpload, ledger: Ledger) -> list[RowResult]:
    return resource_csv.import_resources(actor, bytes(job.file_data), ledger=ledger)


IMPORTERS: dict[str, Callable[[writes.Actor, BulkUpload, Ledger], list[RowResult]]] = {
    BulkUpload.Kind.EVENTS_ICAL: _import_events,
    BulkUpload.Kind.RESOURCES_CSV: _import_resources,
}


class _JobLedger(Ledger):
    """Results stored on the job as each chunk commits, with a heartbeat; Stopped when this
    attempt's claim ended meanwhile (aborted, given up or queued again by recover). A redo starts
    from the results the lost attempt stored: those rows were applied then, and keep them."""

    def __init__(self, job: BulkUpload):
        super().__init__()
        self.job_id = job.pk
        self.running = BulkUpload.objects.filter(pk=job.pk, status=Status.PROCESSING, attempts=job.attempts)
        self.name = f"bulk upload {job.pk}"
        # Each result as JSON, encoded once: every save stores all of them, and encoding them
        # all again each time cost more than the saves' writes (row_results.py has the numbers).
        self.encoded: dict[int, str] = {}
        for stored in results(job):
            super().add(stored)
            self.encoded[stored.line] = json.dumps(stored.as_dict())
        self.kept = set(self.encoded)
        self.changed = False

    def add(self, result: RowResult) -> None:
        if result.line in self.kept:
            return  # applied by the lost attempt: this one found it done ("unchanged")
        super().add(result)
        self.encoded[result.line] = json.dumps(result.as_dict())
        self.changed = True

    def started(self, rows: int) -> None:
        self._beat(num_rows=rows)

    def save(self) -> None:
        if not self.changed:  # a chunk without rows (the last one may be): a heartbeat will do
            self._beat()
            return
        stored = Cast(Value("[" + ",".join(self.encoded[n] for n in sorted(self.encoded)) + "]"), JSONField())
        errors = sum(result.status == "error" for result in self.results.values())
        self._beat(results=stored, num_processed=len(self.encoded), num_errors=errors)
        self.changed = False

    def _beat(self, **progress: Any) -> None:
        # The wall clock, not the actor's `now` (which stamps the rows): it tells a live worker.
        if not self.running.update(heartbeat_at=clock.now(), **progress):
            raise Stopped(f"bulk upload {self.job_id} is no longer PROCESSING")


def _end(job: BulkUpload, status: int, *, code: str = "", error: str = "") -> None:
    """This attempt's end, unless its claim ended meanwhile (aborted, given up, queued again):
    then that stands."""
    running = BulkUpload.objects.filter(pk=job.pk, status=Status.PROCESSING, attempts=job.attempts)
    running.update(status=status, finished_at=clock.now(), error_code=code, error=error)


def _end_broken(job: BulkUpload, error: Exception) -> None:
    """The end of a job the import stopped in: what its last chunk stored is what was done."""
    done, errors, rows = (
        BulkUpload.objects.filter(pk=job.pk).values_list("num_processed", "num_errors", "num_rows").get()
    )
    _end(
        job,
        Status.FINISHED_PARTIALLY if done > errors else Status.FAILED,
        code="BULK_UPLOAD_INTERNAL_ERROR",
        error=(
            f"An internal error ({type(error).__name__}) stopped the import after {done} of {rows} rows: "
            "the rows with a result are done as reported; the others were not applied."
        ),
    )


def recover(now: datetime) -> tuple[int, int]:
    """The safety net: run again, once, the iCal jobs whose worker was lost, give up on the
    others (FATAL), and send again the jobs whose task was. Cheap (the status index, then a
    query per job sent), and safe at any time and in several processes at once: each move is a
    conditional UPDATE, and a live worker whose job it takes stops at its next chunk. Returns
    (sent again, given up)."""
    silent = now - LOST_AFTER
    lost = BulkUpload.objects.filter(status=Status.PROCESSING).filter(
        Q(heartbeat_at__lt=silent) | Q(heartbeat_at=None, started_at__lt=silent)
    )
    redone = _redo(lost.filter(kind__in=REDO_KINDS, attempts__lt=MAX_ATTEMPTS), now)
    given_up = lost.update(
        status=Status.FATAL,
        finished_at=now,
        error_code="BULK_UPLOAD_WORKER_LOST",
        error=(
            "The worker processing this file stopped: the rows with a result are done as "
            "reported; the others were not applied."
        ),
    )
    return redone + _send_again(now), given_up


def _redo(lost: QuerySet[BulkUpload], now: datetime) -> int:
    """Queue these lost jobs again and send them; each taken by one conditional UPDATE on the
    claim it had, so two recover() at once queue it once. A send that fails is retried by
    _send_again, like any job whose task was lost."""
    sent = 0
    for job_id, attempt in list(lost.values_list("pk", "attempts")):
        mine = lost.filter(pk=job_id, attempts=attempt)
        if mine.update(status=Status.QUEUED, heartbeat_at=now) and _send(job_id):
            logger.warning("bulk upload %s lost its worker: queued again (attempt %s done)", job_id, attempt)
            sent += 1
    return sent


def _send_again(now: datetime) -> int:
    quiet = now - REDISPATCH_AFTER
    waiting = BulkUpload.objects.filter(status__in=WAITING).filter(
        Q(heartbeat_at__lt=quiet) | Q(heartbeat_at=None, created_at__lt=quiet)
    )
    sent = 0
    for job_id, beat in list(waiting.values_list("pk", "heartbeat_at")):
        # Claimed by moving its heartbeat: two recover() at once send it once.
        mine = BulkUpload.objects.filter(pk=job_id, status__in=WAITING, heartbeat_at=beat)
        if mine.update(heartbeat_at=now) and _send(job_id):
            sent += 1
    return sent


def _send(job_id: int) -> bool:
    try:
        _dispatch(job_id)
    except Exception:
        logger.exception("bulk upload %s could not be sent to a worker; recover() tries again later", job_id)
        return False
    return True


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
