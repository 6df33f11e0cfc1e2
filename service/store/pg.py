"""The intake transaction's statements on PostgreSQL, as fixed SQL text on the driver.

The batcher sends a few statements per batch over hundreds of rows. Through SQLAlchemy each
one costs more Python than PostgreSQL spends executing it (statement construction, cache
keys, per-row parameter processing), and an ``IN (...)`` list or a multi-row ``VALUES``
renders a new SQL text for every batch size, which the driver must prepare again. Here each
statement is one text per table and column set, its rows passed as one array per column
(``unnest``), run on the asyncpg connection inside the caller's SQLAlchemy transaction: the
same transaction, one prepare per text for the life of the connection.

Only the hot path uses this; everything else keeps SQLAlchemy Core, and SQLite keeps it
everywhere (each caller looks at ``conn.dialect.name``). It leans on four private members of
SQLAlchemy's asyncpg adapter (the transaction it begins lazily, its execute lock, its error
translation), which is why SQLAlchemy is pinned; tests/store/test_pg.py fails if they move.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import JSON, Float, Numeric, String, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.jsoncodec import dumps
from service.store.statements import count_statement

Row = dict[str, Any]
_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


async def _adapter(conn: AsyncConnection) -> Any:
    """SQLAlchemy's adapter of the asyncpg connection under ``conn``."""
    raw = await conn.get_raw_connection()
    return raw.dbapi_connection


async def _run(conn: AsyncConnection, method: str, sql: str, args: tuple[Any, ...]) -> Any:
    adapter = await _adapter(conn)
    count_statement(sql)
    try:
        # SQLAlchemy's own statements on this connection take this lock too.
        async with adapter._execute_mutex:
            # The adapter sends BEGIN lazily, with the first statement it runs; a statement
            # sent straight to the driver before that would run outside the transaction.
            if adapter._transaction is None:
                await adapter._start_transaction()
            return await getattr(adapter.driver_connection, method)(sql, *args)
    except Exception as error:
        raise await _as_sqlalchemy_error(conn, adapter, sql, args, error) from error


async def _as_sqlalchemy_error(
    conn: AsyncConnection, adapter: Any, sql: str, args: tuple[Any, ...], error: Exception
) -> Exception:
    """The error SQLAlchemy would have raised for it: callers tell a lost race (its
    SQLSTATE) and a dead connection (``connection_invalidated``) apart as they do for
    statements SQLAlchemy ran; a dead connection is invalidated, so the pool drops it."""
    closed = bool(adapter.driver_connection.is_closed())
    if closed:
        await conn.invalidate()
    base = conn.dialect.loaded_dbapi.Error
    try:
        adapter._handle_exception(error)  # raises the DBAPI-level translation
    except base as translated:
        return DBAPIError.instance(
            sql, args, translated, base, connection_invalidated=closed, dialect=conn.dialect
        )
    except Exception as other:
        if closed or isinstance(other, OSError):
            return OperationalError(sql, args, other, connection_invalidated=True)
        return other
    return error


async def fetch(conn: AsyncConnection, sql: str, *args: Any) -> list[Row]:
    records = await _run(conn, "fetch", sql, args)
    return [dict(r) for r in records]


async def execute(conn: AsyncConnection, sql: str, *args: Any) -> None:
    await _run(conn, "execute", sql, args)


@cache
def _array_type(table: Table, column: str) -> str:
    """The array type a column's values travel in (JSON as text, cast back in the SQL).

    Strings and numbers without their length or scale: a cast to ``varchar(n)`` cuts a
    longer value silently, where the column itself refuses it (22001).
    """
    type_ = table.c[column].type
    if isinstance(type_, JSON | String):
        return "text[]"
    if isinstance(type_, Numeric) and not isinstance(type_, Float):
        return "numeric[]"
    return f"{type_.compile(dialect=_DIALECT)}[]"


def _value_of(table: Table, column: str, rows: Sequence[Row]) -> list[Any]:
    if isinstance(table.c[column].type, JSON):
        return [dumps(row[column]) for row in rows]
    return [row[column] for row in rows]


def columns_of(table: Table, rows: Sequence[Row], columns: Sequence[str]) -> list[list[Any]]:
    """One array per column, in ``columns`` order: the parameters of the statements below."""
    return [_value_of(table, c, rows) for c in columns]


def _value(table: Table, column: str) -> str:
    return f"u.{column}::json" if isinstance(table.c[column].type, JSON) else f"u.{column}"


def select_list(table: Table, columns: Sequence[str]) -> str:
    return ", ".join(_value(table, c) for c in columns)


def unnest(table: Table, columns: Sequence[str], first: int = 1) -> str:
    """``unnest`` of one array parameter per column from ``$first`` on, as ``u``, with the
    rows' positions as ``u.ord_``."""
    params = ", ".join(f"${i}::{_array_type(table, c)}" for i, c in enumerate(columns, start=first))
    return f"unnest({params}) WITH ORDINALITY AS u({', '.join(columns)}, ord_)"


@cache
def insert_sql(
    table: Table, columns: tuple[str, ...], returning: tuple[str, ...] = (), conflict: str = ""
) -> str:
    """``INSERT`` of one row per array position, in array order (ids are drawn in that
    order), with an optional ``ON CONFLICT`` clause and ``RETURNING`` list."""
    sql = (
        f"INSERT INTO {table.name} ({', '.join(_quoted(c) for c in columns)}) "
        f"SELECT {select_list(table, columns)} FROM {unnest(table, columns)} ORDER BY u.ord_"
    )
    if conflict:
        sql += f" {conflict}"
    if returning:
        sql += f" RETURNING {', '.join(_quoted(c) for c in returning)}"
    return sql


@cache
def update_sql(table: Table, columns: tuple[str, ...]) -> str:
    """``UPDATE`` of rows by id, each with its own values: ``$1`` the ids, then one array per
    column in ``columns`` order."""
    sets = ", ".join(f"{_quoted(c)} = {_value(table, c)}" for c in columns)
    arrays = ", ".join(f"${i}::{_array_type(table, c)}" for i, c in enumerate(columns, start=2))
    return (
        f"UPDATE {table.name} AS t SET {sets} "
        f"FROM unnest($1::bigint[], {arrays}) AS u(id_, {', '.join(columns)}) "
        "WHERE t.id = u.id_"
    )


def _quoted(column: str) -> str:
    # "by" is a reserved word; quote every name alike.
    return f'"{column}"'


async def insert_rows(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Row],
    columns: Sequence[str],
    *,
    returning: tuple[str, ...] = (),
    conflict: str = "",
) -> list[Row]:
    if not rows:
        return []
    sql = insert_sql(table, tuple(columns), returning, conflict)
    args = columns_of(table, rows, columns)
    if returning:
        return await fetch(conn, sql, *args)
    await execute(conn, sql, *args)
    return []


async def update_rows(
    conn: AsyncConnection, table: Table, changes: Iterable[tuple[int, Row]]
) -> None:
    """Update rows by id, one statement per distinct set of columns changed."""
    groups: dict[tuple[str, ...], list[tuple[int, Row]]] = {}
    for row_id, values in sorted(changes, key=lambda change: change[0]):
        if values:
            groups.setdefault(tuple(sorted(values)), []).append((row_id, values))
    for columns, items in groups.items():
        rows = [values for _, values in items]
        await execute(
            conn,
            update_sql(table, columns),
            [row_id for row_id, _ in items],
            *columns_of(table, rows, columns),
        )
