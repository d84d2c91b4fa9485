"""What a bulk import reports: one result per row (a CSV line, a VEVENT), and the refusal of a
whole file. Shared by resource_csv.py and ical_apply.py, stored on a BulkUpload job, and
rendered by the API as Kaltura's bulk upload results.

A file is applied a chunk of rows at a time (`apply_in_chunks`): one transaction applies the
chunk's rows, each in a savepoint of its own, and ends by saving the results so far
(`Ledger.save`). So a row is applied exactly when its result is stored: a worker that dies
mid-file loses the chunk under way, rows and results together, and every row applied before it
has its result. A chunk closes after CHUNK_SECONDS of work or CHUNK_ROWS rows, whichever comes
first: its transaction (SQLite's write lock) stays short and a job's heartbeat frequent, while
saving the results so far, which grows with the file, stays a small part of the work. Measured
on bench/ical_import.py's file as a job (10,000 new events, 4.5 s to import): 21 saves of 500
rows cost 1.3 s; 6 saves of 2,000 rows, each result encoded once (jobs.py), 0.2 s.

An unexpected exception in a row (a bug, a value a library refuses) undoes that row alone and
becomes its INTERNAL_ERROR result, with the traceback in the log; the next row goes on. Only a
failure of the whole file (unreadable, the database gone) stops the import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction

from calendar_app.errors import SchedulingError

logger = logging.getLogger(__name__)

CHUNK_ROWS = 2000
CHUNK_SECONDS = 2.0
INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass(frozen=True)
class RowResult:
    # The row's place among the file's rows, from 0: CSV data records (the header and blank
    # lines left out), iCal VEVENTs. People read it from 1 ("row 1"); the API's lineIndex keeps
    # Kaltura's base for each kind (bulk_upload.Wire.first_line).
    line: int
    action: str  # "add" | "update" | "delete" | "add_or_update" | "cancel"; "" when unreadable
    status: str  # "ok" | "error"
    object_id: int | None
    reason: str = ""
    code: str = ""
    row: dict[str, str] = field(default_factory=dict)  # the row as read (CSV cells, VEVENT properties)
    reference_id: str = ""  # iCal: the VEVENT's UID
    # What had to be guessed or left out to apply the row (a mapped time zone, a made UID):
    # the row is applied, and these say how it was read.
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowResult:
        return cls(**data)


class RowError(SchedulingError):
    """Why one row cannot be applied, with a stable code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class FileRefused(Exception):
    """The whole file is unusable; nothing was applied."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class Stopped(Exception):
    """The import must stop: its job was aborted, or given up for lost, while it ran. Raised by
    a Ledger inside a chunk's transaction, so that chunk is undone."""


class Ledger:
    """The results of one import as rows are applied, by line. This one keeps them in memory
    (a direct call: tests, the bench); a job's (jobs.py) also stores them on the job as each
    chunk commits, and raises Stopped when the job ended meanwhile."""

    name = "import"  # what the log calls it

    def __init__(self) -> None:
        self.results: dict[int, RowResult] = {}

    def add(self, result: RowResult) -> None:
        """A row's result; a later one for the same line replaces it (a row undone after all)."""
        self.results[result.line] = result

    def ordered(self) -> list[RowResult]:
        return [self.results[line] for line in sorted(self.results)]

    def started(self, rows: int) -> None:
        """The file is read: it has `rows` rows. Nothing is applied yet."""

    def save(self) -> None:
        """Store the results so far: the last step of each chunk's transaction."""


# One row, or a batch of them, applied: it adds their results to the ledger and says how many.
Unit = Callable[[], int]


def apply_in_chunks(ledger: Ledger, units: Iterable[Unit]) -> None:
    """Run `units` in order, a chunk of them per transaction that ends with `ledger.save()`.
    A unit must catch its rows' failures itself (see `unexpected`); an exception out of a unit
    or out of `save` undoes its chunk and ends the import."""
    pending = iter(units)
    more = True
    while more:
        with transaction.atomic():
            more = _chunk(pending)
            ledger.save()


def _chunk(units: Iterator[Unit]) -> bool:
    """Run units until the chunk is full; False when there are no more."""
    began, rows = time.monotonic(), 0
    for unit in units:
        rows += unit()
        if rows >= CHUNK_ROWS or time.monotonic() - began >= CHUNK_SECONDS:
            return True
    return False


def unexpected(name: str, line: int, error: Exception) -> str:
    """Log a row's unexpected exception (`name`: the import's, as Ledger.name) and give the
    reason its result reports. Call it once the row's savepoint is rolled back. When the database
    connection itself is broken, this is no longer one row's failure: the exception goes on and
    ends the import."""
    logger.error("%s: row %s failed unexpectedly", name, line, exc_info=error)
    if not connection.is_usable():
        raise error
    return (
        f"An internal error ({type(error).__name__}) stopped this row: nothing of it was applied. "
        "The server's log has the details."
    )


def read_text(data: bytes, *, max_bytes: int, code: str, refused: type[FileRefused] = FileRefused) -> str:
    """An uploaded file as text, or the refusal of the whole file: too large, not UTF-8, or
    holding NUL bytes (a binary file). A BOM, as spreadsheets and some editors write it, goes.
    `code` prefixes the error codes: CSV_TOO_LARGE, ICAL_NOT_TEXT, ..."""
    if len(data) > max_bytes:
        raise refused(
            f"{code}_TOO_LARGE", f"The file is {len(data)} bytes; at most {max_bytes} are accepted."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise refused(
            f"{code}_NOT_TEXT", f"The file is not UTF-8 text (bad byte at offset {error.start})."
        ) from None
    if "\x00" in text:
        raise refused(f"{code}_NOT_TEXT", "The file contains NUL bytes: it is not a text file.")
    return text
