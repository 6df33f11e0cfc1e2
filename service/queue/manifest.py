"""Reading the manifest outbox by cursor, with long poll.

The database is the queue; the in-process ``Notifier`` only wakes waiting polls early (on
PostgreSQL it also hears other processes' commits, queue/wakeups.py). A poll that misses a
wake-up still sees the entry on its next re-read, at most ``manifest_poll_interval_seconds``
later. No transaction is held while waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from typing import Any

from service.clock import iso
from service.store import manifest as outbox
from service.store.database import Database


class Notifier:
    """Wakes every waiting long poll when the process commits manifest entries."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        # A fresh event for the next round; waiters hold the one they started with.
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


def entry_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "seq": row["seq"],
        "ebpCode": row["ebp_code"],
        "orderNo": row["order_no"],
        "logisticsCode": row["logistics_code"],
        "logisticsNo": row["logistics_no"],
        "invtNo": row.get("invt_no"),
        "regime": row["regime"],
        "direction": row["direction"],
        "decision": row["decision"],
        "rules": row["rules"],
        "decidedAt": iso(row["decided_at"]),
        "by": row["by"],
        "reason": row.get("reason"),
    }


class ManifestReader:
    def __init__(self, db: Database, notifier: Notifier, poll_interval: float) -> None:
        self._db = db
        self._notifier = notifier
        self._poll_interval = poll_interval

    async def read(
        self, after: int, limit: int, wait: float, codes: Collection[str] | None
    ) -> tuple[list[dict[str, Any]], int]:
        """Entries after ``after`` visible to ``codes``, waiting up to ``wait`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            async with self._db.read() as conn:
                rows = await outbox.read_after(conn, after, limit, codes)
            remaining = deadline - loop.time()
            if rows or remaining <= 0:
                entries = [entry_json(r) for r in rows]
                return entries, (entries[-1]["seq"] if entries else after)
            await self._notifier.wait(min(remaining, self._poll_interval))
