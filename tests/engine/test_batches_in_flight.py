"""Intake keeps ``batches_in_flight`` batches going at once: one waiting on the database does
not hold up the next (PostgreSQL only, when asked; SQLite's single writer keeps 1)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from loadtest.engine_bench import prepared_submissions
from service.config import Settings
from service.engine.decide import Decided
from service.engine.incoming import Outcome
from service.engine.intake import IntakeBatcher, _Submission
from service.store.database import Database
from tests.databases import afresh_database, on_postgres
from tests.engine.conftest import RecordingBatcher


class HeldFirstBatch(IntakeBatcher):
    """The real batcher whose first transaction waits for ``release`` before it starts."""

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(db, settings)
        self.release = asyncio.Event()
        self.started = 0

    async def _apply(self, batch: list[_Submission]) -> tuple[list[list[Outcome]], list[Decided]]:
        self.started += 1
        if self.started == 1:
            await self.release.wait()
        return await super()._apply(batch)


@pytest.mark.skipif(not on_postgres(), reason="SQLite keeps one batch at a time")
@pytest.mark.parametrize("in_flight", [1, 2])
async def test_a_waiting_batch_does_not_hold_up_the_next(tmp_path: Path, in_flight: int) -> None:
    first, second = prepared_submissions(2, 1, seed=5)[:2]
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        settings = Settings(database_url=url, intake_batches_in_flight=in_flight)
        batcher = HeldFirstBatch(db, settings)
        await batcher.start()
        try:
            held = asyncio.create_task(batcher.submit(*first))
            await asyncio.sleep(0.05)  # the first batch has closed and waits
            later = asyncio.create_task(batcher.submit(*second))
            done, _ = await asyncio.wait({later}, timeout=2)
            assert (later in done) is (in_flight > 1)
            batcher.release.set()
            outcomes = await held + await later
            assert [o.status for o in outcomes] == ["accepted", "accepted"]
        finally:
            batcher.release.set()
            await batcher.stop()
            await db.dispose()


def test_one_batch_at_a_time_unless_asked_and_always_on_sqlite() -> None:
    assert Settings(database_url="postgresql+asyncpg://u@h/db").batches_in_flight == 1
    two = {"intake_batches_in_flight": 2}
    assert Settings(database_url="postgresql+asyncpg://u@h/db", **two).batches_in_flight == 2
    assert Settings(database_url="sqlite+aiosqlite:///x.db", **two).batches_in_flight == 1


async def test_a_batch_takes_in_everything_queued_however_busy_the_loop(tmp_path: Path) -> None:
    """On a loop busy with other requests, waiting for each queued submission in turn used
    up the interval after a handful: the rest waited for later batches."""
    traffic = prepared_submissions(12, 1, seed=9)[:24]
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        batcher = RecordingBatcher(db, Settings(database_url=url, intake_batch_interval_ms=2))
        stop = asyncio.Event()

        async def busy_loop() -> None:  # other requests' work, 3 ms at a time
            while not stop.is_set():
                time.sleep(0.003)  # noqa: ASYNC251 - blocking is the point
                await asyncio.sleep(0)

        busy = asyncio.create_task(busy_loop())
        await batcher.start()
        try:
            answers = await asyncio.gather(*(batcher.submit(s, items) for s, items in traffic))
        finally:
            stop.set()
            await busy
            await batcher.stop()
            await db.dispose()
    assert all(o.status == "accepted" for outcomes in answers for o in outcomes)
    # the first batch closes on its first submission; everything else was queued by then
    assert sum(batcher.batch_sizes) == len(traffic)
    assert len(batcher.batch_sizes) <= 3, batcher.batch_sizes
