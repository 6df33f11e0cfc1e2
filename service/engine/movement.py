"""Arrivals, master bills and departures (SPEC §10): the consignment's physical movement.

``BatchState.prepare`` found and locked every bundle these documents can name (by the
waybill numbers on their lines, the invtNos of a master bill, the bill of lading of an arrival
without lines; see ``engine.movement_keys``). Each document is judged on its own and its
effect is made in the batch's transaction:

- arrival (CEB711 import, CEB507 export): every line names a waybill Sandan knows (stored, or
  named by a stored inventory) of the document's direction, else ``LIFECYCLE_UNKNOWN``; the
  bundles naming or holding it get ``arrived_at`` and are judged again (a regime whose
  required set includes ``arrival`` releases now). The number's arrival is kept
  (``waybill_arrivals``), so a consignment whose inventory names the waybill later counts it
  as arrived (``pick_up_arrival``). An export arrival without lines stands for every
  consignment a master bill tied to its billNo, the cancelled ones left out.
- master bill (CEB607): each line's list, by invtNo (its logisticsNo and the head's
  logisticsCode and agentCode must be the list's: ``LIFECYCLE_KEY_MISMATCH``) or, without one,
  by its waybill, gets the head's billNo.
- departure (CEB509, export): each released bundle a line names becomes ``closed`` (结关),
  with a manifest entry ``close`` and a ``899`` receipt to its inventory's sender; one not
  released yet records ``departed_at`` and stays as it is (README: "Departure of a list not
  released"). The head's billNo closes nothing by itself.

``BUNDLE_CANCELLED`` goes before every other code. Documents are stored with status
``applied`` and no bundle of their own: they name many; each bundle's history names them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.engine.batch import BatchState, Row
from service.engine.document_rows import document_values
from service.engine.incoming import IncomingDocument, Outcome
from service.engine.lifecycle import manifest_entry
from service.engine.receipts import decision_receipt
from service.messages.documents import Document, Inventory, document_from_json
from service.messages.movement_documents import Arrival, Departure, WayBill
from service.messages.registry import Direction, Kind
from service.store import arrivals, documents

MOVEMENT_KINDS = frozenset({Kind.ARRIVAL, Kind.MASTER_BILL, Kind.DEPARTURE})
_DEPARTS = frozenset({"released"})


def is_movement(inc: IncomingDocument) -> bool:
    return inc.document.kind in MOVEMENT_KINDS


async def apply_movement(
    conn: AsyncConnection, sender: str, inc: IncomingDocument, state: BatchState
) -> Outcome:
    doc = inc.document
    if doc.appType != "1":
        return Outcome.rejected(
            "ALREADY_DECIDED",
            f"a {doc.kind.value} is applied when it is accepted: appType {doc.appType} cannot "
            "change or delete one; send a new one (appType 1)",
        )
    if isinstance(doc, WayBill):
        return _master_bill(sender, inc, doc, state)
    assert isinstance(doc, Arrival | Departure)
    found = _named_bundles(doc, state)
    if isinstance(found, Outcome):
        return found
    if isinstance(doc, Arrival):
        await _arrival(conn, sender, inc, doc, found, state)
    else:
        await _departure(conn, sender, inc, doc, found, state)
    return Outcome.accepted()


# --- which consignments -----------------------------------------------------------------


def _named_bundles(doc: Arrival | Departure, state: BatchState) -> list[Row] | Outcome:
    """The bundles the document's lines name (an arrival without lines: its bill's), or the
    refusal: cancelled first, then a waybill nobody knows."""
    direction = doc.direction.value
    if not doc.lines:
        bill = [
            b for b in state.movement.by_bill_no.get(doc.billNo or "", []) if b["direction"] == "E"
        ]
        live = [b for b in bill if b["state"] != "cancelled"]
        if bill and not live:
            return Outcome.rejected(
                "BUNDLE_CANCELLED", f"every consignment of billNo {doc.billNo} was cancelled"
            )
        if not live:
            return Outcome.rejected(
                "LIFECYCLE_UNKNOWN", f"no master bill names billNo {doc.billNo or '(none)'}"
            )
        return live
    found: dict[int, Row] = {}
    unknown: list[str] = []
    for number in doc.numbers():
        bundles = _bundles_of(number, direction, state)
        if not bundles and not _waybill_known(number, direction, state):
            unknown.append(number[1])
        for bundle in bundles:
            found.setdefault(int(bundle["id"]), bundle)
    cancelled = [b for b in found.values() if b["state"] == "cancelled"]
    if cancelled:
        names = ", ".join(f"{b['ebp_code']}/{b['order_no']}" for b in cancelled)
        return Outcome.rejected("BUNDLE_CANCELLED", f"consignment {names} was cancelled")
    if unknown:
        side = "import" if doc.direction is Direction.IMPORT else "export"
        return Outcome.rejected(
            "LIFECYCLE_UNKNOWN",
            f"no {side} consignment has logisticsCode {doc.logisticsCode} with logisticsNo "
            + ", ".join(unknown),
        )
    return [found[i] for i in sorted(found)]


def _bundles_of(number: tuple[str, str], direction: str, state: BatchState) -> list[Row]:
    """Bundles of ``direction`` whose inventory names the waybill, or that hold it."""
    out = {int(b["id"]): b for b in state.naming_bundles(number) if b["direction"] == direction}
    held = state.current_waybill(number) if number in state.waybills else None
    if held is not None and held["bundle_id"] is not None and held["direction"] == direction:
        holder = state.by_id.get(int(held["bundle_id"]))
        if holder is not None:
            out.setdefault(int(holder["id"]), holder)
    return list(out.values())


def _waybill_known(number: tuple[str, str], direction: str, state: BatchState) -> bool:
    rows = state.waybills.get(number, [])
    return any(r["status"] == "current" and r["direction"] == direction for r in rows)


# --- the effects --------------------------------------------------------------------------


def _store(sender: str, inc: IncomingDocument, state: BatchState) -> Row:
    values = document_values(sender, inc, state.now, bundle_id=None, status="applied")
    return state.add_document(values, inc.document)


def _event(bundle: Row, row: Row, state: BatchState, detail: dict[str, Any]) -> None:
    version = state.bump(bundle)
    state.record_document(int(bundle["id"]), version, "movement", detail, row)


async def _arrival(
    conn: AsyncConnection,
    sender: str,
    inc: IncomingDocument,
    doc: Arrival,
    bundles: list[Row],
    state: BatchState,
) -> None:
    row = _store(sender, inc, state)
    direction = doc.direction.value
    new = []
    for code, no in doc.numbers():
        key = (code, no, direction)
        if key not in state.movement.arrivals:  # the first arrival of a number counts
            state.movement.arrivals[key] = state.now
            new.append(
                {
                    "logistics_code": code,
                    "logistics_no": no,
                    "direction": direction,
                    "arrived_at": state.now,
                }
            )
    if new:
        await state.flush_documents(conn)  # the rows name the document
        await arrivals.record_many(conn, [{**r, "document_id": row["id"]} for r in new])
    for bundle in bundles:
        if bundle["arrived_at"] is not None:
            continue
        state.change_bundle(bundle, arrived_at=state.now)
        detail = {"kind": "arrival", "guid": doc.guid, "billNo": doc.billNo}
        _event(bundle, row, state, detail)
        if bundle["state"] in ("pending", "exception"):
            state.dirty.add(int(bundle["id"]))  # a required arrival may release it now


def pick_up_arrival(bundle: Row, inventory: Inventory, state: BatchState) -> None:
    """An inventory names its waybill: the bundle counts the waybill's arrival, if reported."""
    if bundle.get("arrived_at") is not None:
        return
    key = (inventory.logisticsCode, inventory.logisticsNo, inventory.direction.value)
    at = state.movement.arrivals.get(key)
    if at is not None:
        state.change_bundle(bundle, arrived_at=at)


