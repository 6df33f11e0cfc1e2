"""Cancel (CEB623 / CEB605) and return (CEB625 / CEB213) documents for a given inventory.

A lifecycle document copies what customs expects from the inventory it names (SPEC §10): the
invtNo Sandan assigned, and on import the ebpCode + orderNo, waybill and buyer; on export the
agent, ebc and, for a return, the transport back. The inventory may be given as

- a CEB621 / CEB603 message root, or one of its ``Inventory`` elements (the first is taken);
- a typed ``messages.documents.Inventory`` (its personal fields hold masked values, which the
  schema accepts: nothing compares them);
- the demo's ``Consignment`` (head fields, lines and direction together);
- a mapping of head fields, with the lines as ``lines=`` and the direction from ``ieFlag``.

``overrides`` name head fields: a string replaces the value, ``None`` removes the element;
a name the document does not carry is an error. ``tests.messages.builders`` wraps these in
messages (``cancel_for``, ``refund_for``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from decimal import Decimal
from typing import Any

from lxml import etree

from service.demo.compose import field_order
from service.messages.documents import Inventory
from service.messages.registry import CEB_NS, Direction

C = f"{{{CEB_NS}}}"
# An invtNo in the official form: customs code, year, I/E, 9-digit sequence (SPEC §10).
INVT_NO = "01012024I000000001"
EXPORT_INVT_NO = "29242024E000000001"
CANCEL_REASON = "消费者取消订单"
RETURN_REASON = "消费者退货"
# Export return head fields an export inventory need not carry (values as the official sample).
EXPORT_RETURN_DEFAULTS = {"trafName": "飞机", "voyageNo": "CZ465"}
_FIFTH = Decimal("0.00001")

Fields = dict[str, str]
Returned = Mapping[int, Decimal | int | str]


def _text(value: Any) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _clean(values: Mapping[str, Any]) -> Fields:
    return {k: _text(v) for k, v in values.items() if v is not None and _text(v) != ""}


def _children(element: etree._Element) -> Fields:
    children = [c for c in element if isinstance(c.tag, str)]
    return _clean({etree.QName(c).localname: (c.text or "").strip() for c in children})


def inventory_parts(
    inventory: Any,
    lines: Sequence[Mapping[str, Any]] | None = None,
    direction: Direction | str | None = None,
) -> tuple[Direction, Fields, list[Fields]]:
    """(direction, head fields, line fields) of an inventory in any of the accepted forms."""
    found: Direction | None = None
    if isinstance(inventory, etree._Element):
        element = inventory
        if etree.QName(element).localname != "Inventory":
            if etree.QName(element).localname == "CEB603Message":
                found = Direction.EXPORT
            first = element.find(C + "Inventory")
            if first is None:
                raise ValueError(f"{element.tag} holds no Inventory")
            element = first
        head_element = element.find(C + "InventoryHead")
        if head_element is None:
            raise ValueError("the Inventory has no InventoryHead")
        head = _children(head_element)
        read_lines = [_children(line) for line in element.iterfind(C + "InventoryList")]
    elif isinstance(inventory, Inventory):
        names = [f.name for f in fields(inventory) if f.name not in ("lines", "direction")]
        head = _clean({name: getattr(inventory, name) for name in names})
        read_lines = [_clean(line.to_json()) for line in inventory.lines]
        found = inventory.direction
    elif hasattr(inventory, "inventory") and hasattr(inventory, "inventory_lines"):
        head = _clean(inventory.inventory)
        read_lines = [_clean(line) for line in inventory.inventory_lines]
        found = Direction(inventory.direction)
    else:
        head = _clean(inventory)
        read_lines = []
    if lines is not None:
        read_lines = [_clean(line) for line in lines]
    if direction is not None:
        found = Direction(direction)
    if found is None:
        found = Direction.EXPORT if head.get("ieFlag") == "E" else Direction.IMPORT
    return found, head, read_lines


def _invt_no(head: Fields, invt_no: str | None) -> str:
    chosen = invt_no or head.get("invtNo")
    if not chosen:
        raise ValueError("give invt_no: Sandan assigns it, the inventory does not carry one")
    return chosen


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


def _element(side: str, name: str, values: Fields) -> etree._Element:
    """``name`` with the children ``values`` names, in the order our schema declares."""
    element = etree.Element(C + name, nsmap={"ceb": CEB_NS})
    for field in field_order(side, name):
        if field in values:
            etree.SubElement(element, C + field).text = values[field]
    return element


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


def _check_names(side: str, element: str, overrides: Mapping[str, str | None]) -> None:
    unknown = set(overrides) - set(field_order(side, element))
    if unknown:
        raise KeyError(f"{element} has no {', '.join(sorted(unknown))}")


def cancel_document(
    inventory: Any,
    *,
    guid: str,
    invt_no: str | None = None,
    reason: str = CANCEL_REASON,
    direction: Direction | str | None = None,
    **overrides: str | None,
) -> etree._Element:
    """An ``InvtCancel`` element for ``inventory``: CEB623's on import, CEB605's on export."""
    side_direction, head, _ = inventory_parts(inventory, direction=direction)
    side = "import" if side_direction is Direction.IMPORT else "export"
    _check_names(side, "InvtCancel", overrides)
    copied = _IMPORT_COPIED if side == "import" else _EXPORT_CANCEL_COPIED
    extra = {"guid": guid, "invtNo": _invt_no(head, invt_no), "reason": reason}
    if side == "export" and len(head.get("preNo", "")) == 18:
        extra["preNo"] = head["preNo"]
    return _element(side, "InvtCancel", _head(head, copied, extra, overrides))


def refund_document(
    inventory: Any,
    returned: Returned | None = None,
    *,
    guid: str,
    invt_no: str | None = None,
    reason: str = RETURN_REASON,
    direction: Direction | str | None = None,
    lines: Sequence[Mapping[str, Any]] | None = None,
    **overrides: str | None,
) -> etree._Element:
    """An ``InvtRefund`` element for ``inventory`` (CEB625 import, CEB213 export).

    ``returned`` maps gnum -> quantity to return; by default every line goes back in full. A
    gnum the inventory lacks gets a line of its own (for RETURN_EXCEEDS), made from the first.
    """
    side_direction, head, inventory_lines = inventory_parts(inventory, lines, direction)
    side = "import" if side_direction is Direction.IMPORT else "export"
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
    element = etree.Element(C + "InvtRefund", nsmap={"ceb": CEB_NS})
    element.append(_element(side, "InvtRefundHead", _head(head, copied, extra, overrides)))
    first = next(iter(by_gnum.values()))
    for gnum, qty in returned.items():
        line = _refund_line(by_gnum.get(gnum, first), gnum, Decimal(_text(qty)))
        element.append(_element(side, "InvtRefundList", line))
    return element


def _refund_line(line: Fields, gnum: int, qty: Decimal) -> Fields:
    """The refund line of ``qty`` of inventory ``line``; legal quantities in proportion."""
    out = {k: v for k, v in line.items() if k in ("gcode", "gname", "gmodel", "unit")}
    out.update(gnum=str(gnum), qty=_text(qty))
    declared = Decimal(line["qty"]) if line.get("qty") else qty
    for number, unit in (("qty1", "unit1"), ("qty2", "unit2")):
        if line.get(number) and line.get(unit):
            legal = Decimal(line[number])
            share = legal if qty == declared else (legal * qty / declared).quantize(_FIFTH)
            out.update({number: _text(share), unit: line[unit]})
    return out
