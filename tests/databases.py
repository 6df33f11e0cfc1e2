"""Fresh, migrated databases for tests: SQLite files by default, PostgreSQL on request.

Set ``SANDAN_TEST_DATABASE_URL`` to a ``postgresql+asyncpg://`` URL (any database on the
server; it is only used to create others) and every test database is a new PostgreSQL
database cloned from a template migrated once per session. Without it, each is a copy of a
migrated SQLite template file. Migrating takes most of a second; cloning takes milliseconds.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from functools import cache
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from loadtest.servers import admin
from service.store.migrate import upgrade

_numbers = itertools.count(1)


def test_database_url() -> str | None:
    return os.environ.get("SANDAN_TEST_DATABASE_URL") or None


def on_postgres() -> bool:
    url = test_database_url()
    return url is not None and url.startswith("postgresql")


def _database_url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


@cache
def _postgres_template(url: str) -> str:
    name = f"sandan_tpl_{os.getpid()}"
    asyncio.run(admin(url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    upgrade(_database_url(url, name))
    atexit.register(_drop_template, url, name)
    return name


def _drop_template(url: str, name: str) -> None:
    """The session's template goes when the session does (a killed run leaves it behind;
    the next run of the same pid replaces it)."""
    with suppress(OSError, asyncpg.PostgresError):
        asyncio.run(admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@cache
def _sqlite_template() -> Path:
    path = Path(tempfile.mkdtemp(prefix="sandan-template-")) / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """The URL of a new migrated database, dropped (or deleted) afterwards."""
    url = test_database_url()
    if url is not None and url.startswith("postgresql"):
        template = _postgres_template(url)
        name = f"sandan_t_{os.getpid()}_{next(_numbers)}"
        asyncio.run(admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        try:
            yield _database_url(url, name)
        finally:
            asyncio.run(admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        return
    path = directory / f"sandan-{next(_numbers)}.db"
    shutil.copyfile(_sqlite_template(), path)
    try:
        yield f"sqlite+aiosqlite:///{path}"
    finally:
        _remove_sqlite(path)


@asynccontextmanager
async def afresh_database(directory: Path) -> AsyncIterator[str]:
    """``fresh_database`` for code already inside an event loop."""
    url = test_database_url()
    if url is not None and url.startswith("postgresql"):
        template = await asyncio.to_thread(_postgres_template, url)
        name = f"sandan_t_{os.getpid()}_{next(_numbers)}"
        await admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield _database_url(url, name)
        finally:
            await admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    template_file = await asyncio.to_thread(_sqlite_template)
    path = directory / f"sandan-{next(_numbers)}.db"
    shutil.copyfile(template_file, path)
    try:
        yield f"sqlite+aiosqlite:///{path}"
    finally:
        _remove_sqlite(path)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
