"""Resolving a bearer key to its caller, with a short in-process cache.

Every request authenticates; a database round trip per request would cost more than the
ingest itself at peak. A cached answer is trusted for ``key_cache_seconds`` (at most 5 s), the
longest a key revoked by another process keeps working here; this process's own revocations
take effect at once (``forget``). Expiry needs no database: the cached caller carries its
``expires_at``, checked on every hit.

A review UI session holds a key's id, not the key: ``by_id`` answers for it from a second
cache of the same length, so a session whose key is revoked or expires ends within seconds.

The cache also notes when each key was used, in memory; ``KeyUseRecorder`` writes the notes
behind the requests, so recording "last used" costs no write per request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.clock import as_utc, utcnow
from service.errors import Unauthenticated
from service.messages.registry import Role
from service.security.keys import Caller, key_digest

KeyLookup = Callable[[str], Awaitable[dict[str, Any] | None]]
KeyIdLookup = Callable[[int], Awaitable[dict[str, Any] | None]]

MAX_ENTRIES = 10_000


class KeyRevoked(Unauthenticated):
    pass


class KeyExpired(Unauthenticated):
    pass


@dataclass(frozen=True, slots=True)
class Revoked:
    """A key found revoked: remembered like a caller, so its holder retrying costs no query."""

    message: str


class KeyCache:
    def __init__(
        self,
        lookup: KeyLookup,
        ttl_seconds: float = 5.0,
        extra_codes: dict[str, list[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        lookup_id: KeyIdLookup | None = None,
    ) -> None:
        self._lookup = lookup
        self._lookup_id = lookup_id
        self._ttl = ttl_seconds
        self._extra = extra_codes or {}
        self._clock = clock
        # digest -> (trusted until, the caller, or the revocation refusing it)
        self._cache: dict[str, tuple[float, Caller | Revoked]] = {}
        # key id -> (trusted until, the caller, the revocation, or None: no such key)
        self._by_id: dict[int, tuple[float, Caller | Revoked | None]] = {}
        self._used: dict[int, datetime] = {}

    async def authenticate(self, key: str, now: datetime | None = None) -> Caller:
        """The caller ``key`` belongs to; ``Unauthenticated`` saying why when there is none
        (unknown, revoked, expired)."""
        now = now or utcnow()
        digest = key_digest(key)
        hit = self._cache.get(digest)
        moment = self._clock()
        found: Caller | Revoked
        if hit is not None and hit[0] > moment:
            found = hit[1]
        else:
            looked_up = await self._resolve(digest)
            if looked_up is None:
                raise Unauthenticated("unknown API key")
            if len(self._cache) >= MAX_ENTRIES:
                self._cache.clear()
            found = looked_up
            self._cache[digest] = (moment + self._ttl, found)
        return self._admit(found, now)

    async def by_id(self, key_id: int, now: datetime | None = None) -> Caller:
        """The caller of key ``key_id`` (a signed-in session's), refused like ``authenticate``
        when the key is unknown, revoked or expired; trusted for the same short time."""
        if self._lookup_id is None:
            raise RuntimeError("this key cache was built without a lookup by id")
        now = now or utcnow()
        hit = self._by_id.get(key_id)
        moment = self._clock()
        if hit is not None and hit[0] > moment:
            found = hit[1]
        else:
            row = await self._lookup_id(key_id)
            found = None if row is None else self._caller_of(row)
            if len(self._by_id) >= MAX_ENTRIES:
                self._by_id.clear()
            self._by_id[key_id] = (moment + self._ttl, found)
        if found is None:
            raise Unauthenticated(f"no API key {key_id}")
        return self._admit(found, now)

    def _admit(self, found: Caller | Revoked, now: datetime) -> Caller:
        if isinstance(found, Revoked):
            raise KeyRevoked(found.message)
        if found.expired_at(now):
            raise KeyExpired(f"API key {found.key_id} expired at {_text(found.expires_at)}")
        self._used[found.key_id] = now
        return found

    async def resolve(self, key: str) -> Caller | None:
        """``authenticate``, with None for a key that does not authenticate (the sign-in)."""
        try:
            return await self.authenticate(key)
        except Unauthenticated:
            return None

    def forget(self, key_id: int) -> None:
        """Ask the database again about ``key_id`` (it was just revoked or rotated here)."""
        self._by_id.pop(key_id, None)
        for digest, (_, found) in list(self._cache.items()):
            if isinstance(found, Caller) and found.key_id == key_id:
                del self._cache[digest]

    def take_uses(self) -> dict[int, datetime]:
        """When each key was last used since the previous call (key id -> time)."""
        used, self._used = self._used, {}
        return used

    def give_back(self, uses: dict[int, datetime]) -> None:
        """Uses taken that could not be written: kept for the next write."""
        for key_id, at in uses.items():
            if key_id not in self._used or self._used[key_id] < at:
                self._used[key_id] = at

    async def _resolve(self, digest: str) -> Caller | Revoked | None:
        row = await self._lookup(digest)
        return None if row is None else self._caller_of(row)

    def _caller_of(self, row: dict[str, Any]) -> Caller | Revoked:
        if row.get("revoked_at") is not None:
            return Revoked(f"API key {row['id']} was revoked at {_text(row['revoked_at'])}")
        roles = frozenset(Role(r) for r in row["roles"])
        scope = self._extra.get(row["code"], []) if Role.WAREHOUSE in roles else []
        expires = row.get("expires_at")
        return Caller(
            key_id=int(row["id"]),
            code=row["code"],
            codes=frozenset(row["codes"]),
            roles=roles,
            name=row["name"],
            scope_codes=frozenset(scope),
            expires_at=as_utc(expires) if expires is not None else None,
        )


def _text(when: datetime | None) -> str:
    return "" if when is None else as_utc(when).isoformat(timespec="seconds").replace("+00:00", "Z")
