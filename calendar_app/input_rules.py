"""Declarative input rules for the writable fields of events, resources and app tokens.

scheduling.py cleans every write with these, so the API, the web UI, imports and the admin
share one set of rules, and every refusal names its field. A field named like a column of its
model is also held to what that column can store (`fitted`): its integer range or max_length,
read from models.py, so the database never refuses a value the rules let through, and a
column widened there widens its rule with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

from calendar_app.errors import ValidationFailed
from calendar_app.models import AppToken, Entry, EventType, ResourceType, ScheduleEvent, ScheduleResource

Cleaner = Callable[[str, Any], Any]
ENTRY_EVENT_TYPES = frozenset({EventType.RECORD, EventType.LIVE_STREAM, EventType.MEETING})
LIVE_TYPES = frozenset({EventType.LIVE_STREAM})
# Kaltura entry ids ("0_abcd1234"), as long as our Entry rows' ids may be.
ENTRY_ID_LENGTH = Entry._meta.get_field("id").max_length
_ENTRY_ID = re.compile(rf"^[0-9a-z_]{{1,{ENTRY_ID_LENGTH}}}$")
_SYSTEM_NAME = re.compile(r"^[A-Za-z0-9_\-.]+$")
# The instants a booking may take. Python's datetime spans the years 1 to 9999, and what is
# done with a booking's times adds to them or takes from them: a series' horizon, a zone's
# offset, a feed's window. A series starting in 9999 failed with an internal error, an event
# in the year 1 on every read; centuries of margin keep all of that on the calendar. The web
# calendar's own dates (1900 to 9000, web/conflict_warnings.py) lie within, zones included.
EARLIEST = datetime(1800, 1, 1, tzinfo=UTC)
LATEST = datetime(9100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Rule:
    clean: Cleaner
    types: Collection[int] | None = None  # the event/resource types the field belongs to
    insert_only: bool = False


# Characters XML 1.0 cannot carry at all (and lone surrogates, which UTF-8 cannot): the API's
# XML drops them (kaltura_api/render.py), so they never count towards a text's minimum length.
UNWRITABLE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text(max_length: int | None = None, *, min_length: int = 0) -> Cleaner:
    def clean(name: str, value: Any) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ValidationFailed(name, "must be a string")
        if "\x00" in value:
            # PostgreSQL text cannot hold it (SQLite can): refused alike on both, as Kaltura does.
            raise ValidationFailed(
                name, "may not contain a NUL character",
                code="INVALID_PARAMETER_CHAR", args={"PARAM_NAME": name},
            )  # fmt: skip
        if min_length and len(UNWRITABLE_CHARS.sub("", value)) < min_length:
            raise ValidationFailed(
                name, "may not be empty", code="PROPERTY_VALIDATION_MIN_LENGTH",
                args={"PROP_NAME": name, "MIN_LEN": min_length},
            )  # fmt: skip
        if max_length is not None and len(value) > max_length:
            raise ValidationFailed(
                name, f"may be at most {max_length} characters",
                code="PROPERTY_VALIDATION_MAX_LENGTH", args={"PROP_NAME": name, "MAX_LEN": max_length},
            )  # fmt: skip
        return value

    return clean


def integer(low: int | None = None, high: int | None = None, *, nullable: bool = False) -> Cleaner:
    def clean(name: str, value: Any) -> int | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationFailed(name, "must be an integer")
        if low is not None and value < low:
            raise ValidationFailed(
                name, f"must be at least {low}", code="PROPERTY_VALIDATION_MIN_VALUE",
                args={"PROP_NAME": name, "MIN_VAL": low},
            )  # fmt: skip
        if high is not None and value > high:
            raise ValidationFailed(
                name, f"must be at most {high}", code="PROPERTY_VALIDATION_MAX_VALUE",
                args={"PROP_NAME": name, "MAX_VAL": high},
            )  # fmt: skip
        return value

    return clean


def number(low: float, high: float) -> Cleaner:
    def clean(name: str, value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationFailed(name, "must be a number")
        if not low <= value <= high:
            raise ValidationFailed(name, f"must be between {low} and {high}")
        return float(value)

    return clean


def boolean(name: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ValidationFailed(name, "must be true or false")
    return value


def moment(*, nullable: bool = False) -> Cleaner:
    def clean(name: str, value: Any) -> datetime | None:
        if value is None and nullable:
            return None
        if value is None:
            raise ValidationFailed(
                name, "is required", code="PROPERTY_VALIDATION_CANNOT_BE_NULL", args={"PROP_NAME": name}
            )
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValidationFailed(name, "must be a date and time with a time zone")
        if value < EARLIEST:
            raise ValidationFailed(
                name, f"must be at or after {EARLIEST:%Y-%m-%d}", code="PROPERTY_VALIDATION_MIN_VALUE",
                args={"PROP_NAME": name, "MIN_VAL": int(EARLIEST.timestamp())},
            )  # fmt: skip
        if value > LATEST:
            raise ValidationFailed(
                name, f"must be at or before {LATEST:%Y-%m-%d}", code="PROPERTY_VALIDATION_MAX_VALUE",
                args={"PROP_NAME": name, "MAX_VAL": int(LATEST.timestamp())},
            )  # fmt: skip
        return value

    return clean


def choice(enum: type[models.IntegerChoices], *, nullable: bool = False) -> Cleaner:
    def clean(name: str, value: Any) -> int | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or value not in enum.values:
            raise ValidationFailed(
                name, f"must be one of {', '.join(map(str, enum.values))}", code="INVALID_ENUM_VALUE",
                args={"ENUM_VAL": value, "PARAM_NAME": name, "ENUM_TYPE": enum.__name__},
            )  # fmt: skip
        return value

    return clean


def comma_list(pattern: re.Pattern[str], what: str, *, max_length: int = 65_000) -> Cleaner:
    base = text(max_length)

    def clean(name: str, value: Any) -> str:
        items = [item.strip() for item in base(name, value).split(",") if item.strip()]
        for item in items:
            if not pattern.match(item):
                raise ValidationFailed(name, f"{item!r} is not a valid {what}")
        return ",".join(items)

    return clean


def entry_id(name: str, value: Any) -> str:
    value = text(ENTRY_ID_LENGTH)(name, value)
    if value and not _ENTRY_ID.match(value):
        raise ValidationFailed(name, f"{value!r} is not a valid entry id")
    return value


def system_name(name: str, value: Any) -> str | None:
    value = text()(name, value)
    if value and not _SYSTEM_NAME.match(value):
        raise ValidationFailed(name, "may contain only letters, digits, '-', '_' and '.'")
    return value or None


def live_features(name: str, value: Any) -> list[dict[str, Any]] | None:
    """Kaltura's live features, kept whole in a JSON column, so no column bounds their numbers.
    Their pre/post times are the event's own kind (seconds before its start, after its end) and
    take the event's rules; any other number must fit the 32-bit `int` that Kaltura's typed
    clients (Java, C#) read it into."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(feature, dict) for feature in value):
        raise ValidationFailed(name, "must be a list of objects")
    for feature in value:
        for key, item in feature.items():
            if isinstance(item, int) and not isinstance(item, bool):
                _FEATURE_NUMBERS.get(key, _JSON_INTEGER)(f"{name}.{key}", item)
    return value


def mapping(name: str, value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise ValidationFailed(name, "must be an object")
    return value


# The values an integer column holds on every database we run on, by field type. Django's
# portable ranges, not the connection's: SQLite's own would let through what PostgreSQL refuses.
INTEGER_RANGES: dict[str, tuple[int, int]] = BaseDatabaseOperations.integer_field_ranges


def column_range(field: models.Field) -> tuple[int, int]:
    """The values `field`'s integer column holds (KeyError: not an integer column). A foreign
    key holds what the key it points to holds."""
    return INTEGER_RANGES[_stored_type(field)]


def column_bounds(field: models.Field) -> Cleaner | None:
    """A cleaner refusing what `field`'s column cannot store; None when it takes any value of
    its type (a TextField, a JSONField, a date)."""
    if is_integer(field):
        return integer(*column_range(field))
    if getattr(field, "max_length", None):
        return text(field.max_length)
    return None


def is_integer(field: models.Field) -> bool:
    return _stored_type(field) in INTEGER_RANGES


def _stored_type(field: models.Field) -> str:
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    return target.get_internal_type()


def fitted(model: type[models.Model], rules: dict[str, Rule]) -> dict[str, Rule]:
    """`rules`, each one that names a column of `model` also held to that column's bounds,
    after its own checks (so `integer(0)` on a PositiveIntegerField refuses 2**31)."""
    return {name: _fitted(rule, column_of(model, name)) for name, rule in rules.items()}


def column_of(model: type[models.Model], name: str) -> models.Field | None:
    """The concrete column of `model` named `name` (or its attname: `parent_id`), if any."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) and field.concrete else None


def _fitted(rule: Rule, column: models.Field | None) -> Rule:
    fits = column_bounds(column) if column is not None else None
    if fits is None:
        return rule
    own = rule.clean

    def clean(name: str, value: Any) -> Any:
        value = own(name, value)
        return value if value is None else fits(name, value)

    return replace(rule, clean=clean)


# A number inside a JSON value: see live_features.
_JSON_INTEGER = integer(*INTEGER_RANGES["IntegerField"])

EVENT_RULES: dict[str, Rule] = fitted(ScheduleEvent, {
    "type": Rule(choice(EventType), insert_only=True),
    "summary": Rule(text(min_length=1)),
    "description": Rule(text()),
    "start": Rule(moment()),
    "end": Rule(moment()),
    "duration": Rule(integer(0)),
    "recurrence_type": Rule(integer(0, 2)),
    "recurrence": Rule(mapping),  # its fields are validated by recurrence.parse
    "reference_id": Rule(text()),
    "classification_type": Rule(integer(1, 3)),
    "geo_latitude": Rule(number(-90, 90)),
    "geo_longitude": Rule(number(-180, 180)),
    "location": Rule(text()),
    "organizer": Rule(text()),
    "owner_id": Rule(text()),
    "priority": Rule(integer(0, 9, nullable=True)),
    # Up to the column's maximum: scheduling.next_sequence stops there, never overflows it.
    "sequence": Rule(integer(0)),
    "contact": Rule(text()),
    "comment": Rule(text()),
    "tags": Rule(text(65_000)),
    "template_entry_id": Rule(entry_id, ENTRY_EVENT_TYPES),
    "entry_ids": Rule(comma_list(_ENTRY_ID, "entry id"), ENTRY_EVENT_TYPES),
    "category_ids": Rule(comma_list(re.compile(r"^\d+$"), "category id"), ENTRY_EVENT_TYPES),
    "source_entry_id": Rule(entry_id, LIVE_TYPES),
    "projected_audience": Rule(integer(0, nullable=True), LIVE_TYPES),
    "pre_start_time": Rule(integer(0, 86_400), {EventType.LIVE_STREAM, EventType.MEETING}),
    "post_end_time": Rule(integer(0, 86_400), LIVE_TYPES),
    "pre_start_entry_id": Rule(entry_id, LIVE_TYPES),
    "post_end_entry_id": Rule(entry_id, LIVE_TYPES),
    "is_content_interruptible": Rule(boolean, LIVE_TYPES),
    "live_features": Rule(live_features, LIVE_TYPES),
})  # fmt: skip
_FEATURE_NUMBERS = {key: EVENT_RULES[key].clean for key in ("pre_start_time", "post_end_time")}

RESOURCE_RULES: dict[str, Rule] = fitted(ScheduleResource, {
    "type": Rule(choice(ResourceType), insert_only=True),
    "name": Rule(text(min_length=1)),
    "system_name": Rule(system_name),
    "description": Rule(text()),
    "tags": Rule(text(65_000)),
    "parent_id": Rule(integer(0, nullable=True)),
    "stream_url": Rule(text(), {ResourceType.CAMERA}),
    "entry_id": Rule(entry_id, {ResourceType.LIVE_ENTRY}),
    "capacity": Rule(integer(0, nullable=True), {ResourceType.LOCATION}),  # seats; not on the wire
})  # fmt: skip

# App tokens are written by the API alone (services/app_token.py); their enums are checked there.
APP_TOKEN_RULES: dict[str, Rule] = fitted(AppToken, {
    "expiry": Rule(moment(nullable=True)),
    "session_type": Rule(integer()),
    "session_user_id": Rule(text()),
    "session_duration": Rule(integer(1)),
    "session_privileges": Rule(text()),
    "hash_type": Rule(text()),
    "description": Rule(text()),
})  # fmt: skip


def clean(
    rules: dict[str, Rule], data: dict[str, Any], *, kind: int | None = None, creating: bool
) -> dict[str, Any]:
    """Validate `data` against `rules` for an object of type `kind`; return the cleaned dict."""
    cleaned = {}
    for name, value in data.items():
        rule = rules.get(name)
        if rule is None:
            raise ValidationFailed(name, "is not a writable field", code="PROPERTY_VALIDATION_NOT_UPDATABLE")
        if rule.insert_only and not creating:
            raise ValidationFailed(name, "cannot be changed", code="PROPERTY_VALIDATION_NOT_UPDATABLE")
        if rule.types is not None and kind not in rule.types and value not in (None, "", 0):
            raise ValidationFailed(name, "does not apply to this type")
        cleaned[name] = rule.clean(name, value)
    return cleaned
