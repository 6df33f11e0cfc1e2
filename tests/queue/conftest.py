"""A private nats-server per test module, and a fresh migrated database per test.

The database is SQLite, or a new PostgreSQL database when SANDAN_TEST_DATABASE_URL names a
server (tests/databases.py), so the SKIP LOCKED path runs for real there.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from service.store.database import Database
from tests.databases import fresh_database
from tests.queue.natsd import NATS_SERVER, NatsServer, delete_stream
from tests.queue.support import Outbox


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    if not NATS_SERVER.exists():
        pytest.skip(f"{NATS_SERVER} not installed (Debian package nats-server)")
    server = NatsServer(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nats(nats_server: NatsServer) -> NatsServer:
    """The module's server, running (a test that stopped it may have failed before restarting)."""
    if not nats_server.running:
        nats_server.start()
    return nats_server


@pytest.fixture
def stream(nats: NatsServer) -> Iterator[str]:
    """A stream name of the test's own, deleted afterwards: the module's tests share a server,
    and two streams may not both take "sandan.manifest.>"."""
    name = f"RELAY_{uuid.uuid4().hex[:12]}"
    yield name
    if nats.running:
        asyncio.run(delete_stream(nats.url, name))


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
async def outbox(database_url: str) -> AsyncIterator[Outbox]:
    db = Database(database_url)
    try:
        yield Outbox(db)
    finally:
        await db.dispose()
