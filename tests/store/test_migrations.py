"""The migrations produce exactly the schema ``service/store/tables.py`` describes, on the
database the suite runs against (SQLite, or PostgreSQL with SANDAN_TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from service.store.migrate import upgrade
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
