"""Document rows: every accepted version of every document, current or not."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, insert, select, tuple_, update
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


async def by_guids(
    conn: AsyncConnection, wanted: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], Row]:
    """``by_guid`` for many (sender, kind, guid) at once: the ones stored, by that triple."""
    out: dict[tuple[str, str, str], Row] = {}
    unique = sorted(set(wanted))
    for start in range(0, len(unique), 1000):
        chunk = unique[start : start + 1000]
        rows = await conn.execute(
            select(
                documents.c.sender,
                documents.c.kind,
                documents.c.guid,
                documents.c.digest,
                documents.c.return_status,
            ).where(tuple_(documents.c.sender, documents.c.kind, documents.c.guid).in_(chunk))
        )
        for r in rows.mappings():
            out[(r["sender"], r["kind"], r["guid"])] = {
                "digest": r["digest"],
                "return_status": r["return_status"],
            }
    return out


# One statement object for every insert: SQLAlchemy compiles it once, not per document.
_INSERT = insert(documents).returning(documents.c.id)


async def insert_document(conn: AsyncConnection, **values: Any) -> int:
    result = await conn.execute(_INSERT, values)
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


async def latest_in_bundles(conn: AsyncConnection, ids: list[int]) -> dict[tuple[int, str], Row]:
    """``latest_version(in_bundle(id, kind))`` for every bundle of ``ids`` and every kind but
    waybills (which move between bundles, so their versions follow the waybill number)."""
    out: dict[tuple[int, str], Row] = {}
    for start in range(0, len(ids), 1000):
        rows = await conn.execute(
            select(
                documents.c.id,
                documents.c.bundle_id,
                documents.c.kind,
                documents.c.app_time,
                documents.c.status,
            ).where(
                documents.c.bundle_id.in_(ids[start : start + 1000]),
                documents.c.kind != "logistics",
            )
        )
        for r in rows.mappings():
            key = (int(r["bundle_id"]), r["kind"])
            best = out.get(key)
            if best is None or (r["app_time"], r["id"]) > (best["app_time"], best["id"]):
                out[key] = {"id": r["id"], "app_time": r["app_time"], "status": r["status"]}
    return out


async def orders_with_waiting_waybills(conn: AsyncConnection, order_nos: list[str]) -> set[str]:
    """Which of ``order_nos`` have import waybills waiting unattached (see below)."""
    out: set[str] = set()
    for start in range(0, len(order_nos), 1000):
        rows = await conn.execute(
            select(documents.c.order_no)
            .distinct()
            .where(
                documents.c.kind == "logistics",
                documents.c.direction == "I",
                documents.c.order_no.in_(order_nos[start : start + 1000]),
                documents.c.bundle_id.is_(None),
                documents.c.status == "current",
            )
        )
        out.update(str(r) for r in rows.scalars())
    return out


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


async def current_in_bundles(conn: AsyncConnection, ids: list[int]) -> dict[int, list[Row]]:
    """``current_in_bundle`` for many bundles in one query."""
    out: dict[int, list[Row]] = {bundle_id: [] for bundle_id in ids}
    rows = (
        (
            await conn.execute(
                select(documents)
                .where(documents.c.bundle_id.in_(ids), documents.c.status == "current")
                .order_by(documents.c.id)
            )
        )
        .mappings()
        .all()
    )
    for r in rows:
        out[int(r["bundle_id"])].append(dict(r))
    return out


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
