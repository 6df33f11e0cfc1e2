"""Export summaries (汇总申报, SPEC §10): a CEB701 summary application, judged and applied.

The application names the ebc's released export lists by invtNo, or gives a period
(``startTime`` / ``endTime``, Beijing time) that replaces the lines: then every eligible list
of the ebc released in it is taken. The lists' bundles are locked in key order, as every batch
locks bundles, so a cancel in another process cannot slip between the judgement and the
commit. The rules, in the SPEC's precedence, each refusing the whole document:

- ``LIFECYCLE_UNKNOWN``: no consignment has a listed invtNo;
- ``BUNDLE_CANCELLED``: a listed consignment was cancelled (before every other code);
- ``SUMMARY_PARTY``: a list is not the summary's ebc's (nor, when an agent sends it, that
  agent's), or not an export retail list (9610 / 1210 export);
- ``SUMMARY_NOT_RELEASED``: a list neither released nor closed (``ELIGIBLE_STATES``);
- ``SUMMARY_DUPLICATE``: a list already in another accepted summary, or listed twice. The
  unique invtNo of ``summary_inventories`` decides it when two processes summarise one list
  at once: the later insert waits for the earlier transaction and gets nothing.

An accepted summary is given its sumNo (``engine.sum_no``) and its groups
(``engine.summary_groups``), stored with the document (status ``applied``) in the batch's
transaction: "accepted" means the summary exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.engine.batch import BatchState, Row
from service.engine.document_rows import document_values
from service.engine.incoming import IncomingDocument, Outcome
from service.engine.sum_no import sum_no_for
from service.engine.summary_groups import Grouping, group
from service.messages.documents import Inventory, SummaryApply, document_from_json
from service.messages.receipts import CUSTOMS_TZ
from service.messages.registry import Kind
from service.store import documents, summaries

# The states a list is summarised in: released, and closed (结关) after its departure.
ELIGIBLE_STATES = frozenset({"released", "closed"})
# Export retail regimes (9610 B2C, 1210 bonded-zone export): the ones 汇总申报 is for.
RETAIL_EXPORT = frozenset({"9610", "1210"})


def is_summary(inc: IncomingDocument) -> bool:
    return inc.document.kind is Kind.SUMMARY


def customs_time(text: str) -> datetime | None:
    """A ``YYYYMMDDhhmmss`` Beijing time, or None when it is not a real time."""
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=CUSTOMS_TZ)
    except ValueError:
        return None


def _period(doc: SummaryApply) -> tuple[datetime, datetime] | Outcome | None:
    if not doc.startTime and not doc.endTime:
        return None
    if not (doc.startTime and doc.endTime):
        return Outcome.rejected(
            "SCHEMA_INVALID",
            "startTime and endTime are given together (填写须成对)",
            path="SummaryApplyHead/startTime",
        )
    start, end = customs_time(doc.startTime), customs_time(doc.endTime)
    if start is None or end is None:
        return Outcome.rejected(
            "SCHEMA_INVALID",
            f"startTime {doc.startTime} / endTime {doc.endTime}: not a real YYYYMMDDhhmmss time",
            path="SummaryApplyHead/startTime",
        )
    if end < start:
        return Outcome.rejected(
            "SCHEMA_INVALID",
            f"endTime {doc.endTime} is before startTime {doc.startTime}",
            path="SummaryApplyHead/endTime",
        )
    return start, end


def _own_agent(doc: SummaryApply, sender: str, bundle: Row) -> bool:
    """The ebc summarises any of its lists; an agent only those it declared.

    Intake let the sender act for the summary's agentCode or its ebcCode. An ebc declaring
    its own summary names itself as the agent (or sends under its own code); a summary
    naming another agent holds that agent's lists only, or one agent could summarise
    another's ebc by naming it."""
    return (
        sender == doc.ebcCode
        or doc.agentCode == doc.ebcCode
        or bundle["agent_code"] in (None, doc.agentCode)
    )


