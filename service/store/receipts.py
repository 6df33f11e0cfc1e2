"""The receipts feed (SPEC §10): every receipt issued to an enterprise code, in ``seq`` order.

Seqs come from their own counter row, taken in the issuing transaction like the manifest's
(``manifest.reserve_seqs``): gapless and visible strictly in order, so a reader by cursor never
skips a receipt that commits late. On PostgreSQL the reservation notifies the receipts'
channel (``manifest.RECEIPTS_CHANNEL``), which wakes the receipts feed's long polls in every
process, and those only.

Receipts are stored in runs (``tables.receipt_runs``): consecutive receipts of one issue to
one recipient are one row with their seqs first..last and one item each. An intake batch of
five messages of 100 documents writes five rows instead of 500, inside the window in which
the counter row is locked. Readers get one row per receipt, as if stored one by one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from functools import cache
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store import pg
from service.store.manifest import RECEIPTS_CHANNEL, RESERVE_SQL, process_token, reserve_seqs
from service.store.tables import receipt_runs

Row = dict[str, Any]

SEQ_COUNTER = "receipt_seq"
# What each receipt of a run keeps of its own; recipient and created_at are the run's.
ITEM_FIELDS = (
    "message_type",
    "guid",
    "invt_no",
    "bundle_id",
    "return_status",
    "return_time",
    "return_info",
    "fields",
)
_RUN_COLUMNS = ("first_seq", "last_seq", "recipient", "items", "created_at")


async def issue_many(conn: AsyncConnection, rows: list[Row]) -> list[int]:
    """Append receipts in list order (each a row of ``ITEM_FIELDS`` with its ``recipient``
    and ``created_at``); their seqs."""
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        # the reservation and the insert in one statement, the runs numbered from 1 on and
        # moved onto the reserved seqs in the SQL
        runs = list(_runs(rows, 1))
        found = await pg.fetch(
            conn,
            _issue_sql(),
            SEQ_COUNTER,
            len(rows),
            RECEIPTS_CHANNEL,
            process_token(),
            *pg.columns_of(receipt_runs, runs, _RUN_COLUMNS),
        )
        last = int(found[0]["last_value"])
        return list(range(last - len(rows) + 1, last + 1))
    seqs = await reserve_seqs(conn, len(rows), SEQ_COUNTER, RECEIPTS_CHANNEL)
    await conn.execute(insert(receipt_runs), list(_runs(rows, seqs[0])))
    return seqs


@cache
def _issue_sql() -> str:
    """``reserve_seqs`` and the insert of the runs in one statement: ``$2`` seqs reserved, and
    run positions 1..$2 in the arrays become ``last - $2 + position``."""
    base = "(SELECT value FROM c) - $2::bigint"
    return (
        f"WITH c AS ({RESERVE_SQL}) "
        "INSERT INTO receipt_runs (first_seq, last_seq, recipient, items, created_at) "
        f"SELECT {base} + u.first_seq, {base} + u.last_seq, u.recipient, u.items::json, "
        f"u.created_at FROM {pg.unnest(receipt_runs, _RUN_COLUMNS, first=5)} "
        "RETURNING (SELECT value FROM c) AS last_value"
    )


def _runs(rows: list[Row], first_seq: int) -> Iterator[Row]:
    """``rows`` cut into runs of one recipient each, numbered from ``first_seq`` on."""
    start = 0
    for end in range(1, len(rows) + 1):
        if end < len(rows) and rows[end]["recipient"] == rows[start]["recipient"]:
            continue
        yield {
            "first_seq": first_seq + start,
            "last_seq": first_seq + end - 1,
            "recipient": rows[start]["recipient"],
            "items": [{k: row[k] for k in ITEM_FIELDS} for row in rows[start:end]],
            "created_at": rows[start]["created_at"],
        }
        start = end


async def read_after(
    conn: AsyncConnection, after: int, limit: int, recipients: Collection[str] | None
) -> list[Row]:
    """Receipts with ``seq > after`` issued to any of ``recipients`` (``None``: to anyone),
    oldest first, at most ``limit``."""
    stmt = select(receipt_runs).where(receipt_runs.c.last_seq > after)
    if recipients is not None:
        stmt = stmt.where(receipt_runs.c.recipient.in_(list(recipients)))
    # Runs never overlap, so last_seq orders them as first_seq does, along the index; each
    # holds at least one receipt, so ``limit`` runs are enough.
    found = (await conn.execute(stmt.order_by(receipt_runs.c.last_seq).limit(limit))).mappings()
    out: list[Row] = []
    for run in found:
        recipient, created_at = run["recipient"], run["created_at"]
        for offset, item in enumerate(run["items"]):
            seq = run["first_seq"] + offset
            if seq > after:
                out.append({"seq": seq, "recipient": recipient, **item, "created_at": created_at})
    return out[:limit]


async def max_seq(conn: AsyncConnection) -> int:
    value = (await conn.execute(select(func.max(receipt_runs.c.last_seq)))).scalar_one_or_none()
    return int(value or 0)
