"""Manifest entries appended the way the engine appends them, and waiting for the relay."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from service.clock import utcnow
from service.config import Settings
from service.store import manifest, relay
from service.store.database import Database
from service.store.tables import bundles

# Regimes and decisions cycled through, "None" for a bundle never classified.
REGIMES = ["9610", "1210", None, "9710"]
DECISIONS = ["release", "exception", "reject"]
_orders = itertools.count(1)


def relay_settings(database_url: str, nats_url: str, stream: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"relay_idle_seconds": 0.05, "relay_batch": 20, **overrides}
    return Settings(database_url=database_url, nats_url=nats_url, nats_stream=stream, **values)


class Outbox:
    """Appends manifest entries through ``service.store.manifest.append``, one bundle each."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def append(self, n: int = 1) -> list[int]:
        """``n`` entries in one write transaction (like one intake batch); their seqs."""
        seqs = []
        async with self.db.write() as conn:
            for _ in range(n):
                number = next(_orders)
                now = utcnow()
                bundle_id = (
                    await conn.execute(
                        insert(bundles)
                        .values(
                            ebp_code="3301960001",
                            order_no=f"RELAY{uuid.uuid4().hex[:8]}{number:06d}",
                            state="released",
                            version=1,
                            missing=[],
                            findings=[],
                            first_seen_at=now,
                            deadline_at=now + timedelta(days=1),
                            decided_at=now,
                        )
                        .returning(bundles.c.id, bundles.c.order_no)
                    )
                ).one()
                seqs.append(
                    await manifest.append(
                        conn,
                        id=str(uuid.uuid4()),
                        bundle_id=bundle_id.id,
                        bundle_version=1,
                        ebp_code="3301960001",
                        order_no=bundle_id.order_no,
                        logistics_code="3301980003",
                        logistics_no=f"SF{number:010d}",
                        direction="I",
                        regime=REGIMES[number % len(REGIMES)],
                        decision=DECISIONS[number % len(DECISIONS)],
                        rules=[] if number % 2 else ["ORDER_AMOUNT_MISMATCH"],
                        decided_at=now,
                        by="engine",
                    )
                )
        return seqs

    async def rows(self) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            return await manifest.read_after(conn, 0, 1_000_000, None)

    async def position(self, stream: str) -> int:
        async with self.db.read() as conn:
            return await relay.position(conn, stream)

    async def max_seq(self) -> int:
        async with self.db.read() as conn:
            return await manifest.max_seq(conn)


async def eventually(
    probe: Callable[[], Awaitable[Any]], within: float = 10.0, every: float = 0.05
) -> Any:
    """Await ``probe`` until it answers something true; that answer, or fail after ``within``
    seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"gave up after {within} s")
        await asyncio.sleep(every)


async def caught_up(outbox: Outbox, stream: str, within: float = 10.0) -> None:
    """Wait until the relay's saved position is the last manifest entry."""

    async def done() -> bool:
        return await outbox.position(stream) == await outbox.max_seq()

    await eventually(done, within)
