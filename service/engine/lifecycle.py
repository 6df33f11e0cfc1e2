"""Cancels and returns (SPEC §10): documents that act on a consignment after its decision.

A cancel (CEB623 / CEB605) or a return (CEB625 / CEB213) names its consignment by invtNo;
``BatchState.prepare`` found and locked that bundle with the others. Each document is judged
on its own (a bad one is refused with its code and changes nothing) and its effect is made in
the batch's transaction, so "accepted" means it has happened:

- cancel: the bundle becomes ``cancelled`` (final), a released import order's value goes back
  to the buyer's annual ledger, a manifest entry ``cancel`` tells the warehouse not to ship;
- return: the returned lines and value are recorded on the bundle, the value goes back to the
  ledger (import), a manifest entry ``return``; every line returned in full makes the bundle
  ``returned``.

The rules are checked in the SPEC's order of precedence: the consignment must exist
(``LIFECYCLE_UNKNOWN``), must not be cancelled (``BUNDLE_CANCELLED``, before every other
code), must be the one the document's own keys name (``LIFECYCLE_KEY_MISMATCH``), then the
state and the windows. The documents are stored with status ``applied``: they are events on
the bundle, never one of its four current documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import as_utc
from service.engine.batch import BatchState, Row
from service.engine.document_rows import document_values
from service.engine.incoming import IncomingDocument, Outcome
from service.engine.lifecycle_writes import AFTER_DECISION
from service.messages.documents import Document, Inventory, document_from_json
from service.messages.registry import Direction, Kind
from service.security.masking import scrub
from service.store import documents, returns

LIFECYCLE_KINDS = frozenset({Kind.CANCEL, Kind.RETURN})
_RELEASED = frozenset({"released"}) | AFTER_DECISION - {"cancelled"}


def is_lifecycle(inc: IncomingDocument) -> bool:
    return inc.document.kind in LIFECYCLE_KINDS


async def apply_lifecycle(
    conn: AsyncConnection, sender: str, inc: IncomingDocument, state: BatchState
) -> Outcome:
    doc = inc.document
    invt_no = str(getattr(doc, "invtNo", "") or "")
    bundle = state.by_invt_no.get(invt_no)
    if bundle is None:
        return Outcome.rejected("LIFECYCLE_UNKNOWN", f"no consignment has invtNo {invt_no}")
    if bundle["state"] == "cancelled":
        return Outcome.rejected(
            "BUNDLE_CANCELLED", f"the consignment of invtNo {invt_no} was cancelled"
        )
    if doc.appType != "1":
        # applied (审结) on receipt, so there is nothing left to change or withdraw
        return Outcome.rejected(
            "ALREADY_DECIDED",
            f"a {doc.kind.value} is applied when it is accepted: appType {doc.appType} cannot "
            "change or delete one; send a new application (appType 1)",
        )
    mismatch = _key_mismatch(doc, bundle)
    if mismatch:
        return Outcome.rejected("LIFECYCLE_KEY_MISMATCH", f"invtNo {invt_no}: {mismatch}")
    kind = doc.kind.value
    if kind == "cancel":
        refusal = await _cancel_refusal(conn, bundle, state)
        if refusal:
            return Outcome.rejected("CANCEL_TOO_LATE", f"invtNo {invt_no}: {refusal}")
        row = store_applied(sender, inc, bundle, state)
        _cancel(bundle, doc, row, state, sender)
    else:
        inventory = await _inventory_of(conn, state, bundle)
        judged = await _judge_return(conn, bundle, doc, inventory, state)
        if isinstance(judged, Outcome):
            return judged
        row = store_applied(sender, inc, bundle, state)
        await _return(conn, bundle, doc, row, judged, inventory, state, sender)
    return Outcome.accepted_with(invt_no)


# --- the rules -------------------------------------------------------------------------


def _key_mismatch(doc: Document, bundle: Row) -> str | None:
    """Which of the document's own keys disagree with the consignment its invtNo names.

    agentCode is compared too: the sender acts for the document's ebcCode or agentCode (its
    key was checked against them at intake), so both being the consignment's is what keeps
    one enterprise from cancelling another's parcels by quoting their invtNo. An export
    return's waybill may be the inbound one (SPEC §10) and is not compared."""
    pairs = [
        ("ebpCode", bundle["ebp_code"]),
        ("ebcCode", bundle["ebc_code"]),
        ("agentCode", bundle["agent_code"]),
    ]
    if doc.direction is Direction.IMPORT:
        pairs += [("orderNo", bundle["order_no"]), ("logisticsNo", bundle["inv_logistics_no"])]
    wrong = [
        f"{name} {given!r} is not the consignment's {expected!r}"
        for name, expected in pairs
        if expected is not None
        and (given := getattr(doc, name, None)) is not None
        and given != expected
    ]
    return "; ".join(wrong) or None


