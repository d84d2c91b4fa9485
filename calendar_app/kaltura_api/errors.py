"""The Kaltura error envelope: a stable code, a message, and named args.

Domain errors (calendar_app.errors) already carry Kaltura codes; `from_domain` only renames
domain field names (`start`) to the wire names a client sent (`startDate`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from calendar_app.errors import SchedulingError, ValidationFailed

# Kaltura's message templates for the codes a client is most likely to show a person.
TEMPLATES = {
    "PROPERTY_VALIDATION_CANNOT_BE_NULL": 'The property "{PROP_NAME}" cannot be null',
    "PROPERTY_VALIDATION_NOT_UPDATABLE": 'The property "{PROP_NAME}" cannot be updated',
    "PROPERTY_VALIDATION_MIN_LENGTH": 'The property "{PROP_NAME}" must be at least {MIN_LEN} characters',
    "PROPERTY_VALIDATION_MAX_LENGTH": 'The property "{PROP_NAME}" cannot have more than {MAX_LEN} characters',
    "PROPERTY_VALIDATION_MIN_VALUE": 'The property "{PROP_NAME}" must have a min value of {MIN_VAL}',
    "PROPERTY_VALIDATION_MAX_VALUE": 'The property "{PROP_NAME}" must have a max value of {MAX_VAL}',
    "INVALID_ENUM_VALUE": (
        "Invalid enumeration value [{ENUM_VAL}] for parameter [{PARAM_NAME}], "
        "expecting enumeration type [{ENUM_TYPE}]"
    ),
    "INVALID_SCHEDULE_END_BEFORE_START": "End time [{END}] must be after start time [{START}]",
}


class ApiError(Exception):
    def __init__(self, code: str, message: str, **args: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.args_ = {k: "" if v is None else str(v) for k, v in args.items()}


def from_domain(error: SchedulingError, wire_name: Callable[[str], str] = lambda name: name) -> ApiError:
    args = dict(error.error_args)
    message = error.message
    if isinstance(error, ValidationFailed):
        field = wire_name(error.field)
        for key in ("PROP_NAME", "FIELD_NAME", "PARAM_NAME"):
            if key in args:
                args[key] = wire_name(str(args[key])) if args[key] == error.field else args[key]
        message = f"{field}: {error.message}"
    template = TEMPLATES.get(error.code)
    if template:
        # A domain error without the template's args keeps its own message.
        with contextlib.suppress(KeyError):
            message = template.format(**{k: str(v) for k, v in args.items()})
    return ApiError(error.code, message, **args)


def internal_error() -> ApiError:
    """An unexpected failure, as Kaltura answers it (its spelling of the code)."""
    return ApiError("INTERNAL_SERVERL_ERROR", "Internal server error occurred")


def database_unavailable() -> ApiError:
    """The database cannot be reached (down, restarting) or gave up on the call: Kaltura's code
    for a database failure, which clients (and our own sync, sync/client.py) retry."""
    return ApiError("INTERNAL_DATABASE_ERROR", "The database is unavailable; try again in a few seconds")


def missing_parameter(name: str) -> ApiError:
    return ApiError("MISSING_MANDATORY_PARAMETER", f'Missing parameter "{name}"', PARAM_NAME=name)


def cannot_be_null(name: str) -> ApiError:
    return ApiError("PROPERTY_VALIDATION_CANNOT_BE_NULL", TEMPLATES[
        "PROPERTY_VALIDATION_CANNOT_BE_NULL"].format(PROP_NAME=name), PROP_NAME=name)  # fmt: skip


def not_updatable(name: str) -> ApiError:
    return ApiError("PROPERTY_VALIDATION_NOT_UPDATABLE", TEMPLATES[
        "PROPERTY_VALIDATION_NOT_UPDATABLE"].format(PROP_NAME=name), PROP_NAME=name)  # fmt: skip


def invalid_object_id(object_id: Any) -> ApiError:
    return ApiError("INVALID_OBJECT_ID", f"Invalid object id [{object_id}]", ID=object_id)


def service_forbidden(service: str) -> ApiError:
    return ApiError("SERVICE_FORBIDDEN", f"The access to service [{service}] is forbidden", SERVICE=service)
