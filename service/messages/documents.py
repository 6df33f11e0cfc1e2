"""Typed documents: what the rules and the store see of a CEB document.

Field names keep the official customs spelling (``acturalPaid``, ``ebpCode``) so that a field in
a finding, in the UI and in the XML is one and the same name. Money and quantities are
``Decimal``; optional customs fields are ``None`` when absent or empty.

Personal data (ID numbers, phone numbers) never lives here in clear: the codec is handed a
``Protector`` that turns each such value into a ``Pii`` — its masked form for people and a keyed
digest for comparisons — so equality between documents still works and nothing downstream
(store, findings, API, logs) can leak the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, ClassVar

from service.messages.lifecycle_documents import InvtCancel, InvtRefund, RefundLine
from service.messages.movement_documents import Arrival, Departure, MovementLine, WayBill
from service.messages.records import (
    Document,
    Pii,
    PiiKind,
    Protector,
    Record,
    Value,
    int_field,
    money_field,
    pii_field,
)
from service.messages.registry import Direction, Kind
from service.messages.summary_documents import SummaryApply, SummaryApplyLine

__all__ = [
    "DOCUMENT_TYPES",
    "Arrival",
    "Departure",
    "Document",
    "Inventory",
    "InventoryLine",
    "InvtCancel",
    "InvtRefund",
    "Logistics",
    "MovementLine",
    "Order",
    "OrderLine",
    "Payment",
    "Pii",
    "PiiKind",
    "Protector",
    "Record",
    "RefundLine",
    "SummaryApply",
    "SummaryApplyLine",
    "Value",
    "WayBill",
    "document_from_json",
    "field_kinds",
]


@dataclass(frozen=True, slots=True)
class OrderLine(Record):
    gnum: int = int_field()
    itemNo: str | None = None
    itemName: str | None = None
    gmodel: str | None = None
    itemDescribe: str | None = None
    barCode: str | None = None
    unit: str | None = None
    qty: Decimal | None = money_field()
    price: Decimal | None = money_field()
    totalPrice: Decimal | None = money_field()
    currency: str | None = None
    country: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class InventoryLine(Record):
    gnum: int = int_field()
    itemRecordNo: str | None = None
    itemNo: str | None = None
    itemName: str | None = None
    gcode: str | None = None
    gname: str | None = None
    gmodel: str | None = None
    barCode: str | None = None
    country: str | None = None
    tradeCountry: str | None = None
    currency: str | None = None
    qty: Decimal | None = money_field()
    unit: str | None = None
    qty1: Decimal | None = money_field()
    unit1: str | None = None
    qty2: Decimal | None = money_field()
    unit2: str | None = None
    price: Decimal | None = money_field()
    totalPrice: Decimal | None = money_field()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Order(Document):
    kind: ClassVar[Kind] = Kind.ORDER
    line_type: ClassVar[type[Record] | None] = OrderLine

    orderType: str | None = None
    orderNo: str = ""
    ebpCode: str = ""
    ebpName: str | None = None
    ebcCode: str | None = None
    ebcName: str | None = None
    goodsValue: Decimal | None = money_field()
    freight: Decimal | None = money_field()
    discount: Decimal | None = money_field()
    taxTotal: Decimal | None = money_field()
    acturalPaid: Decimal | None = money_field()
    currency: str | None = None
    buyerRegNo: str | None = None
    buyerName: str | None = None
    buyerTelephone: Pii | None = pii_field(PiiKind.PHONE)
    buyerIdType: str | None = None
    buyerIdNumber: Pii | None = pii_field(PiiKind.ID_NUMBER)
    payCode: str | None = None
    payName: str | None = None
    payTransactionId: str | None = None
    batchNumbers: str | None = None
    consignee: str | None = None
    consigneeTelephone: Pii | None = pii_field(PiiKind.PHONE)
    consigneeAddress: str | None = None
    consigneeDistrict: str | None = None
    lines: tuple[OrderLine, ...] = ()

    @property
    def key(self) -> dict[str, str]:
        return {"ebpCode": self.ebpCode, "orderNo": self.orderNo}


@dataclass(frozen=True, slots=True)
class Payment(Document):
    """Import payment voucher (CEB411) or export receipt 收款单 (CEB403)."""

    kind: ClassVar[Kind] = Kind.PAYMENT

    payCode: str | None = None
    payName: str | None = None
    payTransactionId: str | None = None
    orderNo: str = ""
    ebpCode: str = ""
    ebpName: str | None = None
    payerIdType: str | None = None
    payerIdNumber: Pii | None = pii_field(PiiKind.ID_NUMBER)
    payerName: str | None = None
    telephone: Pii | None = pii_field(PiiKind.PHONE)
    amountPaid: Decimal | None = money_field()
    currency: str | None = None
    payTime: str | None = None
    # export receipts (CEB403)
    ebcCode: str | None = None
    ebcName: str | None = None
    payNo: str | None = None
    charge: Decimal | None = money_field()
    accountingDate: str | None = None

    @property
    def key(self) -> dict[str, str]:
        if self.direction is Direction.IMPORT:
            return {
                "payCode": self.payCode or "",
                "payTransactionId": self.payTransactionId or "",
                "ebpCode": self.ebpCode,
                "orderNo": self.orderNo,
            }
        return {"ebpCode": self.ebpCode, "orderNo": self.orderNo}


@dataclass(frozen=True, slots=True)
class Logistics(Document):
    """Waybill: import CEB511 names the orderNo, export CEB505 names no order at all."""

    kind: ClassVar[Kind] = Kind.LOGISTICS

    logisticsCode: str = ""
    logisticsName: str | None = None
    logisticsNo: str = ""
    billNo: str | None = None
    orderNo: str | None = None
    freight: Decimal | None = money_field()
    insuredFee: Decimal | None = money_field()
    currency: str | None = None
    weight: Decimal | None = money_field()
    grossWeight: Decimal | None = money_field()
    packNo: int | None = int_field()
    goodsInfo: str | None = None
    consignee: str | None = None
    consigneeAddress: str | None = None
    consigneeTelephone: Pii | None = pii_field(PiiKind.PHONE)
    ebcCode: str | None = None
    ebcName: str | None = None
    ebcTelephone: Pii | None = pii_field(PiiKind.PHONE)

    @property
    def key(self) -> dict[str, str]:
        return {"logisticsCode": self.logisticsCode, "logisticsNo": self.logisticsNo}


@dataclass(frozen=True, slots=True)
class Inventory(Document):
    kind: ClassVar[Kind] = Kind.INVENTORY
    line_type: ClassVar[type[Record] | None] = InventoryLine

    orderNo: str = ""
    ebpCode: str = ""
    ebpName: str | None = None
    ebcCode: str | None = None
    ebcName: str | None = None
    logisticsNo: str = ""
    logisticsCode: str = ""
    logisticsName: str | None = None
    copNo: str | None = None
    preNo: str | None = None
    assureCode: str | None = None
    emsNo: str | None = None
    invtNo: str | None = None
    ieFlag: str | None = None
    declTime: str | None = None
    customsCode: str | None = None
    portCode: str | None = None
    ieDate: str | None = None
    buyerIdType: str | None = None
    buyerIdNumber: Pii | None = pii_field(PiiKind.ID_NUMBER)
    buyerName: str | None = None
    buyerTelephone: Pii | None = pii_field(PiiKind.PHONE)
    consigneeAddress: str | None = None
    agentCode: str | None = None
    agentName: str | None = None
    areaCode: str | None = None
    areaName: str | None = None
    tradeMode: str | None = None
    trafMode: str | None = None
    trafNo: str | None = None
    trafName: str | None = None
    voyageNo: str | None = None
    billNo: str | None = None
    loctNo: str | None = None
    licenseNo: str | None = None
    country: str | None = None
    freight: Decimal | None = money_field()
    insuredFee: Decimal | None = money_field()
    currency: str | None = None
    wrapType: str | None = None
    packNo: int | None = int_field()
    grossWeight: Decimal | None = money_field()
    netWeight: Decimal | None = money_field()
    # export inventory (CEB603)
    statisticsFlag: str | None = None
    ownerCode: str | None = None
    ownerName: str | None = None
    iacCode: str | None = None
    iacName: str | None = None
    lines: tuple[InventoryLine, ...] = ()

    @property
    def key(self) -> dict[str, str]:
        return {
            "ebpCode": self.ebpCode,
            "orderNo": self.orderNo,
            "logisticsCode": self.logisticsCode,
            "logisticsNo": self.logisticsNo,
        }


DOCUMENT_TYPES: dict[Kind, type[Document]] = {
    Kind.ORDER: Order,
    Kind.PAYMENT: Payment,
    Kind.LOGISTICS: Logistics,
    Kind.INVENTORY: Inventory,
    Kind.CANCEL: InvtCancel,
    Kind.RETURN: InvtRefund,
    Kind.SUMMARY: SummaryApply,
    Kind.ARRIVAL: Arrival,
    Kind.MASTER_BILL: WayBill,
    Kind.DEPARTURE: Departure,
}


def _convert(spec: Any, raw: Any) -> Any:
    """One stored JSON value back to its typed form, by the field's metadata."""
    if raw is None:
        return None
    if spec.metadata.get("pii") is not None:
        return Pii.from_json(raw)
    target = spec.metadata.get("type")
    if target is Decimal:
        return Decimal(raw)
    if target is int:
        return int(raw)
    return raw


def _record_from_json(cls: type[Any], data: Mapping[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        raw = data[f.name]
        if f.name == "lines":
            values["lines"] = tuple(_record_from_json(cls.line_type, item) for item in raw)
        elif f.name == "direction":
            values["direction"] = Direction(raw)
        else:
            values[f.name] = _convert(f, raw)
    return cls(**values)


def document_from_json(kind: Kind, data: Mapping[str, Any]) -> Document:
    """Rebuild a typed document from the JSON the store keeps (see ``Document.to_json``)."""
    doc: Document = _record_from_json(DOCUMENT_TYPES[kind], data)
    return doc


def field_kinds(cls: type[Record]) -> dict[str, Any]:
    """Field name -> the metadata that says how to read it from XML text."""
    return {f.name: f for f in fields(cls)}
