"""The annual ledger: released import transaction value per buyer (keyed hash) and year."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store import pg
from service.store.dialect import insert_ignore, rows_in
from service.store.tables import annual_ledger


async def year_total(conn: AsyncConnection, buyer: str, year: int) -> Decimal:
    value = (
        await conn.execute(
            select(annual_ledger.c.amount).where(
                annual_ledger.c.buyer == buyer, annual_ledger.c.year == year
            )
        )
    ).scalar_one_or_none()
    return Decimal(value) if value is not None else Decimal(0)


async def add(conn: AsyncConnection, buyer: str, year: int, amount: Decimal) -> None:
    """Add (or with a negative amount, give back) to the buyer's year total."""
    await conn.execute(
        insert_ignore(conn, annual_ledger, ["buyer", "year"]).values(
            buyer=buyer, year=year, amount=Decimal(0)
        )
    )
    await conn.execute(
        update(annual_ledger)
        .where(annual_ledger.c.buyer == buyer, annual_ledger.c.year == year)
        .values(amount=annual_ledger.c.amount + amount)
    )


_YEAR_TOTALS = (
    "SELECT l.buyer, l.year, l.amount FROM annual_ledger AS l "
    "JOIN unnest($1::varchar[], $2::integer[]) AS k(buyer, year) "
    "ON l.buyer = k.buyer AND l.year = k.year"
)


async def year_totals(
    conn: AsyncConnection, keys: set[tuple[str, int]]
) -> dict[tuple[str, int], Decimal]:
    """``year_total`` for many (buyer, year) in one query; absent ones are 0."""
    out = dict.fromkeys(keys, Decimal(0))
    if keys and conn.dialect.name == "postgresql":
        buyers, years = (list(c) for c in zip(*sorted(keys), strict=True))
        for r in await pg.fetch(conn, _YEAR_TOTALS, buyers, years):
            out[(r["buyer"], int(r["year"]))] = Decimal(r["amount"])
    elif keys:
        rows = await conn.execute(
            select(annual_ledger.c.buyer, annual_ledger.c.year, annual_ledger.c.amount).where(
                rows_in(conn, (annual_ledger.c.buyer, annual_ledger.c.year), sorted(keys))
            )
        )
        for buyer, year, amount in rows:
            out[(buyer, int(year))] = Decimal(amount)
    return out


async def add_many(conn: AsyncConnection, amounts: dict[tuple[str, int], Decimal]) -> None:
    """Many ``add``s, in key order (two transactions adding to the same buyers lock their
    rows in the same order)."""
    if not amounts:
        return
    keys = sorted(amounts)
    if conn.dialect.name == "postgresql":
        rows = [{"buyer": b, "year": y, "amount": amounts[(b, y)]} for b, y in keys]
        await pg.insert_rows(
            conn,
            annual_ledger,
            rows,
            ("buyer", "year", "amount"),
            conflict="ON CONFLICT (buyer, year) "
            "DO UPDATE SET amount = annual_ledger.amount + EXCLUDED.amount",
        )
        return
    await conn.execute(
        insert_ignore(conn, annual_ledger, ["buyer", "year"]),
        [{"buyer": b, "year": y, "amount": Decimal(0)} for b, y in keys],
    )
    await conn.execute(
        update(annual_ledger)
        .where(
            annual_ledger.c.buyer == bindparam("l_buyer"),
            annual_ledger.c.year == bindparam("l_year"),
        )
        .values(
            amount=annual_ledger.c.amount + bindparam("l_amount", type_=annual_ledger.c.amount.type)
        ),
        [{"l_buyer": b, "l_year": y, "l_amount": amounts[(b, y)]} for b, y in keys],
    )
