"""Cancels (撤单: CEB623 import, CEB605 export) and returns (退货: CEB625, CEB213) for an
inventory, as the demo sends them after the decision (SPEC §10).

A lifecycle document copies what customs expects from the inventory it names: the invtNo
Sandan assigned (the answer's ``key.invtNo``), on import the ebpCode + orderNo, waybill and
buyer; on export the agent, ebc and, for a return, the transport back. The functions here work
on field dictionaries (head fields, line fields, as text); ``cancel_message`` and
``refund_message`` wrap them in whole messages for a demo ``Consignment``. The test builders
(``tests.messages.lifecycle_builders``) turn the same fields into lxml elements for inventories
in other forms.

``overrides`` name head fields: a string replaces the value, ``None`` removes the element; a
name the document does not carry is an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from service.demo.compose import compose, field_order, new_guid
from service.demo.consignments import Consignment
from service.messages.registry import Direction

CANCEL_REASON = "消费者取消订单"
RETURN_REASON = "消费者退货"
# Export return head fields an export inventory need not carry (values as the official sample).
EXPORT_RETURN_DEFAULTS = {"trafName": "飞机", "voyageNo": "CZ465"}
_FIFTH = Decimal("0.00001")

Fields = dict[str, str]
Returned = Mapping[int, Decimal | int | str]

# Head fields copied from the inventory, per document element (the rest is set below).
_IMPORT_COPIED = (
    *("customsCode", "orderNo", "ebpCode", "ebpName", "ebcCode", "ebcName"),
    *("logisticsNo", "logisticsCode", "logisticsName", "copNo", "preNo"),
    *("buyerIdType", "buyerIdNumber", "buyerName", "buyerTelephone", "agentCode", "agentName"),
)
_EXPORT_CANCEL_COPIED = ("customsCode", "copNo", "agentCode", "agentName", "ebcCode", "ebcName")
_EXPORT_RETURN_COPIED = (
    *("customsCode", "loctNo", "ebpCode", "ebpName", "ebcCode", "ebcName"),
    *("logisticsNo", "logisticsCode", "logisticsName", "tradeMode", "agentCode", "agentName"),
    *("billNo", "trafMode", "trafName", "portCode", "country", "voyageNo"),
)


def as_text(value: Any) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def text_fields(values: Mapping[str, Any]) -> Fields:
    """``values`` as text, without the empty ones."""
    return {k: as_text(v) for k, v in values.items() if v is not None and as_text(v) != ""}


def schema_side(direction: Direction) -> str:
    return "import" if direction is Direction.IMPORT else "export"


def _invt_no(head: Fields, invt_no: str | None) -> str:
    chosen = invt_no or head.get("invtNo")
    if not chosen:
        raise ValueError("give invt_no: Sandan assigns it, the inventory does not carry one")
    return chosen


def _check_names(side: str, element: str, overrides: Mapping[str, str | None]) -> None:
    unknown = set(overrides) - set(field_order(side, element))
    if unknown:
        raise KeyError(f"{element} has no {', '.join(sorted(unknown))}")


def _head(
    head: Fields,
    copied: Sequence[str],
    extra: Fields,
    overrides: Mapping[str, str | None],
) -> Fields:
    values = {
        "guid": extra.pop("guid"),
        "appType": "1",
        "appTime": head.get("appTime", "20240301120000"),
        "appStatus": "2",
        **{name: head[name] for name in copied if name in head},
        **extra,
    }
    for name, value in overrides.items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values


def cancel_fields(
    head: Fields,
    direction: Direction,
    *,
    guid: str,
    invt_no: str | None = None,
    reason: str = CANCEL_REASON,
    overrides: Mapping[str, str | None] | None = None,
) -> Fields:
    """The ``InvtCancel`` fields cancelling the inventory whose head is ``head``."""
    side = schema_side(direction)
    overrides = overrides or {}
    _check_names(side, "InvtCancel", overrides)
    copied = _IMPORT_COPIED if side == "import" else _EXPORT_CANCEL_COPIED
    extra = {"guid": guid, "invtNo": _invt_no(head, invt_no), "reason": reason}
    if side == "export" and len(head.get("preNo", "")) == 18:
        extra["preNo"] = head["preNo"]
    return _head(head, copied, extra, overrides)


def refund_fields(
    head: Fields,
    inventory_lines: Sequence[Fields],
    direction: Direction,
    returned: Returned | None = None,
    *,
    guid: str,
    invt_no: str | None = None,
    reason: str = RETURN_REASON,
    overrides: Mapping[str, str | None] | None = None,
) -> tuple[Fields, list[Fields]]:
    """(``InvtRefundHead`` fields, ``InvtRefundList`` fields) returning ``returned`` (gnum ->
    quantity; by default every line in full) of the inventory. A gnum the inventory lacks gets
    a line of its own (for RETURN_EXCEEDS), made from the first."""
    side = schema_side(direction)
    overrides = overrides or {}
    _check_names(side, "InvtRefundHead", overrides)
    by_gnum = {int(line["gnum"]): line for line in inventory_lines}
    if not by_gnum:
        raise ValueError("the inventory has no lines to return")
    if returned is None:
        returned = {gnum: line["qty"] for gnum, line in by_gnum.items()}
    extra = {"guid": guid, "invtNo": _invt_no(head, invt_no), "reason": reason}
    if side == "import":
        copied: Sequence[str] = _IMPORT_COPIED
    else:
        copied = _EXPORT_RETURN_COPIED
        extra = {
            **EXPORT_RETURN_DEFAULTS,
            **{k: head[k] for k in EXPORT_RETURN_DEFAULTS if k in head},
            "billNo": head.get("billNo") or head.get("logisticsNo", ""),
            "coElNo": f"RT{head.get('copNo', '')}"[:30],
            "ieFlag": "I",  # the goods come back in: 出口退货填写I
            **extra,
        }
    first = next(iter(by_gnum.values()))
    lines = [
        _refund_line(by_gnum.get(gnum, first), gnum, Decimal(as_text(qty)))
        for gnum, qty in returned.items()
    ]
    return _head(head, copied, extra, overrides), lines


def _refund_line(line: Fields, gnum: int, qty: Decimal) -> Fields:
    """The refund line of ``qty`` of inventory ``line``; legal quantities in proportion."""
    out = {k: v for k, v in line.items() if k in ("gcode", "gname", "gmodel", "unit")}
    out.update(gnum=str(gnum), qty=as_text(qty))
    declared = Decimal(line["qty"]) if line.get("qty") else qty
    for number, unit in (("qty1", "unit1"), ("qty2", "unit2")):
        if line.get(number) and line.get(unit):
            legal = Decimal(line[number])
            share = legal if qty == declared else (legal * qty / declared).quantize(_FIFTH)
            out.update({number: as_text(share), unit: line[unit]})
    return out


# --- whole messages for the demo's consignments ------------------------------------------


def _parts(c: Consignment) -> tuple[Direction, Fields, list[Fields]]:
    return (
        Direction(c.direction),
        text_fields(c.inventory),
        [text_fields(line) for line in c.inventory_lines],
    )


def cancel_message(
    c: Consignment, invt_no: str, cop_code: str, *, reason: str = CANCEL_REASON
) -> bytes:
    """A CEB623 (import) or CEB605 (export) message cancelling ``c``, sent by ``cop_code``
    (its ebc or its agent); signed as its type demands, with the demo's unsigned block."""
    direction, head, _ = _parts(c)
    fields = cancel_fields(head, direction, guid=new_guid(), invt_no=invt_no, reason=reason)
    root = "CEB623Message" if direction is Direction.IMPORT else "CEB605Message"
    return compose(root, [(fields, [])], cop_code)


def refund_message(
    c: Consignment,
    invt_no: str,
    cop_code: str,
    returned: Returned | None = None,
    *,
    reason: str = RETURN_REASON,
) -> bytes:
    """A CEB625 (import) or CEB213 (export) message returning ``returned`` (gnum -> qty;
    default: everything) of ``c``. Otherwise as ``cancel_message``."""
    direction, head, lines = _parts(c)
    fields, refund_lines = refund_fields(
        head, lines, direction, returned, guid=new_guid(), invt_no=invt_no, reason=reason
    )
    root = "CEB625Message" if direction is Direction.IMPORT else "CEB213Message"
    return compose(root, [(fields, refund_lines)], cop_code)
