"""The annual ledger: released import transaction value per buyer (keyed hash) and year."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.dialect import insert_ignore
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
