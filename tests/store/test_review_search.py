"""The queue's prefix search is served by indexes (migration 0009) on the database the suite
runs against: EXPLAIN names each index, so no search reads every bundle or document.

On PostgreSQL sequential scans are switched off for the check: on a near-empty table the
planner rightly prefers them, and the question here is whether an index can serve at all.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.database import Database
from service.store.review import QueueFilter, _conditions, starts_with
from service.store.tables import bundles, documents
from tests.databases import afresh_database

INDEXES = {
    "order_no": "ix_bundles_order_no",
    "inv_logistics_no": "ix_bundles_inv_logistics_no",
    "invt_no": "ix_bundles_invt_no",
}


async def plan(conn: AsyncConnection, query: object) -> str:
    sql = str(query.compile(conn.sync_engine, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET enable_seqscan = off"))
        rows = await conn.execute(text("EXPLAIN " + sql))
    else:
        rows = await conn.execute(text("EXPLAIN QUERY PLAN " + sql))
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


async def test_each_number_is_searched_through_its_index(tmp_path: Path) -> None:
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        try:
            async with db.read() as conn:
                dialect = conn.dialect.name
                for column, index in INDEXES.items():
                    query = select(bundles.c.id).where(
                        starts_with(bundles.c[column], "SD2026_1%", dialect)
                    )
                    assert index in await plan(conn, query), column
                waybills = select(documents.c.bundle_id).where(
                    documents.c.kind == literal_column("'logistics'"),
                    starts_with(documents.c.logistics_no, "YT26", dialect),
                )
                assert "ix_documents_waybill_no" in await plan(conn, waybills)
                # the queue's whole search condition: every index, no scan of all bundles
                search = select(bundles.c.id).where(
                    *_conditions(QueueFilter(state=None, search="SD2026"), dialect)
                )
                found = await plan(conn, search)
                for index in [*INDEXES.values(), "ix_documents_waybill_no"]:
                    assert index in found, found
        finally:
            await db.dispose()
