"""Document rows: every accepted version of every document, current or not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store import bulk, pg
from service.store.dialect import rows_in
from service.store.tables import documents

Row = dict[str, Any]


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
            ).where(rows_in(conn, (documents.c.sender, documents.c.kind, documents.c.guid), chunk))
        )
        for r in rows.mappings():
            out[(r["sender"], r["kind"], r["guid"])] = {
                "digest": r["digest"],
                "return_status": r["return_status"],
            }
    return out


_WAYBILL_COLUMNS = (
    documents.c.id,
    documents.c.kind,
    documents.c.direction,
    documents.c.bundle_id,
    documents.c.order_no,
    documents.c.logistics_code,
    documents.c.logistics_no,
    documents.c.app_time,
    documents.c.status,
)


_WAYBILL_LIST = ", ".join(f"d.{c.name}" for c in _WAYBILL_COLUMNS)
# Every branch selects the same columns of ``documents``; ``src`` says which read a row
# answers (a row may answer two). The reads by key are index lookups one key at a time
# (``LATERAL`` behind ``OFFSET 0``, which the planner cannot flatten into a join): on a table
# not analysed yet (a new database filling up faster than autovacuum's minute), it planned
# the bundle ids' read as a scan of every document, growing with the table.
_READ_LIST = (
    "d.id, d.sender, d.kind, d.guid, d.digest, d.return_status, d.direction, d.bundle_id, "
    "d.order_no, d.logistics_code, d.logistics_no, d.app_time, d.status"
)


def _by_keys(src: int, keys: str, match: str) -> str:
    """A read branch that looks documents up one key of ``keys`` (an ``unnest`` as ``k``) at
    a time: ``match`` relates ``d`` to ``k``."""
    return (
        f"SELECT {src} AS src, {_READ_LIST} FROM {keys} CROSS JOIN LATERAL "
        f"(SELECT {_READ_LIST} FROM documents AS d WHERE {match} OFFSET 0) AS d"
    )


_BATCH_READS = " UNION ALL ".join(
    (
        _by_keys(
            1,
            "unnest($1::varchar[], $2::varchar[], $3::varchar[]) AS k(sender, kind, guid)",
            "d.sender = k.sender AND d.kind = k.kind AND d.guid = k.guid",
        ),
        _by_keys(
            2, "unnest($4::bigint[]) AS k(id)", "d.bundle_id = k.id AND d.kind <> 'logistics'"
        ),
        _by_keys(
            3,
            "unnest($5::varchar[], $6::varchar[]) AS k(code, no)",
            "d.kind = 'logistics' AND d.logistics_code = k.code AND d.logistics_no = k.no",
        ),
        f"SELECT 4, {_READ_LIST} FROM documents AS d WHERE d.kind = 'logistics' "
        "AND d.direction = 'I' AND d.order_no = ANY($7::varchar[]) AND d.bundle_id IS NULL "
        "AND d.status = 'current'",
    )
)
_WAITING = (
    f"SELECT {_WAYBILL_LIST} FROM documents AS d WHERE d.kind = 'logistics' "
    "AND d.direction = 'I' AND d.order_no = ANY($1::varchar[]) AND d.bundle_id IS NULL "
    "AND d.status = 'current'"
)


async def waybill_versions(conn: AsyncConnection, numbers: list[tuple[str, str]]) -> list[Row]:
    """Every version of the waybills ``numbers`` (logisticsCode, logisticsNo)."""
    out: list[Row] = []
    for start in range(0, len(numbers), 1000):
        rows = await conn.execute(
            select(*_WAYBILL_COLUMNS).where(
                documents.c.kind == "logistics",
                rows_in(
                    conn,
                    (documents.c.logistics_code, documents.c.logistics_no),
                    numbers[start : start + 1000],
                ),
            )
        )
        out += [dict(r) for r in rows.mappings()]
    return out


async def waiting_waybills(conn: AsyncConnection, order_nos: list[str]) -> list[Row]:
    """Current import waybills that no bundle holds and that name one of ``order_nos``."""
    out: list[Row] = []
    if conn.dialect.name == "postgresql":
        return await pg.fetch(conn, _WAITING, list(order_nos)) if order_nos else out
    for start in range(0, len(order_nos), 1000):
        rows = await conn.execute(
            select(*_WAYBILL_COLUMNS).where(
                documents.c.kind == "logistics",
                documents.c.direction == "I",
                documents.c.order_no.in_(order_nos[start : start + 1000]),
                documents.c.bundle_id.is_(None),
                documents.c.status == "current",
            )
        )
        out += [dict(r) for r in rows.mappings()]
    return out


@dataclass(slots=True)
class BatchReads:
    """What an intake batch reads of the stored documents before applying its own."""

    # (sender, kind, guid) -> digest and returnStatus (``by_guids``)
    known: dict[tuple[str, str, str], Row]
    # (bundle id, kind) -> newest version (``latest_in_bundles``)
    latest: dict[tuple[int, str], Row]
    # every version of the batch's waybill numbers (``waybill_versions``)
    waybills: list[Row]
    # import waybills waiting for the batch's orderNos (``waiting_waybills``)
    waiting: list[Row]


async def read_for_batch(
    conn: AsyncConnection,
    guids: list[tuple[str, str, str]],
    bundle_ids: list[int],
    numbers: list[tuple[str, str]],
    order_nos: list[str],
) -> BatchReads:
    """The four reads of a batch (``by_guids``, ``latest_in_bundles``, ``waybill_versions``,
    ``waiting_waybills``); on PostgreSQL in one statement, one round trip."""
    if conn.dialect.name != "postgresql":
        return BatchReads(
            await by_guids(conn, guids),
            await latest_in_bundles(conn, bundle_ids),
            await waybill_versions(conn, numbers),
            await waiting_waybills(conn, order_nos),
        )
    unique = sorted(set(guids))
    reads = BatchReads({}, {}, [], [])
    rows = await pg.fetch(
        conn,
        _BATCH_READS,
        [g[0] for g in unique],
        [g[1] for g in unique],
        [g[2] for g in unique],
        list(bundle_ids),
        [n[0] for n in numbers],
        [n[1] for n in numbers],
        list(order_nos),
    )
    for r in rows:
        source = r["src"]
        if source == 1:
            reads.known[(r["sender"], r["kind"], r["guid"])] = {
                "digest": r["digest"],
                "return_status": r["return_status"],
            }
        elif source == 2:
            _keep_newest(reads.latest, r)
        else:
            waybill = {c.name: r[c.name] for c in _WAYBILL_COLUMNS}
            (reads.waybills if source == 3 else reads.waiting).append(waybill)
    return reads


async def insert_many(conn: AsyncConnection, rows: list[Row]) -> list[int]:
    """Insert document rows (their ``id`` is ignored); returns the new ids in list order."""
    if conn.dialect.name == "postgresql":
        returned = await pg.insert_rows(
            conn, documents, rows, _INSERT_COLUMNS, returning=("id", "sender", "kind", "guid")
        )
        ids = {(r["sender"], r["kind"], r["guid"]): int(r["id"]) for r in returned}
        return [ids[(row["sender"], row["kind"], row["guid"])] for row in rows]
    params = [{k: v for k, v in row.items() if k != "id"} for row in rows]
    result = await conn.execute(
        insert(documents).returning(documents.c.id, sort_by_parameter_order=True), params
    )
    return [int(i) for i in result.scalars().all()]


_INSERT_COLUMNS = tuple(c.name for c in documents.c if c.name != "id")


async def update_many(conn: AsyncConnection, changes: list[tuple[int, Row]]) -> None:
    """Column updates of stored rows (see ``bulk.update_by_id``)."""
    if conn.dialect.name == "postgresql":
        await pg.update_rows(conn, documents, changes)
        return
    await bulk.update_by_id(conn, documents, changes)


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
            _keep_newest(out, r)
    return out


def _keep_newest(out: dict[tuple[int, str], Row], r: Any) -> None:
    key = (int(r["bundle_id"]), r["kind"])
    best = out.get(key)
    if best is None or (r["app_time"], r["id"]) > (best["app_time"], best["id"]):
        out[key] = {"id": r["id"], "app_time": r["app_time"], "status": r["status"]}


def in_bundle(bundle_id: int, kind: str) -> Any:
    return and_(documents.c.bundle_id == bundle_id, documents.c.kind == kind)


def waybill(logistics_code: str, logistics_no: str) -> Any:
    return and_(
        documents.c.kind == "logistics",
        documents.c.logistics_code == logistics_code,
        documents.c.logistics_no == logistics_no,
    )


async def current_in_bundle(conn: AsyncConnection, bundle_id: int) -> list[Row]:
    return (await current_in_bundles(conn, [bundle_id]))[bundle_id]


# A stored document's columns without its bodies (the JSON and the raw XML), which the engine
# reads only for documents it has not decoded already.
_HEAD_COLUMNS = tuple(c for c in documents.c if c.name not in ("data", "raw_xml"))


async def current_in_bundles(
    conn: AsyncConnection, ids: list[int], *, bodies: bool = True
) -> dict[int, list[Row]]:
    """``current_in_bundle`` for many bundles in one query; without ``bodies``, the rows
    lack ``data`` and ``raw_xml`` (``data_of`` reads the data of those that need it)."""
    out: dict[int, list[Row]] = {bundle_id: [] for bundle_id in ids}
    if conn.dialect.name == "postgresql":
        if ids:
            sql = _CURRENT_WITH_BODIES if bodies else _CURRENT_HEADS
            for found in await pg.fetch(conn, sql, list(ids)):
                out[int(found["bundle_id"])].append(found)
        return out
    columns = (documents,) if bodies else _HEAD_COLUMNS
    rows = (
        (
            await conn.execute(
                select(*columns)
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


_CURRENT = "FROM documents WHERE bundle_id = ANY($1::bigint[]) AND status = 'current' ORDER BY id"
# columns named, never ``*`` (see store/bundles.py)
_CURRENT_WITH_BODIES = f"SELECT {', '.join(c.name for c in documents.c)} {_CURRENT}"
_CURRENT_HEADS = f"SELECT {', '.join(c.name for c in _HEAD_COLUMNS)} {_CURRENT}"


async def data_of(conn: AsyncConnection, ids: list[int]) -> dict[int, Any]:
    """The stored JSON of the documents ``ids``."""
    if not ids:
        return {}
    if conn.dialect.name == "postgresql":
        found = await pg.fetch(
            conn, "SELECT id, data FROM documents WHERE id = ANY($1::bigint[])", list(ids)
        )
        return {int(r["id"]): r["data"] for r in found}
    rows = await conn.execute(
        select(documents.c.id, documents.c.data).where(documents.c.id.in_(ids))
    )
    return {int(doc_id): data for doc_id, data in rows}


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
