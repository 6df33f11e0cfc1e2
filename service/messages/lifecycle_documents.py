"""Lifecycle documents (SPEC §10): cancels (撤销申请单) and returns (退货申请单).

They name a consignment by its invtNo and are never one of a bundle's documents; import ones
also name the ebpCode + orderNo that must agree with it. One class per kind holds the fields of
both directions (import CEB623 / CEB625, export CEB605 / CEB213); a field the other direction
lacks is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from service.messages.records import (
    Document,
    Pii,
    PiiKind,
    Record,
    int_field,
    money_field,
    pii_field,
)
from service.messages.registry import Kind


@dataclass(frozen=True, slots=True)
class RefundLine(Record):
    """A returned line: ``gnum`` is the inventory line's, ``qty`` what goes back."""

    gnum: int = int_field()
    gcode: str | None = None
    gname: str | None = None
    gmodel: str | None = None
    qty: Decimal | None = money_field()
    qty1: Decimal | None = money_field()
    unit: str | None = None
    unit1: str | None = None
    qty2: Decimal | None = money_field()
    unit2: str | None = None
    note: str | None = None


def _lifecycle_key(invt_no: str, ebp_code: str | None, order_no: str | None) -> dict[str, str]:
    """invtNo, and the ebpCode + orderNo an import document also names (SPEC §10)."""
    key = {"invtNo": invt_no}
    if ebp_code:
        key["ebpCode"] = ebp_code
    if order_no:
        key["orderNo"] = order_no
    return key


@dataclass(frozen=True, slots=True)
class _LifecycleHead(Document):
    """The head fields cancels and returns share (the official import and export heads, the
    ones a direction lacks left None)."""

    customsCode: str | None = None
    orderNo: str | None = None
    ebpCode: str | None = None
    ebpName: str | None = None
    ebcCode: str | None = None
    ebcName: str | None = None
    logisticsNo: str | None = None
    logisticsCode: str | None = None
    logisticsName: str | None = None
    copNo: str | None = None
    preNo: str | None = None
    invtNo: str = ""
    buyerIdType: str | None = None
    buyerIdNumber: Pii | None = pii_field(PiiKind.ID_NUMBER)
    buyerName: str | None = None
    buyerTelephone: Pii | None = pii_field(PiiKind.PHONE)
    agentCode: str | None = None
    agentName: str | None = None
    reason: str | None = None

    @property
    def key(self) -> dict[str, str]:
        return _lifecycle_key(self.invtNo, self.ebpCode, self.orderNo)


@dataclass(frozen=True, slots=True)
class InvtCancel(_LifecycleHead):
    """撤销申请单: import CEB623 names its order, waybill and buyer; export CEB605 only the
    inventory, its agent and ebc."""

    kind: ClassVar[Kind] = Kind.CANCEL


@dataclass(frozen=True, slots=True)
class InvtRefund(_LifecycleHead):
    """退货申请单: import CEB625 names its order and buyer; export CEB213 (no orderNo) the
    inbound waybill, its transport and the company enterprise number ``coElNo``."""

    kind: ClassVar[Kind] = Kind.RETURN
    line_type: ClassVar[type[Record] | None] = RefundLine

    # export return (CEB213)
    loctNo: str | None = None
    coElNo: str | None = None
    tradeMode: str | None = None
    billNo: str | None = None
    ieFlag: str | None = None
    trafMode: str | None = None
    trafName: str | None = None
    portCode: str | None = None
    country: str | None = None
    voyageNo: str | None = None
    lines: tuple[RefundLine, ...] = ()
