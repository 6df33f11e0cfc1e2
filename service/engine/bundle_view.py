"""The read model of one bundle (SPEC §6.2), shared by the API and the review UI."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import iso
from service.engine.decide import current_documents
from service.queue.manifest import entry_json
from service.security.keys import Caller
from service.store import bundles, documents, events, manifest, returns, summaries

_DETAIL_KEYS_SHOWN = (
    "kind",
    "guid",
    "appType",
    "appTime",
    "messageType",
    "decision",
    "by",
    "seq",
    "rules",
    "reason",
    "stateBefore",
    "value",
    "billNo",
    "before",
    "closed",
)


def party_codes(bundle: dict[str, Any], docs: list[dict[str, Any]]) -> set[str]:
    codes = {
        bundle.get(name)
        for name in (
            "ebp_code",
            "ebc_code",
            "agent_code",
            "pay_code",
            "area_code",
            "inv_logistics_code",
        )
    }
    codes.update(d.get("logistics_code") for d in docs)
    codes.discard(None)
    return {str(c) for c in codes}


def may_see(caller: Caller, bundle: dict[str, Any], docs: list[dict[str, Any]]) -> bool:
    return caller.sees_everything or bool(party_codes(bundle, docs) & caller.visible_codes)


def _document_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "guid": row["guid"],
        "messageType": row["message_type"],
        "appType": row["app_type"],
        "appTime": row["app_time"],
        "receivedAt": iso(row["received_at"]),
        "signature": row["signature"],
        "signatureSerial": row["signature_serial"],
        "key": {
            k: row[c]
            for k, c in (
                ("ebpCode", "ebp_code"),
                ("orderNo", "order_no"),
                ("logisticsCode", "logistics_code"),
                ("logisticsNo", "logistics_no"),
            )
            if row[c]
        },
    }


def return_json(row: dict[str, Any]) -> dict[str, Any]:
    """One return as SPEC §10 shows it: amounts as decimal strings, exactly as computed
    (the line values' sum, not the column's fixed scale)."""
    return {
        "invtNo": row["invt_no"],
        "at": iso(row["at"]),
        "value": str(sum((Decimal(line["value"]) for line in row["lines"]), Decimal(0))),
        "lines": [
            {"gnum": int(line["gnum"]), "qty": line["qty"], "value": line["value"]}
            for line in row["lines"]
        ],
    }


async def load_bundle(
    conn: AsyncConnection, ebp_code: str, order_no: str, caller: Caller
) -> dict[str, Any] | None:
    """The bundle as JSON, or None when it does not exist or the caller may not see it."""
    bundle = await bundles.get_by_key(conn, ebp_code, order_no)
    if bundle is None:
        return None
    current = await documents.current_in_bundle(conn, bundle["id"])
    if not may_see(caller, bundle, current):
        return None
    chosen = current_documents(current, bundle)
    by_guid = {(row["kind"], row["guid"]): row for row in current}
    docs_json = {}
    for kind in ("order", "payment", "logistics", "inventory"):
        doc = getattr(chosen, kind)
        if doc is not None:
            docs_json[kind] = _document_json(by_guid[(kind, doc.guid)])
    history = [
        {
            "at": iso(e["at"]),
            "version": e["version"],
            "event": e["event"],
            **{k: v for k, v in e["detail"].items() if k in _DETAIL_KEYS_SHOWN},
        }
        for e in await events.history(conn, bundle["id"])
    ]
    return {
        "ebpCode": bundle["ebp_code"],
        "orderNo": bundle["order_no"],
        "direction": bundle["direction"],
        "regime": {
            "declared": bundle["regime_declared"],
            "classified": bundle["regime_classified"],
        },
        "state": bundle["state"],
        "version": bundle["version"],
        "invtNo": bundle["invt_no"],
        "documents": docs_json,
        "missing": bundle["missing"],
        "findings": bundle["findings"],
        "deadline": iso(bundle["deadline_at"]),
        "decidedAt": iso(bundle["decided_at"]),
        "cancelledAt": iso(bundle["cancelled_at"]),
        "arrivedAt": iso(bundle["arrived_at"]),
        "departedAt": iso(bundle["departed_at"]),
        "billNo": bundle["bill_no"],
        "returns": [
            return_json(r) for r in (await returns.for_bundles(conn, [bundle["id"]]))[bundle["id"]]
        ],
        "summary": await summaries.sum_no_of_bundle(conn, int(bundle["id"])),
        "decisions": [entry_json(r) for r in await manifest.for_bundle(conn, bundle["id"])],
        "history": history,
    }
