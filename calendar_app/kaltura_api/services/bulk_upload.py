"""Bulk uploads: `addFromBulkUpload` on scheduleEvent (iCal) and scheduleResource (CSV),
their `scheduleBulkUpload_scheduleBulk` aliases, and the jobs' get / list / abort on
`bulkupload_bulk` and `bulkupload`.

An upload answers at once with the QUEUED job, even when processing it will fail; a Celery task
processes it (jobs.py), and the job always ends. `get` carries the per-row results, stored as
the rows are applied, so a running job reports its progress; `list` leaves them out, since a
job may have 20,000 rows. `abort` ends any job not ended yet, a running one included: its worker
stops between two chunks of rows, and the rows reported stay done.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from calendar_app.imports import jobs
from calendar_app.imports.row_results import RowResult
from calendar_app.kaltura_api import listing
from calendar_app.kaltura_api.auth import Access
from calendar_app.kaltura_api.catalog import INT
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.errors import ApiError
from calendar_app.kaltura_api.listing import Column, Table
from calendar_app.kaltura_api.objects import Obj, Parsed, render, snake
from calendar_app.kaltura_api.values import Kind, bad_value
from calendar_app.models import BulkUpload

Kinds = BulkUpload.Kind


@dataclass(frozen=True)
class Upload(Kind):
    """A file part of a multipart request, at most the bulk upload size."""

    def parse(self, name, raw, now):
        if not isinstance(raw, UploadedFile):
            raise bad_value(name, "a text value", "an uploaded file (a multipart file part)")
        if raw.size > jobs.max_bytes():
            raise ApiError(
                "BULK_UPLOAD_FILE_TOO_LARGE",
                f"The file is {raw.size} bytes; at most {jobs.max_bytes()} are accepted",
                SIZE=raw.size,
                MAX=jobs.max_bytes(),
            )
        return raw


@dataclass(frozen=True)
class Wire:
    object_type: str  # KalturaBulkUploadObjectType
    upload_type: str  # KalturaBulkUploadType
    result_type: str
    # lineIndex of the first row. Both kinds number their rows alike (RowResult.line, from 0);
    # on the wire each keeps Kaltura's base: its iCal engine counts VEVENTs from 0, its CSV
    # engine data records from 1 (BulkUploadEngineICal::$itemIndex, BulkUploadEngineCsv::$lineNumber).
    first_line: int


WIRE = {
    Kinds.EVENTS_ICAL: Wire(
        "scheduleBulkUpload.SCHEDULE_EVENT",
        "scheduleBulkUpload.ICAL",
        "KalturaBulkUploadResultScheduleEvent",
        0,
    ),
    Kinds.RESOURCES_CSV: Wire(
        "scheduleBulkUpload.SCHEDULE_RESOURCE",
        "bulkUploadCsv.CSV",
        "KalturaBulkUploadResultScheduleResource",
        1,
    ),
}
BY_OBJECT_TYPE = {wire.object_type: kind for kind, wire in WIRE.items()}
# KalturaBulkUploadAction
ACTIONS = {
    "add": "1",
    "update": "2",
    "delete": "3",
    "add_or_update": "6",
    "cancel": "scheduleBulkUpload.CANCEL",
}
RESULT_OK, RESULT_ERROR = "2", "1"  # KalturaBulkUploadResultStatus
ERROR_TYPE_APP = 0  # KalturaBatchJobErrorTypes.APP: the file or the row, not the server


# ---------------------------------------------------------------- uploads


def _submit(call: Call, kind: str, upload: UploadedFile, job_data: Parsed | None, **extra) -> dict[str, Any]:
    values = job_data.values if job_data else {}
    job = jobs.submit(
        call.actor, kind, upload.read(), file_name=values.get("file_name") or upload.name or "", **extra
    )
    return render_job(job, with_results=False)


def _events(call: Call, fileData: UploadedFile, bulkUploadData: Parsed | None):
    events_type = bulkUploadData.values.get("events_type") if bulkUploadData else None
    return _submit(call, Kinds.EVENTS_ICAL, fileData, bulkUploadData, events_type=events_type)


def _resources(call: Call, fileData: UploadedFile, bulkUploadData: Parsed | None):
    return _submit(call, Kinds.RESOURCES_CSV, fileData, bulkUploadData)


for _service, _name, _handler, _data in (
    ("schedule_scheduleevent", "addFromBulkUpload", _events, "KalturaBulkUploadScheduleEventJobData"),
    (
        "schedulebulkupload_schedulebulk",
        "addScheduleEvents",
        _events,
        "KalturaBulkUploadScheduleEventJobData",
    ),
    ("schedule_scheduleresource", "addFromBulkUpload", _resources, "KalturaBulkUploadJobData"),
    ("schedulebulkupload_schedulebulk", "addScheduleResources", _resources, "KalturaBulkUploadJobData"),
):
    action(
        _service,
        _name,
        Param("fileData", Upload(), required=True),
        Param("bulkUploadData", Obj(base=_data)),
        access=Access.WRITE,
    )(_handler)


# ---------------------------------------------------------------- jobs


def _get(call: Call, id: int):
    return render_job(jobs.get(call.partner, id), with_results=True)


def _abort(call: Call, id: int):
    return render_job(jobs.abort(call.actor, id), with_results=False)


JOBS = Table(
    response="KalturaBulkUploadListResponse",
    columns={"uploadedOn": Column("created_at"), "status": Column("status", is_int=True)},
    order_by={"uploadedOn": "created_at", "id": "pk"},
    specials={
        "bulkUploadObjectTypeEqual": lambda rows, wire, value, partner: rows.filter(
            kind=BY_OBJECT_TYPE[value]
        ),
        "bulkUploadObjectTypeIn": lambda rows, wire, value, partner: rows.filter(
            kind__in=[BY_OBJECT_TYPE[v] for v in listing.str_list(wire, value) if v in BY_OBJECT_TYPE]
        ),
    },
)


def _list(call: Call, filter: Parsed | None, pager: Parsed | None):
    jobs = BulkUpload.objects.for_partner(call.partner).defer("file_data", "results")
    rows = listing.apply(jobs, filter, JOBS, call.partner.pk)
    if filter is not None and filter.values.get("orderBy"):
        rows = listing.ordered(rows, filter, JOBS)
    else:
        rows = rows.order_by("-pk")  # newest first, as Kaltura lists jobs
    found, total = listing.paginate(rows, listing.page(pager))
    return listing.list_response(JOBS.response, [render_job(j, with_results=False) for j in found], total)


for _service in ("bulkupload_bulk", "bulkupload"):
    action(_service, "get", Param("id", INT, required=True))(_get)
    action(_service, "abort", Param("id", INT, required=True), access=Access.WRITE)(_abort)
_filter = Param("bulkUploadFilter", Obj(base="KalturaBulkUploadFilter"))
_pager = Param("pager", Obj(base="KalturaPager"))
action("bulkupload_bulk", "list", _filter, _pager)(
    lambda call, bulkUploadFilter, pager: _list(call, bulkUploadFilter, pager)
)
action("bulkupload", "list", _pager)(lambda call, pager: _list(call, None, pager))


# ---------------------------------------------------------------- rendering


def render_job(job: BulkUpload, *, with_results: bool) -> dict[str, Any]:
    wire = WIRE[job.kind]
    results = jobs.results(job) if with_results else []
    return render(
        "KalturaBulkUpload",
        {
            "pk": job.pk,
            "uploaded_by": job.uploaded_by,
            "uploaded_by_user_id": job.uploaded_by,
            "uploaded_on": job.created_at,
            "num_of_entries": job.num_rows,
            "status": job.status,
            "bulk_upload_type": wire.upload_type,
            "results": [_result(job, wire, r) for r in results],
            "error": job.error or None,
            "error_type": ERROR_TYPE_APP if job.error else None,
            "file_name": job.file_name,
            "description": job.description,
            "num_of_objects": job.num_rows,
            "bulk_upload_object_type": wire.object_type,
        },
    )


def _result(job: BulkUpload, wire: Wire, result: RowResult) -> dict[str, Any]:
    failed = result.status == "error"
    row = result.row
    return {
        "objectType": wire.result_type,
        "bulk_upload_job_id": job.pk,
        "line_index": wire.first_line + result.line,
        "partner_id": job.partner_id,
        "status": RESULT_ERROR if failed else RESULT_OK,
        "action": ACTIONS.get(result.action),
        "object_id": None if result.object_id is None else str(result.object_id),
        "bulk_upload_result_object_type": wire.object_type,
        "row_data": _row_data(job.kind, row),
        # An applied row's warnings (what had to be guessed to read it) where Kaltura's readers
        # look for a row's words; its status stays OK.
        "error_description": result.reason if failed else " ".join(result.warnings) or None,
        "error_code": result.code or None,
        "error_type": ERROR_TYPE_APP if failed else None,
        "reference_id": result.reference_id or None,
        **_resource_columns(row),
    }


def _resource_columns(row: dict[str, str]) -> dict[str, Any]:
    names = (
        "resourceId",
        "name",
        "type",
        "systemName",
        "description",
        "tags",
        "parentType",
        "parentSystemName",
    )
    return {snake(n): row.get(n) or None for n in names}


def _row_data(kind: str, row: dict[str, str]) -> str:
    """The row as it was read: CSV cells re-joined, or the VEVENT's properties as lines."""
    if kind == Kinds.RESOURCES_CSV:
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(row.values())
        return out.getvalue()
    return "\n".join(["BEGIN:VEVENT", *(f"{k}:{v}" for k, v in row.items()), "END:VEVENT"])
