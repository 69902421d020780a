"""A lean bulk INSERT for the hot paths (CSV import, the timeline): rows as dicts, not models.

``QuerySet.bulk_create`` builds a model instance per row and prepares every value through the
SQL compiler, which costs tens of microseconds per row; an import of 100,000 leads writes four
rows per lead. ``bulk_insert`` prepares each column with the one adapter its field type needs
(precomputed once per model and connection), fills defaults and ``auto_now`` stamps, and sends
large multi-row statements, or on PostgreSQL one ``COPY … FROM STDIN`` (ids drawn from the
table's sequence beforehand when they are asked for): a multi-row ``INSERT … RETURNING`` of a
thousand rows is a query psycopg parses anew each time (tens of thousands of placeholders).
Values are the same as ``bulk_create`` would store; no signals are sent (the project uses none)
and ``save()`` is not called (models hold no logic there).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, models, router
from django.db.models import NOT_PROVIDED
from django.utils import timezone

_Adapter = Callable[[Any], Any]
# Fewer rows than this go as INSERT even on PostgreSQL (COPY costs an extra round trip),
# unless ids are asked for: then always COPY, so a chunk costs the same queries at any size.
COPY_MIN_ROWS = 50
_PLANS: dict[tuple[str, type[models.Model]], tuple[list[models.Field], list[_Adapter]]] = {}


def _identity(value: Any) -> Any:
    return value


def _adapter(field: models.Field, connection: Any) -> _Adapter:
    ops = connection.ops
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        adapt_dt = ops.adapt_datetimefield_value
        return lambda v: None if v is None else adapt_dt(v)
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "DecimalField":
        return lambda v: ops.adapt_decimalfield_value(
            field.to_python(v), field.max_digits, field.decimal_places
        )
    if kind == "JSONField":
        encoder = field.encoder  # type: ignore[attr-defined]
        return lambda v: None if v is None else ops.adapt_json_value(v, encoder)
    if kind in (
        "CharField",
        "TextField",
        "SlugField",
        "EmailField",
        "URLField",
        "IntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "BooleanField",
        "FloatField",
        "ForeignKey",
        "OneToOneField",
    ) or isinstance(field, models.ForeignKey):
        return _identity
    return lambda v: field.get_db_prep_save(v, connection)


def _cached(adapt: _Adapter) -> _Adapter:
    """Adapt each distinct date once per call: dates repeat a lot in imports."""
    cache: dict[Any, Any] = {}

    def adapted(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = adapt(value)
            return result

    return adapted


def _plan(model: type[models.Model], alias: str) -> tuple[list[models.Field], list[_Adapter]]:
    key = (alias, model)
    plan = _PLANS.get(key)
    if plan is None:
        connection = connections[alias]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        plan = _PLANS[key] = (fields, [_adapter(f, connection) for f in fields])
    return plan


def _max_params(connection: Any) -> int:
    if connection.vendor == "sqlite":
        return 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
    return connection.features.max_query_params or 65535


def bulk_insert(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    returning: Sequence[str] = (),
    batch_size: int = 1000,
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (dicts keyed by field attname, e.g. ``lead_id``); a missing key takes the
    field's default.

    ``returning`` names columns (e.g. ``("id", "email_key")``) to read back from the inserted
    rows, one tuple per row. Match them to your rows by a unique column rather than by
    position: the database does not promise to return them in insertion order.
    """
    if not rows:
        return []
    alias = router.db_for_write(model)
    connection = connections[alias]
    fields, adapters = _plan(model, alias)
    now = timezone.now()
    spec: list[tuple[str, Any, bool]] = []  # attname, default, default is callable
    special: list[tuple[int, _Adapter]] = []  # columns whose values need adapting
    stamped: list[int] = []
    for index, (field, adapt) in enumerate(zip(fields, adapters, strict=True)):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            spec.append((field.attname, None, False))
            stamped.append(index)
        elif field.default is not NOT_PROVIDED:
            spec.append((field.attname, field.default, callable(field.default)))
        else:
            empty = None if field.null or not field.empty_strings_allowed else ""
            spec.append((field.attname, empty, False))
        if adapt is not _identity:
            dated = field.get_internal_type() in ("DateTimeField", "DateField")
            special.append((index, _cached(adapt) if dated else adapt))
    stamp = dict(special).get(stamped[0], _identity)(now) if stamped else None

    def values(row: dict[str, Any]) -> list[Any]:
        out = [
            row[name] if name in row else (default() if factory else default)
            for name, default, factory in spec
        ]
        for index, adapt in special:
            value = out[index]
            if value is not None:
                out[index] = adapt(value)
        for index in stamped:
            if row.get(spec[index][0]) is None:
                out[index] = stamp
        return out

    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    if connection.vendor == "postgresql" and (returning or len(rows) >= COPY_MIN_ROWS):
        return _copy(connection, model, rows, values, returning, table=table, columns=columns)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if not returning:
            sql = f"INSERT INTO {table} ({columns}) VALUES {one}"
            for start in range(0, len(rows), batch_size):
                cursor.executemany(sql, [values(r) for r in rows[start : start + batch_size]])
            return []
        if not connection.features.can_return_rows_from_bulk_insert:
            objs = [model(**row) for row in rows]
            model._default_manager.using(alias).bulk_create(objs, batch_size=batch_size)
            return [tuple(getattr(o, name) for name in returning) for o in objs]
        size = max(1, min(batch_size, _max_params(connection) // len(fields)))
        back = ", ".join(
            connection.ops.quote_name(model._meta.get_field(n).column) for n in returning
        )
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            params: list[Any] = []
            for row in batch:
                params.extend(values(row))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))} "
                f"RETURNING {back}",
                params,
            )
            out.extend(tuple(r) for r in cursor.fetchall())
    return out


def _copy(
    connection: Any,
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    values: Callable[[dict[str, Any]], list[Any]],
    returning: Sequence[str],
    *,
    table: str,
    columns: str,
) -> list[tuple[Any, ...]]:
    """``bulk_insert`` on PostgreSQL: one COPY. Asked-for ids are drawn from the table's
    sequence first and sent with the rows; other ``returning`` columns are read back from the
    values sent (in row order here)."""
    pk = model._meta.pk
    fields, _ = _plan(model, connection.alias)
    with connection.cursor() as cursor:
        ids: list[int] = []
        if returning:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk.column, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            columns = f"{connection.ops.quote_name(pk.column)}, {columns}"
        sent: list[list[Any]] = []
        started = time.monotonic()
        # Django's error wrapper: a violated constraint raises IntegrityError, as an INSERT's
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for index, row in enumerate(rows):
                line = values(row)
                if returning:
                    line.insert(0, ids[index])
                    sent.append(line)
                copy.write_row(line)
        if connection.queries_logged:  # psycopg's copy bypasses Django's query log
            connection.queries_log.append(
                {
                    "sql": f"COPY {table} ({columns}) FROM STDIN -- {len(rows)} rows",
                    "time": f"{time.monotonic() - started:.3f}",
                }
            )
    if not returning:
        return []
    position = {f.attname: i + 1 for i, f in enumerate(fields)}
    position.update({f.name: i + 1 for i, f in enumerate(fields)})
    position[pk.attname] = position[pk.name] = 0
    picks = [position[name] for name in returning]
    return [tuple(line[i] for i in picks) for line in sent]
