"""Resolving a bearer key to its caller, with a short in-process cache.

Every request authenticates; a database round trip per request would cost more than the
ingest itself at peak. Keys are not revoked in this version, so a cached hit stays right; the
TTL bounds how long a deleted key would keep working once revocation exists.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from service.messages.registry import Role
from service.security.keys import Caller, key_digest

KeyLookup = Callable[[str], Awaitable[dict[str, Any] | None]]


class KeyCache:
    def __init__(
        self,
        lookup: KeyLookup,
        ttl_seconds: float = 30.0,
        extra_codes: dict[str, list[str]] | None = None,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl_seconds
        self._extra = extra_codes or {}
        self._cache: dict[str, tuple[float, Caller]] = {}

    async def resolve(self, key: str) -> Caller | None:
        digest = key_digest(key)
        hit = self._cache.get(digest)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        row = await self._lookup(digest)
        if row is None:
            return None
        roles = frozenset(Role(r) for r in row["roles"])
        scope = self._extra.get(row["code"], []) if Role.WAREHOUSE in roles else []
        caller = Caller(
            key_id=int(row["id"]),
            code=row["code"],
            codes=frozenset(row["codes"]),
            roles=roles,
            name=row["name"],
            scope_codes=frozenset(scope),
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self._ttl, caller)
        return caller
