"""API key records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.dialect import for_update
from service.store.tables import api_keys

Row = dict[str, Any]

# What a listing shows: never the key's hash.
_LISTED = [c for c in api_keys.c if c.name != "key_hash"]


async def insert_key(
    conn: AsyncConnection,
    *,
    key_hash: str,
    codes: list[str],
    roles: list[str],
    name: str | None,
    now: datetime,
    expires_at: datetime | None = None,
) -> int:
    result = await conn.execute(
        insert(api_keys)
        .values(
            key_hash=key_hash,
            code=codes[0],
            codes=codes,
            roles=roles,
            name=name,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(api_keys.c.id)
    )
    return int(result.scalar_one())


async def find_key(conn: AsyncConnection, key_hash: str) -> dict[str, Any] | None:
    row = (
        (await conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def listed(conn: AsyncConnection) -> list[Row]:
    stmt = select(*_LISTED).order_by(api_keys.c.id)
    return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]


async def get(conn: AsyncConnection, key_id: int, *, lock: bool = False) -> Row | None:
    stmt = select(*_LISTED).where(api_keys.c.id == key_id)
    row = (await conn.execute(for_update(conn, stmt) if lock else stmt)).mappings().first()
    return dict(row) if row else None


async def change(conn: AsyncConnection, key_id: int, **values: Any) -> None:
    """Set lifecycle columns of one key: revoked_at, expires_at, replaced_by."""
    await conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(**values))


async def record_uses(conn: AsyncConnection, uses: dict[int, datetime]) -> None:
    """Move each key's ``last_used_at`` forward to its time in ``uses`` (never back: another
    process may have written a later one)."""
    for key_id, at in sorted(uses.items()):
        column = api_keys.c.last_used_at
        await conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id)
            .values(last_used_at=case((column.is_(None), at), (column < at, at), else_=column))
        )
