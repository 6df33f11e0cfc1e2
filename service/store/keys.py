"""API key records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.tables import api_keys


async def insert_key(
    conn: AsyncConnection,
    *,
    key_hash: str,
    codes: list[str],
    roles: list[str],
    name: str | None,
    now: datetime,
) -> int:
    result = await conn.execute(
        insert(api_keys)
        .values(
            key_hash=key_hash, code=codes[0], codes=codes, roles=roles, name=name, created_at=now
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