def _master_bill(sender: str, inc: IncomingDocument, doc: WayBill, state: BatchState) -> Outcome:
    tied: dict[int, Row] = {}
    for line in doc.lines:
        if line.invtNo:
            bundle = state.by_invt_no.get(line.invtNo)
            if bundle is None or bundle["direction"] != Direction.EXPORT.value:
                return Outcome.rejected(
                    "LIFECYCLE_UNKNOWN", f"no export list has invtNo {line.invtNo}"
                )
            if bundle["state"] == "cancelled":
                return Outcome.rejected(
                    "BUNDLE_CANCELLED", f"the list of invtNo {line.invtNo} was cancelled"
                )
            mismatch = _bill_mismatch(doc, line.logisticsNo, bundle)
            if mismatch:
                return Outcome.rejected(
                    "LIFECYCLE_KEY_MISMATCH", f"invtNo {line.invtNo}: {mismatch}"
                )
            tied[int(bundle["id"])] = bundle
            continue
        number = (doc.logisticsCode, line.logisticsNo)
        named = _bundles_of(number, Direction.EXPORT.value, state)
        if not named:
            return Outcome.rejected(
                "LIFECYCLE_UNKNOWN",
                f"no export list names logisticsCode {number[0]} logisticsNo {number[1]}",
            )
        for bundle in named:
            if bundle["state"] == "cancelled":
                return Outcome.rejected(
                    "BUNDLE_CANCELLED", f"the list of logisticsNo {number[1]} was cancelled"
                )
            tied[int(bundle["id"])] = bundle
    row = _store(sender, inc, state)
    for bundle in (tied[i] for i in sorted(tied)):
        before = bundle.get("bill_no")
        if before == doc.billNo:
            continue
        state.change_bundle(bundle, bill_no=doc.billNo)
        detail = {"kind": "masterbill", "guid": doc.guid, "billNo": doc.billNo, "before": before}
        _event(bundle, row, state, detail)
    return Outcome.accepted_with(None)


