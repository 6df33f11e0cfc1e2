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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from service.messages.registry import Direction, Kind


class PiiKind(StrEnum):
    ID_NUMBER = "id"
    PHONE = "phone"


@dataclass(frozen=True, slots=True, eq=False)
class Pii:
    """A protected personal value: compare by ``digest``, show ``masked``."""

    masked: str
    digest: str
    # For ID numbers: whether the GB 11643 check holds (18 characters, right check digit).
    id_check: bool | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pii) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __str__(self) -> str:
        return self.masked

    def to_json(self) -> dict[str, Any]:
        return {"masked": self.masked, "digest": self.digest, "idCheck": self.id_check}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Pii:
        return cls(data["masked"], data["digest"], data.get("idCheck"))


Protector = Callable[[str, PiiKind], Pii]
Value = str | int | Decimal | Pii | None


def _pii(kind: PiiKind) -> Any:
    return field(default=None, metadata={"pii": kind})


def _money() -> Any:
    return field(default=None, metadata={"type": Decimal})


def _int() -> Any:
    return field(default=None, metadata={"type": int})


@dataclass(frozen=True, slots=True)
class _Record:
    """Shared conversion between typed records and their JSON form."""

    def to_json(self) -> dict[str, Any]:
        # Every stored document goes through here on the intake path: field names come from
        # a per-class tuple and values are told apart by exact type, the common ones first.
        out: dict[str, Any] = {}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            kind = type(value)
            if value is None or kind is str or kind is int:
                out[name] = value
            elif kind is Decimal:
                out[name] = str(value)
            elif kind is Pii:
                out[name] = value.to_json()
            elif kind is tuple:
                out[name] = [item.to_json() for item in value]
            elif isinstance(value, StrEnum):
                out[name] = value.value
            elif isinstance(value, Pii | Decimal):
                out[name] = value.to_json() if isinstance(value, Pii) else str(value)
            else:
                out[name] = value
        return out


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True, slots=True)
class OrderLine(_Record):
    gnum: int = _int()
    itemNo: str | None = None
    itemName: str | None = None
    gmodel: str | None = None
    itemDescribe: str | None = None
    barCode: str | None = None
    unit: str | None = None
    qty: Decimal | None = _money()
    price: Decimal | None = _money()
    totalPrice: Decimal | None = _money()
    currency: str | None = None
    country: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class InventoryLine(_Record):
    gnum: int = _int()
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
    qty: Decimal | None = _money()
    unit: str | None = None
    qty1: Decimal | None = _money()
    unit1: str | None = None
    qty2: Decimal | None = _money()
    unit2: str | None = None
    price: Decimal | None = _money()
    totalPrice: Decimal | None = _money()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Document(_Record):
    """Fields every CEB document head carries."""

    kind: ClassVar[Kind]
    line_type: ClassVar[type[_Record] | None] = None

    direction: Direction = Direction.IMPORT
    guid: str = ""
    appType: str = "1"
    appTime: str = ""
    appStatus: str = "2"
    note: str | None = None

    @property
    def key(self) -> dict[str, str]:
        """The natural key customs uses for this kind (SPEC §2), for answers and receipts."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Order(Document):
    kind: ClassVar[Kind] = Kind.ORDER
    line_type: ClassVar[type[_Record] | None] = OrderLine

    orderType: str | None = None
    orderNo: str = ""
    ebpCode: str = ""
    ebpName: str | None = None
    ebcCode: str | None = None
    ebcName: str | None = None
    goodsValue: Decimal | None = _money()
    freight: Decimal | None = _money()
    discount: Decimal | None = _money()
    taxTotal: Decimal | None = _money()
    acturalPaid: Decimal | None = _money()
    currency: str | None = None
    buyerRegNo: str | None = None
    buyerName: str | None = None
    buyerTelephone: Pii | None = _pii(PiiKind.PHONE)
    buyerIdType: str | None = None
    buyerIdNumber: Pii | None = _pii(PiiKind.ID_NUMBER)
    payCode: str | None = None
    payName: str | None = None
    payTransactionId: str | None = None
    batchNumbers: str | None = None
    consignee: str | None = None
    consigneeTelephone: Pii | None = _pii(PiiKind.PHONE)
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
    payerIdNumber: Pii | None = _pii(PiiKind.ID_NUMBER)
    payerName: str | None = None
    telephone: Pii | None = _pii(PiiKind.PHONE)
    amountPaid: Decimal | None = _money()
    currency: str | None = None
    payTime: str | None = None
    # export receipts (CEB403)
    ebcCode: str | None = None
    ebcName: str | None = None
    payNo: str | None = None
    charge: Decimal | None = _money()
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
    freight: Decimal | None = _money()
    insuredFee: Decimal | None = _money()
    currency: str | None = None
    weight: Decimal | None = _money()
    grossWeight: Decimal | None = _money()
    packNo: int | None = _int()
    goodsInfo: str | None = None
    consignee: str | None = None
    consigneeAddress: str | None = None
    consigneeTelephone: Pii | None = _pii(PiiKind.PHONE)
    ebcCode: str | None = None
    ebcName: str | None = None
    ebcTelephone: Pii | None = _pii(PiiKind.PHONE)

    @property
    def key(self) -> dict[str, str]:
        return {"logisticsCode": self.logisticsCode, "logisticsNo": self.logisticsNo}


@dataclass(frozen=True, slots=True)
class Inventory(Document):
    kind: ClassVar[Kind] = Kind.INVENTORY
    line_type: ClassVar[type[_Record] | None] = InventoryLine

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
    buyerIdNumber: Pii | None = _pii(PiiKind.ID_NUMBER)
    buyerName: str | None = None
    buyerTelephone: Pii | None = _pii(PiiKind.PHONE)
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
    freight: Decimal | None = _money()
    insuredFee: Decimal | None = _money()
    currency: str | None = None
    wrapType: str | None = None
    packNo: int | None = _int()
    grossWeight: Decimal | None = _money()
    netWeight: Decimal | None = _money()
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


def field_kinds(cls: type[_Record]) -> dict[str, Any]:
    """Field name -> the metadata that says how to read it from XML text."""
    return {f.name: f for f in fields(cls)}
