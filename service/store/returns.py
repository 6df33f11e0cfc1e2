"""Returns (退货) recorded on bundles (SPEC §10): one row per accepted return document."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.tables import bundle_returns

Row = dict[str, Any]


async def record(conn: AsyncConnection, row: Row) -> None:
    await conn.execute(insert(bundle_returns).values(**row))


async def for_bundles(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, list[Row]]:
    """Every return of each bundle, in the order applied."""
    wanted = sorted(set(ids))
    out: dict[int, list[Row]] = {i: [] for i in wanted}
    if not wanted:
        return out
    stmt = (
        select(bundle_returns)
        .where(bundle_returns.c.bundle_id.in_(wanted))
        .order_by(bundle_returns.c.id)
    )
    for row in (await conn.execute(stmt)).mappings():
        out[int(row["bundle_id"])].append(dict(row))
    return out