def _released_at(bundle: Row) -> datetime | None:
    decided = bundle.get("decided_at")
    return as_utc(decided) if decided is not None else None


async def _cancel_refusal(conn: AsyncConnection, bundle: Row, state: BatchState) -> str | None:
    if bundle["state"] == "closed" or bundle.get("departed_at") is not None:
        return "the goods have departed (离境)"
    if bundle["state"] not in _RELEASED or bundle["direction"] == Direction.EXPORT.value:
        # pending, exception, rejected: cancelled before any release; an export list until
        # its departure (the partial-return and window limits are the import's)
        return None
    if await _returns_of(conn, state, bundle):
        return "the released consignment has already been returned in part"
    window = state.windows.cancel_days
    released = _released_at(bundle)
    if window is None or released is None or state.now <= released + timedelta(days=window):
        return None
    return f"released more than {window:g} days ago"


@dataclass(frozen=True, slots=True)
class _ReturnLine:
    gnum: int
    qty: Decimal
    value: Decimal


async def _judge_return(
    conn: AsyncConnection,
    bundle: Row,
    doc: Document,
    inventory: Inventory | None,
    state: BatchState,
) -> list[_ReturnLine] | Outcome:
    invt_no = bundle["invt_no"]
    if bundle["state"] not in _RELEASED:
        return Outcome.rejected(
            "RETURN_NOT_RELEASED",
            f"invtNo {invt_no} is {bundle['state']}: only a released consignment is returned",
        )
    export = bundle["direction"] == Direction.EXPORT.value
    window = state.windows.export_return_days if export else state.windows.return_days
    released = _released_at(bundle)
    if released is not None and state.now > released + timedelta(days=window):
        return Outcome.rejected(
            "RETURN_TOO_LATE", f"invtNo {invt_no}: released more than {window:g} days ago"
        )
    if inventory is None:
        return Outcome.rejected("RETURN_EXCEEDS", f"invtNo {invt_no} holds no inventory lines")
    declared = {line.gnum: line for line in inventory.lines}
    already = _returned_qty(await _returns_of(conn, state, bundle))
    lines: list[_ReturnLine] = []
    asked: dict[int, Decimal] = {}
    for line in getattr(doc, "lines", ()):
        gnum, qty = int(line.gnum), Decimal(line.qty or 0)
        if qty <= 0:
            return Outcome.rejected(
                "RETURN_EXCEEDS", f"invtNo {invt_no} line {gnum}: a return qty must be positive"
            )
        own = declared.get(gnum)
        if own is None:
            return Outcome.rejected("RETURN_EXCEEDS", f"invtNo {invt_no} has no line gnum {gnum}")
        asked[gnum] = asked.get(gnum, Decimal(0)) + qty
        total = already.get(gnum, Decimal(0)) + asked[gnum]
        if own.qty is not None and total > own.qty:
            return Outcome.rejected(
                "RETURN_EXCEEDS",
                f"invtNo {invt_no} line {gnum}: {total} returned in all, {own.qty} released",
            )
        lines.append(_ReturnLine(gnum, qty, qty * (own.price or Decimal(0))))
    return lines


def _returned_qty(rows: Sequence[Row]) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for row in rows:
        for line in row["lines"]:
            gnum = int(line["gnum"])
            out[gnum] = out.get(gnum, Decimal(0)) + Decimal(line["qty"])
    return out


# --- what the rules read ----------------------------------------------------------------


async def _inventory_of(conn: AsyncConnection, state: BatchState, bundle: Row) -> Inventory | None:
    """The bundle's current inventory (this batch's versions included)."""
    await state.flush_documents(conn)
    rows = (await documents.current_in_bundles(conn, [int(bundle["id"])]))[int(bundle["id"])]
    found = [r for r in rows if r["kind"] == Kind.INVENTORY.value]
    if not found:
        return None
    newest = max(found, key=lambda r: (r["app_time"], r["id"]))
    doc = document_from_json(Kind.INVENTORY, newest["data"])
    return doc if isinstance(doc, Inventory) else None


async def _returns_of(conn: AsyncConnection, state: BatchState, bundle: Row) -> list[Row]:
    """Every return recorded on the bundle, this batch's included (read once per batch)."""
    bundle_id = int(bundle["id"])
    if bundle_id not in state.returns:
        state.returns.update(await returns.for_bundles(conn, [bundle_id]))
    return state.returns[bundle_id]


