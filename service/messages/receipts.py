"""CEB return messages (回执) Sandan answers with: CEB312/412/512/622/624/626 and
CEB304/404/506/604/606/214/702.

A receipt echoes each document's key fields with a ``returnStatus`` (SPEC §2 vocabulary),
``returnTime`` and ``returnInfo``. Rejected documents need receipts too, and those are exactly
the documents whose fields may be missing or too long; a receipt that fails the customs schema
would be useless to the sender's system, so every value is fitted to the receipt schema:

- too long: truncated (lengths count characters, as XSD does);
- required but absent: ``MISSING`` ("-"), except ``copNo`` (falls back to the ``orderNo``) and
  ``preNo`` (the e-port's 18-character number; Sandan plays the e-port and derives one from the
  document guid, so the same document always gets the same number);
- optional and unusable (absent, or not the fixed length): left out — so the 18-character
  invtNo Sandan assigns appears in a CEB622 / 624 / 626 once the item's fields carry it;
- a document guid that is not 36 characters: replaced by a UUID derived from it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lxml import etree

from service.messages.documents import Document
from service.messages.lenient import lenient_fields
from service.messages.registry import CEB_NS, Direction, Kind, MessageType

MISSING = "-"
MAX_RECEIPTS = 100
RECEIPT_VERSION = "1.0"
RETURN_INFO_MAX = 1000
# Customs time is Beijing time; China has no daylight saving.
CUSTOMS_TZ = timezone(timedelta(hours=8))
# A stable namespace so a malformed document guid always maps to the same receipt guid.
_GUID_NAMESPACE = uuid.UUID("5a4e0d6f-2c59-4b8e-9d0a-3b1f6c2e7a11")
_RETURN_TIME = re.compile(r"[0-9]{17}")

# returnInfo when the caller gives none (returnInfo has minLength 1): the customs wording.
STATUS_TEXT = {
    "1": "电子口岸已暂存",
    "2": "电子口岸申报中",
    "3": "发送海关成功",
    "4": "发送海关失败",
    "100": "海关退单",
    "120": "海关入库",
    "300": "人工审核",
    "399": "海关审结",
    "500": "查验",
    "700": "退运",
    "800": "放行",
    "899": "结关",
}


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    max_length: int | None = None
    length: int | None = None  # fixed length
    min_length: int = 0
    required: bool = True
    # an xs:int: a value that is not digits is unusable, and ``default`` stands in
    digits: bool = False
    default: str | None = None


def _code(name: str, min_length: int = 1, required: bool = True) -> _Field:
    return _Field(name, max_length=18, min_length=min_length, required=required)


# CEB624 InvtCancelReturn and CEB626 InvtRefundReturn share one shape, which is not
# InventoryReturn's: agentCode comes before ebpCode.
_IMPORT_LIFECYCLE = (
    _Field("customsCode", length=4, required=False),
    _code("agentCode", required=False),
    _code("ebpCode", required=False),
    _code("ebcCode", required=False),
    _Field("copNo", 20, min_length=1),
    _Field("preNo", length=18),
    _Field("invtNo", length=18, required=False),
)

# The movement receipts' message sequence number (an xs:int, required): a message is 1 of 1
# unless the document says otherwise.
_MSG_SEQ_NO = _Field("msgSeqNo", 10, min_length=1, digits=True, default="1")

# Receipt element children between guid and returnStatus, as the official schemas declare them.
_LAYOUTS: dict[tuple[Direction, Kind], tuple[_Field, ...]] = {
    (Direction.IMPORT, Kind.ORDER): (
        _code("ebpCode"),
        _code("ebcCode"),
        _Field("orderNo", 60, min_length=1),
    ),
    (Direction.IMPORT, Kind.PAYMENT): (
        _code("payCode"),
        _Field("payTransactionId", 60, min_length=1),
    ),
    (Direction.IMPORT, Kind.LOGISTICS): (
        _code("logisticsCode"),
        _Field("logisticsNo", 60, min_length=1),
    ),
    (Direction.IMPORT, Kind.INVENTORY): (
        _Field("customsCode", length=4, required=False),
        _code("ebpCode", required=False),
        _code("ebcCode", required=False),
        _code("agentCode", required=False),
        _Field("copNo", 20, min_length=1),
        _Field("preNo", length=18),
        _Field("invtNo", length=18, required=False),
    ),
    (Direction.EXPORT, Kind.ORDER): (
        _code("ebpCode", 0),
        _code("ebcCode", 0),
        _Field("orderNo", 60),
    ),
    (Direction.EXPORT, Kind.PAYMENT): (
        _code("ebcCode", 0),
        _Field("orderNo", 60),
        _Field("payNo", 60, required=False),
    ),
    (Direction.EXPORT, Kind.LOGISTICS): (
        _code("logisticsCode", 0),
        _Field("logisticsNo", 32),
    ),
    (Direction.EXPORT, Kind.INVENTORY): (
        _code("agentCode", 0),
        _Field("copNo", 30),
        _Field("preNo", length=18),
        _Field("invtNo", 20),
        _code("ebcCode", 0),
        _code("ebpCode", 0),
        _Field("orderNo", 60),
        _Field("statisticsFlag", length=1),
    ),
    (Direction.IMPORT, Kind.CANCEL): _IMPORT_LIFECYCLE,
    (Direction.IMPORT, Kind.RETURN): _IMPORT_LIFECYCLE,
    (Direction.EXPORT, Kind.CANCEL): (
        _code("agentCode", 0),
        _Field("copNo", 30),
        _Field("preNo", length=18),
        _Field("invtNo", 20),
    ),
    # CEB214 RefundReturn: the return's own number is coElNo; preNo is optional there, but
    # Sandan as the e-port always has one
    (Direction.EXPORT, Kind.RETURN): (
        _code("ebpCode", required=False),
        _code("ebcCode", required=False),
        _code("agentCode", 0),
        _Field("coElNo", 30),
        _Field("preNo", length=18),
        _Field("invtNo", 20),
    ),
    # CEB702 SummaryReturn: the sumNo once Sandan has given one; msgSeqNo is an xs:int
    (Direction.EXPORT, Kind.SUMMARY): (
        _code("agentCode", 0),
        _code("ebcCode", 0),
        _Field("copNo", 30),
        _Field("preNo", length=18),
        _Field("sumNo", length=18, required=False),
        _Field("msgSeqNo", 9, min_length=1),
    ),
    # CEB712 DeliveryReturn, CEB508 ArrivalReturn, CEB608 WayBillReturn, CEB510 DepartureReturn
    (Direction.IMPORT, Kind.ARRIVAL): (
        _Field("customsCode", length=4, required=False),
        _code("operatorCode", required=False),
        _Field("copNo", 20, required=False),
        _Field("preNo", length=18),
        _Field("rkdNo", 18, required=False),
    ),
    (Direction.EXPORT, Kind.ARRIVAL): (
        _code("operatorCode", 0),
        _code("logisticsCode", 0),
        _Field("preNo", length=18),
        _Field("copNo", 30),
        _Field("billNo", 37),
        _MSG_SEQ_NO,
    ),
    (Direction.EXPORT, Kind.MASTER_BILL): (
        _code("agentCode", 0),
        _code("logisticsCode", 0),
        _Field("copNo", 30),
        _Field("preNo", length=18),
        _Field("billNo", 37),
        _MSG_SEQ_NO,
    ),
    (Direction.EXPORT, Kind.DEPARTURE): (
        _code("logisticsCode", 0),
        _Field("copNo", 30),
        _Field("preNo", length=18),
        _MSG_SEQ_NO,
    ),
}


def _layout(direction: Direction, kind: Kind) -> tuple[_Field, ...]:
    return _LAYOUTS[(direction, kind)]


def _sources(direction: Direction, kind: Kind) -> tuple[str, ...]:
    """Document fields a receipt of this kind is made from."""
    return (*(f.name for f in _layout(direction, kind)), "orderNo")


def receipt_sources(message_type: MessageType) -> tuple[str, ...]:
    """The head fields ``receipt_fields`` reads, in its order: ``guid`` first."""
    return ("guid", *_sources(message_type.direction, message_type.kind))


@dataclass(frozen=True, slots=True)
class ReceiptItem:
    """One document's answer: its guid, the head fields to echo, status and info."""

    guid: str
    fields: Mapping[str, str]
    return_status: str
    return_info: str

    @classmethod
    def from_document(cls, document: Document, return_status: str, return_info: str) -> ReceiptItem:
        fields: dict[str, str] = {}
        for name in _sources(document.direction, document.kind):
            value = getattr(document, name, None)
            if value is not None and str(value) != "":
                fields[name] = str(value)
        return cls(document.guid, fields, return_status, return_info)

    @classmethod
    def from_element(
        cls,
        message_type: MessageType,
        element: etree._Element,
        return_status: str,
        return_info: str,
    ) -> ReceiptItem:
        fields = receipt_fields(message_type, element)
        return cls(fields.pop("guid", ""), fields, return_status, return_info)


