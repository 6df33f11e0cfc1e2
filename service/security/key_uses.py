"""Writing when keys were last used, behind the requests (SPEC §11 "each key records when it
was last used").

``KeyCache`` notes each use in memory; this task writes the notes every
``key_last_used_flush_seconds``, one UPDATE per key used since the last write, and once more
when the process stops. A crash loses at most one interval of notes, never a request.
"""

from __future__ import annotations

import asyncio
import logging

from service.security.auth import KeyCache
from service.store import keys as key_store
from service.store.database import Database
from service.tasks import cancel

log = logging.getLogger(__name__)


class KeyUseRecorder:
    def __init__(self, db: Database, keys: KeyCache, interval_seconds: float) -> None:
        self._db = db
        self._keys = keys
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sandan-key-uses")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None
        try:
            await self.flush()
        except Exception:  # stopping anyway: the notes of this interval are lost
            log.exception("writing when keys were last used failed")

    async def flush(self) -> int:
        """Write the notes taken since the last write; how many keys."""
        uses = self._keys.take_uses()
        if not uses:
            return 0
        try:
            async with self._db.write() as conn:
                await key_store.record_uses(conn, uses)
        except BaseException:
            self._keys.give_back(uses)
            raise
        return len(uses)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:  # the notes were kept: the next write retries them
                log.exception("writing when keys were last used failed")
