"""Decisions keep flowing while the broker goes away and comes back; two relays at once."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import signal
from collections.abc import AsyncIterator

import pytest

from service.queue.relay import Relay
from service.store.database import Database
from tests.queue.natsd import NatsServer, stream_messages
from tests.queue.support import Outbox, caught_up, eventually, relay_settings


@contextlib.asynccontextmanager
async def producing(outbox: Outbox, every: float = 0.01) -> AsyncIterator[list[int]]:
    """Appends entries (1 to 3 per transaction, like intake batches) until the block ends."""
    seqs: list[int] = []
    # Stopped between transactions, not cancelled: a task cancelled inside an aiosqlite write
    # can leave its connection holding SQLite's write lock until it is disposed.
    stop = asyncio.Event()

    async def produce() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            seqs.extend(await outbox.append(1 + n % 3))
            await asyncio.sleep(every)

    task = asyncio.create_task(produce())
    try:
        yield seqs
    finally:
        stop.set()
        await task


async def assert_stream_is_the_manifest(outbox: Outbox, nats: NatsServer, stream: str) -> None:
    """Exactly one message per entry, in seq order."""
    rows = await outbox.rows()
    messages = await stream_messages(nats.url, stream)
    assert len(messages) == len(rows)
    assert {m.msg_id for m in messages} == {r["id"] for r in rows}
    seqs = [m.entry["seq"] for m in messages]
    assert all(a < b for a, b in itertools.pairwise(seqs))
    assert [m.msg_id for m in messages] == [r["id"] for r in rows]


async def test_a_broker_restart_loses_and_duplicates_nothing(
    outbox: Outbox, nats: NatsServer, stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="service.queue")
    relay = Relay(outbox.db, relay_settings(outbox.db.url, nats.url, stream, relay_batch=10))
    await relay.start()
    try:
        async with producing(outbox) as seqs:
            await eventually(lambda: outbox.position(stream))  # relaying before the outage
            await asyncio.to_thread(nats.stop, signal.SIGTERM)
            down_at = len(seqs)
            await asyncio.sleep(2.5)
            assert len(seqs) > down_at + 20, "entries kept coming while the broker was down"
            behind = await outbox.max_seq() - await outbox.position(stream)
            assert behind > 20, "the relay cannot have published without a broker"
            await asyncio.to_thread(nats.start)
            await asyncio.sleep(0.5)
        await caught_up(outbox, stream, within=15)
    finally:
        await relay.stop()

    await assert_stream_is_the_manifest(outbox, nats, stream)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings, "an outage is logged"
    orders = {r["order_no"] for r in await outbox.rows()}
    assert not any(order in text for text in warnings for order in orders)


async def test_two_relays_at_once_publish_each_entry_once(
    outbox: Outbox, nats: NatsServer, stream: str
) -> None:
    # Each relay with its own engines and broker connection, as two processes would have.
    dbs = [Database(outbox.db.url) for _ in range(2)]
    relays = [
        Relay(db, relay_settings(db.url, nats.url, stream, relay_batch=5, relay_idle_seconds=0.01))
        for db in dbs
    ]
    try:
        for relay in relays:
            await relay.start()
        # Enough entries for the two to meet, however slow the machine is today.
        async with producing(outbox, every=0.005) as seqs:

            async def enough() -> bool:
                return len(seqs) > 150

            await eventually(enough, within=60)
        await caught_up(outbox, stream)
    finally:
        for relay in relays:
            await relay.stop()
        for db in dbs:
            await db.dispose()

    entries = await outbox.max_seq()
    assert entries > 100
    assert sum(r.published for r in relays) == entries
    # They met: one found the other holding the position, or the test proved nothing.
    assert any(r.deferred for r in relays)
    assert sum(r.duplicates for r in relays) == 0
    await assert_stream_is_the_manifest(outbox, nats, stream)
