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
a name the document does not carry is an error. Which fields each document takes is
``service.demo.lifecycle``'s (the demo sends cancels and returns too); this module reads the
inventory's forms and makes lxml elements. ``tests.messages.builders`` wraps these in messages
(``cancel_for``, ``refund_for``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from lxml import etree

from service.demo.compose import field_order
from service.demo.lifecycle import (
    CANCEL_REASON,
    RETURN_REASON,
    Fields,
    Returned,
    cancel_fields,
    refund_fields,
    schema_side,
)
from service.demo.lifecycle import text_fields as _clean
from service.messages.documents import Inventory
from service.messages.registry import CEB_NS, Direction

C = f"{{{CEB_NS}}}"
# An invtNo in the official form: customs code, year, I/E, 9-digit sequence (SPEC §10).
INVT_NO = "01012024I000000001"
EXPORT_INVT_NO = "29242024E000000001"


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


def _element(side: str, name: str, values: Fields) -> etree._Element:
    """``name`` with the children ``values`` names, in the order our schema declares."""
    element = etree.Element(C + name, nsmap={"ceb": CEB_NS})
    for field in field_order(side, name):
        if field in values:
            etree.SubElement(element, C + field).text = values[field]
    return element


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
    side, head, _ = inventory_parts(inventory, direction=direction)
    values = cancel_fields(
        head, side, guid=guid, invt_no=invt_no, reason=reason, overrides=overrides
    )
    return _element(schema_side(side), "InvtCancel", values)


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
    side, head, inventory_lines = inventory_parts(inventory, lines, direction)
    values, refund_lines = refund_fields(
        head,
        inventory_lines,
        side,
        returned,
        guid=guid,
        invt_no=invt_no,
        reason=reason,
        overrides=overrides,
    )
    element = etree.Element(C + "InvtRefund", nsmap={"ceb": CEB_NS})
    element.append(_element(schema_side(side), "InvtRefundHead", values))
    for line in refund_lines:
        element.append(_element(schema_side(side), "InvtRefundList", line))
    return element
