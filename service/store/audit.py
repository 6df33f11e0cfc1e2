"""The audit trails, appended in the transaction of what they record and never changed.

``review_actions``: operator actions on bundles, with the bundle's versions and states (the
review pages read it). ``audit_log``: every operator action, key and certificate change as one
hash chain (SPEC §11, ``store.audit_chain``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.audit_chain import GENESIS, as_stored, record_hash
from service.store.dialect import insert_ignore
from service.store.tables import audit_log, bundles, counters, review_actions

Row = dict[str, Any]

# The counters row whose lock makes appends to the chain take turns.
CHAIN_LOCK = "audit"


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


async def append(
    conn: AsyncConnection,
    *,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any],
    at: datetime,
) -> int:
    """Append one record to the hash chain, inside the caller's transaction; its id.

    Appends take turns on the ``audit`` counter row, locked by updating it until the
    transaction ends (SQLite's one writer already takes turns), so the record read as the last
    one is still the last when this one is inserted: the chain stays a line, whatever the
    number of processes. Take it after any other counter (the manifest's seq) so that locks
    are always taken in one order.
    """
    await conn.execute(insert_ignore(conn, counters, ["name"]).values(name=CHAIN_LOCK, value=0))
    await conn.execute(
        update(counters).where(counters.c.name == CHAIN_LOCK).values(value=counters.c.value + 1)
    )
    last = (
        await conn.execute(
            select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
        )
    ).first()
    prev_hash = last.hash if last is not None else GENESIS
    record: Row = {
        "id": (last.id if last is not None else 0) + 1,
        "at": at,
        "actor": actor[:100],
        "action": action,
        "subject": subject[:200],
        "detail": as_stored(detail),
    }
    await conn.execute(
        insert(audit_log).values(**record, prev_hash=prev_hash, hash=record_hash(prev_hash, record))
    )
    return int(record["id"])


async def chain(conn: AsyncConnection, page: int = 1000) -> AsyncIterator[Row]:
    """Every record of the chain in id order, read a page at a time."""
    after = 0
    while True:
        rows = (
            (
                await conn.execute(
                    select(audit_log)
                    .where(audit_log.c.id > after)
                    .order_by(audit_log.c.id)
                    .limit(page)
                )
            )
            .mappings()
            .all()
        )
        for row in rows:
            yield dict(row)
        if len(rows) < page:
            return
        after = int(rows[-1]["id"])


async def log_page(conn: AsyncConnection, limit: int, before_id: int | None = None) -> list[Row]:
    """Records of the chain, the newest first."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(audit_log.c.id < before_id)
    return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]
