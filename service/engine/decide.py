"""Evaluate a bundle and record the engine's decision, inside the caller's transaction.

Called by intake for every bundle a batch touched and by the sweeper for bundles past their
deadline. The decision, its manifest entry, the ledger update and the history event are written
in the same transaction as the document change that caused them: a crash loses all or none.
So is the decision receipt for the inventory's sender (``engine.receipts``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import as_utc
from service.config import Settings
from service.engine import decoded
from service.engine.context import rule_context
from service.engine.lifecycle_writes import AFTER_DECISION, LifecycleWrites
from service.engine.receipts import decision_receipt
from service.messages.documents import Document, Order, document_from_json
from service.messages.registry import Direction, Kind
from service.metrics import DECISIONS, FINDINGS
from service.rules.bundle import BundleDocuments
from service.rules.evaluate import Evaluation, Outcome, evaluate
from service.rules.limits import transaction_value
from service.store import bundles, documents, events, ledger, manifest, receipts
from service.store.dialect import advisory_locks, planned_now

ENGINE = "engine"


@dataclass(frozen=True, slots=True)
class Decided:
    bundle_id: int
    seq: int
    decision: str
    regime: str | None
    direction: str | None = None
    # (rule code, severity) of each finding the decision was made on
    findings: tuple[tuple[str, str], ...] = ()

    def count(self) -> None:
        """Count this decision in the metrics, once its transaction has committed."""
        DECISIONS.labels(self.direction or "", self.regime or "", self.decision, ENGINE).inc()
        for rule, severity in self.findings:
            FINDINGS.labels(rule, severity).inc()


def chosen_rows(rows: list[dict[str, Any]], bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The bundle's current document row of each kind.

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
    return list(chosen.values())


def current_documents(rows: list[dict[str, Any]], bundle: dict[str, Any]) -> BundleDocuments:
    """The bundle's current document of each kind, decoded from the rows' stored JSON."""
    return BundleDocuments(
        **{
            r["kind"]: document_from_json(Kind(r["kind"]), r["data"])
            for r in chosen_rows(rows, bundle)
        }  # type: ignore[arg-type]
    )


async def _held_documents(
    conn: AsyncConnection, rows: dict[int, dict[str, Any]], ids: list[int]
) -> tuple[dict[int, BundleDocuments], dict[int, str]]:
    """The current documents of bundles ``ids``, decoded ones reused from ``engine.decoded``:
    only the JSON of documents this process has not decoded yet is read. And the sender of
    each bundle's inventory, who gets its decision receipts."""
    held = await documents.current_in_bundles(conn, ids, bodies=False)
    database = str(conn.engine.url)
    chosen = {i: chosen_rows(held[i], rows[i]) for i in ids}
    found: dict[int, Document] = {}
    missing: list[dict[str, Any]] = []
    for row in (r for rs in chosen.values() for r in rs):
        doc = decoded.cached(database, int(row["id"]), str(row["digest"]))
        if doc is None:
            missing.append(row)
        else:
            found[int(row["id"])] = doc
    data = await documents.data_of(conn, [int(r["id"]) for r in missing])
    for row in missing:
        doc = document_from_json(Kind(row["kind"]), data[int(row["id"])])
        decoded.remember(database, int(row["id"]), str(row["digest"]), doc)
        found[int(row["id"])] = doc
    documents_of = {
        i: BundleDocuments(**{r["kind"]: found[int(r["id"])] for r in chosen[i]})  # type: ignore[arg-type]
        for i in ids
    }
    senders = {i: r["sender"] for i in ids for r in chosen[i] if r["kind"] == Kind.INVENTORY}
    return documents_of, senders


def ledger_key(order: Order | None) -> tuple[str, int] | None:
    """(buyer ID digest, year) an import order counts under in the annual ledger; shared
    with operator actions (engine/review.py), which move the ledger like the engine does."""
    if order is None or order.direction is not Direction.IMPORT or order.buyerIdNumber is None:
        return None
    return order.buyerIdNumber.digest, int(order.appTime[:4])


