"""Declarative Kaltura object types: parsing, validation and rendering all read these tables.

Each type lists its own fields in wire order (the parent's come first, as Kaltura writes them).
A field names its wire name, its kind, the domain attribute it maps to (snake_case of the wire
name unless given), and whether clients may write it. Computed fields name a reader instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from calendar_app.kaltura_api.errors import ApiError, not_updatable
from calendar_app.kaltura_api.values import Kind, bad_value

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


@dataclass(frozen=True)
class Field:
    wire: str
    kind: Kind
    attr: str = ""  # domain attribute; snake_case of `wire` when empty
    readonly: bool = False
    insert_only: bool = False
    read: Callable[[Any, Any], Any] | None = None  # computed value: read(obj, context)
    name: str = field(init=False)  # the domain attribute, worked out once (rendering is hot)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.attr or snake(self.wire))


@dataclass(frozen=True)
class Obj(Kind):
    """A nested object of `base` (or a subclass named by its objectType)."""

    base: str = ""

    def parse(self, name, raw, now):
        if not isinstance(raw, dict):
            raise bad_value(name, raw, f"a {self.base} object")
        return parse(raw, self.base, now, path=name)

    def wire(self, value):
        return None if value is None else render(self.base, value)


@dataclass(frozen=True)
class Arr(Kind):
    """An array of `base` objects. Form encodings send {"0": {...}, "1": {...}}; an empty array
    arrives as {"-": ""}."""

    base: str = ""
    max_items: int = 100

    def parse(self, name, raw, now):
        if isinstance(raw, dict):
            raw = [] if "-" in raw else [raw[k] for k in sorted(raw, key=_index)]
        if not isinstance(raw, list):
            raise bad_value(name, raw, f"an array of {self.base}")
        if len(raw) > self.max_items:
            raise bad_value(name, f"{len(raw)} items", f"at most {self.max_items} items")
        return [Obj(self.base).parse(f"{name}[{i}]", item, now).as_stored() for i, item in enumerate(raw)]

    def wire(self, value):
        return [render(self._type_of(item), item) for item in value or []]

    def _type_of(self, item: dict[str, Any]) -> str:
        # What the API stored names its type; a row written another way (the admin's JSON) may
        # not, and is shown as the base type rather than failing every read of its event.
        name = item.get("objectType")
        return name if name in TYPES and TYPES[name].is_a(self.base) else self.base


@dataclass(frozen=True)
class Computed(Kind):
    """A read-only value the server works out and renders as is (blackoutConflicts)."""

    def parse(self, name, raw, now):
        return raw


def _index(key: str) -> tuple[int, str]:
    """The order of a form-encoded array item: "2" before "10". Compared as text by length, not
    through int(), which refuses "²" (a digit to str.isdigit) and numbers of 4,300 digits."""
    key = str(key)
    if not (key.isascii() and key.isdigit()):
        return (0, "")
    digits = key.lstrip("0") or "0"
    return (len(digits), digits)


@dataclass
class ObjectType:
    name: str
    parent: str | None
    own_fields: tuple[Field, ...] = ()
    abstract: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        inherited = TYPES[self.parent].fields if self.parent else ()
        return inherited + self.own_fields

    @cached_property
    def by_wire(self) -> dict[str, Field]:
        return {f.wire: f for f in self.fields}

    def is_a(self, base: str) -> bool:
        kind: ObjectType | None = self
        while kind is not None:
            if kind.name == base:
                return True
            kind = TYPES.get(kind.parent) if kind.parent else None
        return False

    def setting(self, key: str) -> Any:
        kind: ObjectType | None = self
        while kind is not None:
            if key in kind.meta:
                return kind.meta[key]
            kind = TYPES.get(kind.parent) if kind.parent else None
        return None


TYPES: dict[str, ObjectType] = {}


def define(name: str, parent: str | None, *fields: Field, abstract: bool = False, **meta: Any) -> ObjectType:
    TYPES[name] = ObjectType(name, parent, tuple(fields), abstract, meta)
    return TYPES[name]


def subtypes(base: str) -> list[ObjectType]:
    return [t for t in TYPES.values() if t.is_a(base) and not t.abstract]


@dataclass
class Parsed:
    """A client's object: its concrete type, the values it sent (domain names; None = clear the
    field), and the read-only values it sent (checked against the stored object on update)."""

    type: ObjectType
    values: dict[str, Any]
    readonly: dict[str, Any]

    def as_stored(self) -> dict[str, Any]:
        """For objects kept whole in a JSON column (live features): values and objectType."""
        return {"objectType": self.type.name, **self.values}


def resolve_type(raw: dict[str, Any], base: str, path: str) -> ObjectType:
    name = raw.get("objectType") or base
    kind = TYPES.get(str(name))
    if kind is None or not kind.is_a(base):
        raise ApiError(
            "INVALID_OBJECT_TYPE",
            f'Invalid object type "{name}" for "{path}", expected {base}',
            OBJ_TYPE=name,
        )
    if kind.abstract:
        raise ApiError(
            "OBJECT_TYPE_ABSTRACT",
            f'The object type "{name}" is abstract, use one of the object implementations',
            OBJ_TYPE=name,
        )
    return kind


def parse(raw: dict[str, Any], base: str, now: datetime, *, path: str = "") -> Parsed:
    kind = resolve_type(raw, base, path or base)
    values: dict[str, Any] = {}
    readonly: dict[str, Any] = {}
    for key, value in raw.items():
        wire, nulled = (key[:-6], True) if key.endswith("__null") else (key, False)
        spec = kind.by_wire.get(wire)
        if spec is None:
            continue  # unknown keys are ignored, as Kaltura does (clientTag, kalsig, ...)
        target = readonly if spec.readonly else values
        target[spec.name] = None if nulled else spec.kind.parse(f"{path}.{wire}".lstrip("."), value, now)
    return Parsed(kind, values, readonly)


def check_readonly(parsed: Parsed, stored: Callable[[], dict[str, Any]] | None) -> None:
    """Read-only fields may be sent back unchanged on update (a client round-tripping an object),
    never on add and never with another value. `stored` renders the stored object; it is called
    only when the client did send a read-only value (rendering an event costs a query)."""
    sent = {name: value for name, value in parsed.readonly.items() if value is not None}
    if not sent:
        return
    current = stored() if stored else None
    wire = {f.name: f.wire for f in parsed.type.fields}
    for name, value in sent.items():
        if current is None or current.get(wire[name]) != _as_wire(parsed.type, name, value):
            raise not_updatable(wire[name])


def check_insert_only(parsed: Parsed, stored: dict[str, Any]) -> dict[str, Any]:
    """Insert-only fields sent on update must match the stored value; they are then dropped."""
    values = dict(parsed.values)
    for spec in parsed.type.fields:
        sent = values.pop(spec.name, None) if spec.insert_only else None
        if sent is not None and _as_wire(parsed.type, spec.name, sent) != stored.get(spec.wire):
            raise not_updatable(spec.wire)
    return values


def _as_wire(kind: ObjectType, name: str, value: Any) -> Any:
    spec = next(f for f in kind.fields if f.name == name)
    return spec.kind.wire(value)


def render(type_name: str, obj: Any, context: Any = None) -> dict[str, Any]:
    """The wire form: objectType first, then every field, null included."""
    kind = TYPES[type_name]
    out: dict[str, Any] = {"objectType": type_name}
    getter = obj.get if isinstance(obj, dict) else lambda name, default=None: getattr(obj, name, default)
    for spec in kind.fields:
        value = spec.read(obj, context) if spec.read else getter(spec.name, None)
        out[spec.wire] = None if value is None else spec.kind.wire(value)
    return out


def wire_names(type_names: Iterable[str]) -> dict[str, str]:
    """Domain name -> wire name over some types, for error messages (`start` -> `startDate`)."""
    names: dict[str, str] = {}
    for type_name in type_names:
        for spec in TYPES[type_name].fields:
            names.setdefault(spec.name, spec.wire)
    return names
