"""Schema-valid messages (import built from scratch, export from the demo factory), so codec
tests need no reference folder.

``overrides`` name head fields: a string replaces the value, ``None`` removes the element.

Cancels and returns (SPEC §10) are made for an inventory: ``cancel_for(inventory,
invt_no=...)`` and ``refund_for(inventory, {gnum: qty}, invt_no=...)`` give whole messages
(CEB623 / CEB625 for an import inventory, CEB605 / CEB213 for an export one), sent by the
inventory's agent; see ``tests.messages.lifecycle_builders`` for the forms an inventory may
take.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from lxml import etree

from service.demo.compose import compose, new_guid
from service.demo.consignments import clean_import
from service.demo.exports import clean_export
from service.demo.movement import arrival_fields, departure_fields, master_bill_fields
from service.demo.summary import summary_fields, summary_message
from service.messages.registry import CEB_NS, DS_NS, MESSAGE_TYPES, Direction, Kind
from tests.messages.lifecycle_builders import (
    EXPORT_INVT_NO,
    INVT_NO,
    Returned,
    cancel_document,
    inventory_parts,
    refund_document,
)

__all__ = [
    "EXPORT_INVT_NO",
    "GUID",
    "INVT_NO",
    "C",
    "D",
    "cancel_document",
    "cancel_for",
    "document",
    "message",
    "refund_document",
    "refund_for",
    "serialize",
    "signature",
]

C = f"{{{CEB_NS}}}"
D = f"{{{DS_NS}}}"
GUID = "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
Fields = Sequence[tuple[str, str]]

_COMMON: Fields = (("appType", "1"), ("appTime", "20240301120000"), ("appStatus", "2"))
ORDER_HEAD: Fields = (
    *_COMMON,
    ("orderType", "I"),
    ("orderNo", "O-1"),
    ("ebpCode", "1105910159"),
    ("ebpName", "示例平台"),
    ("ebcCode", "1105910160"),
    ("ebcName", "示例电商"),
    ("goodsValue", "100.50"),
    ("freight", "10"),
    ("discount", "0"),
    ("taxTotal", "9.1"),
    ("acturalPaid", "119.60"),
    ("currency", "142"),
    ("buyerRegNo", "buyer-1"),
    ("buyerName", "张三"),
    ("buyerTelephone", "13800138000"),
    ("buyerIdType", "1"),
    ("buyerIdNumber", "11010519491231002X"),
    ("payCode", "3101960001"),
    ("payName", "示例支付"),
    ("payTransactionId", "PAY-1"),
    ("consignee", "张三"),
    ("consigneeTelephone", "13800138000"),
    ("consigneeAddress", "北京市海淀区"),
)
ORDER_LINE: Fields = (
    ("gnum", "1"),
    ("itemNo", "SKU-1"),
    ("itemName", "奶粉"),
    ("gmodel", "900g"),
    ("unit", "007"),
    ("qty", "2"),
    ("price", "50.25"),
    ("totalPrice", "100.50"),
    ("currency", "142"),
    ("country", "116"),
)
PAYMENT_HEAD: Fields = (
    *_COMMON,
    ("payCode", "3101960001"),
    ("payName", "示例支付"),
    ("payTransactionId", "PAY-1"),
    ("orderNo", "O-1"),
    ("ebpCode", "1105910159"),
    ("ebpName", "示例平台"),
    ("payerIdType", "1"),
    ("payerIdNumber", "11010519491231002X"),
    ("payerName", "张三"),
    ("telephone", "13800138000"),
    ("amountPaid", "119.60"),
    ("currency", "142"),
    ("payTime", "20240301115900"),
)
LOGISTICS_HEAD: Fields = (
    *_COMMON,
    ("logisticsCode", "1105910161"),
    ("logisticsName", "示例物流"),
    ("logisticsNo", "L-1"),
    ("orderNo", "O-1"),
    ("freight", "10"),
    ("insuredFee", "0"),
    ("currency", "142"),
    ("weight", "1.2"),
    ("packNo", "1"),
    ("consignee", "张三"),
    ("consigneeAddress", "北京市海淀区"),
    ("consigneeTelephone", "13800138000"),
)
INVENTORY_HEAD: Fields = (
    *_COMMON,
    ("orderNo", "O-1"),
    ("ebpCode", "1105910159"),
    ("ebpName", "示例平台"),
    ("ebcCode", "1105910160"),
    ("ebcName", "示例电商"),
    ("logisticsNo", "L-1"),
    ("logisticsCode", "1105910161"),
    ("logisticsName", "示例物流"),
    ("copNo", "COP-1"),
    ("assureCode", "1105910160"),
    ("ieFlag", "I"),
    ("declTime", "20240301"),
    ("customsCode", "0101"),
    ("portCode", "0102"),
    ("buyerIdType", "1"),
    ("buyerIdNumber", "11010519491231002X"),
    ("buyerName", "张三"),
    ("buyerTelephone", "13800138000"),
    ("consigneeAddress", "北京市海淀区"),
    ("agentCode", "1105910162"),
    ("agentName", "示例报关"),
    ("tradeMode", "9610"),
    ("trafMode", "5"),
    ("trafNo", "CA1234"),
    ("voyageNo", "V01"),
    ("billNo", "BILL-1"),
    ("country", "116"),
    ("freight", "10"),
    ("insuredFee", "0"),
    ("currency", "142"),
    ("packNo", "1"),
    ("grossWeight", "1.2"),
    ("netWeight", "1"),
)
INVENTORY_LINE: Fields = (
    ("gnum", "1"),
    ("itemNo", "SKU-1"),
    ("itemName", "奶粉"),
    ("gcode", "1901101000"),
    ("gname", "奶粉"),
    ("gmodel", "900g"),
    ("country", "116"),
    ("currency", "142"),
    ("qty", "2"),
    ("unit", "007"),
    ("qty1", "1.8"),
    ("unit1", "035"),
    ("price", "50.25"),
    ("totalPrice", "100.50"),
)

_SHAPES: dict[str, tuple[str, str, Fields, str | None, Fields]] = {
    "CEB311Message": ("Order", "OrderHead", ORDER_HEAD, "OrderList", ORDER_LINE),
    "CEB411Message": ("Payment", "PaymentHead", PAYMENT_HEAD, None, ()),
    "CEB511Message": ("Logistics", "LogisticsHead", LOGISTICS_HEAD, None, ()),
    "CEB621Message": (
        "Inventory",
        "InventoryHead",
        INVENTORY_HEAD,
        "InventoryList",
        INVENTORY_LINE,
    ),
}


def _fill(parent: etree._Element, fields: Fields, overrides: Mapping[str, str | None]) -> None:
    for name, value in fields:
        chosen = overrides.get(name, value)
        if chosen is not None:
            etree.SubElement(parent, C + name).text = chosen


def document(
    root: str, guid: str = GUID, lines: int = 1, **overrides: str | None
) -> etree._Element:
    """One valid document element (``Order``, ``Payment``, ...) of message type ``root``."""
    if MESSAGE_TYPES[root].kind in (Kind.CANCEL, Kind.RETURN):
        return _lifecycle_document(root, guid, lines, overrides)
    if MESSAGE_TYPES[root].kind is Kind.SUMMARY:
        return _summary_document(guid, lines, overrides)
    if MESSAGE_TYPES[root].kind in (Kind.ARRIVAL, Kind.MASTER_BILL, Kind.DEPARTURE):
        return _movement_document(root, guid, lines, overrides)
    if root not in _SHAPES:
        return _export_document(root, guid, overrides)
    tag, head_tag, head_fields, line_tag, line_fields = _SHAPES[root]
    element = etree.Element(C + tag, nsmap={"ceb": CEB_NS})
    head = etree.SubElement(element, C + head_tag)
    etree.SubElement(head, C + "guid").text = guid
    _fill(head, head_fields, overrides)
    for number in range(1, lines + 1 if line_tag else 1):
        line = etree.SubElement(element, C + str(line_tag))
        _fill(line, line_fields, {"gnum": str(number)})
    return element


def _export_document(root: str, guid: str, overrides: Mapping[str, str | None]) -> etree._Element:
    """An export document taken from the demo's clean 9610 export consignment."""
    message_type = MESSAGE_TYPES[root]
    consignment = clean_export(random.Random(1), 1, regime="9610")
    element = etree.fromstring(consignment.message(message_type.kind))[0]
    head = element.find(C + message_type.head) if message_type.head else element
    assert head is not None
    for name, value in {"guid": guid, **overrides}.items():
        node = head.find(C + name)
        if node is None:
            raise KeyError(f"{name} is not in the demo {message_type.document}")
        if value is None:
            head.remove(node)
        else:
            node.text = value
    return element


