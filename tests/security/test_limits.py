"""The token buckets of the rate limits (SPEC §11): cost, refill, burst, debt, Retry-After,
in memory and in PostgreSQL, on a clock the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from service.config import Settings
from service.errors import RateLimited, ServiceUnavailable
from service.security.limits import (
    DatabaseRateLimiter,
    MemoryRateLimiter,
    RateLimiter,
    admit,
    build_rate_limiter,
    retry_after,
)
from service.store.database import Database
from tests.databases import afresh_database, on_postgres
from tests.e2e.server import free_port

on_pg = pytest.mark.skipif(not on_postgres(), reason="the shared buckets live in PostgreSQL")


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def pg_database(tmp_path: Path) -> AsyncIterator[Database]:
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        try:
            yield db
        finally:
            await db.dispose()


@dataclass
class Buckets:
    """Limiters of one kind (memory or database) on one clock the test moves."""

    clock: Clock
    db: Database | None

    def limiter(self, per_second: float) -> RateLimiter:
        if self.db is None:
            return MemoryRateLimiter(per_second, self.clock)
        return DatabaseRateLimiter(self.db, per_second, self.clock)


@pytest.fixture(params=["memory", pytest.param("database", marks=on_pg)])
async def buckets(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Buckets]:
    if request.param == "memory":
        yield Buckets(Clock(), None)
        return
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        try:
            yield Buckets(Clock(), db)
        finally:
            await db.dispose()


async def test_a_new_key_has_a_full_burst_then_waits_for_refill(buckets: Buckets) -> None:
    # steps of powers of two: exact in binary, even on an epoch-sized clock
    clock = buckets.clock
    limiter = buckets.limiter(4)
    for _ in range(4):
        assert await limiter.take(1, 1) is None
    assert await limiter.take(1, 1) == pytest.approx(0.25)
    clock.now += 0.125
    assert await limiter.take(1, 1) == pytest.approx(0.125)
    clock.now += 0.125
    assert await limiter.take(1, 1) is None
    assert await limiter.take(1, 1) == pytest.approx(0.25)


async def test_a_message_costs_its_documents_and_a_refused_one_costs_nothing(
    buckets: Buckets,
) -> None:
    clock = buckets.clock
    limiter = buckets.limiter(8)
    assert await limiter.take(1, 5) is None  # 3 left
    assert await limiter.take(1, 4) == pytest.approx(0.125)  # needs one more
    assert await limiter.take(1, 3) is None  # the refused 4 took nothing
    assert await limiter.take(1, 1) == pytest.approx(0.125)
    clock.now += 1
    assert await limiter.take(1, 8) is None


async def test_refill_stops_at_the_burst(buckets: Buckets) -> None:
    clock = buckets.clock
    limiter = buckets.limiter(4)
    assert await limiter.take(1, 4) is None
    clock.now += 3600  # an hour idle refills to 4, not 14 400
    assert await limiter.take(1, 4) is None
    assert await limiter.take(1, 1) == pytest.approx(0.25)


async def test_a_message_larger_than_the_burst_needs_a_full_bucket_and_leaves_debt(
    buckets: Buckets,
) -> None:
    clock = buckets.clock
    limiter = buckets.limiter(2)
    assert await limiter.take(1, 1) is None  # 1 left: not full
    assert await limiter.take(1, 5) == pytest.approx(0.5)  # until full
    clock.now += 0.5
    assert await limiter.take(1, 5) is None  # full: through, 3 in debt
    assert await limiter.take(1, 1) == pytest.approx(2.0)  # (1 - -3) / 2
    clock.now += 2
    assert await limiter.take(1, 1) is None


async def test_keys_have_buckets_of_their_own(buckets: Buckets) -> None:
    limiter = buckets.limiter(1)
    assert await limiter.take(1, 1) is None
    assert await limiter.take(1, 1) is not None
    assert await limiter.take(2, 1) is None


async def test_a_clock_going_back_refills_nothing(buckets: Buckets) -> None:
    clock = buckets.clock
    limiter = buckets.limiter(1)
    assert await limiter.take(1, 1) is None
    clock.now -= 10
    assert await limiter.take(1, 1) == pytest.approx(1.0)


def test_retry_after_is_whole_seconds_rounded_up_at_least_one() -> None:
    assert retry_after(0.0) == 1
    assert retry_after(0.2) == 1
    assert retry_after(1.0) == 1
    assert retry_after(1.01) == 2
    assert retry_after(7.5) == 8


async def test_admit_raises_rate_limited_with_retry_after() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(0.5, clock)
    await admit(limiter, 1, 1)  # burst 0.5, full: through, 0.5 in debt
    with pytest.raises(RateLimited) as refused:
        await admit(limiter, 1, 1)
    assert refused.value.retry_after == 2  # (0.5 - -0.5) / 0.5
    assert refused.value.status == 429
    problem = refused.value.problem()
    assert problem["code"] == "RATE_LIMITED" and problem["retryAfter"] == 2


def test_no_limiter_when_the_setting_is_off(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert build_rate_limiter(Settings(database_url=db.url), db) is None
    on = Settings(database_url=db.url, rate_limit_documents_per_second=3)
    assert isinstance(build_rate_limiter(on, db), MemoryRateLimiter)


@on_pg
async def test_postgres_settings_build_the_shared_limiter(pg_database: Database) -> None:
    on = Settings(database_url=pg_database.url, rate_limit_documents_per_second=3)
    assert isinstance(build_rate_limiter(on, pg_database), DatabaseRateLimiter)


@on_pg
async def test_concurrent_takes_on_the_database_never_exceed_the_burst(
    pg_database: Database,
) -> None:
    clock = Clock()  # still: nothing refills during the test
    limiters = [DatabaseRateLimiter(pg_database, 20, clock) for _ in range(4)]
    waits = await asyncio.gather(*(limiters[i % 4].take(7, 1) for i in range(100)))
    assert sum(w is None for w in waits) == 20
    async with pg_database.read() as conn:
        tokens = (
            await conn.execute(text("SELECT tokens FROM rate_buckets WHERE key_id = 7"))
        ).scalar()
    assert tokens == pytest.approx(0)


@on_pg
async def test_the_database_clock_refills(pg_database: Database) -> None:
    limiter = DatabaseRateLimiter(pg_database, 1000)
    assert await limiter.take(1, 1000) is None
    wait = await limiter.take(1, 1000)
    assert wait is not None and 0 < wait <= 1.0
    await asyncio.sleep(wait + 0.05)
    assert await limiter.take(1, 1000) is None


@on_pg
async def test_a_dead_connection_is_replaced_once(pg_database: Database) -> None:
    limiter = DatabaseRateLimiter(pg_database, 10, Clock())
    assert await limiter.take(1, 1) is None
    async with pg_database.write() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert await limiter.take(1, 1) is None
    async with pg_database.read() as conn:
        tokens = (
            await conn.execute(text("SELECT tokens FROM rate_buckets WHERE key_id = 1"))
        ).scalar()
    assert tokens == pytest.approx(8)


async def test_a_database_out_of_reach_is_unavailable_not_an_error() -> None:
    # nothing listens on the port: the connect is refused, which answers 503, not 500
    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/sandan")
    try:
        with pytest.raises(ServiceUnavailable):
            await DatabaseRateLimiter(db, 5).take(1, 1)
    finally:
        await db.dispose()