async def decide_many(
    conn: AsyncConnection,
    bundle_ids: Iterable[int],
    now: datetime,
    settings: Settings,
    *,
    held: Mapping[int, dict[str, Any]] | None = None,
    changes: Sequence[tuple[int, dict[str, Any]]] = (),
    history: Sequence[dict[str, Any]] = (),
    receipts: Sequence[dict[str, Any]] = (),
    lifecycle: LifecycleWrites | None = None,
) -> list[Decided]:
    """Re-evaluate (locked) bundles in id order, as judging them one after the other would,
    with a fixed number of statements however many there are: reads first, rules in memory
    (the annual ledger carried from one bundle to the next), then the writes in bulk.

    ``held``: the bundles' rows as the caller holds them (locked, with ``changes`` applied),
    instead of reading them; ``changes`` and ``history``: bundle updates and events the
    caller has not written yet, written here together with the decisions' own;
    ``lifecycle``: what the batch's cancels and returns leave (manifest entries, ledger
    refunds), written with them, the refunds' buyer-years held like the releases';
    ``receipts``: rows of the receipts feed the caller has not issued yet, issued before the
    decisions'."""
    ids = sorted(set(bundle_ids))
    plan = _Plan(now, saves=list(changes), events=list(history), receipts=list(receipts))
    refunds = lifecycle.ledger if lifecycle is not None else {}
    if lifecycle is not None:
        for bundle, entry in lifecycle.entries:
            plan.decisions.append(_Pending(bundle, _lifecycle_entry(bundle, entry), []))
        plan.receipts += lifecycle.receipts
    if not ids:
        await advisory_locks(conn, (f"ledger:{buyer}:{year}" for buyer, year in refunds))
        plan.ledger.update(refunds)
        await plan.write(conn)
        return []
    rows = {i: held[i] for i in ids} if held is not None else await bundles.get_many(conn, ids)
    present = [i for i in ids if i in rows]
    # the bundles' current documents, by bundle id: planned for the tables as they are, like
    # the batch's reads (a generic plan made on a small table scans all of them later)
    async with planned_now(conn):
        docs_of, plan.senders = await _held_documents(conn, rows, present)
    judged = [(rows[i], docs_of[i]) for i in present]
    keys: set[tuple[str, int]] = {k for _, docs in judged if (k := ledger_key(docs.order))}
    # Two workers releasing orders of one buyer at once must not both read the total from
    # before the other's release (ANNUAL_LIMIT): the buyer-year is held until commit.
    await advisory_locks(conn, (f"ledger:{buyer}:{year}" for buyer, year in keys | set(refunds)))
    totals = await ledger.year_totals(conn, keys)
    for key, amount in refunds.items():
        plan.ledger[key] = plan.ledger.get(key, Decimal(0)) + amount
        if key in totals:
            totals[key] += amount  # a bundle of this buyer judged next sees the refund
    for bundle, docs in judged:
        _judge(plan, bundle, docs, totals, settings)
    return await plan.write(conn, rows)


@dataclass(slots=True)
class _Pending:
    """A decision waiting for its seq."""

    bundle: dict[str, Any]
    entry: dict[str, Any]
    rules: list[str]
    findings: tuple[tuple[str, str], ...] = ()


@dataclass
class _Plan:
    """The writes that a round of decisions makes, gathered to be made in bulk."""

    now: datetime
    saves: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[_Pending] = field(default_factory=list)
    ledger: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    # rows of the receipts feed, and the sender of each judged bundle's inventory
    receipts: list[dict[str, Any]] = field(default_factory=list)
    senders: dict[int, str] = field(default_factory=dict)

    def receipt(
        self, bundle: dict[str, Any], docs: BundleDocuments, decision: str, rules: list[str]
    ) -> None:
        """The decision's receipt for the inventory's sender (none without an inventory)."""
        sender = self.senders.get(int(bundle["id"]))
        if docs.inventory is None or sender is None:
            return
        row = decision_receipt(docs.inventory, sender, bundle, decision, rules, self.now)
        if row is not None:
            self.receipts.append(row)

    def event(self, bundle: dict[str, Any], event: str, detail: dict[str, Any]) -> None:
        self.events.append(
            {
                "bundle_id": bundle["id"],
                "at": self.now,
                "version": bundle["version"],
                "event": event,
                "detail": detail,
            }
        )

    async def write(
        self, conn: AsyncConnection, rows: Mapping[int, dict[str, Any]] | None = None
    ) -> list[Decided]:
        """``rows``: the bundles as held (locked), so that each is saved whole."""
        # What needs no seq is written first: the manifest's and the receipts' counter rows,
        # taken below, stay locked until commit and every other process's batch waits for
        # them, so the less that is written after them, the shorter that wait.
        merged: dict[int, dict[str, Any]] = {}
        for bundle_id, values in self.saves:
            merged.setdefault(int(bundle_id), {}).update(values)
        await bundles.save_many(conn, list(merged.items()), rows)
        await events.record_many(conn, self.events)
        self.events = []
        # Ledger rows before the manifest counter, the order operator actions take them in
        # (engine/review.py): the two cannot deadlock each other.
        await ledger.add_many(conn, self.ledger)
        seqs = await manifest.append_many(conn, [p.entry for p in self.decisions])
        out: list[Decided] = []
        for pending, seq in zip(self.decisions, seqs, strict=True):
            entry = pending.entry
            self.event(
                pending.bundle,
                "decision",
                {
                    "decision": entry["decision"],
                    "by": entry["by"],
                    "seq": seq,
                    "rules": pending.rules,
                },
            )
            out.append(
                Decided(
                    entry["bundle_id"],
                    seq,
                    entry["decision"],
                    entry["regime"],
                    entry["direction"],
                    pending.findings,
                )
            )
        await events.record_many(conn, self.events)  # the decisions', naming their seqs
        # Last: the feed's counter row stays locked until commit, which serialises every
        # transaction that issues receipts; taken after the others, the same order as
        # operator actions (engine/review.py), so the two cannot deadlock.
        await receipts.issue_many(conn, self.receipts)
        return out