def party_refusal(
    doc: SummaryApply, sender: str, bundle: Row, inventory: Inventory | None
) -> str | None:
    invt_no = bundle["invt_no"]
    if bundle["ebc_code"] != doc.ebcCode:
        return f"invtNo {invt_no} is ebc {bundle['ebc_code']!r}'s, not {doc.ebcCode!r}'s"
    if not _own_agent(doc, sender, bundle):
        return f"invtNo {invt_no} was declared by agent {bundle['agent_code']!r}"
    trade_mode = inventory.tradeMode if inventory is not None else None
    if bundle["direction"] != "E" or trade_mode not in RETAIL_EXPORT:
        return f"invtNo {invt_no} is not an export retail list (9610 / 1210): {trade_mode}"
    return None


async def _inventories(
    conn: AsyncConnection, state: BatchState, held: Sequence[Row]
) -> dict[int, Inventory]:
    """Each bundle's current inventory, this batch's versions included."""
    await state.flush_documents(conn)
    return await current_inventories(conn, [int(b["id"]) for b in held])


async def current_inventories(conn: AsyncConnection, ids: list[int]) -> dict[int, Inventory]:
    """bundle id -> its current inventory (the newest version), for those that have one."""
    out: dict[int, Inventory] = {}
    for bundle_id, rows in (await documents.current_in_bundles(conn, ids)).items():
        found = [r for r in rows if r["kind"] == Kind.INVENTORY.value]
        if found:
            newest = max(found, key=lambda r: (r["app_time"], r["id"]))
            doc = document_from_json(Kind.INVENTORY, newest["data"])
            if isinstance(doc, Inventory):
                out[bundle_id] = doc
    return out


def _as_held(state: BatchState, row: Row) -> Row:
    """The batch's own picture of a bundle it holds (a cancel earlier in it counts)."""
    return state.by_id.get(int(row["id"]), row)


async def _listed(
    conn: AsyncConnection, sender: str, doc: SummaryApply, state: BatchState
) -> tuple[list[Row], dict[int, Inventory]] | Outcome:
    listed = [line.invtNo for line in doc.lines]
    if not listed:
        return Outcome.rejected(
            "SCHEMA_INVALID",
            "a summary names its inventories (SummaryApplyList) or a period (startTime, endTime)",
            path="SummaryApply/SummaryApplyList",
        )
    found = await summaries.bundles_by_invt_no(conn, listed)
    unknown = [no for no in listed if no not in found]
    if unknown:
        return Outcome.rejected("LIFECYCLE_UNKNOWN", f"no consignment has invtNo {_names(unknown)}")
    held = [_as_held(state, found[no]) for no in dict.fromkeys(listed)]
    cancelled = [b["invt_no"] for b in held if b["state"] == "cancelled"]
    if cancelled:
        return Outcome.rejected(
            "BUNDLE_CANCELLED", f"the consignment of invtNo {_names(cancelled)} was cancelled"
        )
    inventories = await _inventories(conn, state, held)
    for bundle in held:
        refusal = party_refusal(doc, sender, bundle, inventories.get(int(bundle["id"])))
        if refusal:
            return Outcome.rejected("SUMMARY_PARTY", refusal)
    waiting = [f"{b['invt_no']} ({b['state']})" for b in held if b["state"] not in ELIGIBLE_STATES]
    if waiting:
        return Outcome.rejected(
            "SUMMARY_NOT_RELEASED", f"invtNo {_names(waiting)}: neither released nor closed"
        )
    twice = sorted({no for no in listed if listed.count(no) > 1})
    if twice:
        return Outcome.rejected("SUMMARY_DUPLICATE", f"invtNo {_names(twice)} is listed twice")
    return held, inventories


async def _in_period(
    conn: AsyncConnection,
    sender: str,
    doc: SummaryApply,
    period: tuple[datetime, datetime],
    state: BatchState,
) -> tuple[list[Row], dict[int, Inventory]] | Outcome:
    start, end = period
    rows = await summaries.released_between(
        conn, doc.ebcCode, start, end, ELIGIBLE_STATES, lock=True
    )
    held = [
        b
        for b in (_as_held(state, r) for r in rows)
        if b["state"] in ELIGIBLE_STATES and _own_agent(doc, sender, b)
    ]
    inventories = await _inventories(conn, state, held)
    taken = [
        b for b in held if party_refusal(doc, sender, b, inventories.get(int(b["id"]))) is None
    ]
    if not taken:
        return Outcome.rejected(
            "SUMMARY_NOT_RELEASED",
            f"ebc {doc.ebcCode} has no released export retail list not yet summarised "
            f"between {doc.startTime} and {doc.endTime}",
        )
    return taken, inventories


