"""The groups of an export summary (汇总申报, SPEC §10): one computation for the CEB701
result and for the proposal an exporter's ERP reads before it sends one.

Every line of the summarised inventories goes into the group of its 10-digit ``gcode``,
destination ``country``, ``currency`` and ``unit``; with ``itemNameFlag`` 1 also of its
``gname`` (按清单原始商品名相同汇总), with ``summaryFlag`` 2 also of its inventory's
``ownerCode`` (按收发货人和生产销售单位汇总). ``qty`` and ``totalPrice`` are summed exactly,
as Decimals. The groups are numbered (``gseqno``) from 1 in the order their first line comes,
the inventories taken by invtNo and their lines by gnum, so the same inventories always give
the same numbers.

Where a value may be missing or short on an inventory: the country is the line's (最终目的国),
else the head's; the currency likewise; a gcode shorter than 10 digits is the HS code without
its two national digits and is completed with zeros (the CEB792 takes exactly 10). Without
``itemNameFlag`` a group's gname is the name of its first line: Sandan has no table of the
composite classification names (商品综合分类名) customs would print there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from service.messages.documents import Inventory

GCODE_DIGITS = 10


@dataclass(frozen=True, slots=True)
class SummaryLine:
    """One group: what it was grouped by and its sums."""

    gseqno: int
    gcode: str
    gname: str
    country: str
    currency: str
    unit: str
    ownerCode: str | None
    qty: Decimal
    totalPrice: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "gseqno": self.gseqno,
            "gcode": self.gcode,
            "gname": self.gname,
            "country": self.country,
            "currency": self.currency,
            "unit": self.unit,
            "ownerCode": self.ownerCode,
            "qty": str(self.qty),
            "totalPrice": str(self.totalPrice),
        }


@dataclass(frozen=True, slots=True)
class SummaryItem:
    """One inventory line and the group it went into (a CEB792 ``SummaryResultList``)."""

    invtNo: str
    logisticsNo: str
    gnum: int
    gcode: str
    gseqno: int

    def to_json(self) -> dict[str, Any]:
        return {
            "invtNo": self.invtNo,
            "logisticsNo": self.logisticsNo,
            "gnum": self.gnum,
            "gcode": self.gcode,
            "gseqno": self.gseqno,
        }


@dataclass(slots=True)
class Grouping:
    lines: list[SummaryLine] = field(default_factory=list)
    items: list[SummaryItem] = field(default_factory=list)
    gross_weight: Decimal = Decimal(0)
    net_weight: Decimal = Decimal(0)


def ten_digit(gcode: str | None) -> str:
    code = (gcode or "").strip()[:GCODE_DIGITS]
    return code.ljust(GCODE_DIGITS, "0")


# gcode, country, currency, unit, gname (with itemNameFlag 1), ownerCode (summaryFlag 2)
_Key = tuple[str, str, str, str, str | None, str | None]


@dataclass(slots=True)
class _Open:
    gseqno: int
    gname: str
    qty: Decimal
    total: Decimal


def group(
    inventories: Iterable[tuple[str, Inventory]], *, by_item_name: bool, by_owner: bool
) -> Grouping:
    """The groups of ``inventories`` (invtNo, the inventory); see the module text."""
    out = Grouping()
    groups: dict[_Key, _Open] = {}
    keys: list[_Key] = []
    for invt_no, inventory in sorted(inventories, key=lambda pair: pair[0]):
        out.gross_weight += inventory.grossWeight or Decimal(0)
        out.net_weight += inventory.netWeight or Decimal(0)
        owner = (inventory.ownerCode or "") if by_owner else None
        for line in sorted(inventory.lines, key=lambda item: item.gnum):
            gcode = ten_digit(line.gcode)
            country = line.country or inventory.country or ""
            currency = line.currency or inventory.currency or ""
            unit = line.unit or ""
            gname = line.gname or ""
            key = (gcode, country, currency, unit, gname if by_item_name else None, owner)
            found = groups.get(key)
            if found is None:
                found = groups[key] = _Open(len(groups) + 1, gname, Decimal(0), Decimal(0))
                keys.append(key)
            found.qty += line.qty or Decimal(0)
            found.total += line.totalPrice or Decimal(0)
            out.items.append(
                SummaryItem(invt_no, inventory.logisticsNo, int(line.gnum), gcode, found.gseqno)
            )
    for key in keys:
        g = groups[key]
        gcode, country, currency, unit, _, owner = key
        out.lines.append(
            SummaryLine(g.gseqno, gcode, g.gname, country, currency, unit, owner, g.qty, g.total)
        )
    return out
