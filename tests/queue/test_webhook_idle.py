"""The deliverer asks nothing per commit while no subscription is active, and serves one as
soon as one is."""

from __future__ import annotations

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
            async with db.write() as conn:
                webhook_id = await store.create(
                    conn,
                    code="3301W00001",
                    key_id=1,
                    url="http://127.0.0.1:9/hook",
                    sealed_secret="sealed",
                    cursor=0,
                    now=datetime.now(UTC),
                )
            # active, nothing in the manifest to deliver yet: a pass that found no work
            assert await deliverer.pass_once(client) is False
            async with db.write() as conn:
                await conn.execute(
                    update(webhooks).where(webhooks.c.id == webhook_id).values(state=store.PAUSED)
                )
            assert await deliverer.pass_once(client) is None
    finally:
        await db.dispose()
