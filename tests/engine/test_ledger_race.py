"""Two workers releasing orders of one buyer at once (PostgreSQL: several workers on one
database): the second must judge ANNUAL_LIMIT on a total that includes the first."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from service.demo.consignments import clean_import
from service.messages.documents import PiiKind
from service.messages.registry import Kind
from service.rules.idcard import gb11643_valid
from service.security.pii import PiiProtector
from service.store import ledger
from service.store.dialect import lock_id
from tests.databases import on_postgres
from tests.engine.conftest import PipelineFactory

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="advisory locks between workers: PostgreSQL only"
)
WHEN = datetime(2026, 3, 2, 9, 30, 0)


async def test_a_release_in_another_worker_counts_before_the_limit_is_judged(
    pipelines: PipelineFactory,
) -> None:
    c = clean_import(random.Random(93), 1, when=WHEN)
    async with pipelines(annual_limit_cny=Decimal("1000")) as p:
        for kind in (Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS):
            result = await p.post(c.message(kind), kind)
            assert result.documents[0].outcome.status == "accepted"
        buyer = PiiProtector(p.settings.pii_key, gb11643_valid)(
            c.order["buyerIdNumber"], PiiKind.ID_NUMBER
        ).digest
        year = int(c.order["appTime"][:4])
        # Another worker, mid-transaction, is releasing another order of the same buyer ...
        async with p.db.write() as conn:
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:k)"),
                {"k": lock_id(f"ledger:{buyer}:{year}")},
            )
            last = asyncio.create_task(p.post(c.message(Kind.INVENTORY), Kind.INVENTORY))
            await asyncio.sleep(0.5)
            assert not last.done(), "the decision must wait for the buyer's year"
            await ledger.add(conn, buyer, year, Decimal("900"))
        # ... and commits: this bundle is judged on a total that includes it.
        assert (await last).documents[0].outcome.status == "accepted"
        view = await p.bundle(c.key)
        assert view is not None
        assert view["state"] == "exception"
        assert "ANNUAL_LIMIT" in {f["code"] for f in view["findings"]}
