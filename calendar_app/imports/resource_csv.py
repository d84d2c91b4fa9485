"""Resource CSV bulk upload (docs/kaltura-compatibility.md §6): a file in, one result per data line out.

Every write goes through scheduling.py with the caller's actor, so partner scoping, validation
and the audit trail are the API's own. Each row runs in a savepoint of its own and is reported on
its own: a bad row, even one that meets a bug, never blocks the others. Rows are applied a chunk
at a time, each chunk with its results (row_results.apply_in_chunks). The whole file is refused
(CsvRefused) only when it cannot be read at all, before anything is applied. No HTTP and no job
here: those call us.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from typing import Any

from django.db import transaction

from calendar_app import scheduling, writes
from calendar_app.errors import NotFound, SchedulingError, ValidationFailed
from calendar_app.imports.row_results import (
    INTERNAL_ERROR,
    FileRefused,
    Ledger,
    RowResult,
    apply_in_chunks,
    read_text,
    unexpected,
)
from calendar_app.models import Partner, ResourceStatus, ResourceType, ScheduleResource

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
ACTIONS = {"": "add", "1": "add", "2": "update", "3": "delete", "6": "add_or_update"}
TYPES = {kind.name.lower(): kind for kind in ResourceType}  # location, live_entry, camera
TYPE_NAMES = {kind: name for name, kind in TYPES.items()}
# Columns whose cells pass straight to scheduling.py. streamUrl and entryId are our extension:
# Kaltura's CSV cannot set them, so there every live_entry row fails for want of an entry.
VALUE_COLUMNS = {
    "name": "name",
    "systemName": "system_name",
    "description": "description",
    "tags": "tags",
    "streamUrl": "stream_url",
    "entryId": "entry_id",
}
COLUMNS = ("action", "resourceId", "type", "parentType", "parentSystemName", *VALUE_COLUMNS)
BY_LOWER_NAME = {column.lower(): column for column in COLUMNS}
# Domain field -> the column a refusal is about, so a reason names what the user wrote.
FIELD_COLUMNS = {f: c for c, f in VALUE_COLUMNS.items()} | {"parent_id": "parentSystemName", "type": "type"}
# docs/kaltura-compatibility.md §6: stricter than input_rules.py (which also allows '.'), so checked here.
SYSTEM_NAME = re.compile(r"[A-Za-z0-9_-]+")


class CsvRefused(FileRefused):
    """The whole CSV is unusable; nothing was applied."""


class _RowError(SchedulingError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def import_resources(
    actor: writes.Actor,
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    ledger: Ledger | None = None,
) -> list[RowResult]:
    """Apply each data line of a resource CSV for `actor`'s partner; one result per line, in order.
    `ledger` receives the results as chunks of rows are applied (a job's stores them)."""
    ledger = ledger or Ledger()
    columns, records = _read(data, max_bytes, max_rows)
    ledger.started(len(records))
    rows = (functools.partial(_import_row, actor, ledger, columns, line, cells) for line, cells in records)
    apply_in_chunks(ledger, rows)
    return ledger.ordered()


# ---------------------------------------------------------------- the file


def _read(data: bytes, max_bytes: int, max_rows: int) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The columns and the non-blank data records, numbered from 0 as an iCal file's VEVENTs are
    (RowResult.line). Reads everything first, so a refusal comes before any row is applied."""
    records = list(_records(_decode(data, max_bytes))) or [(1, [])]
    data_rows = [cells for _, cells in records[1:] if any(cells)]
    columns, rows = _columns(records[0][1]), list(enumerate(data_rows))
    if len(rows) > max_rows:
        raise CsvRefused(
            "CSV_TOO_MANY_ROWS", f"The file has {len(rows)} rows; at most {max_rows} are accepted."
        )
    return columns, rows


def _decode(data: bytes, max_bytes: int) -> str:
    return read_text(data, max_bytes=max_bytes, code="CSV", refused=CsvRefused)


def _records(text: str):
    """(line, trimmed cells) per record; a quoted cell may span lines, so count from the reader."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for cells in reader:
            yield line, [cell.strip() for cell in cells]
            line = reader.line_num + 1
    except csv.Error as error:
        raise CsvRefused("CSV_MALFORMED", f"Line {line} cannot be read as CSV: {error}.") from None


def _columns(header: list[str]) -> list[str]:
    if not header or not header[0].startswith("*"):
        raise CsvRefused(
            "CSV_MISSING_HEADER",
            "The first line must be a header starting with '*' that names the columns, e.g. *action,name.",
        )
    columns: list[str] = []
    for name in [header[0].lstrip("*").strip(), *header[1:]]:
        column = BY_LOWER_NAME.get(name.lower())
        if column is None:
            raise CsvRefused(
                "CSV_UNKNOWN_COLUMN", f"Unknown column {name!r} in the header; known: {', '.join(COLUMNS)}."
            )
        if column in columns:
            raise CsvRefused("CSV_DUPLICATE_COLUMN", f"The header names column {column!r} twice.")
        columns.append(column)
    return columns


# ---------------------------------------------------------------- one row


def _import_row(actor: writes.Actor, ledger: Ledger, columns: list[str], line: int, cells: list[str]) -> int:
    ledger.add(_row_result(actor, ledger, columns, line, cells))
    return 1


def _row_result(
    actor: writes.Actor, ledger: Ledger, columns: list[str], line: int, cells: list[str]
) -> RowResult:
    row = {column: cells[i] if i < len(cells) else "" for i, column in enumerate(columns)}
    action = ACTIONS.get(row.get("action", ""), "")
    try:
        if len(cells) > len(columns):
            raise _RowError(
                "CSV_ROW_TOO_LONG", f"The row has {len(cells)} fields but the header names {len(columns)}."
            )
        if not action:
            raise _RowError(
                "CSV_BAD_ACTION",
                f"Unknown action {row['action']!r}: use 1 add, 2 update, 3 delete or 6 update-or-add.",
            )
        # One savepoint for the look-ups and the write: a parent found is still there, and a
        # failure undoes this row alone.
        with transaction.atomic():
            object_id = _apply(actor, action, row)
    except SchedulingError as error:
        return RowResult(line, action, "error", None, _reason(error), error.code, row)
    except Exception as error:  # a bug or a refusal nobody named: this row fails, the file goes on
        return RowResult(
            line, action, "error", None, unexpected(ledger.name, line, error), INTERNAL_ERROR, row
        )
    return RowResult(line, action, "ok", object_id, row=row)


def _apply(actor: writes.Actor, action: str, row: dict[str, str]) -> int:
    kind = _type(row, "type")
    _type(row, "parentType")  # a bad value is refused even where it would go unused
    target = _target(actor.partner, action, row)
    if target is None:
        # Kaltura's default type, so a file written for Kaltura works here unchanged.
        data = {"type": kind or ResourceType.LOCATION, **_values(actor.partner, row, None)}
        return scheduling.create_resource(actor, data).pk
    _check_kind(target, kind)
    if action == "delete":
        return scheduling.delete_resource(actor, target.pk).pk
    return scheduling.update_resource(actor, target.pk, _values(actor.partner, row, target)).pk


def _target(partner: Partner, action: str, row: dict[str, str]) -> ScheduleResource | None:
    """The stored resource the row acts on; None when it adds. resourceId wins over systemName,
    which is then a new name; an unknown resourceId is an error even for 6 (it names one row)."""
    if action == "add":
        return None
    if row.get("resourceId"):
        return scheduling.get_resource(partner, _resource_id(row["resourceId"]))
    name = row.get("systemName")
    if not name:
        if action == "add_or_update":
            return None
        raise _RowError("CSV_MISSING_KEY", f"To {action} a resource, give its resourceId or systemName.")
    found = _by_system_name(partner, name)
    if found is None and action != "add_or_update":
        raise _RowError("CSV_RESOURCE_NOT_FOUND", f"No resource has systemName {name!r}.")
    return found


def _values(partner: Partner, row: dict[str, str], target: ScheduleResource | None) -> dict[str, Any]:
    """The domain fields the row sets: empty cells are "not set", never "clear"."""
    values: dict[str, Any] = {f: row[c] for c, f in VALUE_COLUMNS.items() if row.get(c)}
    name = values.get("system_name")
    # Checked only when written: a stored name from the API (which allows '.') still finds its row.
    if name and (target is None or name != target.system_name) and not SYSTEM_NAME.fullmatch(name):
        raise _RowError(
            "CSV_BAD_SYSTEM_NAME", f"systemName {name!r} may contain only letters, digits, '-' and '_'."
        )
    if row.get("parentSystemName"):
        values["parent_id"] = _parent_id(partner, row)
    return values


def _parent_id(partner: Partner, row: dict[str, str]) -> int:
    name, kind = row["parentSystemName"], _type(row, "parentType") or ResourceType.LOCATION
    if name == row.get("systemName"):
        # Caught here because on an add there is no stored row yet for the domain's cycle check.
        raise _RowError("RESOURCE_PARENT_CYCLE", f"The row names itself ({name!r}) as its parent.")
    parent = _by_system_name(partner, name)
    if parent is None:
        raise _RowError(
            "CSV_PARENT_NOT_FOUND",
            f"No {TYPE_NAMES[kind]} resource has systemName {name!r}: "
            "a parent must be stored already or defined on an earlier row.",
        )
    if parent.type != kind:
        raise _RowError(
            "CSV_PARENT_WRONG_TYPE",
            f"The parent {name!r} is a {TYPE_NAMES[parent.type]}, not a {TYPE_NAMES[kind]}.",
        )
    return parent.pk


def _by_system_name(partner: Partner, name: str) -> ScheduleResource | None:
    # Rows added earlier in the file are written by now (in this chunk or one before), so this finds them too.
    living = ScheduleResource.objects.for_partner(partner).exclude(status=ResourceStatus.DELETED)
    return living.filter(system_name=name).first()


def _type(row: dict[str, str], column: str) -> int | None:
    value = row.get(column, "")
    if not value:
        return None
    kind = TYPES.get(value.lower())
    if kind is None:
        raise _RowError("CSV_BAD_TYPE", f"{column} {value!r} is not one of {', '.join(TYPES)}.")
    return kind


def _check_kind(target: ScheduleResource, kind: int | None) -> None:
    if kind is not None and kind != target.type:
        raise _RowError(
            "CSV_TYPE_MISMATCH",
            f"Resource {target.pk} is a {TYPE_NAMES[target.type]}, not a {TYPE_NAMES[kind]}; "
            "a type cannot be changed.",
        )


def _resource_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise _RowError("CSV_BAD_RESOURCE_ID", f"resourceId {value!r} is not a whole number.")
    return int(value)


def _reason(error: SchedulingError) -> str:
    if isinstance(error, NotFound):
        return f"No {error.kind} {error.object_id} was found."
    if isinstance(error, ValidationFailed):
        return f"{FIELD_COLUMNS.get(error.field, error.field)}: {error.message}"
    return error.message
