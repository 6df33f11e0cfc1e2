"""The in-process intake pipeline without HTTP: parse, schema, sender, batcher, engine, store.

Each pipeline gets a fresh database cloned from a template migrated once per session
(tests/databases.py): migrating per hypothesis example would be far too slow.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from service.config import Settings
from service.demo.consignments import DEMO_PARTIES
from service.demo.play import DEMO_CALLERS
from service.engine.bundle_view import load_bundle
from service.engine.decide import Decided
from service.engine.incoming import Outcome
from service.engine.ingest import Ingestor, IngestResult
from service.engine.intake import IntakeBatcher, _Submission
from service.engine.prepare import Preparer
from service.engine.sweeper import sweep_once
from service.messages.registry import Kind, Role
from service.messages.schema import SchemaChecker
from service.rules.idcard import gb11643_valid
from service.security.keys import Caller
from service.security.pii import PiiProtector
from service.store import bundles, manifest
from service.store.database import Database
from tests.databases import afresh_database

P = DEMO_PARTIES
# Who sends each kind, as the key store would resolve their keys.
CALLERS = DEMO_CALLERS
OPERATOR = Caller(5, "2924", frozenset({"2924"}), frozenset({Role.OPERATOR}))

_databases = itertools.count(1)


class RecordingBatcher(IntakeBatcher):
    """The real batcher, noting how many submissions each transaction carried."""

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(db, settings)
        self.batch_sizes: list[int] = []

    async def _apply(self, batch: list[_Submission]) -> tuple[list[list[Outcome]], list[Decided]]:
        self.batch_sizes.append(len(batch))
        return await super()._apply(batch)


@dataclass
class Pipeline:
    db: Database
    settings: Settings
    batcher: RecordingBatcher
    ingestor: Ingestor
    sweeps: list[Decided] = field(default_factory=list)

    async def post(self, body: bytes, kind: Kind) -> IngestResult:
        return await self.ingestor.ingest(body, CALLERS[kind])

    async def sweep(self, now: datetime) -> list[Decided]:
        decided = await sweep_once(self.db, self.settings, now)
        self.sweeps.extend(decided)
        return decided

    async def bundle(self, key: tuple[str, str]) -> dict[str, Any] | None:
        async with self.db.read() as conn:
            return await load_bundle(conn, key[0], key[1], OPERATOR)

    async def entries(self, key: tuple[str, str]) -> list[dict[str, Any]]:
        """The bundle's manifest entries in seq order ([] when the bundle does not exist)."""
        async with self.db.read() as conn:
            row = await bundles.get_by_key(conn, *key)
            return [] if row is None else await manifest.for_bundle(conn, row["id"])


@dataclass(frozen=True)
class PipelineFactory:
    directory: Path
    checker: SchemaChecker

    @asynccontextmanager
    async def __call__(self, **overrides: Any) -> AsyncIterator[Pipeline]:
        """A started pipeline on a fresh migrated database (SQLite, or PostgreSQL when
        SANDAN_TEST_DATABASE_URL says so)."""
        async with afresh_database(self.directory) as url:
            settings = Settings(database_url=url, **overrides)
            db = Database(url)
            batcher = RecordingBatcher(db, settings)
            protector = PiiProtector(settings.pii_key, gb11643_valid)
            preparer = Preparer(self.checker, protector, settings.max_message_bytes)
            ingestor = Ingestor(preparer, batcher, None, settings.prepare_offload_bytes)
            await batcher.start()
            try:
                yield Pipeline(db, settings, batcher, ingestor)
            finally:
                await batcher.stop()
                await db.dispose()


@pytest.fixture(scope="session")
def schema_checker() -> SchemaChecker:
    return SchemaChecker()


@pytest.fixture(scope="session")
def pipelines(
    schema_checker: SchemaChecker, tmp_path_factory: pytest.TempPathFactory
) -> PipelineFactory:
    return PipelineFactory(tmp_path_factory.mktemp("engine-dbs"), schema_checker)
