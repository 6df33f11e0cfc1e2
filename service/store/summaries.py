"""Export summaries (汇总申报, SPEC §10): the summaries, the inventories each holds, and the
bundles a summary may take."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.dialect import for_update, insert_ignore
from service.store.tables import bundles, documents, summaries, summary_inventories

Row = dict[str, Any]


def _key_order(conn: AsyncConnection) -> tuple[Any, Any]:
    """The bundles' key order as every batch locks them: byte order, as Python sorts keys
    (``store.bundles``); SQLite compares bytes already."""
    if conn.dialect.name == "postgresql":
        return bundles.c.ebp_code.collate("C"), bundles.c.order_no.collate("C")
    return bundles.c.ebp_code, bundles.c.order_no


async def bundles_by_invt_no(conn: AsyncConnection, invt_nos: Iterable[str]) -> dict[str, Row]:
    """invtNo -> its bundle, locked (in key order, as every batch locks bundles): a cancel
    in another process waits for the summary that read the bundle as released."""
    wanted = sorted(set(invt_nos))
    if not wanted:
        return {}
    stmt = select(bundles).where(bundles.c.invt_no.in_(wanted)).order_by(*_key_order(conn))
    rows = (await conn.execute(for_update(conn, stmt))).mappings().all()
    return {str(r["invt_no"]): dict(r) for r in rows}


async def released_between(
    conn: AsyncConnection,
    ebc_code: str,
    start: datetime,
    end: datetime,
    states: Collection[str],
    *,
    lock: bool = False,
) -> list[Row]:
    """The export bundles of ``ebc_code`` in ``states`` decided (released) in
    [``start``, ``end``] that no summary holds yet, by invtNo."""
    # in UTC, as the timestamps are stored (SQLite keeps them as UTC text)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    taken = select(summary_inventories.c.bundle_id).where(
        summary_inventories.c.bundle_id == bundles.c.id
    )
    stmt = (
        select(bundles)
        .where(
            bundles.c.ebc_code == ebc_code,
            bundles.c.direction == "E",
            bundles.c.invt_no.is_not(None),
            bundles.c.state.in_(sorted(states)),
            bundles.c.decided_at >= start,
            bundles.c.decided_at <= end,
            ~taken.exists(),
        )
        .order_by(*_key_order(conn))
    )
    if lock:
        stmt = for_update(conn, stmt)
    return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]


async def summarised(conn: AsyncConnection, invt_nos: Iterable[str]) -> dict[str, str]:
    """invtNo -> the sumNo of the accepted summary already holding it."""
    wanted = sorted(set(invt_nos))
    if not wanted:
        return {}
    stmt = (
        select(summary_inventories.c.invt_no, summaries.c.sum_no)
        .join(summaries, summaries.c.id == summary_inventories.c.summary_id)
        .where(summary_inventories.c.invt_no.in_(wanted))
    )
    return {str(r[0]): str(r[1]) for r in (await conn.execute(stmt)).all()}


async def create(conn: AsyncConnection, row: Row) -> int:
    """A new summary row (without its sumNo); its id."""
    result = await conn.execute(insert(summaries).values(**row).returning(summaries.c.id))
    return int(result.scalar_one())


async def claim(conn: AsyncConnection, summary_id: int, held: list[tuple[str, int]]) -> set[str]:
    """Put the (invtNo, bundle id) pairs into the summary; the invtNos it got. One that
    another accepted summary holds is not got: on PostgreSQL, when that summary is still
    being written by another process, this waits for it to commit or roll back."""
    if not held:
        return set()
    stmt = insert_ignore(conn, summary_inventories, ["invt_no"]).returning(
        summary_inventories.c.invt_no
    )
    got: set[str] = set()
    for invt_no, bundle_id in sorted(held):
        result = await conn.execute(
            stmt.values(summary_id=summary_id, invt_no=invt_no, bundle_id=bundle_id)
        )
        got.update(str(r[0]) for r in result.all())
    return got


async def discard(conn: AsyncConnection, summary_id: int) -> None:
    """Remove a summary that is not accepted after all, with the inventories it got."""
    await conn.execute(
        delete(summary_inventories).where(summary_inventories.c.summary_id == summary_id)
    )
    await conn.execute(delete(summaries).where(summaries.c.id == summary_id))


async def complete(conn: AsyncConnection, summary_id: int, sum_no: str, document_id: int) -> None:
    """Give the accepted summary its sumNo and the document row it came in."""
    await conn.execute(
        update(summaries)
        .where(summaries.c.id == summary_id)
        .values(sum_no=sum_no, document_id=document_id)
    )


async def get(conn: AsyncConnection, sum_no: str) -> Row | None:
    row = (
        (await conn.execute(select(summaries).where(summaries.c.sum_no == sum_no)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def inventories_of(conn: AsyncConnection, summary_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in summary_ids}
    if not summary_ids:
        return out
    stmt = (
        select(summary_inventories.c.summary_id, summary_inventories.c.invt_no)
        .where(summary_inventories.c.summary_id.in_(summary_ids))
        .order_by(summary_inventories.c.invt_no)
    )
    for summary_id, invt_no in (await conn.execute(stmt)).all():
        out[int(summary_id)].append(str(invt_no))
    return out


async def listing(
    conn: AsyncConnection, codes: Collection[str] | None, limit: int = 200
) -> list[Row]:
    """The newest summaries first; ``codes``: only those whose ebc or agent is one of them
    (None: all, for operators)."""
    stmt = select(summaries).where(summaries.c.sum_no.is_not(None))
    if codes is not None:
        wanted = sorted(codes)
        stmt = stmt.where(summaries.c.ebc_code.in_(wanted) | summaries.c.agent_code.in_(wanted))
    stmt = stmt.order_by(summaries.c.id.desc()).limit(limit)
    return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]


async def sum_no_of_bundle(conn: AsyncConnection, bundle_id: int) -> str | None:
    stmt = (
        select(summaries.c.sum_no)
        .join(
            summary_inventories,
            and_(
                summary_inventories.c.summary_id == summaries.c.id,
                summary_inventories.c.bundle_id == bundle_id,
            ),
        )
        .limit(1)
    )
    value = (await conn.execute(stmt)).scalar_one_or_none()
    return str(value) if value is not None else None


async def sum_no_of_document(conn: AsyncConnection, sender: str, guid: str) -> str | None:
    """The sumNo of the summary that ``sender``'s summary document ``guid`` made."""
    stmt = (
        select(summaries.c.sum_no)
        .join(documents, documents.c.id == summaries.c.document_id)
        .where(
            documents.c.sender == sender,
            documents.c.kind == "summary",
            documents.c.guid == guid,
        )
        .limit(1)
    )
    value = (await conn.execute(stmt)).scalar_one_or_none()
    return str(value) if value is not None else None
