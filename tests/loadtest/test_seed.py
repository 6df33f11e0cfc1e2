"""The soak seeder: N pending order-only bundles by bulk SQL, shaped like the engine's own."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from loadtest.seed import seed_pending
from service.clock import utcnow
from service.store import tables
from service.store.database import Database
from tests.databases import fresh_database


async def _facts(url: str) -> dict[str, object]:
    db = Database(url)
    try:
        async with db.read() as conn:
            bundles = (await conn.execute(select(tables.bundles))).mappings().all()
            documents = (await conn.execute(select(tables.documents))).mappings().all()
    finally:
        await db.dispose()
    return {"bundles": bundles, "documents": documents}


def test_seeds_pending_order_only_bundles(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        seeded = asyncio.run(seed_pending(url, 25, chunk=10))
        facts = asyncio.run(_facts(url))
        seeded_again = asyncio.run(seed_pending(url, 5, prefix="MORE"))
        after = asyncio.run(_facts(url))

    assert seeded.bundles == 25
    bundles = facts["bundles"]
    documents = facts["documents"]
    assert isinstance(bundles, list) and isinstance(documents, list)
    assert len(bundles) == 25
    assert {b["state"] for b in bundles} == {"pending"}
    assert len({b["order_no"] for b in bundles}) == 25
    # the sweeper must leave them alone for the whole soak
    assert min(b["deadline_at"] for b in bundles).replace(tzinfo=None) > (
        utcnow() + timedelta(days=300)
    ).replace(tzinfo=None)
    # one order each, attached to its own bundle, under its own order number and guid
    assert {d["kind"] for d in documents} == {"order"}
    assert len(documents) == 25
    assert len({d["guid"] for d in documents}) == 25
    by_id = {b["id"]: b for b in bundles}
    for d in documents:
        bundle = by_id[d["bundle_id"]]
        assert d["order_no"] == bundle["order_no"]
        assert d["data"]["orderNo"] == bundle["order_no"]
        assert bundle["order_no"] in d["raw_xml"]
    assert seeded_again.bundles == 5
    assert isinstance(after["bundles"], list) and len(after["bundles"]) == 30
