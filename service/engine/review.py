"""Operator actions on a bundle: release (override), reject, reopen (SPEC §6.4).

Each action, in one transaction: checks that the bundle is still at the version the operator
looked at, moves its state, moves the annual ledger as an engine decision would (a release of
an import order counts; leaving the released state gives the amount back, SPEC §5 end),
appends a manifest entry ``by`` the operator, an audit record (``review_actions`` for the
review pages, and the hash-chained ``audit_log``), a history event and, for a release or a
reject, the decision receipt for the inventory's sender (``engine.receipts``). Anything
refused raises before the first write, so a refused action changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import utcnow
from service.engine.decide import chosen_rows, current_documents, ledger_key
from service.engine.receipts import decision_receipt
from service.errors import ActionNotAllowed, InvalidRequest, NotFound, VersionConflict
from service.metrics import DECISIONS
from service.rules.bundle import BundleDocuments
from service.rules.limits import transaction_value
from service.security.keys import Caller
from service.security.masking import scrub
from service.store import audit, bundles, documents, events, ledger, manifest, receipts, returns
from service.store.database import Database

MAX_REASON = 2000


class Action(StrEnum):
    RELEASE = "release"
    REJECT = "reject"
    REOPEN = "reopen"


@dataclass(frozen=True, slots=True)
class Move:
    """What an action does: the states it applies to, the state it leaves, the manifest
    decision it publishes."""

    from_states: frozenset[str]
    to_state: str
    decision: str


MOVES: dict[Action, Move] = {
    # An override: the findings stand in the record, the consignment goes.
    Action.RELEASE: Move(frozenset({"exception"}), "released", "release"),
    # Stops a consignment whatever the engine thought, even one already released.
    Action.REJECT: Move(frozenset({"exception", "pending", "released"}), "rejected", "reject"),
    # Takes back an operator's (or the engine's) final word: the bundle is an open case
    # again, and the warehouse is told not to ship it ("exception") until it is decided anew.
    Action.REOPEN: Move(frozenset({"rejected", "released"}), "exception", "exception"),
}


@dataclass(frozen=True, slots=True)
class ActionDone:
    action: str
    seq: int
    state: str
    version: int
    audit_id: int
    direction: str | None
    regime: str | None

    def count(self) -> None:
        """Count the decision in the metrics, once its transaction has committed."""
        decision = MOVES[Action(self.action)].decision
        DECISIONS.labels(self.direction or "", self.regime or "", decision, "operator").inc()


def parse_action(action: str) -> Action:
    try:
        return Action(action)
    except ValueError:
        raise InvalidRequest(
            f"unknown action {action!r}: release, reject or reopen", field="action"
        ) from None


def clean_reason(reason: str | None) -> str:
    # Operators type free text: an ID or phone number pasted into it is masked like anywhere.
    text = scrub((reason or "").strip())
    if not text:
        raise InvalidRequest("a reason is required", field="reason")
    if len(text) > MAX_REASON:
        raise InvalidRequest(f"the reason is longer than {MAX_REASON} characters", field="reason")
    return text


async def perform(
    db: Database,
    ebp_code: str,
    order_no: str,
    action: str,
    reason: str | None,
    seen_version: int,
    operator: Caller,
    on_commit: Callable[[], None],
) -> ActionDone:
    """``act`` in a transaction of its own (the API's and the UI's entry point); once it has
    committed, count it and call ``on_commit`` (the manifest pollers' wake-up)."""
    async with db.write() as conn:
        done = await act(conn, ebp_code, order_no, action, reason, seen_version, operator, utcnow())
    done.count()
    on_commit()
    return done


async def act(
    conn: AsyncConnection,
    ebp_code: str,
    order_no: str,
    action: str,
    reason: str | None,
    seen_version: int,
    operator: Caller,
    now: datetime,
) -> ActionDone:
    """Apply ``action`` inside the caller's write transaction (see the module docstring)."""
    chosen = parse_action(action)
    why = clean_reason(reason)
    found = await bundles.get_by_key(conn, ebp_code, order_no)
    bundle = await bundles.get(conn, found["id"], lock=True) if found else None
    if bundle is None or bundle["version"] == 0:
        raise NotFound(f"no bundle {ebp_code}/{order_no}")
    if bundle["version"] != seen_version:
        raise VersionConflict(
            "the bundle changed since the page was loaded: reload it and decide again",
            version=bundle["version"],
            seen=seen_version,
        )
    move = MOVES[chosen]
    if bundle["state"] not in move.from_states:
        raise ActionNotAllowed(
            f"cannot {chosen.value} a bundle in state {bundle['state']}",
            state=bundle["state"],
        )
    if (
        bundle["state"] == "released"
        and (await returns.for_bundles(conn, [bundle["id"]]))[bundle["id"]]
    ):
        # SPEC §10: goods returned in part were released and came back; undoing the release
        # would leave the returns (and the value they gave back) without the release
        raise ActionNotAllowed(
            f"cannot {chosen.value} a consignment returned in part: its returns stand",
            state=bundle["state"],
        )
    held = await documents.current_in_bundle(conn, bundle["id"])
    docs = current_documents(held, bundle)
    values: dict[str, Any] = {"state": move.to_state, "decided_at": now}
    values.update(await _move_ledger(conn, bundle, docs, move.to_state))
    version = await bundles.bump_version(conn, bundle["id"])
    await bundles.save(conn, bundle["id"], **values)
    entry = await _manifest_entry(conn, bundle, docs)
    rules = [f["code"] for f in bundle["findings"]]
    label = operator.label
    seq = await manifest.append(
        conn,
        **entry,
        id=str(uuid.uuid4()),
        bundle_id=bundle["id"],
        bundle_version=version,
        engine_version=None,
        ebp_code=bundle["ebp_code"],
        order_no=bundle["order_no"],
        decision=move.decision,
        rules=rules,
        decided_at=now,
        by=label,
        reason=why,
    )
    audit_id = await audit.record(
        conn,
        bundle_id=bundle["id"],
        at=now,
        actor=label,
        key_id=operator.key_id,
        action=chosen.value,
        reason=why,
        bundle_version=seen_version,
        new_version=version,
        state_before=bundle["state"],
        state_after=move.to_state,
        seq=seq,
    )
    await audit.append(
        conn,
        actor=label,
        action=f"review.{chosen.value}",
        subject=f"bundle {bundle['ebp_code']}/{bundle['order_no']}",
        detail={
            "keyId": operator.key_id,
            "reason": why,
            "version": seen_version,
            "newVersion": version,
            "stateBefore": bundle["state"],
            "stateAfter": move.to_state,
            "seq": seq,
        },
        at=now,
    )
    await events.record(
        conn,
        bundle["id"],
        now,
        version,
        "operator",
        {
            "decision": move.decision,
            "action": chosen.value,
            "by": label,
            "seq": seq,
            "rules": rules,
            "reason": why,
        },
    )
    if chosen is not Action.REOPEN:  # an open case again: nothing to tell the sender yet
        await _issue_receipt(conn, held, bundle, docs, move.decision, rules, now)
    return ActionDone(
        chosen.value, seq, move.to_state, version, audit_id, entry["direction"], entry["regime"]
    )


async def _issue_receipt(
    conn: AsyncConnection,
    held: list[dict[str, Any]],
    bundle: dict[str, Any],
    docs: BundleDocuments,
    decision: str,
    rules: list[str],
    now: datetime,
) -> None:
    """The decision receipt for the sender of the bundle's inventory, if it has one. Issued
    last: the feed's counter row is held until commit (see ``decide._Plan.write``)."""
    chosen = chosen_rows(held, bundle)
    sender = next((r["sender"] for r in chosen if r["kind"] == "inventory"), None)
    if docs.inventory is None or sender is None:
        return
    row = decision_receipt(docs.inventory, sender, bundle, decision, rules, now, operator=True)
    if row is not None:
        await receipts.issue_many(conn, [row])


async def _move_ledger(
    conn: AsyncConnection, bundle: dict[str, Any], docs: BundleDocuments, to_state: str
) -> dict[str, Any]:
    """The ledger columns to save: counted on entering "released", given back on leaving it."""
    if bundle["state"] == "released" and bundle["ledger_amount"] is not None:
        await ledger.add(
            conn, bundle["ledger_buyer"], bundle["ledger_year"], -bundle["ledger_amount"]
        )
        return {"ledger_buyer": None, "ledger_year": None, "ledger_amount": None}
    key = ledger_key(docs.order)
    if to_state == "released" and key is not None and docs.order is not None:
        amount = transaction_value(docs.order)
        await ledger.add(conn, key[0], key[1], amount)
        return {"ledger_buyer": key[0], "ledger_year": key[1], "ledger_amount": amount}
    return {}


async def _manifest_entry(
    conn: AsyncConnection, bundle: dict[str, Any], docs: BundleDocuments
) -> dict[str, Any]:
    """Routing fields of the entry: what a warehouse filters on, as the engine wrote them."""
    waybill, inventory, order = docs.logistics, docs.inventory, docs.order
    previous = await manifest.for_bundle(conn, bundle["id"])
    regime = (
        previous[-1]["regime"]
        if previous
        else bundle["regime_declared"] or bundle["regime_classified"]
    )
    return {
        "logistics_code": (inventory and inventory.logisticsCode)
        or (waybill and waybill.logisticsCode),
        "logistics_no": (inventory and inventory.logisticsNo) or (waybill and waybill.logisticsNo),
        "ebc_code": (order and order.ebcCode) or (inventory and inventory.ebcCode),
        "agent_code": inventory.agentCode if inventory else None,
        "pay_code": docs.payment.payCode if docs.payment else None,
        "area_code": inventory.areaCode if inventory else None,
        "direction": bundle["direction"],
        "regime": regime,
        "invt_no": bundle["invt_no"],
    }
