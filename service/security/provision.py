"""Creating API keys (``sandan keys create``, ``sandan demo``)."""

from __future__ import annotations

from service.clock import utcnow
from service.config import Settings
from service.messages.registry import Role
from service.security.keys import key_digest, new_key
from service.store import keys as key_store
from service.store.database import Database


async def create_api_key(
    settings: Settings, codes: list[str], roles: list[str], name: str | None
) -> str:
    """Store a new key for ``codes`` (the first is its own) and return it in clear, once."""
    unknown = sorted(set(roles) - {role.value for role in Role})
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(unknown)}")
    if not codes:
        raise ValueError("a key needs at least one enterprise code")
    key = new_key()
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            await key_store.insert_key(
                conn,
                key_hash=key_digest(key),
                codes=list(dict.fromkeys(codes)),
                roles=sorted(set(roles)),
                name=name,
                now=utcnow(),
            )
    finally:
        await db.dispose()
    return key
