"""What a bulk import reports: one result per row (a CSV line, a VEVENT), and the refusal of a
whole file. Shared by resource_csv.py and ical_import.py, stored on a BulkUpload job, and
rendered by the API as Kaltura's bulk upload results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RowResult:
    # CSV: the 1-based physical line where the record starts (the header is line 1).
    # iCal: the 0-based index of the VEVENT in the file, as Kaltura's lineIndex.
    line: int
    action: str  # "add" | "update" | "delete" | "add_or_update" | "cancel"; "" when unreadable
    status: str  # "ok" | "error"
    object_id: int | None
    reason: str = ""
    code: str = ""
    row: dict[str, str] = field(default_factory=dict)  # the row as read (CSV cells, VEVENT properties)
    reference_id: str = ""  # iCal: the VEVENT's UID

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowResult:
        return cls(**data)


class FileRefused(Exception):
    """The whole file is unusable; nothing was applied."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


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
