"""Review of the batched engine (BatchState) against the per-document engine it replaced
(67f2da6): the same documents, in the same batches, must end the same way."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime

from sqlalchemy import select

from service.demo.compose import new_guid
from service.demo.consignments import clean_import
from service.messages.registry import BUNDLE_KINDS, Kind
from service.store import bundles as bundle_store
from service.store import events
from service.store.tables import documents
from tests.engine.conftest import PipelineFactory

WHEN = datetime(2026, 3, 2, 9, 30, 0)


async def test_waybills_claimed_by_order_are_attached_in_arrival_order(
    pipelines: PipelineFactory,
) -> None:
    """Two waybills wait for orderNo X (Wa sent before Wb). A batch brings X's order together
    with another bundle's inventory naming Wb. The per-document engine recorded the order's
    "attached" events in the waybills' arrival (id) order, Wa then Wb; the batched engine
    records Wb first, because rows loaded for the batch's waybill numbers come before the
    rows loaded as waiting for its orderNos."""
    rng = random.Random(4242)
    a = clean_import(rng, 1, when=WHEN)
    b = clean_import(rng, 2, when=WHEN)
    wa = a.copy()
    wb = a.copy()
    wb.logistics["guid"] = new_guid()
    wb.logistics["logisticsNo"] = b.logistics["logisticsNo"] + "9"
    b.inventory["logisticsNo"] = wb.logistics["logisticsNo"]
    async with pipelines(intake_batch_interval_ms=50) as pipeline:
        for c in (wa, wb):
            result = await pipeline.post(c.message(Kind.LOGISTICS), Kind.LOGISTICS)
            assert result.documents[0].outcome.status == "accepted"
        results = await asyncio.gather(
            pipeline.post(a.message(Kind.ORDER), Kind.ORDER),
            pipeline.post(b.message(Kind.INVENTORY), Kind.INVENTORY),
        )
        assert [r.documents[0].outcome.status for r in results] == ["accepted", "accepted"]
        assert pipeline.batcher.batch_sizes[-1] == 2
        async with pipeline.db.read() as conn:
            row = await bundle_store.get_by_key(conn, *a.key)
            assert row is not None
            history = await events.history(conn, row["id"])
        attached = [e["detail"]["documentId"] for e in history if e["event"] == "attached"]
        assert attached == sorted(attached), history


async def test_mid_batch_flush_keeps_later_supersede(pipelines: PipelineFactory) -> None:
    """A waybill written to the store mid-batch (``ever_in_bundle`` flushes) and superseded
    later in the same batch ends superseded, as under the per-document engine."""
    rng = random.Random(4343)
    released = clean_import(rng, 1, when=WHEN)
    lone = clean_import(rng, 2, when=WHEN)
    second = released.copy()
    second.logistics["guid"] = new_guid()
    second.logistics["logisticsNo"] = released.logistics["logisticsNo"] + "7"
    lone_v2 = lone.copy()
    lone_v2.logistics["guid"] = new_guid()
    lone_v2.logistics["appType"] = "2"
    lone_v2.logistics["appTime"] = "20260302100000"
    async with pipelines(intake_batch_interval_ms=50) as pipeline:
        for kind in BUNDLE_KINDS:
            await pipeline.post(released.message(kind), kind)
        view = await pipeline.bundle(released.key)
        assert view is not None and view["state"] == "released"
        results = []
        for body, kind in (
            (lone.message(Kind.LOGISTICS), Kind.LOGISTICS),
            (second.message(Kind.LOGISTICS), Kind.LOGISTICS),
            (lone_v2.message(Kind.LOGISTICS), Kind.LOGISTICS),
        ):
            results.append(asyncio.ensure_future(pipeline.post(body, kind)))
        outcomes = [(await r).documents[0].outcome for r in results]
        assert pipeline.batcher.batch_sizes[-1] == 3
        assert [o.status for o in outcomes] == ["accepted", "rejected", "accepted"]
        assert outcomes[1].errors[0]["code"] == "ALREADY_DECIDED"
        async with pipeline.db.read() as conn:
            rows = (
                await conn.execute(
                    select(documents.c.guid, documents.c.status).where(
                        documents.c.logistics_no == lone.logistics["logisticsNo"]
                    )
                )
            ).all()
        assert dict(rows) == {
            lone.logistics["guid"]: "superseded",
            lone_v2.logistics["guid"]: "current",
        }
