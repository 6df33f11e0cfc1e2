"""The manifest outbox: decisions in ``seq`` order, read by cursor."""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection
from functools import cache
from typing import Any

from sqlalchemy import Table, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store import pg
from service.store.dialect import insert_ignore
from service.store.tables import counters, manifest

SEQ_COUNTER = "manifest_seq"


# PostgreSQL channel told of every commit that appends manifest entries (service processes
# listen on it to wake their long polls and relays; see queue/wakeups.py). The payload names
# the process that committed, which already woke its own polls and ignores its own echo.
CHANNEL = "sandan_manifest"
# The receipts feed's (store/receipts.py): every intake batch issues receipts, and waking the
# manifest's polls and relays in every process for each of them would make them re-read
# once per batch for nothing.
RECEIPTS_CHANNEL = "sandan_receipts"
_token: tuple[int, str] | None = None


def process_token() -> str:
    """This process's name on ``CHANNEL``; a forked child gets its own."""
    global _token
    if _token is None or _token[0] != os.getpid():
        _token = (os.getpid(), f"{os.getpid()}-{uuid.uuid4().hex}")
    return _token[1]


# One statement: the counter created at ``count`` or moved on by it, and the notification.
RESERVE_SQL = (
    "INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) "
    "DO UPDATE SET value = counters.value + EXCLUDED.value "
    "RETURNING value, pg_notify($3, $4)"
)


async def reserve_seqs(
    conn: AsyncConnection, count: int, counter: str = SEQ_COUNTER, channel: str = CHANNEL
) -> list[int]:
    """``count`` consecutive seqs of ``counter`` (the manifest's, or another feed's).

    Taken from a counter row updated in the deciding transaction: the row lock is held until
    commit, so entries become visible strictly in ``seq`` order and a reader that has seen
    ``seq`` N can never later find an N-1 committed behind its back. On PostgreSQL the same
    statement queues a notification on ``CHANNEL``, delivered when (and only if) the
    transaction commits.
    """
    if conn.dialect.name == "postgresql":
        found = await pg.fetch(conn, RESERVE_SQL, counter, count, channel, process_token())
        last = int(found[0]["value"])
        return list(range(last - count + 1, last + 1))
    await conn.execute(insert_ignore(conn, counters, ["name"]).values(name=counter, value=0))
    returning: list[Any] = [counters.c.value]
    if conn.dialect.name == "postgresql":
        returning.append(func.pg_notify(channel, process_token()))
    result = await conn.execute(
        update(counters)
        .where(counters.c.name == counter)
        .values(value=counters.c.value + count)
        .returning(*returning)
    )
    last = int(result.scalar_one())
    return list(range(last - count + 1, last + 1))


async def next_seq(conn: AsyncConnection) -> int:
    """The next manifest ``seq`` (see ``reserve_seqs``)."""
    return (await reserve_seqs(conn, 1))[0]


async def append_many(conn: AsyncConnection, entries: list[dict[str, Any]]) -> list[int]:
    """Append entries in list order; returns their seqs."""
    if not entries:
        return []
    if conn.dialect.name == "postgresql":
        return await append_rows_pg(conn, manifest, SEQ_COUNTER, entries)
    seqs = await reserve_seqs(conn, len(entries))
    rows = [{"seq": s, **e} for s, e in zip(seqs, entries, strict=True)]
    await conn.execute(insert(manifest), rows)
    return seqs


@cache
def _append_sql(table: Table, columns: tuple[str, ...]) -> str:
    """``reserve_seqs`` and the insert in one statement: the counter moves on by the number
    of rows (row-locked until commit, notifying ``CHANNEL``), and row n of the arrays gets
    seq ``last - count + n``."""
    names = ", ".join(f'"{c}"' for c in columns)
    return (
        f"WITH c AS ({RESERVE_SQL}) "
        f'INSERT INTO {table.name} ("seq", {names}) '
        f"SELECT (SELECT value FROM c) - $2::bigint + u.ord_, {pg.select_list(table, columns)} "
        f"FROM {pg.unnest(table, columns, first=5)} ORDER BY u.ord_ RETURNING seq"
    )


async def append_rows_pg(
    conn: AsyncConnection,
    table: Table,
    counter: str,
    rows: list[dict[str, Any]],
    channel: str = CHANNEL,
) -> list[int]:
    """Rows of a feed keyed by ``seq`` (the manifest, the receipts) appended in list order
    with seqs of ``counter``, in one statement on PostgreSQL; their seqs."""
    columns = tuple(c.name for c in table.c if c.name != "seq" and c.name in rows[0])
    if any(r.keys() != rows[0].keys() for r in rows):
        raise ValueError(f"{table.name} rows of one append must carry the same fields")
    complete = [{c: r[c] for c in columns} for r in rows]
    found = await pg.fetch(
        conn,
        _append_sql(table, columns),
        counter,
        len(rows),
        channel,
        process_token(),
        *pg.columns_of(table, complete, columns),
    )
    return sorted(int(r["seq"]) for r in found)


async def append(conn: AsyncConnection, **values: Any) -> int:
    seq = await next_seq(conn)
    await conn.execute(insert(manifest).values(seq=seq, **values))
    return seq


def _visible_to(codes: Collection[str]) -> Any:
    return or_(
        manifest.c.ebp_code.in_(codes),
        manifest.c.ebc_code.in_(codes),
        manifest.c.agent_code.in_(codes),
        manifest.c.pay_code.in_(codes),
        manifest.c.logistics_code.in_(codes),
        manifest.c.area_code.in_(codes),
    )


async def read_after(
    conn: AsyncConnection, after: int, limit: int, codes: Collection[str] | None
) -> list[dict[str, Any]]:
    """Entries with ``seq > after`` that ``codes`` may see (``None``: everything)."""
    stmt = select(manifest).where(manifest.c.seq > after)
    if codes is not None:
        stmt = stmt.where(_visible_to(codes))
    rows = (await conn.execute(stmt.order_by(manifest.c.seq).limit(limit))).mappings().all()
    return [dict(r) for r in rows]


async def max_seq(conn: AsyncConnection) -> int:
    value = (await conn.execute(select(func.max(manifest.c.seq)))).scalar_one_or_none()
    return int(value or 0)


async def for_bundle(conn: AsyncConnection, bundle_id: int) -> list[dict[str, Any]]:
    rows = (
        (
            await conn.execute(
                select(manifest).where(manifest.c.bundle_id == bundle_id).order_by(manifest.c.seq)
            )
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]
