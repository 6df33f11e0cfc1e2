"""The manifest listener (PostgreSQL LISTEN/NOTIFY): a commit that appends entries wakes it,
a rolled-back one does not, and it comes back by itself after its connection is killed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from service.queue import wakeups
from service.queue.manifest import Notifier
from service.queue.wakeups import ManifestListener, connect_arguments
from service.store.manifest import CHANNEL
from tests.databases import on_postgres
from tests.queue.support import Outbox

postgres_only = pytest.mark.skipif(not on_postgres(), reason="LISTEN/NOTIFY is PostgreSQL's")


def test_the_listener_connects_as_the_engine_does() -> None:
    # TLS and the like come from the URL's query, as for the engine; the dialect's own
    # options are not asyncpg's and would be sent to the server as settings.
    assert connect_arguments(
        "postgresql+asyncpg://u:p@db.example:5433/sandan?ssl=require&prepared_statement_cache_size=0"
    ) == {
        "host": "db.example",
        "port": 5433,
        "user": "u",
        "password": "p",
        "database": "sandan",
        "ssl": "require",
    }


async def _woken(notifier: Notifier, seconds: float) -> bool:
    waiter = asyncio.create_task(notifier.wait(seconds))
    await asyncio.sleep(0)  # the waiter holds the current event before anything happens
    began = asyncio.get_running_loop().time()
    await waiter
    return asyncio.get_running_loop().time() - began < seconds


@postgres_only
async def test_commits_wake_the_listener_and_rollbacks_do_not(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The listener stands for another process: this one's appends are not its own.
    monkeypatch.setattr(wakeups, "process_token", lambda: "another-process")
    notifier = Notifier()
    listener = ManifestListener(outbox.db.url, notifier, retry_seconds=0.1)
    await listener.start()
    try:
        await asyncio.wait_for(listener.listening.wait(), 10)
        await asyncio.sleep(0.1)  # the wake-up of the first connect has passed

        waiting = asyncio.create_task(_woken(notifier, 10))
        await asyncio.sleep(0.05)
        await outbox.append(3)
        assert await waiting

        waiting = asyncio.create_task(_woken(notifier, 1.0))
        await asyncio.sleep(0.05)
        with pytest.raises(RuntimeError):
            async with outbox.db.write() as conn:
                await conn.execute(text("SELECT pg_notify(:c, '')"), {"c": CHANNEL})
                raise RuntimeError("roll back")
        assert not await waiting, "a rolled-back transaction announced nothing"

        waiting = asyncio.create_task(_woken(notifier, 1.0))
        await asyncio.sleep(0.05)
        async with outbox.db.write() as conn:
            await conn.execute(
                text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": "another-process"}
            )
        assert not await waiting, "a process's own commits are not echoed back to it"

        # Its connection killed (a PostgreSQL restart, a failover): it reconnects, wakes the
        # polls once for what it may have missed, and hears the next commit.
        async with outbox.db.write() as conn:
            killed = await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            )
            assert killed.all() == [(True,)]
        for _ in range(100):
            if not listener.listening.is_set():
                break
            await asyncio.sleep(0.05)
        await asyncio.wait_for(listener.listening.wait(), 10)
        await asyncio.sleep(0.1)
        waiting = asyncio.create_task(_woken(notifier, 10))
        await asyncio.sleep(0.05)
        await outbox.append(1)
        assert await waiting
    finally:
        await listener.stop()