def _judge(
    plan: _Plan,
    bundle: dict[str, Any],
    docs: BundleDocuments,
    totals: dict[tuple[str, int], Decimal],
    settings: Settings,
) -> None:
    if bundle["state"] in AFTER_DECISION:
        return  # cancelled, returned, closed: nothing more is decided
    released = bundle["state"] == "released"
    key = ledger_key(docs.order)
    year_total = totals[key] if key else Decimal(0)
    if released and bundle["ledger_amount"] is not None:
        year_total -= bundle["ledger_amount"]  # its own release is already in the total
    deadline_passed = plan.now >= as_utc(bundle["deadline_at"])
    ctx = rule_context(
        settings,
        buyer_year_total=year_total,
        deadline_passed=deadline_passed,
        arrived=bundle.get("arrived_at") is not None,
    )
    result = evaluate(docs, ctx)
    values = _summary(result, docs)
    plan.saves.append((bundle["id"], values))
    if released:
        # A release is final. A document that joins later (a 9710 receipt) is judged all
        # the same: a release again records what it was judged on; anything worse shows in
        # the findings and the history, for an operator, but does not undo the release.
        if result.outcome is Outcome.RELEASE:
            _record(plan, bundle, docs, result, values, None, totals)
        else:
            plan.event(bundle, "late-findings", {"rules": [f.code for f in result.findings]})
        return
    # An operator's reject stands until an operator reopens.
    if bundle["state"] == "rejected" or result.outcome is Outcome.PENDING:
        if bundle["state"] == "exception" and result.outcome is Outcome.PENDING:
            values["state"] = "pending"
        return
    _record(plan, bundle, docs, result, values, key, totals)


def _lifecycle_entry(bundle: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """A cancel's or return's manifest entry, on the bundle version it produced; shaped like
    the engine's (no ``engine_version``: it is not a judgement of that version)."""
    return {
        "id": str(uuid.uuid4()),
        "bundle_version": bundle["version"],
        "engine_version": None,
        **entry,
    }


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


def _record(
    plan: _Plan,
    bundle: dict[str, Any],
    docs: BundleDocuments,
    result: Evaluation,
    values: dict[str, Any],
    key: tuple[str, int] | None,
    totals: dict[tuple[str, int], Decimal],
) -> None:
    """Plan the decision: its manifest entry, the bundle's new state (into ``values``, the
    bundle's one save of this round) and, for a release, the annual ledger."""
    decision = "release" if result.outcome is Outcome.RELEASE else "exception"
    waybill = docs.logistics
    inventory = docs.inventory
    rules = [f.code for f in result.findings]
    entry = {
        "id": str(uuid.uuid4()),
        "bundle_id": bundle["id"],
        "bundle_version": bundle["version"],
        "engine_version": bundle["version"],
        "ebp_code": bundle["ebp_code"],
        "order_no": bundle["order_no"],
        "logistics_code": (inventory and inventory.logisticsCode)
        or (waybill and waybill.logisticsCode),
        "logistics_no": (inventory and inventory.logisticsNo) or (waybill and waybill.logisticsNo),
        "ebc_code": values["ebc_code"],
        "agent_code": values["agent_code"],
        "pay_code": values["pay_code"],
        "area_code": values["area_code"],
        "direction": values["direction"],
        # The regime the bundle was judged under: a nonsense declaration does not name it.
        "regime": result.regime.effective,
        "invt_no": bundle.get("invt_no"),
        "decision": decision,
        "rules": rules,
        "decided_at": plan.now,
        "by": ENGINE,
        "reason": None,
    }
    findings = tuple((f.code, f.severity.value) for f in result.findings)
    plan.decisions.append(_Pending(bundle, entry, rules, findings))
    values["state"] = "released" if decision == "release" else "exception"
    if bundle["state"] != "released":
        # a release judged again (a late addition) keeps the time the goods were released:
        # the return and cancel windows run from it (SPEC §10)
        values["decided_at"] = plan.now
    if decision == "release" and key and docs.order is not None:
        amount = transaction_value(docs.order)
        totals[key] += amount  # the next bundle of this buyer sees it
        plan.ledger[key] = plan.ledger.get(key, Decimal(0)) + amount
        values.update(ledger_buyer=key[0], ledger_year=key[1], ledger_amount=amount)
    plan.receipt({**bundle, **values}, docs, decision, rules)  # the bundle as it is saved
