"""How intake gathers a batch: everything already queued joins it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from loadtest.engine_bench import prepared_submissions
from service.config import Settings
from service.store.database import Database
from tests.databases import afresh_database
from tests.engine.conftest import RecordingBatcher


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
