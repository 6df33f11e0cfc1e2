"""Apply accepted-so-far documents to bundles inside one write transaction.

Per document: replay and guid checks, the bundle it belongs to (primary key, or the waybill's
secondary keys of SPEC §4), version order (STALE), released bundles (ALREADY_DECIDED), then the
row itself. A waybill version placed elsewhere than its previous version moves the waybill
(SPEC §10): the bundle it leaves is touched too. The caller decides every bundle this touched
before committing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.engine.batch import BatchState, Row, bundle_key, waybill_point
from service.engine.document_rows import document_values
from service.engine.incoming import IncomingDocument, Outcome
from service.engine.invt_no import invt_no_for
from service.engine.lifecycle import apply_lifecycle, is_lifecycle
from service.engine.lifecycle_writes import AFTER_DECISION
from service.engine.movement import apply_movement, is_movement, pick_up_arrival
from service.engine.movement_keys import movement_points
from service.engine.summary import apply_summary, is_summary, replayed_sum_no
from service.messages.documents import Inventory, Logistics
from service.messages.registry import Direction

__all__ = ["BatchState", "apply_document", "bundle_key", "meeting_points"]

# A release is final, and so is what follows it (SPEC §10): nothing replaces what it was
# made on.
_FINAL = frozenset({"released"}) | AFTER_DECISION


def meeting_points(inc: IncomingDocument) -> list[str]:
    """Names of the secondary keys through which this document may meet others (SPEC §4):
    its order number and the waybill it is or names. Documents sharing one are applied one
    transaction after the other, so a waybill and its order cannot both miss each other."""
    doc = inc.document
    points = []
    order_no = getattr(doc, "orderNo", None)
    if order_no:
        points.append(f"order:{order_no}")
    if isinstance(doc, Logistics | Inventory):
        points.append(waybill_point((doc.logisticsCode, doc.logisticsNo)))
    elif not points:
        points = movement_points(inc)
    return points


async def apply_document(
    conn: AsyncConnection, sender: str, inc: IncomingDocument, state: BatchState
) -> Outcome:
    doc = inc.document
    kind = doc.kind.value
    known = state.known.get((sender, kind, doc.guid))
    if known is not None:
        if known["digest"] == inc.digest:
            # the original answer: an inventory's with the invtNo it was given
            held = state.bundles.get(key) if (key := bundle_key(inc)) is not None else None
            return Outcome(
                "duplicate",
                known["return_status"],
                [{"code": "DUPLICATE", "message": f"{kind} {doc.guid} was already accepted"}],
                invt_no=held["invt_no"]
                if held is not None and isinstance(doc, Inventory)
                else None,
                sum_no=await replayed_sum_no(conn, sender, doc.guid) if is_summary(inc) else None,
            )
        return Outcome.rejected(
            "GUID_CONFLICT",
            f"guid {doc.guid} was already used by this sender for a different {kind}",
        )

    if is_lifecycle(inc):
        return await apply_lifecycle(conn, sender, inc, state)
    if is_summary(inc):
        return await apply_summary(conn, sender, inc, state)
    if is_movement(inc):
        return await apply_movement(conn, sender, inc, state)

    bundle = await _bundle_for(conn, inc, state)
    if bundle is not None and bundle["state"] == "cancelled":
        return Outcome.rejected(
            "BUNDLE_CANCELLED",
            f"bundle {bundle['ebp_code']}/{bundle['order_no']} was cancelled",
        )
    if (
        bundle is not None
        and bundle["state"] in _FINAL
        and not await _late_addition(conn, bundle, inc, state)
    ):
        return Outcome.rejected(
            "ALREADY_DECIDED",
            f"bundle {bundle['ebp_code']}/{bundle['order_no']} is already {bundle['state']}",
        )
    previous = await state.latest_version(conn, inc, bundle)
    if previous is not None and doc.appTime <= previous["app_time"]:
        return Outcome.rejected(
            "STALE",
            f"appTime {doc.appTime} is not newer than the stored version's {previous['app_time']}",
        )
    left = await _left_by_move(conn, inc, bundle, previous, state)
    if left is not None and (refusal := left.refusal()) is not None:
        return refusal
    if previous is not None and previous["status"] == "current":
        state.change(previous, status="superseded")

    deleting = doc.appType == "3"
    row = state.add_document(
        document_values(
            sender,
            inc,
            state.now,
            bundle_id=bundle["id"] if bundle else None,
            status="deleted" if deleting else "current",
        ),
        doc,
    )
    if left is not None:
        _detach(left, state)
    if bundle is None:
        return Outcome.accepted()
    await _touch(conn, bundle, inc, row, state)
    if left is not None:
        state.record_document(
            int(bundle["id"]), state.version_of(bundle), "attached", {"kind": "logistics"}, row
        )
    return Outcome.accepted_with(bundle["invt_no"] if isinstance(doc, Inventory) else None)


async def _late_addition(
    conn: AsyncConnection, bundle: dict[str, Any], inc: IncomingDocument, state: BatchState
) -> bool:
    """A first document of a kind the released bundle never had (a 9710 receipt that comes
    after the release): recorded with the bundle, the release stands. Anything that would
    replace or delete what the release was made on is ALREADY_DECIDED."""
    if inc.document.appType != "1":
        return False
    return not await state.ever_in_bundle(conn, bundle, inc.document.kind.value)


async def _bundle_for(
    conn: AsyncConnection, inc: IncomingDocument, state: BatchState
) -> dict[str, Any] | None:
    key = bundle_key(inc)
    if key is not None:
        return state.bundles[key]
    doc = inc.document
    assert isinstance(doc, Logistics)
    held = state.current_waybill((doc.logisticsCode, doc.logisticsNo))
    if doc.appType == "3" and held is not None and held["bundle_id"] is not None:
        # A deletion takes the waybill out of the bundle holding it: it moves it nowhere.
        return state.by_id[int(held["bundle_id"])]
    named = state.naming_bundles((doc.logisticsCode, doc.logisticsNo))
    if named:
        return min(named, key=lambda b: _claim_rank(b, doc.orderNo))
    if doc.direction is Direction.IMPORT and doc.orderNo:
        same_order = state.holding_order_no(doc.orderNo)
        if len(same_order) == 1:
            return same_order[0]
    return None


@dataclass(frozen=True, slots=True)
class _Move:
    """A waybill leaving the bundle that held its previous version."""

    bundle: Row  # the bundle it leaves
    held: Row  # the version that bundle held
    judged_on: bool  # the bundle's judgement rests on that version (``decide.chosen_rows``)

    def refusal(self) -> Outcome | None:
        """A decision is final, and so is a cancel: what they were made on cannot leave."""
        state = self.bundle["state"]
        if not self.judged_on or state not in _FINAL:
            return None
        which = (
            f"bundle {self.bundle['ebp_code']}/{self.bundle['order_no']}, which holds this waybill,"
        )
        if state == "cancelled":
            return Outcome.rejected("BUNDLE_CANCELLED", f"{which} was cancelled")
        return Outcome.rejected("ALREADY_DECIDED", f"{which} is already {state}")


async def _left_by_move(
    conn: AsyncConnection,
    inc: IncomingDocument,
    bundle: Row | None,
    previous: Row | None,
    state: BatchState,
) -> _Move | None:
    """The bundle a new waybill version leaves (SPEC §10, last paragraph): the one holding
    the current version, when the new version belongs elsewhere by SPEC §4 (another bundle,
    or none: it waits). Versions follow the number, so only a waybill's can be held
    elsewhere than where the new one goes."""
    if (
        not isinstance(inc.document, Logistics)
        or previous is None
        or previous["status"] != "current"
        or previous["bundle_id"] is None
        or (bundle is not None and int(previous["bundle_id"]) == int(bundle["id"]))
    ):
        return None
    holder = state.by_id[int(previous["bundle_id"])]
    judged = await state.judged_waybill(conn, holder)
    return _Move(holder, previous, judged is not None and judged["id"] == previous["id"])


def _detach(move: _Move, state: BatchState) -> None:
    """The bundle that held the waybill records it leaving; it is judged again when its
    judgement rested on it (it may now miss its logistics)."""
    holder_id = int(move.bundle["id"])
    version = state.bump(move.bundle)
    state.record_document(holder_id, version, "detached", {"kind": "logistics"}, move.held)
    if move.judged_on:
        state.dirty.add(holder_id)


async def _touch(
    conn: AsyncConnection,
    bundle: dict[str, Any],
    inc: IncomingDocument,
    row: Row,
    state: BatchState,
) -> None:
    """Record the change on the bundle and pull in waybills that now belong to it."""
    bundle_id = int(bundle["id"])
    doc = inc.document
    claimed: list[Row] = []
    if isinstance(doc, Inventory):
        named = doc.appType != "3"
        state.name_waybill(bundle, (doc.logisticsCode, doc.logisticsNo) if named else None)
        if named:
            claimed += await _claim_named_waybill(conn, bundle, doc, state)
            pick_up_arrival(bundle, doc, state)
        if named and bundle["invt_no"] is None:
            number = invt_no_for(doc.customsCode, doc.direction, state.now, bundle_id)
            state.change_bundle(bundle, invt_no=number)
            state.by_invt_no[number] = bundle
    version = state.bump(bundle)
    if version == 1 and doc.direction is Direction.IMPORT:
        claimed += await _claim_waiting_by_order(conn, bundle_id, bundle["order_no"], state)
    detail = {
        "kind": doc.kind.value,
        "guid": doc.guid,
        "appType": doc.appType,
        "appTime": doc.appTime,
        "messageType": inc.message_type.root,
    }
    state.record_document(bundle_id, version, "document", detail, row)
    for waybill in claimed:
        state.record_document(bundle_id, version, "attached", {"kind": "logistics"}, waybill)
    state.dirty.add(bundle_id)


def _claim_rank(bundle: dict[str, Any], waybill_order_no: str | None) -> tuple[int, str, str]:
    """Which of several bundles naming one waybill gets it: the one whose order the waybill
    itself names, else the smallest key. A rank, not arrival order, so that the same
    documents always end in the same place (SPEC §4)."""
    own = 0 if waybill_order_no is not None and bundle["order_no"] == waybill_order_no else 1
    return own, bundle["ebp_code"], bundle["order_no"]


async def _claim_named_waybill(
    conn: AsyncConnection, bundle: dict[str, Any], inventory: Inventory, state: BatchState
) -> list[Row]:
    """The inventory's waybill belongs here, wherever it waited or was attached by orderNo,
    unless a bundle that outranks this one names it too (or already released with it)."""
    bundle_id = int(bundle["id"])
    found = state.current_waybill((inventory.logisticsCode, inventory.logisticsNo))
    if found is None or found["bundle_id"] == bundle_id:
        return []
    if found["bundle_id"] is not None:
        # held since the batch began: the waybill's number is one the batch names
        holder = state.by_id[int(found["bundle_id"])]
        if holder["state"] in _FINAL:  # what a final bundle holds stays its record
            return []
        names_it = (holder["inv_logistics_code"], holder["inv_logistics_no"]) == (
            inventory.logisticsCode,
            inventory.logisticsNo,
        )
        if names_it and _claim_rank(holder, found["order_no"]) < _claim_rank(
            bundle, found["order_no"]
        ):
            return []
        holder_version = state.bump(holder)
        state.record_document(
            int(holder["id"]), holder_version, "detached", {"kind": "logistics"}, found
        )
        state.dirty.add(int(holder["id"]))
    state.change(found, bundle_id=bundle_id)
    return [found]


async def _claim_waiting_by_order(
    conn: AsyncConnection, bundle_id: int, order_no: str, state: BatchState
) -> list[Row]:
    """A new bundle takes waybills that waited for its orderNo, if it is the only such bundle."""
    waiting = state.waiting_for(order_no)
    if not waiting or len(state.holding_order_no(order_no)) != 1:
        return []
    for waybill in waiting:
        state.change(waybill, bundle_id=bundle_id)
    return waiting