def _lifecycle_document(
    root: str, guid: str, lines: int, overrides: Mapping[str, str | None]
) -> etree._Element:
    """A cancel or return of the builder's import inventory, or of the demo's export one;
    a return has ``lines`` lines (gnum 1..n, one of each)."""
    message_type = MESSAGE_TYPES[root]
    inventory: object
    if message_type.direction is Direction.IMPORT:
        inventory = dict(INVENTORY_HEAD)
        line = dict(INVENTORY_LINE)
        inventory_lines = [{**line, "gnum": str(n)} for n in range(1, max(lines, 1) + 1)]
        invt_no = INVT_NO
    else:
        inventory = clean_export(random.Random(1), 1, regime="9610")
        inventory_lines = None
        invt_no = EXPORT_INVT_NO
    if message_type.kind is Kind.CANCEL:
        return cancel_document(
            inventory, guid=guid, invt_no=invt_no, direction=message_type.direction, **overrides
        )
    element = refund_document(
        inventory,
        {n: "1" for n in range(1, max(lines, 1) + 1)},
        guid=guid,
        invt_no=invt_no,
        direction=message_type.direction,
        lines=inventory_lines,
        **overrides,
    )
    if lines == 0:
        for extra in element.findall(C + str(message_type.lines)):
            element.remove(extra)
    return element


