"""A waiting waybill claimed at the same time by two workers: by orderNo in one, by the
inventory naming it in the other (PostgreSQL: several workers on one database)."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime

import pytest
from sqlalchemy import select, text, update

from service.demo.consignments import clean_import
from service.engine.batch import waybill_point
from service.messages.registry import Kind
from service.store import bundles
from service.store.dialect import lock_id
from service.store.tables import documents
from tests.databases import on_postgres
from tests.engine.conftest import PipelineFactory

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="advisory locks between workers: PostgreSQL only"
)
WHEN = datetime(2026, 3, 2, 9, 30, 0)


async def test_a_waybill_taken_meanwhile_is_not_claimed_again(pipelines: PipelineFactory) -> None:
    rng = random.Random(91)
    waiting = clean_import(rng, 1, when=WHEN)  # its waybill waits for its order
    other = clean_import(rng, 2, when=WHEN)  # the bundle another worker gives it to
    async with pipelines() as p:
        for c, kind in ((waiting, Kind.LOGISTICS), (other, Kind.ORDER)):
            result = await p.post(c.message(kind), kind)
            assert result.documents[0].outcome.status == "accepted"
        async with p.db.read() as conn:
            holder = await bundles.get_by_key(conn, *other.key)
            waybill_id = (
                await conn.execute(
                    select(documents.c.id).where(documents.c.guid == waiting.logistics["guid"])
                )
            ).scalar_one()
        assert holder is not None
        number = (waiting.logistics["logisticsCode"], waiting.logistics["logisticsNo"])
        # Another worker, mid-transaction, holds the waybill's number and attaches it to
        # its bundle (as an inventory naming it would) ...
        async with p.db.write() as conn:
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id(waybill_point(number))}
            )
            order = asyncio.create_task(p.post(waiting.message(Kind.ORDER), Kind.ORDER))
            await asyncio.sleep(0.5)
            assert not order.done(), "the order's batch must wait for the waybill"
            await conn.execute(
                update(documents).where(documents.c.id == waybill_id).values(bundle_id=holder["id"])
            )
        # ... and commits: the order's batch then sees the waybill taken.
        result = await order
        assert result.documents[0].outcome.status == "accepted"
        async with p.db.read() as conn:
            attached_to = (
                await conn.execute(
                    select(documents.c.bundle_id).where(documents.c.id == waybill_id)
                )
            ).scalar_one()
        assert attached_to == holder["id"]
        view = await p.bundle(waiting.key)
        assert view is not None and "logistics" not in view["documents"]
