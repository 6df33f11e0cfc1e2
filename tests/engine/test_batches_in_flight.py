"""Intake keeps ``batches_in_flight`` batches going at once: one waiting on the database does
not hold up the next (PostgreSQL's default is 2; SQLite's single writer keeps 1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loadtest.engine_bench import prepared_submissions
from service.config import Settings
from service.engine.decide import Decided
from service.engine.incoming import Outcome
from service.engine.intake import IntakeBatcher, _Submission
from service.store.database import Database
from tests.databases import afresh_database


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


def test_the_default_follows_the_database() -> None:
    assert Settings(database_url="sqlite+aiosqlite:///x.db").batches_in_flight == 1
    postgres = Settings(database_url="postgresql+asyncpg://u@h/db")
    assert postgres.batches_in_flight == 2
