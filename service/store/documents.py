"""Document rows: every accepted version of every document, current or not."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.tables import documents

Row = dict[str, Any]


async def by_guid(conn: AsyncConnection, sender: str, kind: str, guid: str) -> Row | None:
    row = (
        (
            await conn.execute(
                select(
                    documents.c.id,
                    documents.c.digest,
                    documents.c.return_status,
                    documents.c.bundle_id,
                ).where(
                    documents.c.sender == sender, documents.c.kind == kind, documents.c.guid == guid
                )
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def insert_document(conn: AsyncConnection, **values: Any) -> int:
    result = await conn.execute(insert(documents).values(**values).returning(documents.c.id))
    return int(result.scalar_one())


async def set_status(conn: AsyncConnection, doc_id: int, status: str) -> None:
    await conn.execute(update(documents).where(documents.c.id == doc_id).values(status=status))


async def attach(conn: AsyncConnection, doc_id: int, bundle_id: int | None) -> None:
    await conn.execute(
        update(documents).where(documents.c.id == doc_id).values(bundle_id=bundle_id)
    )


async def latest_version(conn: AsyncConnection, where: Any) -> Row | None:
    """The newest version (by appTime, then arrival) among the rows ``where`` selects."""
    row = (
        (
            await conn.execute(
                select(documents.c.id, documents.c.app_time, documents.c.status)
                .where(where)
                .order_by(documents.c.app_time.desc(), documents.c.id.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def in_bundle(bundle_id: int, kind: str) -> Any:
    return and_(documents.c.bundle_id == bundle_id, documents.c.kind == kind)


def waybill(logistics_code: str, logistics_no: str) -> Any:
    return and_(
        documents.c.kind == "logistics",
        documents.c.logistics_code == logistics_code,
        documents.c.logistics_no == logistics_no,
    )


async def current_in_bundle(conn: AsyncConnection, bundle_id: int) -> list[Row]:
    rows = (
        (
            await conn.execute(
                select(documents)
                .where(documents.c.bundle_id == bundle_id, documents.c.status == "current")
                .order_by(documents.c.id)
            )
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


async def all_in_bundle(conn: AsyncConnection, bundle_id: int) -> list[Row]:
    rows = (
        (
            await conn.execute(
                select(documents).where(documents.c.bundle_id == bundle_id).order_by(documents.c.id)
            )
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


async def current_waybill(
    conn: AsyncConnection, logistics_code: str, logistics_no: str
) -> Row | None:
    row = (
        (
            await conn.execute(
                select(documents.c.id, documents.c.bundle_id, documents.c.order_no).where(
                    waybill(logistics_code, logistics_no), documents.c.status == "current"
                )
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def waiting_waybills_for_order(conn: AsyncConnection, order_no: str) -> list[int]:
    """Import waybills not attached to any bundle that name ``order_no``."""
    rows = (
        (
            await conn.execute(
                select(documents.c.id).where(
                    documents.c.kind == "logistics",
                    documents.c.direction == "I",
                    documents.c.order_no == order_no,
                    documents.c.bundle_id.is_(None),
                    documents.c.status == "current",
                )
            )
        )
        .scalars()
        .all()
    )
    return [int(r) for r in rows]