def _bill_mismatch(doc: WayBill, logistics_no: str, bundle: Row) -> str | None:
    pairs = [
        ("logisticsNo", logistics_no, bundle["inv_logistics_no"]),
        ("logisticsCode", doc.logisticsCode, bundle["inv_logistics_code"]),
        ("agentCode", doc.agentCode, bundle["agent_code"]),
    ]
    wrong = [
        f"{name} {given!r} is not the list's {expected!r}"
        for name, given, expected in pairs
        if expected is not None and given and given != expected
    ]
    return "; ".join(wrong) or None


async def _departure(
    conn: AsyncConnection,
    sender: str,
    inc: IncomingDocument,
    doc: Departure,
    bundles: list[Row],
    state: BatchState,
) -> None:
    row = _store(sender, inc, state)
    closing = [b for b in bundles if b["state"] in _DEPARTS]
    inventories = await _inventories(conn, state, closing)
    for bundle in bundles:
        if bundle["state"] == "closed":
            continue  # departed before: 结关 once
        detail: dict[str, Any] = {"kind": "departure", "guid": doc.guid, "billNo": doc.billNo}
        changes: dict[str, Any] = {"departed_at": bundle.get("departed_at") or state.now}
        closes = bundle["state"] in _DEPARTS
        detail["closed"] = closes
        _event(bundle, row, state, detail)
        if closes:
            changes["state"] = "closed"
        state.change_bundle(bundle, **changes)
        if not closes:
            continue
        entry = manifest_entry(bundle, "close", state.now, sender, None)
        state.lifecycle.entries.append((bundle, entry))
        found = inventories.get(int(bundle["id"]))
        if found is not None:
            inventory, owner = found
            receipt = decision_receipt(inventory, owner, bundle, "close", [], state.now)
            if receipt is not None:
                state.lifecycle.receipts.append(receipt)


async def _inventories(
    conn: AsyncConnection, state: BatchState, bundles: list[Row]
) -> dict[int, tuple[Inventory, str]]:
    """Each bundle's current inventory and the key code that sent it (its receipts' owner)."""
    if not bundles:
        return {}
    await state.flush_documents(conn)
    ids = [int(b["id"]) for b in bundles]
    held = await documents.current_in_bundles(conn, ids)
    out: dict[int, tuple[Inventory, str]] = {}
    for bundle_id in ids:
        rows = [r for r in held[bundle_id] if r["kind"] == Kind.INVENTORY.value]
        if not rows:
            continue
        newest = max(rows, key=lambda r: (r["app_time"], r["id"]))
        doc: Document = document_from_json(Kind.INVENTORY, newest["data"])
        if isinstance(doc, Inventory):
            out[bundle_id] = (doc, str(newest["sender"]))
    return out
