"""The intake statements sent to asyncpg directly (service/store/pg.py) behave as statements
SQLAlchemy runs: inside the caller's transaction, their errors the same classes, a dead
connection invalidated and the batch run again on a new one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from loadtest.engine_bench import prepared_submissions
from service.config import Settings
from service.engine.intake import IntakeBatcher
from service.store import bundles, pg
from service.store.database import Database, is_contention, is_retryable
from service.store.tables import bundle_events
from tests.databases import afresh_database, on_postgres

pytestmark = pytest.mark.skipif(not on_postgres(), reason="statements on asyncpg: PostgreSQL")

NOW = datetime(2026, 11, 11, tzinfo=UTC)


async def test_raw_writes_roll_back_with_the_transaction(tmp_path: Path) -> None:
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        with pytest.raises(RuntimeError):
            async with db.write() as conn:
                await bundles.ensure(conn, [("E1", "O1")], NOW, timedelta(hours=1))
                raise RuntimeError("after the insert")
        async with db.read() as conn:
            assert await bundles.get_by_key(conn, "E1", "O1") is None
        await db.dispose()


async def test_rows_are_inserted_in_array_order(tmp_path: Path) -> None:
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        async with db.write() as conn:
            made = await bundles.ensure(conn, [("E1", "O1")], NOW, timedelta(hours=1))
            bundle_id = int(made[("E1", "O1")]["id"])
            events = [
                {
                    "bundle_id": bundle_id,
                    "at": NOW,
                    "version": i,
                    "event": "document",
                    "detail": {"n": i},
                }
                for i in range(50)
            ]
            await pg.insert_rows(
                conn, bundle_events, events, ("bundle_id", "at", "version", "event", "detail")
            )
        async with db.read() as conn:
            rows = (
                (await conn.execute(select(bundle_events).order_by(bundle_events.c.id)))
                .mappings()
                .all()
            )
        assert [r["detail"]["n"] for r in rows] == list(range(50))
        assert [r["version"] for r in rows] == list(range(50))
        await db.dispose()


async def test_a_lost_race_is_the_error_sqlalchemy_raises(tmp_path: Path) -> None:
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        with pytest.raises(DBAPIError) as caught:
            async with db.write() as conn:
                await pg.execute(
                    conn,
                    "INSERT INTO counters (name, value) SELECT n, 0 FROM unnest($1::text[]) AS n",
                    ["same", "same"],
                )
        assert is_contention(caught.value)
        await db.dispose()


async def test_a_dead_intake_connection_is_replaced_and_the_batch_runs_again(
    tmp_path: Path,
) -> None:
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        async with db.write_batch() as conn:
            pid = (await pg.fetch(conn, "SELECT pg_backend_pid() AS pid"))[0]["pid"]
        async with db.reader.connect() as other:
            await other.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
        # intake's pool does not ping: the dead connection is handed out again
        with pytest.raises(Exception) as caught:
            async with db.write_batch() as conn:
                await pg.fetch(conn, "SELECT 1")
        cause = caught.value.__cause__
        assert isinstance(cause, DBAPIError) and is_retryable(cause)
        async with db.write_batch() as conn:  # its replacement works
            assert await pg.fetch(conn, "SELECT 1 AS one") == [{"one": 1}]

        # and intake runs a batch that met a dead connection again, unseen by the sender
        async with db.write_batch() as conn:
            pid = (await pg.fetch(conn, "SELECT pg_backend_pid() AS pid"))[0]["pid"]
        async with db.reader.connect() as other:
            await other.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
        batcher = IntakeBatcher(db, Settings(database_url=url))
        sender, items = prepared_submissions(1, 1, seed=3)[0]
        await batcher.start()
        try:
            outcomes = await batcher.submit(sender, items)
        finally:
            await batcher.stop()
        assert [o.status for o in outcomes] == ["accepted"]
        await db.dispose()


async def test_other_writers_still_get_a_live_connection_after_one_died(tmp_path: Path) -> None:
    """Only intake's pool goes without the ping (it retries); the sweeper, review actions
    and the relay write through the pinged pool, as before."""
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        async with db.write() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with db.reader.connect() as other:
            await other.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
        async with db.write() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
        await db.dispose()
