"""The receipts feed (SPEC §10): every receipt issued to an enterprise code, in ``seq`` order.

Seqs come from their own counter row, taken in the issuing transaction like the manifest's
(``manifest.reserve_seqs``): gapless and visible strictly in order, so a reader by cursor never
skips a receipt that commits late. On PostgreSQL the reservation notifies the receipts'
channel (``manifest.RECEIPTS_CHANNEL``), which wakes the receipts feed's long polls in every
process, and those only.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.manifest import RECEIPTS_CHANNEL, append_rows_pg, reserve_seqs
from service.store.tables import receipts

SEQ_COUNTER = "receipt_seq"


async def issue_many(conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
    """Append receipts in list order (each a ``receipts`` row without its seq, all with the
    same columns); their seqs."""
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        # the reservation and the insert in one statement, its text the same for any count
        return await append_rows_pg(conn, receipts, SEQ_COUNTER, rows, RECEIPTS_CHANNEL)
    seqs = await reserve_seqs(conn, len(rows), SEQ_COUNTER, RECEIPTS_CHANNEL)
    await conn.execute(insert(receipts), [{"seq": s, **r} for s, r in zip(seqs, rows, strict=True)])
    return seqs


async def read_after(
    conn: AsyncConnection, after: int, limit: int, recipients: Collection[str]
) -> list[dict[str, Any]]:
    """Receipts with ``seq > after`` issued to any of ``recipients``, oldest first."""
    stmt = (
        select(receipts)
        .where(receipts.c.seq > after, receipts.c.recipient.in_(list(recipients)))
        .order_by(receipts.c.seq)
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]


async def max_seq(conn: AsyncConnection) -> int:
    value = (await conn.execute(select(func.max(receipts.c.seq)))).scalar_one_or_none()
    return int(value or 0)
