"""API keys over their life (SPEC §11): expiry, revocation seen by every process within 5 s,
rotation with a grace period, and "last used" written behind the requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.clock import as_utc, utcnow
from service.errors import (
    ActionNotAllowed,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    Unauthenticated,
)
from service.security import key_lifecycle
from service.security.auth import KeyCache, KeyExpired, KeyRevoked
from service.security.key_lifecycle import IssuedKey, parse_expiry
from service.security.key_uses import KeyUseRecorder
from service.store import audit
from service.store import keys as key_store
from service.store.audit_chain import check
from service.store.database import Database

CODES = ["3301960001", "3301960002"]


def cache_over(db: Database, ttl: float = 5.0) -> KeyCache:
    """A key cache reading ``db``, as one service process holds it."""

    async def lookup(digest: str) -> dict[str, Any] | None:
        async with db.read() as conn:
            return await key_store.find_key(conn, digest)

    async def lookup_id(key_id: int) -> dict[str, Any] | None:
        async with db.read() as conn:
            return await key_store.get(conn, key_id)

    return KeyCache(lookup, ttl_seconds=ttl, lookup_id=lookup_id)


async def create(db: Database, expires_at: datetime | None = None) -> IssuedKey:
    async with db.write() as conn:
        return await key_lifecycle.create(
            conn,
            codes=CODES,
            roles=["platform", "agent"],
            name="broker",
            expires_at=expires_at,
            actor="cli",
            now=utcnow(),
        )


async def row(db: Database, key_id: int) -> dict[str, Any]:
    async with db.read() as conn:
        found = await key_store.get(conn, key_id)
    assert found is not None
    return found


async def refused_within(cache: KeyCache, key: str, within: float) -> Unauthenticated:
    """Poll ``cache`` until it refuses ``key``; the refusal, or fail after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        try:
            await cache.authenticate(key)
        except Unauthenticated as refusal:
            return refusal
        if time.monotonic() > deadline:
            raise AssertionError(f"{key} still authenticates after {within} s")
        await asyncio.sleep(0.02)


def test_expiry_dates_and_times() -> None:
    assert parse_expiry("2027-01-31") == datetime(2027, 1, 31, tzinfo=UTC)
    assert parse_expiry("2027-01-31T18:30") == datetime(2027, 1, 31, 18, 30, tzinfo=UTC)
    assert parse_expiry("2027-01-31T18:30:00+08:00") == datetime(2027, 1, 31, 10, 30, tzinfo=UTC)
    assert parse_expiry("2027-01-31T18:30:00Z") == datetime(2027, 1, 31, 18, 30, tzinfo=UTC)
    with pytest.raises(InvalidRequest):
        parse_expiry("next tuesday")


async def test_a_key_past_its_expiry_is_refused_even_from_the_cache(db: Database) -> None:
    expires = utcnow() + timedelta(hours=1)
    issued = await create(db, expires)
    cache = cache_over(db, ttl=3600)
    caller = await cache.authenticate(issued.key)
    assert caller.expires_at is not None and abs(caller.expires_at - expires) < timedelta(
        milliseconds=1
    )
    assert caller.codes == frozenset(CODES)
    await cache.authenticate(issued.key, now=expires - timedelta(microseconds=1))
    with pytest.raises(KeyExpired, match="expired"):
        await cache.authenticate(issued.key, now=expires)
    with pytest.raises(InvalidRequest, match="past"):
        await create(db, utcnow() - timedelta(seconds=1))


async def test_revocation_in_one_process_reaches_another_within_the_cache_time(
    db: Database, other_db: Database
) -> None:
    issued = await create(db)
    here, there = cache_over(db, ttl=0.3), cache_over(other_db, ttl=0.3)
    assert (await there.authenticate(issued.key)).key_id == issued.key_id  # now cached there
    await here.authenticate(issued.key)
    async with db.write() as conn:
        await key_lifecycle.revoke(conn, issued.key_id, actor="admin", now=utcnow())
    here.forget(issued.key_id)
    with pytest.raises(KeyRevoked):  # at once where it was revoked
        await here.authenticate(issued.key)
    refusal = await refused_within(there, issued.key, within=5.0)
    assert isinstance(refusal, KeyRevoked) and "revoked" in refusal.message
    assert await there.resolve(issued.key) is None
    with pytest.raises(ActionNotAllowed):  # the first revocation time stands
        async with db.write() as conn:
            await key_lifecycle.revoke(conn, issued.key_id, actor="admin", now=utcnow())


async def test_a_session_asking_by_id_sees_revocation_and_expiry(
    db: Database, other_db: Database
) -> None:
    expires = utcnow() + timedelta(hours=1)
    issued = await create(db, expires)
    here, there = cache_over(db, ttl=0.3), cache_over(other_db, ttl=0.3)
    assert (await there.by_id(issued.key_id)).codes == frozenset(CODES)
    with pytest.raises(KeyExpired):  # expiry needs no query, even from the cache
        await there.by_id(issued.key_id, now=expires)
    await here.by_id(issued.key_id)
    async with db.write() as conn:
        await key_lifecycle.revoke(conn, issued.key_id, actor="admin", now=utcnow())
    here.forget(issued.key_id)
    with pytest.raises(KeyRevoked):  # at once where it was revoked
        await here.by_id(issued.key_id)
    deadline = time.monotonic() + 5.0
    while True:
        try:
            await there.by_id(issued.key_id)
        except KeyRevoked:
            break
        assert time.monotonic() < deadline, "the other process still trusts the revoked key"
        await asyncio.sleep(0.02)
    with pytest.raises(Unauthenticated, match="no API key"):
        await here.by_id(999)


