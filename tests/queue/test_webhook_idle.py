"""The deliverer asks nothing per commit while no subscription is active, and serves one as
soon as one is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
from sqlalchemy import update

from service.config import Settings
from service.queue.manifest import Notifier
from service.queue.webhooks import WebhookDeliverer
from service.store import webhooks as store
from service.store.database import Database
from service.store.tables import webhooks


async def test_a_pass_says_none_is_active_until_a_subscription_is(database_url: str) -> None:
    db = Database(database_url)
    deliverer = WebhookDeliverer(db, Settings(database_url=database_url), Notifier())
    try:
        async with httpx.AsyncClient() as client:
            assert await deliverer.pass_once(client) is None
            webhook_id = await _subscribe(db)
            # active, nothing in the manifest to deliver yet: a pass that found no work
            assert await deliverer.pass_once(client) is False
            async with db.write() as conn:
                await conn.execute(
                    update(webhooks).where(webhooks.c.id == webhook_id).values(state=store.PAUSED)
                )
            assert await deliverer.pass_once(client) is None
    finally:
        await db.dispose()


async def test_commits_do_not_wake_it_while_none_is_active_a_new_subscription_does(
    database_url: str,
) -> None:
    db = Database(database_url)
    notifier = Notifier()
    settings = Settings(database_url=database_url, webhook_idle_seconds=30)
    deliverer = WebhookDeliverer(db, settings, notifier)
    passes: asyncio.Queue[bool | None] = asyncio.Queue()
    real_pass = deliverer.pass_once

    async def counted(client: httpx.AsyncClient) -> bool | None:
        result = await real_pass(client)
        passes.put_nowait(result)
        return result

    async def next_pass() -> bool | None:
        async with asyncio.timeout(5):
            return await passes.get()

    deliverer.pass_once = counted  # type: ignore[method-assign]
    await deliverer.start()
    try:
        assert await next_pass() is None  # the first pass: nothing is active
        for _ in range(3):  # three commits of this process
            notifier.notify()
            await asyncio.sleep(0.05)
        assert passes.empty()
        await _subscribe(db)
        deliverer.subscriptions_changed()
        assert await next_pass() is False  # active, nothing to deliver yet
        notifier.notify()  # now a commit wakes it
        assert await next_pass() is False
    finally:
        await deliverer.stop()
        await db.dispose()


async def test_a_subscription_made_during_a_pass_is_not_missed(database_url: str) -> None:
    """Created while a pass that found none active is still on its way back: the deliverer
    looks again at once, not after the idle interval."""
    db = Database(database_url)
    settings = Settings(database_url=database_url, webhook_idle_seconds=30)
    deliverer = WebhookDeliverer(db, settings, Notifier())
    passes: asyncio.Queue[bool | None] = asyncio.Queue()
    real_pass = deliverer.pass_once

    async def racing(client: httpx.AsyncClient) -> bool | None:
        result = await real_pass(client)
        if passes.empty() and result is None:  # the first pass, about to say "none"
            await _subscribe(db)
            deliverer.subscriptions_changed()
        passes.put_nowait(result)
        return result

    deliverer.pass_once = racing  # type: ignore[method-assign]
    await deliverer.start()
    try:
        async with asyncio.timeout(5):
            assert await passes.get() is None
            assert await passes.get() is False  # the next pass came at once and found it
    finally:
        await deliverer.stop()
        await db.dispose()


async def _subscribe(db: Database) -> int:
    """An active subscription from manifest seq 0 (its key and secret are never used here)."""
    async with db.write() as conn:
        return await store.create(
            conn,
            code="3301W00001",
            key_id=1,
            url="http://127.0.0.1:9/hook",
            sealed_secret="sealed",
            cursor=0,
            now=datetime.now(UTC),
        )
