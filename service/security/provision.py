"""Creating API keys in a database of their own (``sandan keys create``, ``sandan demo``)."""

from __future__ import annotations

from datetime import datetime

from service.clock import utcnow
from service.config import Settings
from service.errors import InvalidRequest
from service.security import key_lifecycle
from service.store.database import Database


async def create_api_key(
    settings: Settings,
    codes: list[str],
    roles: list[str],
    name: str | None,
    expires_at: datetime | None = None,
    actor: str = "cli",
) -> str:
    """Store a new key for ``codes`` (the first is its own) and return it in clear, once."""
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            issued = await key_lifecycle.create(
                conn,
                codes=codes,
                roles=roles,
                name=name,
                expires_at=expires_at,
                actor=actor,
                now=utcnow(),
            )
    except InvalidRequest as exc:
        raise ValueError(exc.message) from None
    finally:
        await db.dispose()
    return issued.key
