"""Bundle rows: one per (ebpCode, orderNo)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store import bulk, pg
from service.store.dialect import for_update, insert_ignore, rows_in
from service.store.tables import bundles

Row = dict[str, Any]


async def ensure(
    conn: AsyncConnection, keys: list[tuple[str, str]], now: datetime, deadline: timedelta
) -> dict[tuple[str, str], Row]:
    """Create missing bundles for ``keys`` and lock them all, in key order.

    Locking in one fixed order (ebpCode, orderNo) inside every transaction is what keeps
    concurrent workers from deadlocking on each other's bundles. Two statements however
    many keys: PostgreSQL takes row locks above the sort, so in key order.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    if conn.dialect.name == "postgresql":
        return await _ensure_pg(conn, wanted, now, deadline)
    await conn.execute(
        insert_ignore(conn, bundles, ["ebp_code", "order_no"]),
        [_new_bundle(key, now, deadline) for key in wanted],
    )
    out: dict[tuple[str, str], Row] = {}
    # A bounded IN list per statement: very large batches stay within parameter limits.
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        stmt = (
            select(bundles)
            .where(rows_in(conn, (bundles.c.ebp_code, bundles.c.order_no), chunk))
            .order_by(bundles.c.ebp_code, bundles.c.order_no)
        )
        for row in (await conn.execute(for_update(conn, stmt))).mappings():
            out[(row["ebp_code"], row["order_no"])] = dict(row)
    return out


def _new_bundle(key: tuple[str, str], now: datetime, deadline: timedelta) -> Row:
    return {
        "ebp_code": key[0],
        "order_no": key[1],
        "state": "pending",
        "version": 0,
        "missing": [],
        "findings": [],
        "first_seen_at": now,
        "deadline_at": now + deadline,
    }


_NEW_COLUMNS = (
    "ebp_code",
    "order_no",
    "state",
    "version",
    "missing",
    "findings",
    "first_seen_at",
    "deadline_at",
)


async def _ensure_pg(
    conn: AsyncConnection, wanted: list[tuple[str, str]], now: datetime, deadline: timedelta
) -> dict[tuple[str, str], Row]:
    new = [_new_bundle(key, now, deadline) for key in wanted]
    # One statement creates the missing rows and locks the others: ``DO UPDATE`` (a no-op)
    # row-locks an existing bundle as FOR UPDATE would, in the statement's row order (key
    # order), and RETURNING gives both kinds of row.
    rows = await pg.insert_rows(
        conn,
        bundles,
        new,
        _NEW_COLUMNS,
        conflict="ON CONFLICT (ebp_code, order_no) DO UPDATE SET version = bundles.version",
        returning=_ALL,
    )
    return {(r["ebp_code"], r["order_no"]): r for r in rows}


# Columns named, never ``*``: asyncpg keeps each statement prepared, and a ``*`` whose
# columns change under it (a migration adding one while old processes still serve) fails
# every cached copy instead of going on with the columns it knows.
_ALL = tuple(c.name for c in bundles.c)
_ALL_LIST = ", ".join(f'"{c}"' for c in _ALL)
# The three ways in as one id list: an OR of them (with the waybill pairs as a subquery)
# cannot use the indexes and read the whole table, 64 ms at 300,000 bundles.
_LOCK_RELATED = (
    f"SELECT {_ALL_LIST} FROM bundles WHERE id IN ("
    "SELECT b.id FROM bundles AS b JOIN unnest($1::varchar[], $2::varchar[]) AS k(code, no) "
    "ON b.inv_logistics_code = k.code AND b.inv_logistics_no = k.no "
    "UNION ALL SELECT id FROM bundles WHERE order_no = ANY($3::varchar[]) "
    "UNION ALL SELECT unnest($4::bigint[])) "
    # byte order, as Python sorts the keys that ``ensure`` locks in: one order for both
    'ORDER BY ebp_code COLLATE "C", order_no COLLATE "C" FOR UPDATE'
)


