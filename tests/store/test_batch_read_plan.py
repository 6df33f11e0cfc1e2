"""The batch's one read (store/documents.py ``read_for_batch``) looks documents up by key
through the indexes, on a table autovacuum has not analysed yet.

A new database filling up under load is read for minutes before its first ANALYZE; without
statistics the planner read every document for the bundle-id branch, a scan that grew with
the table (issue 13's hundred-document regression). PostgreSQL only: SQLite runs each branch
as its own statement through the same indexes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store import pg
from service.store.database import Database
from service.store.dialect import planned_now
from service.store.documents import _BATCH_READS
from tests.databases import afresh_database, on_postgres

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="PostgreSQL plans (SQLite: one index read per branch)"
)

DOCUMENTS = 6000

_FILL = (
    "INSERT INTO bundles (ebp_code, order_no, state, version, missing, findings, first_seen_at, "
    "deadline_at) SELECT '3301E0001', 'SO' || n, 'pending', 1, '[]', '[]', now(), now() "
    "FROM generate_series(1, $1) AS n"
)
_FILL_DOCUMENTS = (
    "INSERT INTO documents (sender, kind, guid, digest, direction, message_type, message_guid, "
    "app_type, app_time, ebp_code, order_no, logistics_code, logistics_no, bundle_id, status, "
    "data, raw_xml, signature, return_status, received_at) "
    "SELECT '3301E0001', k.kind, k.kind || '-' || b.id, repeat('0', 64), 'I', 'CEB311Message', "
    "'m', '1', '20261111000000', b.ebp_code, b.order_no, '3101960004', 'YT' || b.id, b.id, "
    "'current', $1::json, repeat('x', 800), 'absent', '120', now() "
    "FROM bundles AS b CROSS JOIN (VALUES ('order'), ('logistics')) AS k(kind)"
)


async def test_the_reads_by_key_use_indexes_before_any_analyze(tmp_path: Path) -> None:
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        try:
            async with db.write() as conn:
                # autovacuum must not analyse them under the test
                for table in ("bundles", "documents"):
                    await pg.execute(conn, f"ALTER TABLE {table} SET (autovacuum_enabled = off)")
                await pg.execute(conn, _FILL, DOCUMENTS // 2)
                await pg.execute(conn, _FILL_DOCUMENTS, json.dumps({"pad": "y" * 400}))
            async with db.read() as conn:
                analysed = await pg.fetch(
                    conn,
                    "SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables "
                    "WHERE relname = 'documents'",
                )
                assert analysed[0]["last_analyze"] is None
                assert analysed[0]["last_autoanalyze"] is None
                ids = [r["id"] for r in await pg.fetch(conn, "SELECT id FROM bundles LIMIT 300")]
                plan = await pg.fetch(
                    conn,
                    "EXPLAIN " + _BATCH_READS,
                    ["3301E0001"] * 300,
                    ["order"] * 300,
                    [f"order-{i}" for i in ids],
                    ids,
                    ["3101960004"] * 120,
                    [f"YT{i}" for i in ids[:120]],
                    [f"SO{i}" for i in range(300)],
                )
        finally:
            await db.dispose()
    text = "\n".join(row["QUERY PLAN"] for row in plan)
    assert "Seq Scan on documents" not in text, text
    assert "uq_documents_sender_kind_guid" in text, text
    assert "ix_documents_bundle_id_kind" in text, text
    assert "ix_documents_kind_logistics_code_logistics_no" in text, text


async def test_every_session_runs_without_jit(tmp_path: Path) -> None:
    """The batch's read costs more than jit_above_cost as soon as the tables grow: compiled at
    each execution it took ~15 ms for 3 ms of work. Intake, readers, writers and the
    rate-limit counters all connect with JIT off, and keep plans as PostgreSQL decides."""
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        try:
            sessions = {
                "intake": db.write_batch(),
                "writer": db.write(),
                "reader": db.read(),
                "counters": db.autocommit(),
            }
            settings: dict[str, tuple[str, str, str]] = {}
            for name, session in sessions.items():
                async with session as conn:
                    settings[name] = await _settings(conn)
        finally:
            await db.dispose()
    # (the counters keep their own: no wait for the WAL flush)
    assert settings == {
        "intake": ("off", "auto", "on"),
        "writer": ("off", "auto", "on"),
        "reader": ("off", "auto", "on"),
        "counters": ("off", "auto", "off"),
    }


async def test_reads_inside_planned_now_are_planned_at_each_execution(tmp_path: Path) -> None:
    """Inside the block plans are made for the tables as they are; after it, and after a
    block that failed (its transaction rolled back), the session's own mode again: the
    queries behind foreign keys must not be planned again for every inserted row."""
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        try:
            async with db.write_batch() as conn:
                before = await _settings(conn)
                async with planned_now(conn):
                    inside = await _settings(conn)
                after = await _settings(conn)
            with pytest.raises(ZeroDivisionError):
                async with db.write_batch() as conn, planned_now(conn):
                    1 / 0  # noqa: B018
            async with db.write_batch() as conn:
                next_batch = await _settings(conn)
        finally:
            await db.dispose()
    assert before == after == next_batch == ("off", "auto", "on")
    assert inside == ("off", "force_custom_plan", "on")


async def _settings(conn: AsyncConnection) -> tuple[str, str, str]:
    return (
        (await pg.fetch(conn, "SHOW jit"))[0]["jit"],
        (await pg.fetch(conn, "SHOW plan_cache_mode"))[0]["plan_cache_mode"],
        (await pg.fetch(conn, "SHOW synchronous_commit"))[0]["synchronous_commit"],
    )
