"""Deadline sweeper: incomplete bundles past their deadline become MISSING_* exceptions.

Safe to run in every process at once: each pass locks the bundles it takes with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite has a single writer anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from service.config import Settings
from service.engine.decide import Decided, decide_many
from service.store import bundles
from service.store.database import Database
from service.tasks import cancel

log = logging.getLogger(__name__)


async def sweep_once(
    db: Database, settings: Settings, now: datetime | None = None
) -> list[Decided]:
    """Decide every overdue bundle, one transaction per ``sweep_batch_size`` bundles."""
    decided: list[Decided] = []
    while True:
        moment = now or datetime.now(UTC)
        before = len(decided)
        async with db.write() as conn:
            ids = await bundles.overdue(conn, moment, settings.sweep_batch_size)
            decided += await decide_many(conn, ids, moment, settings)
        for decision in decided[before:]:
            decision.count()
        # A full batch that decided nothing would come back unchanged: stop rather than spin.
        if len(ids) < settings.sweep_batch_size or len(decided) == before:
            return decided


class Sweeper:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        on_commit: Callable[[list[Decided]], None] | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._on_commit = on_commit
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sandan-sweeper")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                decided = await sweep_once(self._db, self._settings)
                if decided and self._on_commit is not None:
                    self._on_commit(decided)
            except Exception:  # keep sweeping: the next pass retries what failed
                log.exception("sweep failed")
            await asyncio.sleep(self._settings.sweep_interval_seconds)
