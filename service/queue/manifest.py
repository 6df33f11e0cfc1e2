"""Reading the manifest outbox by cursor, with long poll.

The database is the queue; the in-process ``Notifier`` only wakes waiting polls early (on
PostgreSQL it also hears other processes' commits, queue/wakeups.py). A poll that misses a
wake-up still sees the entry on its next re-read, at most ``manifest_poll_interval_seconds``
later. No transaction is held while waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import iso
from service.store import manifest as outbox
from service.store.database import Database


class Notifier:
    """Wakes every waiting long poll when the process commits manifest entries.

    ``also``: a notifier woken with this one (the receipts feed's: every decision may
    issue a receipt), which may be woken on its own too.
    """

    def __init__(self, also: Notifier | None = None) -> None:
        self._event = asyncio.Event()
        self._also = also

    def notify(self) -> None:
        self._event.set()
        # A fresh event for the next round; waiters hold the one they started with.
        self._event = asyncio.Event()
        if self._also is not None:
            self._also.notify()

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


async def long_poll(
    db: Database,
    notifier: Notifier,
    poll_interval: float,
    wait: float,
    read: Callable[[AsyncConnection], Awaitable[list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    """What ``read`` finds, read again on each wake-up (or every ``poll_interval``) until it
    finds something or ``wait`` seconds have passed. No transaction is held while waiting."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        async with db.read() as conn:
            rows = await read(conn)
        remaining = deadline - loop.time()
        if rows or remaining <= 0:
            return rows
        await notifier.wait(min(remaining, poll_interval))


class ManifestReader:
    def __init__(self, db: Database, notifier: Notifier, poll_interval: float) -> None:
        self._db = db
        self._notifier = notifier
        self._poll_interval = poll_interval

    async def read(
        self, after: int, limit: int, wait: float, codes: Collection[str] | None
    ) -> tuple[list[dict[str, Any]], int]:
        """Entries after ``after`` visible to ``codes``, waiting up to ``wait`` seconds."""

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            return await outbox.read_after(conn, after, limit, codes)

        rows = await long_poll(self._db, self._notifier, self._poll_interval, wait, read)
        entries = [entry_json(r) for r in rows]
        return entries, (entries[-1]["seq"] if entries else after)