async def _add_return(
    conn: AsyncConnection, state: BatchState, bundle: Row, document: Row, record: Row
) -> None:
    """Record a return on the bundle, naming its (now written) document row."""
    history = await _returns_of(conn, state, bundle)
    await state.flush_documents(conn)
    row = {**record, "document_id": document["id"]}
    await returns.record(conn, row)
    history.append(row)


# --- the effects -----------------------------------------------------------------------


def store_applied(sender: str, inc: IncomingDocument, bundle: Row, state: BatchState) -> Row:
    doc = inc.document
    values = document_values(
        sender,
        inc,
        state.now,
        ebp_code=bundle["ebp_code"],
        order_no=bundle["order_no"],
        bundle_id=bundle["id"],
        status="applied",
    )
    reason = getattr(doc, "reason", None)
    if reason and scrub(reason) != reason:
        # free text: a number that looks like an ID or a phone is masked at rest too
        values["data"]["reason"] = scrub(reason)
        values["raw_xml"] = values["raw_xml"].replace(
            f">{escape(reason)}<", f">{escape(scrub(reason))}<"
        )
    return state.add_document(values, doc)


def record_event(bundle: Row, row: Row, state: BatchState, detail: dict[str, Any]) -> None:
    version = state.bump(bundle)
    state.record_document(int(bundle["id"]), version, "lifecycle", detail, row)


def _cancel(bundle: Row, doc: Document, row: Row, state: BatchState, sender: str) -> None:
    changes = {"state": "cancelled", "cancelled_at": state.now}
    writes = state.lifecycle
    if bundle["state"] in _RELEASED:
        given = writes.refund(bundle, Decimal(bundle.get("ledger_amount") or 0))
        if given:
            changes["ledger_amount"] = Decimal(bundle["ledger_amount"]) - given
    reason = scrub(str(getattr(doc, "reason", "") or "")) or None
    record_event(
        bundle,
        row,
        state,
        {"kind": "cancel", "guid": doc.guid, "stateBefore": bundle["state"], "reason": reason},
    )
    state.change_bundle(bundle, **changes)
    writes.entries.append((bundle, manifest_entry(bundle, "cancel", state.now, sender, reason)))


async def _return(
    conn: AsyncConnection,
    bundle: Row,
    doc: Document,
    row: Row,
    lines: list[_ReturnLine],
    inventory: Inventory | None,
    state: BatchState,
    sender: str,
) -> None:
    value = sum((line.value for line in lines), Decimal(0))
    record = {
        "bundle_id": bundle["id"],
        "invt_no": bundle["invt_no"],
        "at": state.now,
        "value": value,
        "lines": [
            {"gnum": line.gnum, "qty": str(line.qty), "value": str(line.value)} for line in lines
        ],
    }
    await _add_return(conn, state, bundle, row, record)
    changes: dict[str, Any] = {}
    if bundle["direction"] == Direction.IMPORT.value:
        given = state.lifecycle.refund(bundle, value)
        if given:
            changes["ledger_amount"] = Decimal(bundle["ledger_amount"]) - given
    returned = _returned_qty(await _returns_of(conn, state, bundle))
    if inventory is not None and all(
        line.qty is not None and returned.get(line.gnum, Decimal(0)) >= line.qty
        for line in inventory.lines
    ):
        changes["state"] = "returned"
    reason = scrub(str(getattr(doc, "reason", "") or "")) or None
    detail = {"kind": "return", "guid": doc.guid, "value": str(value), "reason": reason}
    record_event(bundle, row, state, detail)
    if changes:
        state.change_bundle(bundle, **changes)
    state.lifecycle.entries.append(
        (bundle, manifest_entry(bundle, "return", state.now, sender, reason))
    )


def manifest_entry(
    bundle: Row, decision: str, now: datetime, sender: str, reason: str | None
) -> Row:
    """The manifest entry of a lifecycle effect, shaped like the engine's decisions."""
    return {
        "bundle_id": bundle["id"],
        "ebp_code": bundle["ebp_code"],
        "order_no": bundle["order_no"],
        "logistics_code": bundle["inv_logistics_code"],
        "logistics_no": bundle["inv_logistics_no"],
        "ebc_code": bundle["ebc_code"],
        "agent_code": bundle["agent_code"],
        "pay_code": bundle["pay_code"],
        "area_code": bundle["area_code"],
        "direction": bundle["direction"],
        "regime": bundle["regime_classified"] or bundle["regime_declared"],
        "invt_no": bundle["invt_no"],
        "decision": decision,
        "rules": [],
        "decided_at": now,
        "by": sender,
        "reason": reason,
    }
