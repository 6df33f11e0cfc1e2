"""The relay's position in the manifest, and which relay may move it.

Only one relay at a time copies the manifest to a stream, however many run (every ``sandan
serve`` may run one), and a position moves only past entries the broker acknowledged, so
nothing is ever skipped. One batch is: claim the position, read the entries after it, send
them in ``seq`` order, save the position of the last one acknowledged.

PostgreSQL: the whole batch is one short transaction holding the position row with ``SELECT
... FOR UPDATE SKIP LOCKED``. Another relay finds no row and sleeps. The lock spans the broker
round trips of one batch, but only other relays ever wait for it.

SQLite: a write transaction there blocks every writer of the database, ingest included, and a
batch of broker round trips (or a publish timeout while the broker is down) is far too long
for that. So the position and the entries are read in a read transaction (WAL: no writer
waits), sent outside any transaction, and the position is saved in a short write transaction.
Relays exclude each other with a non-blocking ``flock`` on a file beside the database (SQLite
databases are always local, WAL even requires it): it plays the part of SKIP LOCKED, and the
OS drops it when its process dies.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import utcnow
from service.store import manifest as outbox
from service.store.database import Database
from service.store.dialect import for_update, insert_ignore
from service.store.tables import relay_position

Send = Callable[[dict[str, Any]], Awaitable[None]]


async def ensure(db: Database, name: str) -> None:
    """Create the position row (at 0) unless it exists; a relay calls this before its batches."""
    async with db.write() as conn:
        await conn.execute(
            insert_ignore(conn, relay_position, ["name"]).values(
                name=name, seq=0, updated_at=utcnow()
            )
        )


async def position(conn: AsyncConnection, name: str) -> int:
    stmt = select(relay_position.c.seq).where(relay_position.c.name == name)
    return int((await conn.execute(stmt)).scalar_one_or_none() or 0)


async def lag(conn: AsyncConnection, name: str) -> int:
    """Manifest entries not yet acknowledged by the broker."""
    return max(0, await outbox.max_seq(conn) - await position(conn, name))


async def relay_batch(db: Database, name: str, limit: int, send: Send) -> int | None:
    """Send up to ``limit`` entries after the position, in ``seq`` order, then save it.

    Returns how many entries were sent, or ``None`` when another relay holds the position.
    When ``send`` raises, the position of the entries acknowledged before is still saved and
    the error re-raised; a ``BaseException`` (cancellation, a dying process) saves nothing, and
    the next relay re-sends what this one may already have published.
    """
    if db.is_postgres:
        return await _postgres_batch(db, name, limit, send)
    return await _sqlite_batch(db, name, limit, send)


@dataclass
class _Progress:
    seq: int
    sent: int = 0
    failure: Exception | None = None


async def _send_all(rows: list[dict[str, Any]], send: Send, progress: _Progress) -> None:
    for row in rows:
        try:
            await send(row)
        except Exception as exc:  # keep what the broker acknowledged before it failed
            progress.failure = exc
            return
        progress.seq = int(row["seq"])
        progress.sent += 1


async def _save(conn: AsyncConnection, name: str, seq: int) -> None:
    # Forward only: a position never moves back over entries the broker acknowledged.
    await conn.execute(
        update(relay_position)
        .where(relay_position.c.name == name, relay_position.c.seq < seq)
        .values(seq=seq, updated_at=utcnow())
    )


def _finish(progress: _Progress) -> int:
    if progress.failure is not None:
        raise progress.failure
    return progress.sent


async def _postgres_batch(db: Database, name: str, limit: int, send: Send) -> int | None:
    async with db.write() as conn:
        claim = select(relay_position.c.seq).where(relay_position.c.name == name)
        start = (await conn.execute(for_update(conn, claim, skip_locked=True))).scalar_one_or_none()
        if start is None:  # the row exists (ensure), so someone else holds it
            return None
        rows = await outbox.read_after(conn, int(start), limit, None)
        progress = _Progress(int(start))
        await _send_all(rows, send, progress)
        if progress.sent:
            await _save(conn, name, progress.seq)
    return _finish(progress)


async def _sqlite_batch(db: Database, name: str, limit: int, send: Send) -> int | None:
    with _exclusive(_lock_path(db, name)) as held:
        if not held:
            return None
        async with db.read() as conn:
            start = await position(conn, name)
            rows = await outbox.read_after(conn, start, limit, None)
        progress = _Progress(start)
        await _send_all(rows, send, progress)
        if progress.sent:
            async with db.write() as conn:
                await _save(conn, name, progress.seq)
    return _finish(progress)


def _lock_path(db: Database, name: str) -> str:
    database = make_url(db.url).database
    if not database or database == ":memory:":
        raise ValueError("the relay needs a database file (or PostgreSQL)")
    return f"{database}.relay-{name}.lock"


@contextmanager
def _exclusive(path: str) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` if nobody else does; yields whether it is held."""
    # Never deleted: removing a lock file lets two holders lock two different files.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock
