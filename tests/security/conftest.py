"""Trust tests (SPEC §11) on a fresh migrated database each: SQLite, or PostgreSQL when
SANDAN_TEST_DATABASE_URL says so (tests/databases.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from service.store.database import Database
from tests.databases import afresh_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with afresh_database(tmp_path) as url:
        database = Database(url)
        try:
            yield database
        finally:
            await database.dispose()


@pytest.fixture
async def other_db(db: Database) -> AsyncIterator[Database]:
    """A second handle on ``db``'s database: what another process would hold."""
    database = Database(db.url)
    try:
        yield database
    finally:
        await database.dispose()
