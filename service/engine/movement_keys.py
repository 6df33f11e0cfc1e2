"""What movement documents (SPEC §10) name, for the batch to find and lock before applying
them: waybill numbers (arrival, departure, a master bill line without invtNo), invtNos (master
bill lines), bills of lading (an export arrival without lines); and the arrivals reported for
the waybills the batch's inventories name (``MovementReads``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.engine.incoming import IncomingDocument
from service.messages.documents import Inventory
from service.messages.movement_documents import Arrival, Departure, WayBill
from service.store import arrivals

Row = dict[str, Any]
WaybillKey = tuple[str, str]
_MOVING = (Arrival, WayBill, Departure)


@dataclass(frozen=True, slots=True)
class MovementNames:
    invt_nos: list[str]
    numbers: set[WaybillKey]
    bill_nos: list[str]


def movement_names(incoming: Sequence[IncomingDocument]) -> MovementNames | None:
    """What the batch's movement documents name; None when it holds none."""
    moving = [d for inc in incoming if isinstance(d := inc.document, _MOVING)]
    if not moving:
        return None
    invt_nos: list[str] = []
    numbers: set[WaybillKey] = set()
    bill_nos: list[str] = []
    for doc in moving:
        for line in doc.lines:
            if isinstance(doc, WayBill) and line.invtNo:
                invt_nos.append(line.invtNo)
            else:
                numbers.add((doc.logisticsCode, line.logisticsNo))
        if isinstance(doc, Arrival) and not doc.lines and doc.billNo:
            bill_nos.append(doc.billNo)
    return MovementNames(invt_nos, numbers, bill_nos)


def movement_points(inc: IncomingDocument) -> list[str]:
    """The advisory lock names a movement document meets others under: the waybills of its
    lines (an inventory naming one of them waits, or is waited for) and its bill of lading
    (a master bill tying lists to it, an arrival of the whole bill)."""
    doc = inc.document
    if not isinstance(doc, _MOVING):
        return []
    points = [f"waybill:{doc.logisticsCode}:{line.logisticsNo}" for line in doc.lines]
    if doc.billNo and (isinstance(doc, WayBill) or not doc.lines):
        points.append(f"bill:{doc.billNo}")
    return points


@dataclass(slots=True)
class MovementReads:
    """billNo -> the held bundles a master bill tied to it; (logisticsCode, logisticsNo,
    direction) -> when that waybill arrived, for the numbers the batch may need."""

    by_bill_no: dict[str, list[Row]] = field(default_factory=dict)
    arrivals: dict[tuple[str, str, str], datetime] = field(default_factory=dict)


async def read_arrivals(
    conn: AsyncConnection,
    incoming: Sequence[IncomingDocument],
    waybills: dict[WaybillKey, list[Row]],
    names: MovementNames | None,
) -> dict[tuple[str, str, str], datetime]:
    """Arrivals of the waybills the batch's movement documents name, and of those its
    inventories name that are stored as waybills (an arrival needs a known waybill: one a
    stored inventory named already counted on that inventory's bundle). Read only when there
    are such numbers, so most batches pay nothing."""
    wanted: set[tuple[str, str, str]] = set()
    for inc in incoming:
        doc = inc.document
        if isinstance(doc, Inventory) and waybills.get((doc.logisticsCode, doc.logisticsNo)):
            wanted.add((doc.logisticsCode, doc.logisticsNo, doc.direction.value))
    if names is not None:
        for code, no in names.numbers:
            wanted |= {(code, no, "I"), (code, no, "E")}
    return await arrivals.for_numbers(conn, wanted) if wanted else {}
