"""Movement documents (SPEC §10): arrival (入库明细单 / 运抵单), master bill (清单总分单) and
departure (离境单).

They name consignments by the waybills on their lines, under the head's logisticsCode (an
arrival without lines by the head's billNo), and a master bill by invtNo + logisticsNo per
line. One class per kind; the import arrival CEB711 (``Delivery``) and the export one CEB507
(``Arrival``) share ``Arrival``, a field the other direction lacks left ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from service.messages.records import Document, Record, int_field, money_field
from service.messages.registry import Kind


@dataclass(frozen=True, slots=True)
class MovementLine(Record):
    """A line naming one waybill (``logisticsNo``); a master bill's also its list (invtNo)."""

    gnum: int = int_field()
    logisticsNo: str = ""
    totalPackageNo: str | None = None
    invtNo: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class _MovementHead(Document):
    customsCode: str | None = None
    copNo: str | None = None
    preNo: str | None = None
    loctNo: str | None = None
    trafMode: str | None = None
    trafName: str | None = None
    voyageNo: str | None = None
    billNo: str | None = None
    domesticTrafNo: str | None = None
    logisticsCode: str = ""
    logisticsName: str | None = None
    msgCount: int | None = int_field()
    msgSeqNo: int | None = int_field()
    lines: tuple[MovementLine, ...] = ()

    @property
    def key(self) -> dict[str, str]:
        key = {"logisticsCode": self.logisticsCode}
        if self.billNo:
            key["billNo"] = self.billNo
        return key

    def numbers(self) -> list[tuple[str, str]]:
        """The waybill numbers the lines name, in their order, each once."""
        return list(dict.fromkeys((self.logisticsCode, line.logisticsNo) for line in self.lines))


@dataclass(frozen=True, slots=True)
class Arrival(_MovementHead):
    """入库明细单 (CEB711, import: the site's rkdNo, trafNo, unloadLocation) and 运抵单 (CEB507,
    export: 0..n lines; none means the whole bill)."""

    kind: ClassVar[Kind] = Kind.ARRIVAL
    line_type: ClassVar[type[Record] | None] = MovementLine

    operatorCode: str = ""
    operatorName: str | None = None
    ieFlag: str | None = None
    # import (CEB711)
    rkdNo: str | None = None
    trafNo: str | None = None
    unloadLocation: str | None = None


@dataclass(frozen=True, slots=True)
class WayBill(_MovementHead):
    """清单总分单 (CEB607): the declaration agent's bill of lading and the lists it carries."""

    kind: ClassVar[Kind] = Kind.MASTER_BILL
    line_type: ClassVar[type[Record] | None] = MovementLine

    agentCode: str = ""
    agentName: str | None = None
    grossWeight: Decimal | None = money_field()


@dataclass(frozen=True, slots=True)
class Departure(_MovementHead):
    """离境单 (CEB509): the carrier reports the waybills that left the country."""

    kind: ClassVar[Kind] = Kind.DEPARTURE
    line_type: ClassVar[type[Record] | None] = MovementLine

    leaveTime: str | None = None
