"""A database out of reach is ``ServiceUnavailable`` (503), whichever way it fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from service.errors import ServiceUnavailable
from service.store.database import Database, is_unavailable


async def test_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    # a directory where the database file should be: SQLite cannot open it
    (tmp_path / "db").mkdir()
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db'}")
    try:
        with pytest.raises(ServiceUnavailable):
            async with db.read() as conn:
                await conn.execute(text("SELECT 1"))
        with pytest.raises(ServiceUnavailable):
            async with db.write() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await db.dispose()


async def test_postgres_port_with_nothing_listening_is_unavailable() -> None:
    from tests.e2e.server import free_port

    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres")
    try:
        for block in (db.read, db.write, db.write_batch):
            with pytest.raises(ServiceUnavailable):
                async with block() as conn:
                    await conn.execute(text("SELECT 1"))
    finally:
        await db.dispose()


def test_what_counts_as_unavailable() -> None:
    assert is_unavailable(ConnectionRefusedError())
    assert is_unavailable(TimeoutError())
    assert not is_unavailable(ValueError())
    assert not is_unavailable(KeyError("x"))
