"""Declarative input rules for the writable fields of events and resources.

scheduling.py cleans every write with these, so the API, the web UI, imports and the admin
share one set of rules, and every refusal names its field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models

from calendar_app.errors import ValidationFailed
from calendar_app.models import EventType, ResourceType

Cleaner = Callable[[str, Any], Any]
ENTRY_EVENT_TYPES = frozenset({EventType.RECORD, EventType.LIVE_STREAM, EventType.MEETING})
LIVE_TYPES = frozenset({EventType.LIVE_STREAM})
_ENTRY_ID = re.compile(r"^[0-9a-z_]{1,20}$")
_SYSTEM_NAME = re.compile(r"^[A-Za-z0-9_\-.]+$")


@dataclass(frozen=True)
class Rule:
    clean: Cleaner
    types: Collection[int] | None = None  # the event/resource types the field belongs to
    insert_only: bool = False


def text(max_length: int | None = None, *, min_length: int = 0) -> Cleaner:
    def clean(name: str, value: Any) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ValidationFailed(name, "must be a string")
        if len(value) < min_length:
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


def moment(name: str, value: Any) -> datetime:
    if value is None:
        raise ValidationFailed(
            name, "is required", code="PROPERTY_VALIDATION_CANNOT_BE_NULL", args={"PROP_NAME": name}
        )
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationFailed(name, "must be a date and time with a time zone")
    return value


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
    value = text(20)(name, value)
    if value and not _ENTRY_ID.match(value):
        raise ValidationFailed(name, f"{value!r} is not a valid entry id")
    return value


def system_name(name: str, value: Any) -> str | None:
    value = text(256)(name, value)
    if value and not _SYSTEM_NAME.match(value):
        raise ValidationFailed(name, "may contain only letters, digits, '-', '_' and '.'")
    return value or None


def any_json(name: str, value: Any) -> Any:
    return value


def mapping(name: str, value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise ValidationFailed(name, "must be an object")
    return value


EVENT_RULES: dict[str, Rule] = {
    "type": Rule(choice(EventType), insert_only=True),
    "summary": Rule(text(256, min_length=1)),
    "description": Rule(text()),
    "start": Rule(moment),
    "end": Rule(moment),
    "duration": Rule(integer(0)),
    "recurrence_type": Rule(integer(0, 2)),
    "recurrence": Rule(mapping),  # its fields are validated by recurrence.parse
    "reference_id": Rule(text(256)),
    "classification_type": Rule(integer(1, 3)),
    "geo_latitude": Rule(number(-90, 90)),
    "geo_longitude": Rule(number(-180, 180)),
    "location": Rule(text(256)),
    "organizer": Rule(text(256)),
    "owner_id": Rule(text(256)),
    "priority": Rule(integer(0, 9, nullable=True)),
    "sequence": Rule(integer(0)),
    "contact": Rule(text(1024)),
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
    "live_features": Rule(any_json, LIVE_TYPES),
}

RESOURCE_RULES: dict[str, Rule] = {
    "type": Rule(choice(ResourceType), insert_only=True),
    "name": Rule(text(256, min_length=1)),
    "system_name": Rule(system_name),
    "description": Rule(text()),
    "tags": Rule(text(65_000)),
    "parent_id": Rule(integer(0, nullable=True)),
    "stream_url": Rule(text(256), {ResourceType.CAMERA}),
    "entry_id": Rule(entry_id, {ResourceType.LIVE_ENTRY}),
}


def clean(rules: dict[str, Rule], data: dict[str, Any], *, kind: int, creating: bool) -> dict[str, Any]:
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
