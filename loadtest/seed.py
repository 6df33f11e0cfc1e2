"""Seeding many pending bundles fast: the soak's "1 M bundles waiting for their documents".

Posting a million orders through HTTP would take longer than the soak itself. Instead one
order goes through the real engine, in process (so its rows are exactly what the engine
writes, whatever the schema is today), and its rows — the bundle, its documents, its events —
are cloned by bulk SQL under new order numbers and guids: COPY on PostgreSQL, executemany on
SQLite. Their deadline is set far ahead so the sweeper leaves them pending for the soak.

This writes the service's tables from outside the service on purpose: it is test data, and
the store's own code is not the place for a benchmark's shortcuts.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import JSON, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.app import build_services
from service.clock import utcnow
from service.config import Settings
from service.demo.consignments import DEMO_PARTIES, clean_import
from service.messages.registry import Kind, Role
from service.security.keys import Caller
from service.store import tables
from service.store.database import Database

# Tables holding a pending order-only bundle's rows, parents first.
_CHILDREN = (tables.documents, tables.bundle_events)


@dataclass(frozen=True, slots=True)
class Seeded:
    bundles: int
    rows: int
    seconds: float


async def _template_order(settings: Settings, order_no_number: int) -> tuple[str, str]:
    """One order through the real ingest path and engine; its bundle key."""
    services = build_services(settings)
    consignment = clean_import(random.Random(order_no_number), order_no_number)
    caller = Caller(
        key_id=0,
        code=DEMO_PARTIES.platform.code,
        codes=frozenset({DEMO_PARTIES.platform.code, DEMO_PARTIES.ebc.code}),
        roles=frozenset({Role.PLATFORM}),
    )
    await services.batcher.start()
    try:
        result = await services.ingestor.ingest(consignment.message(Kind.ORDER), caller)
    finally:
        await services.batcher.stop()
        await services.db.dispose()
    status = result.documents[0].outcome.status
    if status != "accepted":
        raise RuntimeError(f"template order was {status}: {result.documents[0].outcome.errors}")
    return consignment.key


def _json_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if isinstance(c.type, JSON)}


async def _rows(
    conn: AsyncConnection, table: Table, column: str, value: Any
) -> list[dict[str, Any]]:
    result = await conn.execute(select(table).where(table.c[column] == value))
    return [dict(row._mapping) for row in result]


async def _next_id(conn: AsyncConnection, table: Table) -> int:
    return int((await conn.scalar(select(func.coalesce(func.max(table.c.id), 0)))) or 0) + 1


def _retarget(value: Any, old: str, new: str) -> Any:
    """``value`` with every mention of the template's order number replaced (JSON columns
    are text by now: see ``_as_text``)."""
    return value.replace(old, new) if isinstance(value, str) else value


def _as_text(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """JSON columns serialised once, so a million clones are string replacements."""
    json_columns = _json_columns(table)
    return {k: json.dumps(v) if k in json_columns else v for k, v in row.items()}


async def seed_pending(
    database_url: str, count: int, *, prefix: str = "SOAK", chunk: int = 10_000
) -> Seeded:
    """Add ``count`` pending order-only bundles (one made by the engine, the rest cloned)."""
    started = time.perf_counter()
    settings = Settings(database_url=database_url)
    key = await _template_order(settings, random.randrange(10**9, 10**10))
    db = Database(database_url)
    try:
        async with db.write() as conn:
            (bundle,) = await _rows(conn, tables.bundles, "order_no", key[1])
            children = {t: await _rows(conn, t, "bundle_id", bundle["id"]) for t in _CHILDREN}
            far = utcnow() + timedelta(days=365)
            await conn.execute(
                tables.bundles.update()
                .where(tables.bundles.c.id == bundle["id"])
                .values(deadline_at=far)
            )
            bundle["deadline_at"] = far
            rows = 1 + sum(len(r) for r in children.values())
            bundle = _as_text(tables.bundles, bundle)
            children = {t: [_as_text(t, r) for r in rs] for t, rs in children.items()}
            next_ids = {t: await _next_id(conn, t) for t in (tables.bundles, *_CHILDREN)}
        batches = _clones(bundle, children, next_ids, count - 1, prefix, key[1], chunk)
        for batch in batches:
            async with db.write() as conn:
                for table, table_rows in batch.items():
                    await _insert(conn, db.is_postgres, table, table_rows)
                    rows += len(table_rows)
        if db.is_postgres:
            async with db.write() as conn:
                for table in (tables.bundles, *_CHILDREN):
                    # explicit ids went in: move the id sequences past them
                    await conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                await conn.exec_driver_sql("ANALYZE bundles")
                await conn.exec_driver_sql("ANALYZE documents")
    finally:
        await db.dispose()
    return Seeded(count, rows, time.perf_counter() - started)


def _clones(
    bundle: dict[str, Any],
    children: dict[Table, list[dict[str, Any]]],
    next_ids: dict[Table, int],
    count: int,
    prefix: str,
    old_order_no: str,
    chunk: int,
) -> Iterator[dict[Table, list[dict[str, Any]]]]:
    ids = dict(next_ids)
    batch: dict[Table, list[dict[str, Any]]] = {t: [] for t in (tables.bundles, *children)}
    for n in range(count):
        order_no = f"{prefix}{n:012d}"
        bundle_id = ids[tables.bundles]
        ids[tables.bundles] += 1
        batch[tables.bundles].append(
            {
                **{k: _retarget(v, old_order_no, order_no) for k, v in bundle.items()},
                "id": bundle_id,
            }
        )
        for table, template_rows in children.items():
            for row in template_rows:
                clone = {k: _retarget(v, old_order_no, order_no) for k, v in row.items()}
                clone.update(id=ids[table], bundle_id=bundle_id)
                if "guid" in clone:
                    clone["guid"] = str(uuid.uuid4()).upper()
                ids[table] += 1
                batch[table].append(clone)
        if len(batch[tables.bundles]) >= chunk:
            yield batch
            batch = {t: [] for t in batch}
    if batch[tables.bundles]:
        yield batch


async def _insert(
    conn: AsyncConnection, postgres: bool, table: Table, rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    json_columns = _json_columns(table)
    if not postgres:
        # SQLAlchemy serialises JSON columns itself: give it the values back
        for r in rows:
            for c in json_columns:
                r[c] = json.loads(r[c])
        await conn.execute(insert(table), rows)
        return
    # COPY: an order of magnitude faster than INSERT for a million rows; asyncpg takes json
    # as text, which the JSON columns already are.
    columns = [c.name for c in table.columns]
    records = [tuple(r[c] for c in columns) for r in rows]
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(table.name, records=records, columns=columns)