async def get(conn: AsyncConnection, bundle_id: int, *, lock: bool = False) -> Row | None:
    stmt = select(bundles).where(bundles.c.id == bundle_id)
    if lock:
        stmt = for_update(conn, stmt)
    row = (await conn.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def get_by_key(conn: AsyncConnection, ebp_code: str, order_no: str) -> Row | None:
    row = (
        (
            await conn.execute(
                select(bundles).where(
                    bundles.c.ebp_code == ebp_code, bundles.c.order_no == order_no
                )
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def keys_by_invt_no(conn: AsyncConnection, invt_nos: list[str]) -> dict[str, tuple[str, str]]:
    """invtNo -> the (ebpCode, orderNo) of the bundle it was given to, for those that exist.
    An invtNo never moves to another bundle, so this may be read before the bundles are
    locked."""
    wanted = sorted(set(invt_nos))
    if not wanted:
        return {}
    stmt = select(bundles.c.invt_no, bundles.c.ebp_code, bundles.c.order_no).where(
        bundles.c.invt_no.in_(wanted)
    )
    return {str(r[0]): (str(r[1]), str(r[2])) for r in (await conn.execute(stmt)).all()}


async def keys_by_bill_no(
    conn: AsyncConnection, bill_nos: list[str]
) -> dict[str, list[tuple[str, str]]]:
    """billNo -> the (ebpCode, orderNo) of the bundles a master bill tied to it."""
    wanted = sorted(set(bill_nos))
    if not wanted:
        return {}
    stmt = select(bundles.c.bill_no, bundles.c.ebp_code, bundles.c.order_no).where(
        bundles.c.bill_no.in_(wanted)
    )
    out: dict[str, list[tuple[str, str]]] = {}
    for r in (await conn.execute(stmt)).all():
        out.setdefault(str(r[0]), []).append((str(r[1]), str(r[2])))
    return out


async def lock_related(
    conn: AsyncConnection,
    waybills: list[tuple[str, str]],
    order_nos: list[str],
    ids: list[int],
) -> list[Row]:
    """Lock, in key order, the bundles a batch may reach through secondary keys: those
    whose inventory names one of ``waybills``, those with one of ``order_nos``, and ``ids``
    (bundles holding those waybills)."""
    if not (waybills or order_nos or ids):
        return []
    if conn.dialect.name == "postgresql":
        codes = [code for code, _ in waybills]
        nos = [no for _, no in waybills]
        return await pg.fetch(conn, _LOCK_RELATED, codes, nos, list(order_nos), list(ids))
    stmt = (
        select(bundles)
        .where(
            or_(
                tuple_(bundles.c.inv_logistics_code, bundles.c.inv_logistics_no).in_(waybills),
                bundles.c.order_no.in_(order_nos),
                bundles.c.id.in_(ids),
            )
        )
        .order_by(bundles.c.ebp_code, bundles.c.order_no)
    )
    return [dict(r) for r in (await conn.execute(for_update(conn, stmt))).mappings()]


async def drop_untouched(conn: AsyncConnection, ids: list[int]) -> None:
    """Remove bundles among ``ids`` that no document ended in: ``ensure`` creates every
    named bundle up front, and a rejected document must leave nothing behind."""
    if ids and conn.dialect.name == "postgresql":
        await pg.execute(
            conn,
            "DELETE FROM bundles WHERE id = ANY($1::bigint[]) AND version = 0",
            sorted(ids),
        )
    elif ids:
        await conn.execute(
            delete(bundles).where(bundles.c.id.in_(sorted(ids)), bundles.c.version == 0)
        )


async def save(conn: AsyncConnection, bundle_id: int, **values: Any) -> None:
    await conn.execute(update(bundles).where(bundles.c.id == bundle_id).values(**values))


async def get_many(conn: AsyncConnection, ids: list[int]) -> dict[int, Row]:
    if conn.dialect.name == "postgresql":
        found = await pg.fetch(
            conn, f"SELECT {_ALL_LIST} FROM bundles WHERE id = ANY($1::bigint[])", ids
        )
        return {int(r["id"]): r for r in found}
    rows = (await conn.execute(select(bundles).where(bundles.c.id.in_(ids)))).mappings().all()
    return {int(r["id"]): dict(r) for r in rows}


# What a decision or a document may change on a bundle (not its key or first sighting).
_MUTABLE = tuple(
    c.name for c in bundles.c if c.name not in ("id", "ebp_code", "order_no", "first_seen_at")
)


async def save_many(
    conn: AsyncConnection,
    changes: list[tuple[int, dict[str, Any]]],
    current: Mapping[int, Row] | None = None,
) -> None:
    """Many ``save``s in one statement per distinct set of columns. With ``current`` (the
    rows as held, locked) every bundle found there is written whole, the changes over it:
    one statement, one SQL text, whatever each bundle changed."""
    if conn.dialect.name == "postgresql":
        if current is not None:
            changes = [
                (i, {c: v[c] if c in v else current[i][c] for c in _MUTABLE})
                if i in current
                else (i, v)
                for i, v in changes
            ]
        await pg.update_rows(conn, bundles, changes)
        return
    await bulk.update_by_id(conn, bundles, changes)


async def bump_version(conn: AsyncConnection, bundle_id: int) -> int:
    result = await conn.execute(
        update(bundles)
        .where(bundles.c.id == bundle_id)
        .values(version=bundles.c.version + 1)
        .returning(bundles.c.version)
    )
    return int(result.scalar_one())


async def overdue(conn: AsyncConnection, now: datetime, limit: int) -> list[int]:
    """Pending bundles past their deadline; other sweepers skip the ones we hold."""
    stmt = (
        select(bundles.c.id)
        .where(bundles.c.state == "pending", bundles.c.deadline_at <= now)
        .order_by(bundles.c.deadline_at)
        .limit(limit)
    )
    rows = (await conn.execute(for_update(conn, stmt, skip_locked=True))).scalars().all()
    return [int(r) for r in rows]


async def count_by_state(conn: AsyncConnection) -> dict[str, int]:
    rows = (
        await conn.execute(select(bundles.c.state, func.count()).group_by(bundles.c.state))
    ).all()
    return {str(state): int(n) for state, n in rows}