async def test_an_unknown_key_is_refused(db: Database) -> None:
    cache = cache_over(db)
    with pytest.raises(Unauthenticated, match="unknown"):
        await cache.authenticate("sk_nothing")
    with pytest.raises(NotFound):
        async with db.write() as conn:
            await key_lifecycle.revoke(conn, 999, actor="admin", now=utcnow())


async def test_rotation_gives_a_like_key_and_the_old_one_a_grace_period(db: Database) -> None:
    old = await create(db)
    now = utcnow()
    async with db.write() as conn:
        new = await key_lifecycle.rotate(
            conn, old.key_id, grace=timedelta(hours=2), actor="cli", now=now
        )
    assert new.key_id != old.key_id and new.key != old.key
    old_row, new_row = await row(db, old.key_id), await row(db, new.key_id)
    assert old_row["replaced_by"] == new.key_id
    assert abs(as_utc(old_row["expires_at"]) - (now + timedelta(hours=2))) < timedelta(seconds=1)
    assert (new_row["codes"], new_row["roles"], new_row["name"]) == (
        old_row["codes"],
        old_row["roles"],
        old_row["name"],
    )
    assert new_row["expires_at"] is None
    cache = cache_over(db)
    assert key_lifecycle.key_state(old_row, now) == "rotated"
    await cache.authenticate(old.key, now=now + timedelta(hours=1))  # in its grace period
    with pytest.raises(KeyExpired):
        await cache.authenticate(old.key, now=now + timedelta(hours=2))
    await cache.authenticate(new.key, now=now + timedelta(days=30))
    with pytest.raises(ActionNotAllowed, match="already rotated"):
        async with db.write() as conn:
            await key_lifecycle.rotate(conn, old.key_id, grace=timedelta(0), actor="cli", now=now)


async def test_rotation_never_lengthens_a_key_life(db: Database) -> None:
    soon = utcnow() + timedelta(minutes=10)
    old = await create(db, soon)
    async with db.write() as conn:
        await key_lifecycle.rotate(
            conn, old.key_id, grace=timedelta(hours=24), actor="cli", now=utcnow()
        )
    assert abs(as_utc((await row(db, old.key_id))["expires_at"]) - soon) < timedelta(seconds=1)


async def test_key_changes_are_audited_in_the_chain(db: Database) -> None:
    old = await create(db)
    async with db.write() as conn:
        new = await key_lifecycle.rotate(
            conn, old.key_id, grace=timedelta(0), actor="admin", now=utcnow()
        )
    async with db.write() as conn:
        await key_lifecycle.revoke(conn, new.key_id, actor="admin", now=utcnow())
    async with db.read() as conn:
        log = list(reversed(await audit.log_page(conn, 10)))
        assert [(r["action"], r["subject"], r["actor"]) for r in log] == [
            ("key.create", f"key {old.key_id}", "cli"),
            ("key.create", f"key {new.key_id}", "admin"),
            ("key.rotate", f"key {old.key_id}", "admin"),
            ("key.revoke", f"key {new.key_id}", "admin"),
        ]
        assert log[1]["detail"]["replaces"] == old.key_id
        assert (await check(audit.chain(conn))).ok


async def test_uses_are_written_behind_the_requests_and_never_move_back(db: Database) -> None:
    first, second = await create(db), await create(db)
    cache = cache_over(db)
    recorder = KeyUseRecorder(db, cache, interval_seconds=3600)
    assert await recorder.flush() == 0  # nothing used: no write at all
    t1 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    for n in range(100):
        await cache.authenticate(first.key, now=t1 + timedelta(seconds=n))
    await cache.authenticate(second.key, now=t1)
    assert (await row(db, first.key_id))["last_used_at"] is None  # not per request
    assert await recorder.flush() == 2
    assert as_utc((await row(db, first.key_id))["last_used_at"]) == t1 + timedelta(seconds=99)
    # another process wrote a later use first: an earlier note does not move it back
    await cache.authenticate(first.key, now=t1 + timedelta(seconds=5))
    assert await recorder.flush() == 1
    assert as_utc((await row(db, first.key_id))["last_used_at"]) == t1 + timedelta(seconds=99)
    assert as_utc((await row(db, second.key_id))["last_used_at"]) == t1


async def test_the_recorder_writes_on_its_interval_and_when_stopped(db: Database) -> None:
    issued = await create(db)
    cache = cache_over(db)
    recorder = KeyUseRecorder(db, cache, interval_seconds=0.05)
    await recorder.start()
    try:
        await cache.authenticate(issued.key)
        deadline = time.monotonic() + 5
        while (await row(db, issued.key_id))["last_used_at"] is None:
            assert time.monotonic() < deadline, "the interval's write never came"
            await asyncio.sleep(0.02)
    finally:
        await recorder.stop()
    slow = KeyUseRecorder(db, cache, interval_seconds=3600)
    await slow.start()
    later = utcnow() + timedelta(minutes=1)
    await cache.authenticate(issued.key, now=later)
    await slow.stop()  # the shutdown write
    assert as_utc((await row(db, issued.key_id))["last_used_at"]) == later


async def test_uses_that_could_not_be_written_are_kept(db: Database) -> None:
    issued = await create(db)
    cache = cache_over(db)
    when = utcnow()
    await cache.authenticate(issued.key, now=when)

    class Unreachable:
        @asynccontextmanager
        async def write(self) -> AsyncIterator[None]:
            raise ServiceUnavailable("database unavailable, retry later")
            yield

    with pytest.raises(ServiceUnavailable):
        await KeyUseRecorder(Unreachable(), cache, 60).flush()  # type: ignore[arg-type]
    assert await KeyUseRecorder(db, cache, 60).flush() == 1
    assert as_utc((await row(db, issued.key_id))["last_used_at"]) == when