def _names(values: Sequence[str]) -> str:
    return ", ".join(values)


async def apply_summary(
    conn: AsyncConnection, sender: str, inc: IncomingDocument, state: BatchState
) -> Outcome:
    doc = inc.document
    assert isinstance(doc, SummaryApply)
    if doc.appType != "1":
        return Outcome.rejected(
            "ALREADY_DECIDED",
            f"a summary is applied when it is accepted: appType {doc.appType} cannot change or "
            "delete one; send a new application (appType 1)",
        )
    period = _period(doc)
    if isinstance(period, Outcome):
        return period
    judged = (
        await _in_period(conn, sender, doc, period, state)
        if period is not None
        else await _listed(conn, sender, doc, state)
    )
    if isinstance(judged, Outcome):
        return judged
    held, inventories = judged
    already = await summaries.summarised(conn, [b["invt_no"] for b in held])
    if already:
        named = _names([f"{no} (sumNo {s})" for no, s in sorted(already.items())])
        return Outcome.rejected("SUMMARY_DUPLICATE", f"invtNo {named} is already summarised")
    grouping = group(
        [(str(b["invt_no"]), inventories[int(b["id"])]) for b in held],
        by_item_name=doc.itemNameFlag == "1",
        by_owner=doc.summaryFlag == "2",
    )
    summary_id = await summaries.create(conn, _summary_row(doc, held, grouping, state.now))
    pairs = [(str(b["invt_no"]), int(b["id"])) for b in held]
    got = await summaries.claim(conn, summary_id, pairs)
    if len(got) != len(pairs):
        # another summary took them since they were read: it committed first
        await summaries.discard(conn, summary_id)
        lost = sorted({no for no, _ in pairs} - got)
        return Outcome.rejected(
            "SUMMARY_DUPLICATE", f"invtNo {_names(lost)} is already in another summary"
        )
    row = state.add_document(
        document_values(sender, inc, state.now, bundle_id=None, status="applied"), doc
    )
    await state.flush_documents(conn)
    sum_no = sum_no_for(doc.customsCode, state.now, summary_id)
    await summaries.complete(conn, summary_id, sum_no, int(row["id"]))
    return Outcome("accepted", "120", sum_no=sum_no)


def _summary_row(
    doc: SummaryApply, held: Sequence[Row], grouping: Grouping, now: datetime
) -> dict[str, Any]:
    released = [b["decided_at"] for b in held if b.get("decided_at") is not None]
    return {
        "ebc_code": doc.ebcCode,
        "agent_code": doc.agentCode,
        "created_at": now,
        "released_from": min(released, default=None),
        "released_to": max(released, default=None),
        "head": {
            "guid": doc.guid,
            "customsCode": doc.customsCode,
            "copNo": doc.copNo,
            "agentCode": doc.agentCode,
            "agentName": doc.agentName,
            "ebcCode": doc.ebcCode,
            "ebcName": doc.ebcName,
            "declAgentCode": doc.declAgentCode,
            "declAgentName": doc.declAgentName,
            "summaryFlag": doc.summaryFlag,
            "itemNameFlag": doc.itemNameFlag,
            "startTime": doc.startTime,
            "endTime": doc.endTime,
            "grossWeight": str(grouping.gross_weight),
            "netWeight": str(grouping.net_weight),
        },
        "lines": [line.to_json() for line in grouping.lines],
        "items": [item.to_json() for item in grouping.items],
    }


async def replayed_sum_no(conn: AsyncConnection, sender: str, guid: str) -> str | None:
    """The sumNo an accepted summary document was given: a replay's answer names it too."""
    return await summaries.sum_no_of_document(conn, sender, guid)
