"""Multi-row INSERT (COPY on PostgreSQL) of plain column values: the database half of a batch
write, with no scheduling in it. bulk_create is not used: for a 45-column event row it spends
~90 µs preparing and compiling the values, three times what the whole INSERT costs here
(bench/README.md). Each row is a dict of column values by attname, built once by the caller;
only the columns whose type needs it (times, JSON) go through the field's conversion.
"""

from __future__ import annotations

from typing import Any, cast

from django.db import connection, models

# Column types whose Python value is what the database driver takes.
_PLAIN_TYPES = frozenset(
    {
        "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "FloatField",
        "ForeignKey", "IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
        "SmallIntegerField", "TextField",
    }
)  # fmt: skip


def _converter(field: models.Field):
    """How a value of this column becomes what the driver takes; None: as it is. A chunk's
    rows share most of their times (created_at, updated_at): each is converted once."""
    if field.get_internal_type() in _PLAIN_TYPES:
        return None
    memo: dict[tuple[type, Any], Any] = {}

    def convert(value: Any) -> Any:
        key = (type(value), value)  # the type too: True == 1, but not as JSON
        try:
            return memo[key]
        except KeyError:
            memo[key] = converted = field.get_db_prep_save(value, connection)
            return converted
        except TypeError:  # unhashable: a JSON list or dict
            return field.get_db_prep_save(value, connection)

    return convert


def insert(model: type[models.Model], rows: list[dict[str, Any]], *, returning: bool = False) -> list[int]:
    """INSERT `rows` (column values by attname); with `returning`, the new ids in row order."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _copy(model, rows, returning)
    fields_ = [f for f in model._meta.concrete_fields if not f.primary_key]
    # Multi-row VALUES with RETURNING, as bulk_create does on SQLite (3.35+), whose driver takes
    # at most 999 parameters a statement.
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(_column(f)) for f in fields_)}) VALUES "
    )
    tail = f" RETURNING {quote(_column(model._meta.pk))}" if returning else ""
    placeholders = "(" + ", ".join(["%s"] * len(fields_)) + ")"
    per_statement = (connection.features.max_query_params or 999) // len(fields_)
    ids: list[int] = []
    with connection.cursor() as cursor:
        for first in range(0, len(rows), per_statement):
            batch = rows[first : first + per_statement]
            cursor.execute(head + ", ".join([placeholders] * len(batch)) + tail, _params(fields_, batch))
            if returning:
                ids += [pk for (pk,) in cursor.fetchall()]
    return ids


def _copy(model: type[models.Model], rows: list[dict[str, Any]], returning: bool) -> list[int]:
    """PostgreSQL: COPY, its bulk-loading path (constraints and triggers apply as to INSERT).
    A multi-row INSERT is slow there: psycopg binds parameters client-side, quoting each one
    into the statement, and parses the statement anew past 50 parameters (45 ms for 500 rows).
    The ids are drawn from the table's sequence beforehand."""
    fields_ = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    ids: list[int] = []
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if returning:
            pk = model._meta.pk
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk.column, len(rows)],
            )
            ids = [new for (new,) in cursor.fetchall()]
            rows = [{**row, pk.attname: new} for row, new in zip(rows, ids, strict=True)]
            fields_.insert(0, pk)
        columns = ", ".join(quote(_column(f)) for f in fields_)
        flat, width = _params(fields_, rows), len(fields_)
        with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for first in range(0, len(flat), width):
                copy.write_row(flat[first : first + width])
    return ids


def _params(fields_: list[models.Field], rows: list[dict[str, Any]]) -> list[Any]:
    """The rows' values, flat, each in the form the driver takes."""
    prepare = [_converter(f) for f in fields_]
    return [
        row[f.attname] if convert is None else convert(row[f.attname])
        for row in rows
        for f, convert in zip(fields_, prepare, strict=True)
    ]


def _column(field: models.Field) -> str:
    # A concrete field always has its column; the type allows None for other kinds of field.
    return cast(str, field.column)
