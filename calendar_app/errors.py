"""Domain errors. Each carries a stable code (Kaltura's, where Kaltura has one) that the API
layer renders as a Kaltura error envelope, and the field it is about, so forms can show it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class SchedulingError(Exception):
    code = "SCHEDULING_ERROR"

    def __init__(self, message: str, *, args: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.error_args = args or {}


class NotFound(SchedulingError):
    code = "INVALID_OBJECT_ID"

    def __init__(self, kind: str, object_id: Any):
        super().__init__(f"Invalid object id [{object_id}]", args={"ID": object_id})
        self.kind = kind
        self.object_id = object_id


class ValidationFailed(SchedulingError):
    """Bad input. `field` is the domain field name (dotted for nested: `recurrence.count`)."""

    def __init__(self, field: str, message: str, *, code: str = "INVALID_FIELD_VALUE", args=None):
        super().__init__(message, args=args or {"FIELD_NAME": field})
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ConflictDetected(SchedulingError):
    """A write refused because the partner prevents conflicts. `conflicts` says what collided."""

    def __init__(self, conflicts: Sequence[Any]):
        blackout = any(c.is_blackout for c in conflicts)
        self.code = "SCHEDULE_EVENT_BLACKOUT_CONFLICT" if blackout else "SCHEDULE_EVENT_RESOURCE_CONFLICT"
        ids = sorted({c.event.pk for c in conflicts})
        what = "a blackout" if blackout else "another booking on the same resource"
        super().__init__(
            f"The booking overlaps {what}: event(s) {', '.join(map(str, ids))}",
            args={"EVENT_IDS": ",".join(map(str, ids))},
        )
        self.conflicts = list(conflicts)


class DatabaseRefused(SchedulingError):
    """The database refused a write that passed every check here (a value out of a column's
    range, say). Bulk writes report it for the one row instead of failing the whole batch."""

    code = "DATABASE_ERROR"

    def __init__(self, detail: str):
        super().__init__(f"The database refused this row: {detail}")