def _summary_document(guid: str, lines: int, overrides: Mapping[str, str | None]) -> etree._Element:
    """A summary application of the demo's export ebc naming ``lines`` invtNos."""
    head = {**summary_fields("2924000001", "Sandan demo ebc", guid=guid), **overrides}
    invt_nos = [f"{EXPORT_INVT_NO[:-1]}{n}" for n in range(1, lines + 1)]
    message = etree.fromstring(summary_message(head, invt_nos, "2924000001"))
    element = message.find(C + "SummaryApply")
    assert element is not None
    return element


def _movement_document(
    root: str, guid: str, lines: int, overrides: Mapping[str, str | None]
) -> etree._Element:
    """An arrival, master bill or departure of the demo's clean consignments (``lines`` of
    them, 9610 exports, or imports for CEB711)."""
    message_type = MESSAGE_TYPES[root]
    if message_type.direction is Direction.IMPORT:
        consignments = [
            clean_import(random.Random(n), n, regime="9610") for n in range(1, max(lines, 1) + 1)
        ]
    else:
        consignments = [
            clean_export(random.Random(n), n, regime="9610") for n in range(1, max(lines, 1) + 1)
        ]
    operator = ("1105910159", "示例监管场所")
    if message_type.kind is Kind.ARRIVAL:
        head, rows = arrival_fields(
            consignments, operator, direction=message_type.direction, bill_no="B00024204001"
        )
    elif message_type.kind is Kind.MASTER_BILL:
        numbers = {c.key: EXPORT_INVT_NO for c in consignments}
        head, rows = master_bill_fields(consignments, numbers, operator, bill_no="B00024204001")
    else:
        head, rows = departure_fields(consignments, bill_no="B00024204001")
    head["guid"] = guid
    rows = rows[:lines]
    for name, value in overrides.items():
        if name not in head:
            raise KeyError(f"{name} is not in the demo {message_type.document}")
        if value is None:
            del head[name]
        else:
            head[name] = value
    body = compose(root, [(head, rows)], operator[0], signed=False)
    return etree.fromstring(body)[0]


