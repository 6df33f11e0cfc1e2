"""Statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


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
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:ids AS bigint[])) AS k"),
            {"ids": ids},
        )
