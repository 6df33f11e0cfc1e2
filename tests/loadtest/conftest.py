"""A real Sandan server on a fresh database (SQLite, or PostgreSQL when the suite runs there)
with the demo enterprises' keys, as ``python -m loadtest bench`` starts it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loadtest.servers import ServerProcess, provision_keys, running, sandan_command
from tests.databases import fresh_database


@dataclass
class Served:
    server: ServerProcess
    keys: dict[str, str]
    database_url: str


@pytest.fixture(scope="module")
def sandan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory: Path = tmp_path_factory.mktemp("loadtest")
    with fresh_database(directory) as url:
        keys = provision_keys(url)
        env = {"SANDAN_DATABASE_URL": url, "SANDAN_MANIFEST_POLL_INTERVAL_SECONDS": "0.2"}
        with running(sandan_command(), env, directory / "server.log") as server:
            yield Served(server, keys, url)
