"""Realistic export consignments: order/booking (CEB303), receipt (CEB403), waybill (CEB505)
and export inventory (CEB603) for the four export regimes of SPEC §3.

| regime | order type | receipt | regime fields |
|---|---|---|---|
| 9610 B2C 零售出口 | E | yes | — |
| 1210 特殊区域出口 | E | yes | emsNo, iacCode, each line itemRecordNo |
| 9710 B2B 直接出口 | B | optional (sent here) | — |
| 9810 出口海外仓 | W (订仓单) | none | — |
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from service.demo.compose import new_guid
from service.demo.consignments import DEMO_PARTIES, GOODS, Consignment, Parties
from service.messages.registry import BUNDLE_KINDS, Kind

ORDER_TYPE = {"9610": "E", "1210": "E", "9710": "B", "9810": "W"}
# Destination country and port per consignment: (country code, port of destination)
DESTINATIONS = [("502", "5021"), ("303", "3031"), ("304", "3042"), ("116", "1161")]


def clean_export(
    rng: random.Random,
    number: int,
    *,
    regime: str = "9610",
    parties: Parties = DEMO_PARTIES,
    when: datetime | None = None,
) -> Consignment:
    """An export consignment that every rule passes, for ``regime``."""
    when = when or datetime(2026, 11, 11, 0, 0, 0)
    stamp = when.strftime("%Y%m%d%H%M%S")
    p = parties
    order_no = f"EX{when:%Y%m%d}{number:08d}"
    logistics_no = f"EY{when:%y%m%d}{number:010d}"
    country, port = rng.choice(DESTINATIONS)
    order_lines, inventory_lines = _lines(rng, regime, country)
    goods_value = sum((line["totalPrice"] for line in order_lines), Decimal(0))
    freight = Decimal(rng.choice([0, 15, 30, 45]))
    weight = Decimal(rng.randint(5, 300)) / 10
    head = {"guid": new_guid(), "appType": "1", "appTime": stamp, "appStatus": "2"}
    order = {
        **head,
        "orderType": ORDER_TYPE[regime],
        "orderNo": order_no,
        "ebpCode": p.platform.code,
        "ebpName": p.platform.name,
        "ebcCode": p.ebc.code,
        "ebcName": p.ebc.name,
        "goodsValue": goods_value,
        "freight": freight,
        "currency": "142",
    }
    receipt = {
        **head,
        "guid": new_guid(),
        "ebpCode": p.platform.code,
        "ebpName": p.platform.name,
        "ebcCode": p.ebc.code,
        "ebcName": p.ebc.name,
        "orderNo": order_no,
        "payCode": p.payment.code,
        "payName": p.payment.name,
        "payNo": f"RC{when:%Y%m%d}{number:010d}",
        "charge": goods_value + freight,
        "currency": "142",
        "accountingDate": stamp,
    }
    logistics = {
        **head,
        "guid": new_guid(),
        "logisticsCode": p.carrier.code,
        "logisticsName": p.carrier.name,
        "logisticsNo": logistics_no,
        "freight": freight,
        "insuredFee": Decimal(0),
        "currency": "142",
        "grossWeight": weight,
        "packNo": 1,
        "goodsInfo": "、".join(line["itemName"] for line in order_lines)[:200],
        "ebcCode": p.ebc.code,
        "ebcName": p.ebc.name,
    }
    inventory: dict[str, Any] = {
        **head,
        "guid": new_guid(),
        "customsCode": "2924",
        "ebpCode": p.platform.code,
        "ebpName": p.platform.name,
        "orderNo": order_no,
        "logisticsCode": p.carrier.code,
        "logisticsName": p.carrier.name,
        "logisticsNo": logistics_no,
        "copNo": f"E{number:012d}",
        "ieFlag": "E",
        "portCode": "2924",
        "ieDate": f"{when:%Y%m%d}",
        "statisticsFlag": "A",
        "agentCode": p.agent.code,
        "agentName": p.agent.name,
        "ebcCode": p.ebc.code,
        "ebcName": p.ebc.name,
        "ownerCode": p.ebc.code,
        "ownerName": p.ebc.name,
        "tradeMode": regime,
        "trafMode": "5",
        "country": country,
        "POD": port,
        "freight": freight,
        "fCurrency": "142",
        "fFlag": "3",
        "insuredFee": Decimal(0),
        "iCurrency": "142",
        "iFlag": "3",
        "wrapType": "2",
        "packNo": 1,
        "grossWeight": weight,
        "netWeight": (weight * Decimal("0.9")).quantize(Decimal("0.01")),
    }
    if regime == "1210":
        inventory.update(emsNo="T2924W000456", iacCode=p.zone.code, iacName=p.zone.name)
    return Consignment(
        regime, order, order_lines, receipt, logistics, inventory, inventory_lines, direction="E"
    )


def _lines(
    rng: random.Random, regime: str, country: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    order_lines: list[dict[str, Any]] = []
    inventory_lines: list[dict[str, Any]] = []
    # B2B and overseas-warehouse shipments are cartons, not parcels
    scale = 50 if regime in ("9710", "9810") else 1
    for gnum in range(1, rng.randint(1, 3) + 1):
        hs, name, model, (low, high) = rng.choice(GOODS)
        price = Decimal(rng.randint(low * 100, high * 100)) / 100
        qty = Decimal(rng.randint(1, 3) * scale)
        total = qty * price
        item_no = f"EX{hs[:6]}{gnum:02d}"
        order_lines.append(
            {
                "gnum": gnum,
                "itemNo": item_no,
                "itemName": name,
                "unit": "011",
                "currency": "142",
                "qty": qty,
                "price": price,
                "totalPrice": total,
            }
        )
        inventory_lines.append(
            {
                "gnum": gnum,
                "itemNo": item_no,
                "itemRecordNo": f"R{hs}" if regime == "1210" else None,
                "itemName": name,
                "gcode": hs,
                "gname": name,
                "gmodel": model,
                "barCode": "无",
                "country": country,
                "currency": "142",
                "qty": qty,
                "qty1": qty,
                "unit": "011",
                "unit1": "011",
                "price": price,
                "totalPrice": total,
            }
        )
    return order_lines, inventory_lines


def kinds_to_send(c: Consignment) -> list[Kind]:
    """The documents a clean consignment of its regime sends: 9810 books, it is not paid."""
    if c.direction == "E" and c.regime == "9810":
        return [Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY]
    return list(BUNDLE_KINDS)


def _line_total(c: Consignment) -> None:
    c.order_lines[0]["totalPrice"] += 1
    c.inventory_lines[0]["totalPrice"] += 1
    c.order["goodsValue"] += 1
    c.payment["charge"] += 1


def _receipt_amount(c: Consignment) -> None:
    c.payment["charge"] -= Decimal("0.50")


def _inventory_parties(c: Consignment) -> None:
    c.inventory["ebcCode"] = "3301969999"


def _unnamed_waybill(c: Consignment) -> None:
    # The inventory names a waybill number the carrier never sent. An export waybill carries
    # no orderNo, so it attaches only through the inventory that names it (SPEC §4): the
    # carrier's waybill waits unattached and the bundle lacks one at its deadline. On export
    # this is what a wrong waybill number looks like; INVENTORY_LOGISTICS cannot arise.
    c.inventory["logisticsNo"] = "ZT" + c.inventory["logisticsNo"][2:]


def _inventory_items(c: Consignment) -> None:
    line = c.inventory_lines[0]
    line["qty"] += 1
    line["qty1"] += 1
    line["totalPrice"] = line["qty"] * line["price"]


def _regime_mismatch(c: Consignment) -> None:
    # declared B2B direct export, but the platform sent a retail order
    c.order["orderType"] = "E" if c.regime in ("9710", "9810") else "B"


def _regime_fields(c: Consignment) -> None:
    if c.regime == "1210":
        c.inventory.pop("iacCode", None)
        c.inventory.pop("iacName", None)
    else:
        raise ValueError(f"export {c.regime} has no regime-specific fields to drop")


EXPORT_MISMATCHES: dict[str, Callable[[Consignment], None]] = {
    "ORDER_LINE_TOTAL": _line_total,
    "EXPORT_RECEIPT_AMOUNT": _receipt_amount,
    "INVENTORY_PARTIES": _inventory_parties,
    "MISSING_LOGISTICS": _unnamed_waybill,
    "INVENTORY_ITEMS": _inventory_items,
    "REGIME_MISMATCH": _regime_mismatch,
    "REGIME_FIELDS": _regime_fields,
}


def with_export_mistake(c: Consignment, code: str) -> Consignment:
    out = c.copy()
    EXPORT_MISMATCHES[code](out)
    out.mistakes.append(code)
    return out
