"""Webhook subscriptions and their delivery attempts (tables ``webhooks``,
``webhook_deliveries``).

The lease: a deliverer claims a subscription with one conditional UPDATE (the lease is free or
has run out), which PostgreSQL and SQLite both apply atomically, so whatever the number of
processes one holds it at a time; every later write of that deliverer names itself as the
owner and changes nothing once the lease has passed to another.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.tables import webhook_deliveries, webhooks

Row = dict[str, Any]

ACTIVE = "active"
PAUSED = "paused"
STATES = (ACTIVE, PAUSED)


async def create(
    conn: AsyncConnection,
    *,
    code: str,
    key_id: int,
    url: str,
    sealed_secret: str,
    cursor: int,
    now: datetime,
) -> int:
    result = await conn.execute(
        insert(webhooks)
        .values(
            code=code,
            key_id=key_id,
            url=url,
            secret=sealed_secret,
            created_at=now,
            state=ACTIVE,
            cursor=cursor,
            failures=0,
        )
        .returning(webhooks.c.id)
    )
    return int(result.scalar_one())


async def get(conn: AsyncConnection, webhook_id: int) -> Row | None:
    row = (await conn.execute(select(webhooks).where(webhooks.c.id == webhook_id))).mappings()
    found = row.first()
    return dict(found) if found else None


async def listed(conn: AsyncConnection, codes: Collection[str] | None) -> list[Row]:
    """The subscriptions owned by ``codes`` (``None``: every one), oldest first."""
    stmt = select(webhooks).order_by(webhooks.c.id)
    if codes is not None:
        stmt = stmt.where(webhooks.c.code.in_(codes))
    return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]


async def remove(conn: AsyncConnection, webhook_id: int) -> bool:
    await conn.execute(
        delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
    )
    result = await conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id))
    return bool(result.rowcount)


async def resume(conn: AsyncConnection, webhook_id: int, now: datetime) -> None:
    """Active again, with its failures forgotten: the next attempt is due at once."""
    await conn.execute(
        update(webhooks)
        .where(webhooks.c.id == webhook_id)
        .values(state=ACTIVE, failures=0, retry_at=now)
    )


def _lease_free(now: datetime) -> Any:
    return or_(webhooks.c.lease_until.is_(None), webhooks.c.lease_until < now)


async def any_active(conn: AsyncConnection) -> bool:
    """Whether any subscription is active (asked by a pass that found none due)."""
    found = await conn.execute(select(webhooks.c.id).where(webhooks.c.state == ACTIVE).limit(1))
    return found.first() is not None


async def due(conn: AsyncConnection, now: datetime, top: int, limit: int) -> list[int]:
    """Active subscriptions behind manifest seq ``top``, not waiting for a retry, not leased."""
    stmt = (
        select(webhooks.c.id)
        .where(
            webhooks.c.state == ACTIVE,
            webhooks.c.cursor < top,
            or_(webhooks.c.retry_at.is_(None), webhooks.c.retry_at <= now),
            _lease_free(now),
        )
        .order_by(webhooks.c.id)
        .limit(limit)
    )
    return [int(i) for i in (await conn.execute(stmt)).scalars().all()]


async def claim(
    conn: AsyncConnection, webhook_id: int, owner: str, now: datetime, until: datetime
) -> Row | None:
    """The subscription, leased to ``owner`` until ``until``; None when another holds it (or it
    is paused, gone, or waiting for its retry)."""
    result = await conn.execute(
        update(webhooks)
        .where(
            webhooks.c.id == webhook_id,
            webhooks.c.state == ACTIVE,
            or_(webhooks.c.retry_at.is_(None), webhooks.c.retry_at <= now),
            _lease_free(now),
        )
        .values(lease_owner=owner, lease_until=until)
        .returning(*webhooks.c)
    )
    row = result.mappings().first()
    return dict(row) if row else None


def _held(webhook_id: int, owner: str) -> Any:
    return (webhooks.c.id == webhook_id) & (webhooks.c.lease_owner == owner)


async def release(conn: AsyncConnection, webhook_id: int, owner: str) -> None:
    await conn.execute(
        update(webhooks).where(_held(webhook_id, owner)).values(lease_owner=None, lease_until=None)
    )


async def release_all(conn: AsyncConnection, owner: str) -> None:
    await conn.execute(
        update(webhooks)
        .where(webhooks.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


async def pass_over(conn: AsyncConnection, webhook_id: int, owner: str, cursor: int) -> None:
    """Move the cursor past entries that are none of the subscription's, and let go of it."""
    await conn.execute(
        update(webhooks)
        .where(_held(webhook_id, owner), webhooks.c.cursor < cursor)
        .values(cursor=cursor)
    )
    await release(conn, webhook_id, owner)


async def delivered(
    conn: AsyncConnection, webhook_id: int, owner: str, attempt: Row, now: datetime
) -> bool:
    """A 2xx for ``attempt``'s entries: the cursor moves past them. False (nothing written)
    when the lease was lost or the subscription deleted meanwhile."""
    result = await conn.execute(
        update(webhooks)
        .where(_held(webhook_id, owner))
        .values(
            cursor=attempt["last_seq"],
            failures=0,
            retry_at=None,
            last_error=None,
            last_delivered_at=now,
            lease_owner=None,
            lease_until=None,
        )
    )
    if not result.rowcount:
        return False
    await conn.execute(insert(webhook_deliveries).values(webhook_id=webhook_id, **attempt))
    return True


async def failed(
    conn: AsyncConnection,
    webhook_id: int,
    owner: str,
    attempt: Row,
    *,
    failures: int,
    paused: bool,
    error: str,
) -> bool:
    """A failed ``attempt``: counted, retried at its ``retry_at``, or paused."""
    result = await conn.execute(
        update(webhooks)
        .where(_held(webhook_id, owner))
        .values(
            failures=failures,
            retry_at=attempt["retry_at"],
            state=PAUSED if paused else ACTIVE,
            last_error=error,
            lease_owner=None,
            lease_until=None,
        )
    )
    if not result.rowcount:
        return False
    await conn.execute(insert(webhook_deliveries).values(webhook_id=webhook_id, **attempt))
    return True


async def pause(conn: AsyncConnection, webhook_id: int, owner: str, error: str) -> None:
    """Paused without an attempt (the key behind it no longer works, the secret is lost)."""
    await conn.execute(
        update(webhooks)
        .where(_held(webhook_id, owner))
        .values(state=PAUSED, retry_at=None, last_error=error, lease_owner=None, lease_until=None)
    )


async def deliveries(
    conn: AsyncConnection, webhook_id: int, limit: int, before_id: int | None = None
) -> list[Row]:
    """Attempts, the newest first."""
    stmt = (
        select(webhook_deliveries)
        .where(webhook_deliveries.c.webhook_id == webhook_id)
        .order_by(webhook_deliveries.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(webhook_deliveries.c.id < before_id)
    return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]
