"""Head fields read without trusting the schema: what an invalid document is answered with.

A rejected document still gets its key in the answer and a receipt echoing its head fields;
whatever is readable is read. Valid documents get the same fields from the one-pass reader
(``messages.extract``), which keeps exactly these rules: the first head, its direct children,
the first element of each name, stripped, absent when empty.
"""

from __future__ import annotations

from lxml import etree

from service.messages.registry import CEB_NS, MessageType

KEY_FIELDS = {
    "order": ("ebpCode", "orderNo"),
    "payment": ("payCode", "payTransactionId", "ebpCode", "orderNo"),
    "logistics": ("logisticsCode", "logisticsNo"),
    "inventory": ("ebpCode", "orderNo", "logisticsCode", "logisticsNo"),
    # as ``InvtCancel.key`` / ``InvtRefund.key``: export ones carry no orderNo (CEB605 no
    # ebpCode either), and an absent field is simply not in the key
    "cancel": ("invtNo", "ebpCode", "orderNo"),
    "return": ("invtNo", "ebpCode", "orderNo"),
    # as ``SummaryApply.key``; the answer adds the sumNo Sandan gives it
    "summary": ("ebcCode", "copNo"),
    # as the movement documents' ``key``: the waybills' carrier and the bill of lading
    "arrival": ("logisticsCode", "billNo"),
    "masterbill": ("logisticsCode", "billNo"),
    "departure": ("logisticsCode", "billNo"),
}


def head_of(message_type: MessageType, element: etree._Element) -> etree._Element | None:
    if message_type.head is None:
        return element
    return element.find(f"{{{CEB_NS}}}{message_type.head}")


def lenient_fields(
    message_type: MessageType, element: etree._Element, names: tuple[str, ...]
) -> dict[str, str]:
    """Head field texts read without trusting the schema: for answering invalid documents."""
    head = head_of(message_type, element)
    out: dict[str, str] = {}
    if head is None:
        return out
    for name in names:
        text = head.findtext(f"{{{CEB_NS}}}{name}")
        if text is not None and text.strip():
            out[name] = text.strip()
    return out
