"""Wire scalars -> Python values, and back.

The official client sends every scalar as a string ("1900000000", "51.5", "True"); JSON and
form bodies from scripts send whatever they like. Each kind accepts both and refuses anything
else with a Kaltura error naming the parameter, instead of PHP's silent "garbage becomes 0".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calendar_app import clock
from calendar_app.input_rules import UNWRITABLE_CHARS
from calendar_app.kaltura_api.errors import ApiError

# ASCII digits only (\d would take "١٢" too); 19 of them hold every 64-bit integer.
_INT = re.compile(r"^[+-]?[0-9]{1,19}$")
# The widest integer any column or query here takes: what a client sends past it is a mistake,
# whether it came as a JSON number (unbounded in Python) or as a string.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false"})


def bad_value(name: str, raw: Any, expected: str) -> ApiError:
    shown = str(raw)[:64]
    return ApiError(
        "INVALID_FIELD_VALUE", f'The value [{shown}] of "{name}" is not {expected}', FIELD_NAME=name
    )


def to_int(name: str, raw: Any) -> int:
    value = _integer(raw)
    if value is None:
        raise bad_value(name, raw, "an integer")
    if not INT64_MIN <= value <= INT64_MAX:
        raise bad_value(name, raw, f"an integer from {INT64_MIN} to {INT64_MAX}")
    return value


def _integer(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = raw.strip() if isinstance(raw, str) else None
    if text is not None:
        if _INT.match(text):
            return int(text)
        # "1900003600.0": what the official client sends for a float put in an int field.
        if text.endswith(".0") and _INT.match(text[:-2]):
            return int(text[:-2])
    return None


def to_float(name: str, raw: Any) -> float:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        try:
            number = float(raw)
        except OverflowError:  # a JSON number such as 1e400 written out in digits
            raise bad_value(name, raw, "a finite number") from None
    else:
        try:
            number = float(str(raw).strip())
        except ValueError:
            raise bad_value(name, raw, "a number") from None
    if not math.isfinite(number):
        raise bad_value(name, raw, "a finite number")
    return number


def to_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise bad_value(name, raw, "a boolean (true/false/1/0)")


def to_str(name: str, raw: Any) -> str:
    if isinstance(raw, str):
        if UNWRITABLE_CHARS.search(raw):
            # As Kaltura does: a control character could be stored but never sent back.
            raise ApiError(
                "INVALID_PARAMETER_CHAR",
                f'The value of "{name}" contains an invalid character',
                PARAM_NAME=name,
            )
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(raw)
    raise bad_value(name, raw, "a string")


@dataclass(frozen=True)
class Kind:
    """How one field travels. `parse` reads a non-null wire value; `wire` writes a stored one."""

    def parse(self, name: str, raw: Any, now: datetime) -> Any:
        raise NotImplementedError

    def wire(self, value: Any) -> Any:
        return value


@dataclass(frozen=True)
class Int(Kind):
    def parse(self, name, raw, now):
        return to_int(name, raw)


@dataclass(frozen=True)
class Float(Kind):
    def parse(self, name, raw, now):
        return to_float(name, raw)


@dataclass(frozen=True)
class Bool(Kind):
    def parse(self, name, raw, now):
        return to_bool(name, raw)


@dataclass(frozen=True)
class Str(Kind):
    def parse(self, name, raw, now):
        return to_str(name, raw)


@dataclass(frozen=True)
class Time(Kind):
    """Unix seconds on the wire, with Kaltura's relative-time rule. `as_unix` keeps an int
    (recurrence `until` is stored that way); otherwise an aware UTC datetime."""

    as_unix: bool = False

    def parse(self, name, raw, now):
        try:
            moment = clock.resolve_relative(to_int(name, raw), now)
        except (ValueError, OverflowError, OSError):  # past year 9999 or before year 1
            raise bad_value(name, raw, "a time in Unix seconds") from None
        return int(moment.timestamp()) if self.as_unix else moment

    def wire(self, value):
        return value if isinstance(value, int) or value is None else int(value.timestamp())


@dataclass(frozen=True)
class IntEnum(Kind):
    enum: str
    values: frozenset[int]

    def parse(self, name, raw, now):
        value = to_int(name, raw)
        if value not in self.values:
            raise invalid_enum(name, raw, self.enum)
        return value


@dataclass(frozen=True)
class StrEnum(Kind):
    enum: str
    values: frozenset[str]

    def parse(self, name, raw, now):
        value = to_str(name, raw)
        if value not in self.values:
            raise invalid_enum(name, raw, self.enum)
        return value


def invalid_enum(name: str, raw: Any, enum: str) -> ApiError:
    value = str(raw)[:64]
    return ApiError(
        "INVALID_ENUM_VALUE",
        f"Invalid enumeration value [{value}] for parameter [{name}], expecting enumeration type [{enum}]",
        ENUM_VAL=value,
        PARAM_NAME=name,
        ENUM_TYPE=enum,
    )


def int_list(name: str, raw: Any, *, limit: int = 500) -> list[int]:
    """A comma string of ids ("11,12"); Kaltura uses only the first 500 values."""
    items = [item.strip() for item in to_str(name, raw).split(",") if item.strip()]
    return [to_int(name, item) for item in items[:limit]]


def str_list(name: str, raw: Any, *, limit: int = 500) -> list[str]:
    return [item.strip() for item in to_str(name, raw).split(",") if item.strip()][:limit]