def receipt_fields(message_type: MessageType, document_element: etree._Element) -> dict[str, str]:
    """The head fields a receipt needs (and ``guid``), read without trusting the schema.

    Works on schema-invalid documents: missing fields are simply absent, a repeated field
    counts once (the first), values are stripped.
    """
    return lenient_fields(message_type, document_element, receipt_sources(message_type))


def format_return_time(moment: datetime) -> str:
    """``YYYYMMDDhhmmssSSS`` in customs (Beijing) time; naive datetimes are taken as is."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(CUSTOMS_TZ)
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def derive_pre_no(guid: str) -> str:
    """A deterministic 18-character e-port number (preNo) for a document guid."""
    return "S" + hashlib.sha1(guid.encode()).hexdigest()[:17].upper()


def _fit(spec: _Field, item: ReceiptItem) -> str | None:
    """The value to write for ``spec``, or None to leave the element out."""
    value = item.fields.get(spec.name, "").strip()
    if spec.name == "preNo" and len(value) != 18:
        value = derive_pre_no(item.guid)
    if spec.name == "copNo" and not value:
        value = item.fields.get("orderNo", "").strip()
    if spec.name == "msgSeqNo" and not (value.isdigit() and len(value) <= 9):
        value = "1"  # an xs:int: a rejected document's unreadable one is answered as one
    if spec.max_length is not None:
        value = value[: spec.max_length]
    usable = len(value) >= spec.min_length and (spec.length is None or len(value) == spec.length)
    if usable and spec.digits and not value.isdigit():
        usable = False
    if usable:
        return value
    if spec.default is not None:
        return spec.default
    if not spec.required:
        return None
    if spec.length not in (None, len(MISSING)):
        raise ValueError(f"no filler for the required fixed-length field {spec.name}")
    return MISSING


def _receipt_guid(guid: str) -> str:
    guid = guid.strip()
    return guid if len(guid) == 36 else str(uuid.uuid5(_GUID_NAMESPACE, guid)).upper()


def receipt_guid(guid: str) -> str:
    """The guid a receipt names a document by: its own, or one derived from it when it is
    not 36 characters (the receipts feed stores it so)."""
    return _receipt_guid(guid)


def build_receipt(
    message_type: MessageType,
    items: Sequence[ReceiptItem],
    return_time: str,
    *,
    guid: str | None = None,
) -> bytes:
    """The UTF-8 bytes of ``message_type``'s return message with one element per item."""
    if not 1 <= len(items) <= MAX_RECEIPTS:
        raise ValueError(f"a receipt holds 1..{MAX_RECEIPTS} items, got {len(items)}")
    if not _RETURN_TIME.fullmatch(return_time):
        raise ValueError(f"returnTime must be YYYYMMDDhhmmssSSS, got {return_time!r}")
    if guid is not None and len(guid) != 36:
        raise ValueError(f"a message guid has 36 characters, got {guid!r}")
    layout = _layout(message_type.direction, message_type.kind)
    ceb = f"{{{CEB_NS}}}"
    root = etree.Element(
        ceb + message_type.receipt_root,
        guid=guid or str(uuid.uuid4()).upper(),
        version=RECEIPT_VERSION,
        nsmap={"ceb": CEB_NS},
    )
    for item in items:
        status = item.return_status.strip()
        if not 1 <= len(status) <= 10:
            raise ValueError(f"returnStatus must be 1..10 characters, got {status!r}")
        info = item.return_info.strip() or STATUS_TEXT.get(status, f"returnStatus {status}")
        entry = etree.SubElement(root, ceb + message_type.receipt_element)
        etree.SubElement(entry, ceb + "guid").text = _receipt_guid(item.guid)
        for spec in layout:
            value = _fit(spec, item)
            if value is not None:
                etree.SubElement(entry, ceb + spec.name).text = value
        etree.SubElement(entry, ceb + "returnStatus").text = status
        etree.SubElement(entry, ceb + "returnTime").text = return_time
        etree.SubElement(entry, ceb + "returnInfo").text = info[:RETURN_INFO_MAX]
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
