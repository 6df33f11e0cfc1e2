"""Arrivals (入库 / 运抵) by waybill number (SPEC §10), kept for the consignments that come to
name the waybill after its arrival was reported."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.dialect import rows_in
from service.store.tables import waybill_arrivals

Row = dict[str, Any]
# (logisticsCode, logisticsNo, direction)
ArrivalKey = tuple[str, str, str]


async def for_numbers(
    conn: AsyncConnection, numbers: Iterable[ArrivalKey]
) -> dict[ArrivalKey, datetime]:
    """When each of ``numbers`` arrived, for those that did."""
    wanted = sorted(set(numbers))
    if not wanted:
        return {}
    table = waybill_arrivals.c
    stmt = select(
        table.logistics_code, table.logistics_no, table.direction, table.arrived_at
    ).where(rows_in(conn, (table.logistics_code, table.logistics_no, table.direction), wanted))
    return {(r[0], r[1], r[2]): r[3] for r in (await conn.execute(stmt)).all()}


async def record_many(conn: AsyncConnection, rows: list[Row]) -> None:
    """New arrivals (numbers not recorded before: the caller checked under the waybills'
    locks)."""
    if rows:
        await conn.execute(insert(waybill_arrivals), rows)
