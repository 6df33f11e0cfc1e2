"""Per-key rate limits (SPEC §11): a token bucket per API key, counting documents.

A key's bucket holds at most ``burst`` tokens (as many as its rate a second) and refills at
``rate`` tokens a second. A message costs one token per document — every document of it,
rejected ones too: each was parsed and checked, and a sender counts the documents it sent,
not the ones Sandan kept. Messages refused whole (malformed, forbidden, too large) cost
nothing: the limit is taken once a message is prepared, before anything is stored.

A message goes through when the refilled bucket holds its cost. One larger than the burst
goes through when the bucket is full, and leaves it in debt (below zero): the key then waits
until the debt is paid back. So a big message is never refused forever, and over time the
key still sends no more than its rate.

Two keepers of the buckets: ``MemoryRateLimiter`` in the process (SQLite, which one process
serves), ``DatabaseRateLimiter`` in PostgreSQL's ``rate_buckets`` table, one statement per
message, shared by every process and host.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import DBAPIError

from service.config import Settings
from service.errors import RateLimited, ServiceUnavailable
from service.store import rate_buckets
from service.store.database import Database

Clock = Callable[[], float]


class RateLimiter(Protocol):
    async def take(self, key_id: int, cost: int) -> float | None:
        """None when the message may go (its cost is taken from the key's bucket), else the
        seconds until the bucket holds what it needs (nothing taken)."""
        ...


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float

    @property
    def burst(self) -> float:
        return self.per_second

    def refill(self, tokens: float, elapsed: float) -> float:
        """The level of a bucket that held ``tokens`` ``elapsed`` seconds ago."""
        return min(self.burst, tokens + self.per_second * max(0.0, elapsed))

    def needed(self, cost: float) -> float:
        """What the bucket must hold to let a message of ``cost`` documents through: its
        cost, or a full bucket for one larger than the burst."""
        return min(cost, self.burst)

    def wait(self, level: float, cost: float) -> float:
        """Seconds until a bucket at ``level`` holds what ``cost`` needs."""
        return max(0.0, self.needed(cost) - level) / self.per_second


def retry_after(seconds: float) -> int:
    """Whole seconds for Retry-After, rounded up (a retry then finds the tokens), at least 1."""
    return max(1, math.ceil(seconds))


async def admit(limiter: RateLimiter, key_id: int, cost: int) -> None:
    """Take a message's documents from its key's bucket, or raise ``RateLimited``."""
    seconds = await limiter.take(key_id, cost)
    if seconds is not None:
        after = retry_after(seconds)
        raise RateLimited(
            f"this key is over its rate limit: the {cost} documents of this message fit "
            f"in {after} s",
            retry_after=after,
        )


class MemoryRateLimiter:
    """Buckets in this process's memory: the limit holds for one process only."""

    def __init__(self, per_second: float, clock: Clock = time.monotonic) -> None:
        self._rate = Rate(per_second)
        self._clock = clock
        # key id -> (tokens, when); one entry per key that ever sent, as many as keys exist
        self._buckets: dict[int, tuple[float, float]] = {}

    async def take(self, key_id: int, cost: int) -> float | None:
        # Nothing awaited between reading and writing the bucket: atomic on the event loop.
        now = self._clock()
        tokens, at = self._buckets.get(key_id, (self._rate.burst, now))
        level = self._rate.refill(tokens, now - at)
        if level < self._rate.needed(cost):
            return self._rate.wait(level, cost)
        self._buckets[key_id] = (level - cost, now)
        return None


class DatabaseRateLimiter:
    """Buckets in PostgreSQL (``store.rate_buckets``): one autocommit statement a message,
    on the database's clock, so every process and host draws from the same bucket."""

    def __init__(self, db: Database, per_second: float, clock: Clock | None = None) -> None:
        self._db = db
        self._rate = Rate(per_second)
        # None: the database's clock; tests pass their own (seconds since the epoch)
        self._clock = clock

    async def take(self, key_id: int, cost: int) -> float | None:
        taken = await self._take(key_id, cost)
        if taken.taken:
            return None
        # No row seen (it was inserted after this statement's snapshot): it was just full.
        level = taken.tokens if taken.tokens is not None else self._rate.burst - cost
        return self._rate.wait(level, cost)

    async def _take(self, key_id: int, cost: int) -> rate_buckets.Taken:
        now = self._clock() if self._clock is not None else None
        rate = self._rate
        try:
            async with self._db.autocommit() as conn:
                return await rate_buckets.take(conn, key_id, cost, rate.per_second, rate.burst, now)
        except ServiceUnavailable as error:
            # A pooled connection found dead (the database restarted): once more on a new
            # one. Had the dead one's statement committed, the key pays this message twice,
            # the safe side of a limit.
            if not _dead_connection(error):
                raise
        async with self._db.autocommit() as conn:
            return await rate_buckets.take(conn, key_id, cost, rate.per_second, rate.burst, now)


def _dead_connection(error: ServiceUnavailable) -> bool:
    cause = error.__cause__
    return isinstance(cause, DBAPIError) and bool(cause.connection_invalidated)


def build_rate_limiter(settings: Settings, db: Database) -> RateLimiter | None:
    """The limiter the settings ask for: None when off (no cost at all), in PostgreSQL when
    several processes may serve, else in memory."""
    per_second = settings.rate_limit_documents_per_second
    if per_second is None:
        return None
    if db.is_postgres:
        return DatabaseRateLimiter(db, per_second)
    return MemoryRateLimiter(per_second)
