"""The migrations produce exactly the schema ``service/store/tables.py`` describes, on the
database the suite runs against (SQLite, or PostgreSQL with SANDAN_TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from service.store import receipts
from service.store.migrate import alembic_config, upgrade
from service.store.tables import metadata
from tests.databases import fresh_database


def _compare(conn: Connection) -> tuple[list[Any], set[str]]:
    diff = compare_metadata(MigrationContext.configure(conn), metadata)
    return diff, set(inspect(conn).get_table_names())


async def _inspect(url: str) -> tuple[list[Any], set[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_compare)
    finally:
        await engine.dispose()


def test_migrations_match_the_tables(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        diff, tables = asyncio.run(_inspect(url))
    assert diff == []
    assert {t.name for t in metadata.sorted_tables} <= tables


def test_upgrade_twice_is_a_no_op(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        upgrade(url)
        upgrade(url)
        diff, _ = asyncio.run(_inspect(url))
    assert diff == []


def _receipts_at(url: str, statement: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement))
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_receipts_stored_one_by_one_become_runs_and_back(tmp_path: Path) -> None:
    """0010 turns the rows 0005 stored into runs of one, readable by the feed; its downgrade
    gives them back as rows."""
    with fresh_database(tmp_path) as url:
        command.downgrade(alembic_config(url), "0005")
        _receipts_at(
            url,
            "INSERT INTO receipts (seq, recipient, message_type, guid, invt_no, bundle_id, "
            "return_status, return_time, return_info, fields, created_at) VALUES "
            "(1, 'A', 'CEB312Message', 'G1', NULL, NULL, '120', '20261111000000000', 'ok', "
            "'{\"orderNo\": \"o1\"}', '2026-11-11 00:00:00+00'), "
            "(2, 'B', 'CEB622Message', 'G2', 'X', 7, '800', '20261111000000001', 'released', "
            "'{}', '2026-11-11 00:00:00+00')",
        )
        upgrade(url)

        async def feed() -> list[dict[str, Any]]:
            engine = create_async_engine(url)
            try:
                async with engine.connect() as conn:
                    return await receipts.read_after(conn, 0, 10, None)
            finally:
                await engine.dispose()

        rows = asyncio.run(feed())
        assert [(r["seq"], r["recipient"], r["guid"], r["bundle_id"]) for r in rows] == [
            (1, "A", "G1", None),
            (2, "B", "G2", 7),
        ]
        assert rows[0]["fields"] == {"orderNo": "o1"}
        command.downgrade(alembic_config(url), "0005")
        back = _receipts_at(url, "SELECT seq, recipient, invt_no FROM receipts ORDER BY seq")
        assert [tuple(r) for r in back] == [(1, "A", None), (2, "B", "X")]
