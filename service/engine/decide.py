"""Evaluate a bundle and record the engine's decision, inside the caller's transaction.

Called by intake for every bundle a batch touched and by the sweeper for bundles past their
deadline. The decision, its manifest entry, the ledger update and the history event are written
in the same transaction as the document change that caused them: a crash loses all or none.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import as_utc
from service.config import Settings
from service.engine.context import rule_context
from service.messages.documents import Order, document_from_json
from service.messages.registry import Direction, Kind
from service.metrics import DECISIONS
from service.rules.bundle import BundleDocuments
from service.rules.evaluate import Evaluation, Outcome, evaluate
from service.rules.limits import transaction_value
from service.store import bundles, documents, events, ledger, manifest

ENGINE = "engine"


@dataclass(frozen=True, slots=True)
class Decided:
    bundle_id: int
    seq: int
    decision: str
    regime: str | None
    direction: str | None = None

    def count(self) -> None:
        """Count this decision in the metrics, once its transaction has committed."""
        DECISIONS.labels(self.direction or "", self.regime or "", self.decision, ENGINE).inc()


def current_documents(rows: list[dict[str, Any]], bundle: dict[str, Any]) -> BundleDocuments:
    """The bundle's current document of each kind.

    A bundle may hold more than one current waybill (one attached by orderNo, another named
    by the inventory): the one the inventory names wins, else the newest.
    """
    chosen: dict[str, dict[str, Any]] = {}
    named = (bundle.get("inv_logistics_code"), bundle.get("inv_logistics_no"))
    for row in rows:
        kind = row["kind"]
        best = chosen.get(kind)
        if best is None:
            chosen[kind] = row
            continue
        if kind == Kind.LOGISTICS:
            row_named = (row["logistics_code"], row["logistics_no"]) == named
            best_named = (best["logistics_code"], best["logistics_no"]) == named
            if row_named != best_named:
                if row_named:
                    chosen[kind] = row
                continue
        if (row["app_time"], row["id"]) > (best["app_time"], best["id"]):
            chosen[kind] = row
    docs = {kind: document_from_json(Kind(kind), row["data"]) for kind, row in chosen.items()}
    return BundleDocuments(**docs)  # type: ignore[arg-type]


def _ledger_key(order: Order | None) -> tuple[str, int] | None:
    if order is None or order.direction is not Direction.IMPORT or order.buyerIdNumber is None:
        return None
    return order.buyerIdNumber.digest, int(order.appTime[:4])


async def decide(
    conn: AsyncConnection, bundle_id: int, now: datetime, settings: Settings
) -> Decided | None:
    """Re-evaluate one (locked) bundle; append a manifest entry if the engine decides."""
    bundle = await bundles.get(conn, bundle_id)
    if bundle is None:
        return None
    released = bundle["state"] == "released"
    docs = current_documents(await documents.current_in_bundle(conn, bundle_id), bundle)
    key = _ledger_key(docs.order)
    year_total = await ledger.year_total(conn, *key) if key else Decimal(0)
    if released and bundle["ledger_amount"] is not None:
        year_total -= bundle["ledger_amount"]  # its own release is already in the total
    deadline_passed = now >= as_utc(bundle["deadline_at"])
    ctx = rule_context(settings, buyer_year_total=year_total, deadline_passed=deadline_passed)
    result = evaluate(docs, ctx)
    await bundles.save(conn, bundle_id, **_summary(result, docs))
    if released:
        # A release is final. A document that joins later (a 9710 receipt) is judged all
        # the same: a release again records what it was judged on; anything worse shows in
        # the findings and the history, for an operator, but does not undo the release.
        if result.outcome is Outcome.RELEASE:
            return await _record(conn, bundle, docs, result, now, None)
        await events.record(
            conn,
            bundle_id,
            now,
            bundle["version"],
            "late-findings",
            {"rules": [f.code for f in result.findings]},
        )
        return None
    # An operator's reject stands until an operator reopens.
    if bundle["state"] == "rejected" or result.outcome is Outcome.PENDING:
        if bundle["state"] == "exception" and result.outcome is Outcome.PENDING:
            await bundles.save(conn, bundle_id, state="pending")
        return None
    return await _record(conn, bundle, docs, result, now, key)


def _summary(result: Evaluation, docs: BundleDocuments) -> dict[str, Any]:
    inventory = docs.inventory
    return {
        "direction": result.regime.direction.value if result.regime.direction else None,
        "regime_declared": result.regime.declared,
        "regime_classified": result.regime.classified,
        "missing": [k.value for k in result.missing],
        "findings": [f.to_json() for f in result.findings],
        "ebc_code": (docs.order and docs.order.ebcCode) or (inventory and inventory.ebcCode),
        "agent_code": inventory.agentCode if inventory else None,
        "pay_code": docs.payment.payCode if docs.payment else None,
        "area_code": inventory.areaCode if inventory else None,
    }


async def _record(
    conn: AsyncConnection,
    bundle: dict[str, Any],
    docs: BundleDocuments,
    result: Evaluation,
    now: datetime,
    ledger_key: tuple[str, int] | None,
) -> Decided:
    decision = "release" if result.outcome is Outcome.RELEASE else "exception"
    # The regime the bundle was judged under: a nonsense declaration does not name it.
    regime = result.regime.effective
    waybill = docs.logistics
    inventory = docs.inventory
    seq = await manifest.append(
        conn,
        id=str(uuid.uuid4()),
        bundle_id=bundle["id"],
        bundle_version=bundle["version"],
        engine_version=bundle["version"],
        ebp_code=bundle["ebp_code"],
        order_no=bundle["order_no"],
        logistics_code=(inventory and inventory.logisticsCode)
        or (waybill and waybill.logisticsCode),
        logistics_no=(inventory and inventory.logisticsNo) or (waybill and waybill.logisticsNo),
        ebc_code=(docs.order and docs.order.ebcCode) or (inventory and inventory.ebcCode),
        agent_code=inventory.agentCode if inventory else None,
        pay_code=docs.payment.payCode if docs.payment else None,
        area_code=inventory.areaCode if inventory else None,
        direction=result.regime.direction.value if result.regime.direction else None,
        regime=regime,
        decision=decision,
        rules=[f.code for f in result.findings],
        decided_at=now,
        by=ENGINE,
    )
    values: dict[str, Any] = {
        "state": "released" if decision == "release" else "exception",
        "decided_at": now,
    }
    if decision == "release" and ledger_key and docs.order is not None:
        amount = transaction_value(docs.order)
        await ledger.add(conn, ledger_key[0], ledger_key[1], amount)
        values.update(ledger_buyer=ledger_key[0], ledger_year=ledger_key[1], ledger_amount=amount)
    await bundles.save(conn, bundle["id"], **values)
    await events.record(
        conn,
        bundle["id"],
        now,
        bundle["version"],
        "decision",
        {
            "decision": decision,
            "by": ENGINE,
            "seq": seq,
            "rules": [f.code for f in result.findings],
        },
    )
    direction = result.regime.direction.value if result.regime.direction else None
    return Decided(bundle["id"], seq, decision, regime, direction)
