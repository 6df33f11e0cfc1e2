"""The shared token buckets of the rate limits (SPEC §11) on PostgreSQL: one statement takes
a message's documents from its key's bucket, or says how full the bucket is.

The arithmetic is ``security.limits.refill``'s, in SQL, on the database's clock: processes
on several hosts agree on it. The text is fixed (its values are parameters), so asyncpg
prepares it once per connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# ``taken``: the upsert, which changes the row only when the refilled bucket holds what the
# message needs (a new key's bucket starts full). When it does not, the second half reads
# the refilled level from the statement's snapshot, to compute Retry-After with. A row
# inserted by another transaction after that snapshot is not seen: no row at all, rare.
_TAKE = text(
    """
WITH clock AS (
    SELECT COALESCE(
        CAST(:now AS float8), CAST(extract(epoch FROM clock_timestamp()) AS float8)
    ) AS now
),
taken AS (
    INSERT INTO rate_buckets AS b (key_id, tokens, at)
    SELECT CAST(:key_id AS bigint), CAST(:burst AS float8) - CAST(:cost AS float8), clock.now
    FROM clock
    ON CONFLICT (key_id) DO UPDATE
    SET tokens = LEAST(
            CAST(:burst AS float8),
            b.tokens + CAST(:rate AS float8) * GREATEST(0, EXCLUDED.at - b.at)
        ) - CAST(:cost AS float8),
        at = GREATEST(b.at, EXCLUDED.at)
    WHERE LEAST(
            CAST(:burst AS float8),
            b.tokens + CAST(:rate AS float8) * GREATEST(0, EXCLUDED.at - b.at)
        ) >= LEAST(CAST(:cost AS float8), CAST(:burst AS float8))
    RETURNING b.tokens
)
SELECT true AS taken, tokens FROM taken
UNION ALL
SELECT false, LEAST(
    CAST(:burst AS float8), b.tokens + CAST(:rate AS float8) * GREATEST(0, clock.now - b.at)
)
FROM rate_buckets AS b, clock
WHERE b.key_id = CAST(:key_id AS bigint) AND NOT EXISTS (SELECT 1 FROM taken)
"""
)


@dataclass(frozen=True, slots=True)
class Taken:
    taken: bool
    # left in the bucket when taken (below zero: in debt), else its refilled level; None
    # when the row was not visible to read it from
    tokens: float | None


async def take(
    conn: AsyncConnection,
    key_id: int,
    cost: float,
    rate: float,
    burst: float,
    now: float | None = None,
) -> Taken:
    """Take ``cost`` tokens from ``key_id``'s bucket if it holds min(cost, burst) once
    refilled at ``rate`` up to ``burst``. ``now`` (seconds since the epoch) replaces the
    database's clock, for tests. ``conn`` should be in autocommit: the row stays locked
    until its transaction ends."""
    params = {"key_id": key_id, "cost": cost, "rate": rate, "burst": burst, "now": now}
    row = (await conn.execute(_TAKE, params)).first()
    if row is None:
        return Taken(False, None)
    return Taken(bool(row.taken), float(row.tokens))