def signature() -> etree._Element:
    """A ds:Signature that satisfies the xmldsig schema (it verifies nothing)."""
    sig = etree.Element(D + "Signature", nsmap={"ds": DS_NS})
    info = etree.SubElement(sig, D + "SignedInfo")
    etree.SubElement(
        info,
        D + "CanonicalizationMethod",
        Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    )
    etree.SubElement(
        info, D + "SignatureMethod", Algorithm="http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3"
    )
    reference = etree.SubElement(info, D + "Reference", URI="")
    etree.SubElement(
        reference, D + "DigestMethod", Algorithm="http://www.chinaport.gov.cn/2022/04/xmldsig#sm3"
    )
    etree.SubElement(reference, D + "DigestValue").text = "SF/P+2sVsRQ9dJIqJSroW6ajb0Y="
    etree.SubElement(sig, D + "SignatureValue").text = "AI0wdcUHaaOR+FZ7W8lN6Frj"
    return sig


def message(
    root: str,
    documents: Sequence[etree._Element] | None = None,
    *,
    guid: str = GUID,
    signed: bool | None = None,
    cop_code: str = "1105910159",
) -> etree._Element:
    """A valid message of type ``root`` holding ``documents`` (default: one valid document).

    ``signed`` defaults to what SPEC §11 demands: CEB621, 623, 625 and CEB603 carry a
    signature (one that verifies nothing: accepted unverified when no certificate is
    registered for ``cop_code``).
    """
    element = etree.Element(C + root, guid=guid, version="1.0", nsmap={"ceb": CEB_NS})
    for doc in documents if documents is not None else [document(root)]:
        element.append(doc)
    transfer = etree.SubElement(element, C + "BaseTransfer")
    _fill(
        transfer,
        (
            ("copCode", cop_code),
            ("copName", "示例平台"),
            ("dxpMode", "DXP"),
            ("dxpId", "DXPENT0000000001"),
        ),
        {},
    )
    if signed if signed is not None else MESSAGE_TYPES[root].must_be_signed:
        element.append(signature())
    return element


def serialize(root: etree._Element) -> bytes:
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return body


def _sent_by(head: Mapping[str, str], cop_code: str | None) -> str:
    return cop_code or head.get("agentCode") or head.get("ebcCode") or "1105910159"


def cancel_for(
    inventory: object,
    *,
    invt_no: str | None = None,
    guid: str | None = None,
    message_guid: str | None = None,
    cop_code: str | None = None,
    signed: bool | None = None,
    direction: Direction | str | None = None,
    **overrides: str | None,
) -> etree._Element:
    """A CEB623 (import) or CEB605 (export) message cancelling ``inventory``.

    ``invt_no``: the one Sandan assigned (the answer's ``key.invtNo``), else the inventory's
    own. Document and message guids are fresh unless given; the BaseTransfer copCode is the
    inventory's agentCode (else its ebcCode) unless ``cop_code`` says otherwise.
    """
    side, head, _ = inventory_parts(inventory, direction=direction)
    element = cancel_document(
        inventory, guid=guid or new_guid(), invt_no=invt_no, direction=side, **overrides
    )
    root = "CEB623Message" if side is Direction.IMPORT else "CEB605Message"
    return message(
        root,
        [element],
        guid=message_guid or new_guid(),
        signed=signed,
        cop_code=_sent_by(head, cop_code),
    )


def refund_for(
    inventory: object,
    returned: Returned | None = None,
    *,
    invt_no: str | None = None,
    guid: str | None = None,
    message_guid: str | None = None,
    cop_code: str | None = None,
    signed: bool | None = None,
    direction: Direction | str | None = None,
    lines: Sequence[Mapping[str, object]] | None = None,
    **overrides: str | None,
) -> etree._Element:
    """A CEB625 (import) or CEB213 (export) message returning ``returned`` (gnum -> qty;
    default: every line in full) of ``inventory``. Otherwise as ``cancel_for``."""
    side, head, _ = inventory_parts(inventory, lines, direction)
    element = refund_document(
        inventory,
        returned,
        guid=guid or new_guid(),
        invt_no=invt_no,
        direction=side,
        lines=lines,
        **overrides,
    )
    root = "CEB625Message" if side is Direction.IMPORT else "CEB213Message"
    return message(
        root,
        [element],
        guid=message_guid or new_guid(),
        signed=signed,
        cop_code=_sent_by(head, cop_code),
    )
