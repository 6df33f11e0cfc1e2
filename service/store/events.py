"""Bundle history: documents attached, decisions, operator actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store import pg
from service.store.tables import bundle_events

_COLUMNS = ("bundle_id", "at", "version", "event", "detail")


async def record(
    conn: AsyncConnection,
    bundle_id: int,
    at: datetime,
    version: int,
    event: str,
    detail: dict[str, Any],
) -> None:
    await conn.execute(
        insert(bundle_events).values(
            bundle_id=bundle_id, at=at, version=version, event=event, detail=detail
        )
    )


async def record_many(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Many ``record``s (keys bundle_id, at, version, event, detail) in one statement, their
    ids in list order."""
    if rows and conn.dialect.name == "postgresql":
        await pg.insert_rows(conn, bundle_events, rows, _COLUMNS)
    elif rows:
        await conn.execute(insert(bundle_events), rows)


async def history(conn: AsyncConnection, bundle_id: int) -> list[dict[str, Any]]:
    rows = (
        (
            await conn.execute(
                select(bundle_events)
                .where(bundle_events.c.bundle_id == bundle_id)
                .order_by(bundle_events.c.id)
            )
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]
