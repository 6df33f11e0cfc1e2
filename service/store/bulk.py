"""Statements over many rows at once, for the tables that are written in batches."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection


async def update_by_id(
    conn: AsyncConnection, table: Table, changes: list[tuple[int, dict[str, Any]]]
) -> None:
    """Update rows by id, each with its own values: one executemany per distinct set of
    columns, rows in id order (two transactions updating the same rows lock them alike)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in sorted(changes, key=lambda change: change[0]):
        groups.setdefault(tuple(sorted(values)), []).append({"row_id_": row_id, **values})
    for columns, params in groups.items():
        stmt = (
            update(table)
            .where(table.c.id == bindparam("row_id_"))
            .values({c: bindparam(c) for c in columns})
        )
        await conn.execute(stmt, params)
