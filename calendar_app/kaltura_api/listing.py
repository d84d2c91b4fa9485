"""`list` actions: Kaltura filter objects -> partner-scoped querysets, ordering and paging.

A filter field's name says what it does: `<field><Operator>`, e.g. `startDateGreaterThanOrEqual`
or `tagsMultiLikeOr`. `apply` splits the name and looks the field up in the caller's table of
columns, so each list action only declares which wire field is which column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from calendar_app.kaltura_api.catalog import OPERATORS
from calendar_app.kaltura_api.errors import ApiError
from calendar_app.kaltura_api.objects import Parsed
from calendar_app.kaltura_api.values import int_list, str_list

DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 500
MAX_REACHABLE = 10_000  # Kaltura's cap: results past the first 10,000 are not reachable by paging
_SUFFIXES = sorted(OPERATORS.values(), key=len, reverse=True)


@dataclass(frozen=True)
class Column:
    name: str
    is_int: bool = False
    tokens: bool = False  # a comma list matched token by token (tags, entryIds, categoryIds)


# (queryset, wire name, value, partner id) -> queryset
Special = Callable[[QuerySet, str, Any, int], QuerySet]


@dataclass(frozen=True)
class Table:
    """How one list action maps filter fields and orderBy names to the database."""

    response: str  # the list response's objectType
    columns: dict[str, Column]
    order_by: dict[str, str]
    specials: dict[str, Special] = field(default_factory=dict)  # wire names handled by code
    # The statuses listed unless the filter names one: all but DELETED.
    default_statuses: tuple[int, ...] = ()
    type_setting: str = ""  # the filter objectType's setting that narrows the type ("event_type")


def respond(
    queryset: QuerySet,
    filter: Parsed | None,
    pager: Parsed | None,
    table: Table,
    partner_id: int,
    render_rows: Callable[[list[Any]], list[dict[str, Any]]],
) -> dict[str, Any]:
    """A whole `list` action: narrow by the filter's type and fields, order, page, render."""
    rows, total = select(queryset, filter, pager, table, partner_id)
    return list_response(table.response, render_rows(rows), total)


def select(
    queryset: QuerySet, filter: Parsed | None, pager: Parsed | None, table: Table, partner_id: int
) -> tuple[list[Any], int]:
    """The rows of one page of a `list` action, and the total."""
    pager_ = page(pager)
    kind = filter.type.setting(table.type_setting) if filter is not None and table.type_setting else None
    if kind:
        queryset = queryset.filter(type=kind)
    if table.default_statuses:
        queryset = default_statuses(queryset, filter, table.default_statuses)
    queryset = ordered(apply(queryset, filter, table, partner_id), filter, table)
    return paginate(queryset, pager_)


def split(wire: str) -> tuple[str, str]:
    for suffix in _SUFFIXES:
        if wire.endswith(suffix) and len(wire) > len(suffix):
            return wire[: -len(suffix)], suffix
    return wire, ""


def apply(queryset: QuerySet, parsed: Parsed | None, table: Table, partner_id: int) -> QuerySet:
    if parsed is None:
        return queryset
    for wire, value in parsed.values.items():
        if value is None or value == "" or wire == "orderBy":
            continue
        if wire in table.specials:
            queryset = table.specials[wire](queryset, wire, value, partner_id)
            continue
        base, operator = split(wire)
        column = table.columns.get(base)
        if column is not None:
            queryset = _filter(queryset, wire, column, operator, value)
    return queryset


def _filter(queryset: QuerySet, wire: str, column: Column, operator: str, value: Any) -> QuerySet:
    name = column.name
    if operator == "Equal":
        return queryset.filter(**{name: value})
    if operator in ("In", "NotIn"):
        values = int_list(wire, value) if column.is_int else str_list(wire, value)
        lookup = Q(**{f"{name}__in": values})
        return queryset.filter(lookup) if operator == "In" else queryset.exclude(lookup)
    if operator == "GreaterThanOrEqual":
        return queryset.filter(**{f"{name}__gte": value})
    if operator == "LessThanOrEqual":
        return queryset.filter(**{f"{name}__lte": value})
    return queryset.filter(like(name, operator, value, tokens=column.tokens))


def like(name: str, operator: str, value: str, *, tokens: bool) -> Q:
    """Like: the text contains the value (a whole token, for id lists). MultiLikeOr/And: any or
    all of the comma-separated values is one of the field's comma-separated tokens."""
    if operator == "Like":
        return token_q(name, value.strip()) if tokens else Q(**{f"{name}__icontains": value.strip()})
    values = str_list(name, value)
    if not values:
        return Q()
    terms = [token_q(name, v) for v in values]
    combined = terms[0]
    for term in terms[1:]:
        combined = combined | term if operator == "MultiLikeOr" else combined & term
    return combined


def token_q(name: str, token: str) -> Q:
    return Q(**{f"{name}__iregex": rf"(^|,)\s*{re.escape(token)}\s*(,|$)"})


def default_statuses(queryset: QuerySet, parsed: Parsed | None, statuses: tuple[int, ...]) -> QuerySet:
    """Without a status filter a list leaves deleted rows out; asking for them shows them.
    `status IN (1, 2)`, not `status != 3`: SQLite, which has no statistics, then searches the
    (partner, status, start) index instead of scanning the partner's rows. At 1M rows a page of
    500 went from 103 ms to 15 ms and its count from 76 ms to 1 ms."""
    values = parsed.values if parsed else {}
    if values.get("statusEqual") is None and not values.get("statusIn"):
        return queryset.filter(status__in=statuses)
    return queryset


def ordered(queryset: QuerySet, parsed: Parsed | None, table: Table) -> QuerySet:
    """`orderBy` is a comma list of ±field; unknown names are dropped, as in Kaltura."""
    keys = []
    for token in str((parsed.values.get("orderBy") if parsed else "") or "").split(","):
        token = token.strip()
        direction, name = ("-", token[1:]) if token[:1] in "+-" and token else ("", token)
        if token[:1] == "-" and name in table.order_by:
            keys.append(f"-{table.order_by[name]}")
        elif name in table.order_by:
            keys.append(table.order_by[name])
    return queryset.order_by(*keys, "pk")


@dataclass(frozen=True)
class Page:
    size: int
    index: int

    @property
    def offset(self) -> int:
        return (self.index - 1) * self.size


def page(pager: Parsed | None) -> Page:
    values = pager.values if pager else {}
    size = values.get("page_size") or DEFAULT_PAGE_SIZE
    size = DEFAULT_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
    index = max(values.get("page_index") or 1, 1)
    result = Page(size, index)
    if result.offset >= MAX_REACHABLE:
        raise ApiError(
            "QUERY_EXCEEDED_MAX_MATCHES_ALLOWED",
            f"Unable to generate list: only the first {MAX_REACHABLE} results can be paged; "
            "narrow the filter (e.g. by date) instead",
        )
    return result


def paginate(queryset: QuerySet, pager: Page) -> tuple[list[Any], int]:
    rows = list(queryset[pager.offset : pager.offset + pager.size])
    if rows and len(rows) < pager.size or not rows and pager.index == 1:
        # A short page is the last one: the total needs no COUNT query (Kaltura does the same).
        return rows, pager.offset + len(rows)
    return rows, queryset.count()


def list_response(type_name: str, objects: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {"objectType": type_name, "objects": objects, "totalCount": total}
