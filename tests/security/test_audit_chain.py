"""The audit log's hash chain (SPEC §11): appends make one line, and ``check`` names the first
record that an edit, a deletion or a reordering broke."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from service.store import audit
from service.store.audit_chain import GENESIS, ChainCheck, canonical, check, record_hash
from service.store.database import Database
from service.store.tables import audit_log
from tests.databases import on_postgres

AT = datetime(2026, 12, 2, 17, 50, 0, 123456, tzinfo=UTC)


async def append_some(db: Database, count: int) -> list[int]:
    ids = []
    for n in range(count):
        async with db.write() as conn:
            ids.append(
                await audit.append(
                    conn,
                    actor=f"operator {n}",
                    action="review.release",
                    subject=f"bundle 3301/ORDER{n}",
                    detail={"reason": "检查过 checked", "seq": n, "keyId": 5},
                    at=AT + timedelta(seconds=n),
                )
            )
    return ids


async def verify(db: Database) -> ChainCheck:
    async with db.read() as conn:
        return await check(audit.chain(conn, page=3))  # several pages even for a few records


async def records(db: Database) -> list[dict[str, Any]]:
    async with db.read() as conn:
        return [r async for r in audit.chain(conn)]


def test_the_canonical_form_is_fixed() -> None:
    # What a verifier outside Sandan recomputes: keep it byte for byte.
    record = {
        "id": 1,
        "at": AT,
        "actor": "op",
        "action": "key.create",
        "subject": "key 1",
        "detail": {"b": [1, "二"], "a": None},
    }
    assert (
        canonical(record)
        == (
            '{"action":"key.create","actor":"op","at":"2026-12-02T17:50:00.123456Z",'
            '"detail":{"a":null,"b":[1,"二"]},"id":1,"subject":"key 1"}'
        ).encode()
    )
    assert record_hash(GENESIS, record) != record_hash(GENESIS, {**record, "id": 2})


async def test_appends_chain_from_the_genesis_and_verify(db: Database) -> None:
    assert await verify(db) == ChainCheck(0, GENESIS)
    ids = await append_some(db, 7)
    assert ids == [1, 2, 3, 4, 5, 6, 7]
    stored = await records(db)
    assert stored[0]["prev_hash"] == GENESIS
    for before, after in itertools.pairwise(stored):
        assert after["prev_hash"] == before["hash"]
    assert stored[2]["detail"] == {"reason": "检查过 checked", "seq": 2, "keyId": 5}
    result = await verify(db)
    assert result.ok and result.count == 7 and result.last_hash == stored[-1]["hash"]


@pytest.mark.parametrize(
    "change",
    [{"detail": {"reason": "changed", "seq": 3, "keyId": 5}}, {"actor": "someone else"}],
    ids=["detail", "actor"],
)
async def test_an_edited_record_is_named(db: Database, change: dict[str, Any]) -> None:
    await append_some(db, 6)
    async with db.write() as conn:
        await conn.execute(update(audit_log).where(audit_log.c.id == 4).values(**change))
    result = await verify(db)
    assert not result.ok
    assert result.broken_at == 4 and result.count == 3
    assert result.problem is not None and "record 4" in result.problem


async def test_an_edited_record_with_its_hash_recomputed_breaks_the_next(db: Database) -> None:
    await append_some(db, 5)
    [third] = [r for r in await records(db) if r["id"] == 3]
    forged = {**third, "actor": "forger"}
    async with db.write() as conn:
        await conn.execute(
            update(audit_log)
            .where(audit_log.c.id == 3)
            .values(actor="forger", hash=record_hash(third["prev_hash"], forged))
        )
    result = await verify(db)
    assert result.broken_at == 4 and result.problem is not None and "prev_hash" in result.problem


async def test_a_deleted_record_is_noticed(db: Database) -> None:
    await append_some(db, 5)
    async with db.write() as conn:
        await conn.execute(delete(audit_log).where(audit_log.c.id == 2))
    result = await verify(db)
    assert result.broken_at == 3 and result.count == 1
    assert result.problem is not None and "missing" in result.problem


async def test_reordered_records_are_noticed(db: Database) -> None:
    await append_some(db, 5)
    async with db.write() as conn:  # swap records 2 and 3 whole, hashes and all
        for old, new in ((2, -2), (3, 2), (-2, 3)):
            await conn.execute(update(audit_log).where(audit_log.c.id == old).values(id=new))
    result = await verify(db)
    assert result.broken_at == 2 and result.count == 1


async def test_an_append_after_tampering_does_not_mend_the_chain(db: Database) -> None:
    await append_some(db, 3)
    async with db.write() as conn:
        await conn.execute(update(audit_log).where(audit_log.c.id == 1).values(subject="x"))
    await append_some(db, 1)
    assert (await verify(db)).broken_at == 1


async def test_a_refused_transaction_appends_nothing(db: Database) -> None:
    await append_some(db, 2)
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await audit.append(
                conn, actor="a", action="key.revoke", subject="key 1", detail={}, at=AT
            )
            raise RuntimeError("the change it records failed")
    assert [r["id"] for r in await records(db)] == [1, 2]
    assert (await verify(db)).ok


def test_details_json_cannot_hold_exactly_are_refused() -> None:
    from service.store.audit_chain import as_stored

    with pytest.raises(TypeError):
        as_stored({"at": AT})


@pytest.mark.skipif(not on_postgres(), reason="concurrent writers need PostgreSQL")
async def test_concurrent_appends_from_many_connections_keep_one_line(
    db: Database, other_db: Database
) -> None:
    async def appender(database: Database, name: str, count: int) -> None:
        for n in range(count):
            async with database.write() as conn:
                await audit.append(
                    conn,
                    actor=name,
                    action="key.create",
                    subject=f"key {n}",
                    detail={"n": n},
                    at=datetime.now(UTC),
                )
                # hold the turn a moment, so the others queue behind it
                await asyncio.sleep(0.001)

    # Two processes' pools, several connections each, all appending at once.
    await asyncio.gather(
        *(appender(database, f"{i}", 15) for i in range(4) for database in (db, other_db))
    )
    stored = await records(db)
    assert len(stored) == 120
    prev_hashes = [r["prev_hash"] for r in stored]
    assert len(set(prev_hashes)) == len(prev_hashes), "two records follow the same one: a fork"
    result = await verify(db)
    assert result.ok and result.count == 120
    async with db.read() as conn:
        ids = (await conn.execute(select(audit_log.c.id).order_by(audit_log.c.id))).scalars()
        assert list(ids) == list(range(1, 121))
