"""The audit trail of operator actions: appended in the action's transaction, never changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.tables import bundles, review_actions

Row = dict[str, Any]


async def record(conn: AsyncConnection, **values: Any) -> int:
    result = await conn.execute(
        insert(review_actions).values(**values).returning(review_actions.c.id)
    )
    return int(result.scalar_one())


async def for_bundle(conn: AsyncConnection, bundle_id: int) -> list[Row]:
    rows = (
        (
            await conn.execute(
                select(review_actions)
                .where(review_actions.c.bundle_id == bundle_id)
                .order_by(review_actions.c.id)
            )
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


async def recent(conn: AsyncConnection, limit: int, before_id: int | None = None) -> list[Row]:
    """The newest actions first, each with its bundle's key."""
    stmt = (
        select(review_actions, bundles.c.ebp_code, bundles.c.order_no)
        .join(bundles, bundles.c.id == review_actions.c.bundle_id)
        .order_by(review_actions.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(review_actions.c.id < before_id)
    return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]
