"""Statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, bindparam, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store import pg


def insert_ignore(conn: AsyncConnection, table: Table, keys: list[str]) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING`` in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)


def for_update(conn: AsyncConnection, stmt: Select[Any], *, skip_locked: bool = False) -> Any:
    """Row locks where the database has them; SQLite's single writer already serialises."""
    if conn.dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=skip_locked)
    return stmt


def rows_in(
    conn: AsyncConnection, columns: Sequence[ColumnElement[Any]], rows: Sequence[tuple[Any, ...]]
) -> ColumnElement[bool]:
    """``(columns) IN (rows)``.

    On PostgreSQL as a semi-join on ``unnest`` of one array per column: a literal list of row
    values is planned as ``ANY`` on each column separately, which on a table whose leading
    key column takes few values (one platform's orders) reads most of the index, about five
    times slower for a batch's few hundred keys. The arrays are also one parameter each,
    whatever the number of rows.
    """
    if conn.dialect.name != "postgresql":
        return tuple_(*columns).in_(rows)
    names = [f"c{i}" for i in range(len(columns))]
    arrays = [
        bindparam(None, [row[i] for row in rows], type_=postgresql.ARRAY(column.type))
        for i, column in enumerate(columns)
    ]
    keys = func.unnest(*arrays).table_valued(*names).render_derived()
    return tuple_(*columns).in_(select(*(keys.c[name] for name in names)))


def lock_id(name: str) -> int:
    """A stable signed 64-bit id for an advisory lock name."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


async def advisory_locks(conn: AsyncConnection, names: Iterable[str]) -> None:
    """Transaction-scoped advisory locks on ``names``, taken in one fixed (sorted) order.

    PostgreSQL only: SQLite's single writer already serialises every write transaction.
    They guard what no row lock can: two documents that will meet through a secondary key
    (a waybill and the order it names) before either row exists.
    """
    if conn.dialect.name != "postgresql":
        return
    ids = sorted({lock_id(name) for name in names})
    if ids:
        await pg.execute(
            conn, "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k", ids
        )


# The mode in force, and a new one for the rest of the transaction (``SET LOCAL``).
_PLAN_CACHE_MODE = (
    "SELECT current_setting('plan_cache_mode') AS was, set_config('plan_cache_mode', $1, true)"
)


@asynccontextmanager
async def planned_now(conn: AsyncConnection) -> AsyncIterator[None]:
    """The statements inside are planned at each execution, for the tables as they are now
    (PostgreSQL's ``plan_cache_mode = force_custom_plan``, until the block ends).

    A prepared statement's generic plan is made once, from the table sizes of its first
    executions, and kept until the table is analysed. On a database that started empty and
    fills under load, intake's batch read kept a plan made for 60 documents, a scan of every
    one, at 75,000 (80 ms a read in one worker, 12 in the other; measured, issue 13).

    Only around reads: the mode also reaches the queries behind foreign keys, planned again
    for every row inserted under it. For the whole intake transaction that was a fifth of
    the engine's time per document (391 against 317 µs at 500-document batches, measured).
    Nothing to undo when the block fails: its transaction is rolled back, and the setting
    with it.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    [row] = await pg.fetch(conn, _PLAN_CACHE_MODE, "force_custom_plan")
    yield
    await pg.fetch(conn, _PLAN_CACHE_MODE, row["was"])
