"""The read model of export summaries (SPEC §10): one summary as JSON or CEB792, the
summaries a caller may list, and the proposal of what an ebc could summarise next.

A summary is the caller's to read when one of its codes is the summary's ebc or agent;
operators read all. Lines come in ``gseqno`` order (the first line is group 1), amounts as
decimal strings.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import iso
from service.engine.summary import ELIGIBLE_STATES, RETAIL_EXPORT, current_inventories
from service.engine.summary_groups import group
from service.errors import InvalidRequest
from service.messages.receipts import CUSTOMS_TZ
from service.messages.summary_result import build_summary_result
from service.security.keys import Caller
from service.store import summaries

Row = dict[str, Any]
_LINE_KEYS = ("gcode", "gname", "country", "currency", "unit", "qty", "totalPrice")


def may_read(caller: Caller, summary: Row) -> bool:
    return caller.sees_everything or bool(
        {summary["ebc_code"], summary["agent_code"]} & caller.codes
    )


def _lines(lines: list[Row]) -> list[Row]:
    return [{k: line[k] for k in _LINE_KEYS} for line in lines]


def summary_json(summary: Row, inventories: list[str]) -> Row:
    return {
        "sumNo": summary["sum_no"],
        "ebcCode": summary["ebc_code"],
        "inventories": inventories,
        "lines": _lines(summary["lines"]),
    }


def summary_xml(summary: Row) -> bytes:
    return build_summary_result(
        str(summary["sum_no"]), summary["head"], summary["items"], summary["created_at"]
    )


async def load_summary(conn: AsyncConnection, sum_no: str, caller: Caller) -> Row | None:
    """The summary row with its ``inventories``, or None (absent, or not the caller's)."""
    summary = await summaries.get(conn, sum_no)
    if summary is None or not may_read(caller, summary):
        return None
    held = await summaries.inventories_of(conn, [int(summary["id"])])
    return {**summary, "inventories": held[int(summary["id"])]}


def totals(summary: Row) -> tuple[Decimal, Decimal]:
    """Σ qty and Σ totalPrice over the summary's groups."""
    qty = sum((Decimal(line["qty"]) for line in summary["lines"]), Decimal(0))
    value = sum((Decimal(line["totalPrice"]) for line in summary["lines"]), Decimal(0))
    return qty, value


async def listing(conn: AsyncConnection, caller: Caller) -> list[Row]:
    """The summaries the caller may read, newest first, each with its inventories and
    totals (for the review UI's page and its CSV)."""
    rows = await summaries.listing(conn, None if caller.sees_everything else caller.codes)
    held = await summaries.inventories_of(conn, [int(r["id"]) for r in rows])
    out = []
    for row in rows:
        qty, value = totals(row)
        out.append(
            {
                "sumNo": row["sum_no"],
                "ebcCode": row["ebc_code"],
                "agentCode": row["agent_code"],
                "createdAt": iso(row["created_at"]),
                "releasedFrom": iso(row["released_from"]),
                "releasedTo": iso(row["released_to"]),
                "inventories": held[int(row["id"])],
                "lines": len(row["lines"]),
                "qty": str(qty),
                "totalPrice": str(value),
            }
        )
    return out


def _day(text: str | None, name: str) -> date:
    if not text:
        raise InvalidRequest(f"{name} is required (YYYY-MM-DD)", field=name)
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidRequest(f"{name} {text!r} is not a date YYYY-MM-DD", field=name)


def period(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """[first instant of ``start``, last instant of ``end``], both days in Beijing time."""
    first, last = _day(start, "from"), _day(end, "to")
    if last < first:
        raise InvalidRequest(f"to {end} is before from {start}", field="to")
    begin = datetime.combine(first, time.min, CUSTOMS_TZ)
    finish = datetime.combine(last + timedelta(days=1), time.min, CUSTOMS_TZ)
    return begin, finish - timedelta(microseconds=1)


async def proposal(
    conn: AsyncConnection,
    caller: Caller,
    ebc_code: str,
    start: str | None,
    end: str | None,
    *,
    by_item_name: bool = False,
    by_owner: bool = False,
) -> Row:
    """The ebc's released or closed export retail lists released in the period that no
    summary holds yet, and the groups they would form. A caller acting for the ebc (or an
    operator) sees all of them, an agent those it declared."""
    if not ebc_code:
        raise InvalidRequest("ebcCode is required", field="ebcCode")
    begin, finish = period(start, end)
    rows = await summaries.released_between(conn, ebc_code, begin, finish, ELIGIBLE_STATES)
    if not (caller.sees_everything or caller.acts_for(ebc_code)):
        rows = [r for r in rows if r["agent_code"] in caller.codes]
    inventories = await current_inventories(conn, [int(r["id"]) for r in rows])
    taken = [
        (str(r["invt_no"]), inventories[int(r["id"])])
        for r in rows
        if int(r["id"]) in inventories and inventories[int(r["id"])].tradeMode in RETAIL_EXPORT
    ]
    grouping = group(taken, by_item_name=by_item_name, by_owner=by_owner)
    return {
        "ebcCode": ebc_code,
        "from": start,
        "to": end,
        "inventories": sorted(no for no, _ in taken),
        "lines": _lines([line.to_json() for line in grouping.lines]),
    }
