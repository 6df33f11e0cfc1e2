"""A waybill moving while other workers change the bundles it leaves and joins (PostgreSQL:
several workers on one database). The move's transaction holds both bundles, the one that
held the waybill and the one of the new orderNo, so the others queue behind it or it behind
them, and the outcome is the one a serial arrival gives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from service.demo.compose import new_guid
from service.engine.ingest import Ingestor
from service.engine.prepare import Preparer
from service.messages.registry import Kind
from service.messages.schema import SchemaChecker
from service.rules.idcard import gb11643_valid
from service.security.pii import PiiProtector
from service.store import bundles
from service.store.database import Database
from tests.databases import on_postgres
from tests.engine.conftest import CALLERS, Pipeline, PipelineFactory
from tests.engine.conftest import RecordingBatcher as Batcher
from tests.engine.test_waybill_moves import pair, send, version, view, waybill_guid

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="workers in parallel on one database: PostgreSQL only"
)
ORDER, PAYMENT, LOGISTICS, INVENTORY = Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS, Kind.INVENTORY
CORRECTED_AT = "20260302093100"


@asynccontextmanager
async def another_worker(p: Pipeline, checker: SchemaChecker) -> AsyncIterator[Ingestor]:
    """A second intake on the pipeline's database, as another process would run it."""
    db = Database(p.settings.database_url)
    batcher = Batcher(db, p.settings)
    protector = PiiProtector(p.settings.pii_key, gb11643_valid)
    preparer = Preparer(checker, protector, p.settings.max_message_bytes)
    await batcher.start()
    try:
        yield Ingestor(preparer, batcher, None, p.settings.prepare_offload_bytes)
    finally:
        await batcher.stop()
        await db.dispose()


@pytest.mark.parametrize("holder", ["leaving", "gaining"])
async def test_the_move_waits_for_either_bundle(pipelines: PipelineFactory, holder: str) -> None:
    """Another worker, mid-transaction, holds bundle A (which the waybill leaves) or B (the
    new orderNo's): the move's batch waits for it."""
    a, b, misnamed = pair(41)
    async with pipelines() as p:
        await send(p, a, ORDER, PAYMENT, INVENTORY)
        await send(p, misnamed, LOGISTICS)
        await send(p, b, ORDER, PAYMENT)
        key = a.key if holder == "leaving" else b.key
        async with p.db.read() as conn:
            row = await bundles.get_by_key(conn, *key)
        assert row is not None
        corrected = version(misnamed, CORRECTED_AT, orderNo=b.order["orderNo"])
        async with p.db.write() as conn:
            await conn.execute(
                text("SELECT id FROM bundles WHERE id = :id FOR UPDATE"), {"id": row["id"]}
            )
            move = asyncio.create_task(p.post(corrected.message(LOGISTICS), LOGISTICS))
            await asyncio.sleep(0.5)
            assert not move.done(), f"the move must wait for bundle {key}"
        assert (await move).documents[0].outcome.status == "accepted"
        assert (await view(p, a))["missing"] == ["logistics"]
        assert waybill_guid(await view(p, b)) == corrected.logistics["guid"]


# the racer: B's document of that kind, or (None) a new version of A's payment
RACERS: dict[str, tuple[tuple[Kind, ...], Kind | None]] = {
    # B's order makes B while the waybill moves to B's orderNo
    "new order": ((), ORDER),
    # B's inventory names the waybill while it moves to B: B complete either way
    "inventory naming it": ((ORDER, PAYMENT), INVENTORY),
    # A changes while the waybill leaves it
    "leaving bundle changes": ((ORDER, PAYMENT), None),
}


@pytest.mark.parametrize("race", list(RACERS))
async def test_a_move_racing_another_worker_ends_as_a_serial_arrival(
    pipelines: PipelineFactory, schema_checker: SchemaChecker, race: str
) -> None:
    before, racer = RACERS[race]
    rounds = [pair(50 + n) for n in range(8)]
    async with (
        pipelines(intake_batch_interval_ms=1) as p,
        another_worker(p, schema_checker) as other,
    ):
        for a, b, misnamed in rounds:
            await send(p, a, ORDER, PAYMENT, INVENTORY)
            await send(p, misnamed, LOGISTICS)
            assert await send(p, b, *before) == ["accepted"] * len(before)

        async def move(n: int) -> str:
            _, b, misnamed = rounds[n]
            corrected = version(misnamed, CORRECTED_AT, orderNo=b.order["orderNo"])
            result = await p.post(corrected.message(LOGISTICS), LOGISTICS)
            return result.documents[0].outcome.status

        async def meanwhile(n: int) -> str:
            a, b, _ = rounds[n]
            if racer is None:
                changed = a.copy()
                changed.payment.update(guid=new_guid(), appType="2", appTime=CORRECTED_AT)
                body, kind = changed.message(PAYMENT), PAYMENT
            else:
                body, kind = b.message(racer), racer
            result = await other.ingest(body, CALLERS[kind])
            return result.documents[0].outcome.status

        statuses = await asyncio.gather(
            *(job(n) for n in range(len(rounds)) for job in (move, meanwhile))
        )
        assert statuses == ["accepted"] * len(statuses)
        for a, b, _ in rounds:
            left = await view(p, a)
            assert (left["state"], left["missing"], waybill_guid(left)) == (
                "pending",
                ["logistics"],
                None,
            )
            gained = await view(p, b)
            assert waybill_guid(gained) is not None
            assert gained["documents"]["logistics"]["appType"] == "2"
            if race == "inventory naming it":
                assert gained["state"] == "released", gained["findings"]
