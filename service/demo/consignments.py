"""Realistic import consignments — order, payment, waybill, inventory — and their mismatches.

A clean consignment is internally consistent under every rule of SPEC §5.2 (amounts, parties,
items, regime fields, tax) and is released. ``MISMATCHES`` maps each collision rule code to a
change that makes exactly that kind of mistake, the way real senders make it.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from service.config import DEFAULT_TAX_TABLE
from service.demo.compose import compose, new_guid
from service.messages.documents import Inventory, InventoryLine
from service.messages.registry import Kind
from service.rules.idcard import check_character
from service.rules.tax import comprehensive_tax

CENT = Decimal("0.01")
RETAIL_FACTOR = Decimal("0.7")


@dataclass(frozen=True, slots=True)
class Enterprise:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Parties:
    platform: Enterprise
    ebc: Enterprise
    payment: Enterprise
    carrier: Enterprise
    agent: Enterprise
    zone: Enterprise


DEMO_PARTIES = Parties(
    platform=Enterprise("3301960001", "杭州三单跨境电商平台有限公司"),
    ebc=Enterprise("3301960002", "杭州三单海淘商贸有限公司"),
    payment=Enterprise("3101960003", "上海三单支付服务有限公司"),
    carrier=Enterprise("3101960004", "上海三单国际物流有限公司"),
    agent=Enterprise("3301960005", "杭州三单报关有限公司"),
    zone=Enterprise("3301960006", "杭州综合保税区三单仓储有限公司"),
)

# (HS code, name, model, unit price range in CNY)
GOODS = [
    ("3304990099", "保湿面霜", "50ml/瓶", (89, 420)),
    ("1901101000", "婴幼儿配方奶粉", "800g/罐", (158, 328)),
    ("6404199000", "运动鞋", "42码", (299, 899)),
    ("8509800090", "电动牙刷", "标准款", (199, 699)),
    ("2106909090", "复合维生素片", "120粒/瓶", (69, 260)),
    ("4202221000", "帆布手提包", "中号", (159, 1200)),
]
NAMES = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄婷", "周杰", "吴霞"]
ADDRESSES = [
    "浙江省杭州市西湖区文三路90号",
    "上海市浦东新区世纪大道100号",
    "北京市海淀区中关村大街27号",
    "广东省深圳市南山区科技园路1号",
    "四川省成都市武侯区天府大道北段28号",
]


def buyer_id(rng: random.Random) -> str:
    """A GB 11643 ID number with a valid check character."""
    region = rng.choice(["110105", "310104", "330106", "440305", "510107"])
    birth = f"{rng.randint(1965, 2002)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"{region}{birth}{rng.randint(0, 999):03d}"
    return first17 + check_character(first17)


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}"


@dataclass(slots=True)
class Consignment:
    regime: str
    order: dict[str, Any]
    order_lines: list[dict[str, Any]]
    payment: dict[str, Any]
    logistics: dict[str, Any]
    inventory: dict[str, Any]
    inventory_lines: list[dict[str, Any]]
    # what the generator did to it: [] for clean, else the rule codes it should trip
    mistakes: list[str] = field(default_factory=list)
    direction: str = "I"

    @property
    def key(self) -> tuple[str, str]:
        return self.order["ebpCode"], self.order["orderNo"]

    def message(self, kind: Kind, cop_code: str | None = None) -> bytes:
        """This consignment's document of ``kind`` as a one-document CEB message."""
        return message_of([self], kind, cop_code)

    def copy(self) -> Consignment:
        return copy.deepcopy(self)


ROOTS = {
    ("I", Kind.ORDER): "CEB311Message",
    ("I", Kind.PAYMENT): "CEB411Message",
    ("I", Kind.LOGISTICS): "CEB511Message",
    ("I", Kind.INVENTORY): "CEB621Message",
    ("E", Kind.ORDER): "CEB303Message",
    ("E", Kind.PAYMENT): "CEB403Message",
    ("E", Kind.LOGISTICS): "CEB505Message",
    ("E", Kind.INVENTORY): "CEB603Message",
}


def parts(c: Consignment, kind: Kind) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return {
        Kind.ORDER: (c.order, c.order_lines),
        Kind.PAYMENT: (c.payment, []),
        Kind.LOGISTICS: (c.logistics, []),
        Kind.INVENTORY: (c.inventory, c.inventory_lines),
    }[kind]


def sender_code(c: Consignment, kind: Kind) -> str:
    head = parts(c, kind)[0]
    field_name = {
        Kind.ORDER: "ebpCode",
        Kind.PAYMENT: "payCode",
        Kind.LOGISTICS: "logisticsCode",
        Kind.INVENTORY: "agentCode",
    }[kind]
    return str(head.get(field_name) or head["ebcCode"])


def message_of(consignments: list[Consignment], kind: Kind, cop_code: str | None = None) -> bytes:
    """The ``kind`` documents of several consignments in one message (1..100)."""
    first = consignments[0]
    docs = [parts(c, kind) for c in consignments]
    return compose(ROOTS[(first.direction, kind)], docs, cop_code or sender_code(first, kind))


def with_new_guid(head: dict[str, Any]) -> None:
    head["guid"] = new_guid()


def clean_import(
    rng: random.Random,
    number: int,
    *,
    regime: str = "9610",
    parties: Parties = DEMO_PARTIES,
    when: datetime | None = None,
    buyer: tuple[str, str, str] | None = None,
    max_value: Decimal = Decimal("4000"),
) -> Consignment:
    """A consignment that every rule passes. ``buyer`` is (name, ID number, phone)."""
    when = when or datetime(2026, 11, 11, 0, 0, 0)
    stamp = when.strftime("%Y%m%d%H%M%S")
    name, id_number, phone = buyer or (rng.choice(NAMES), buyer_id(rng), mobile(rng))
    consignee_phone = phone if rng.random() < 0.7 else mobile(rng)
    consignee = name if consignee_phone == phone else rng.choice(NAMES)
    address = rng.choice(ADDRESSES)
    order_no = f"SD{when:%Y%m%d}{number:08d}"
    logistics_no = f"YT{when:%y%m%d}{number:010d}"
    pay_tx = f"PAY{when:%Y%m%d}{number:010d}"

    order_lines, inventory_lines = _lines(rng, regime, max_value)
    goods_value = sum((line["totalPrice"] for line in order_lines), Decimal(0))
    freight = Decimal(rng.choice([0, 0, 8, 10, 12, 15]))
    insured = Decimal(0)
    discount = Decimal(rng.choice([0, 0, 0, 5, 10])).min(goods_value / 10).quantize(CENT)
    tax_total = import_tax(inventory_lines, freight, insured)
    paid = goods_value + freight - discount + tax_total

    p = parties
    order = {
        "guid": new_guid(),
        "appType": "1",
        "appTime": stamp,
        "appStatus": "2",
        "orderType": "I",
        "orderNo": order_no,
        "ebpCode": p.platform.code,
        "ebpName": p.platform.name,
        "ebcCode": p.ebc.code,
        "ebcName": p.ebc.name,
        "goodsValue": goods_value,
        "freight": freight,
        "discount": discount,
        "taxTotal": tax_total,
        "acturalPaid": paid,
        "currency": "142",
        "buyerRegNo": f"U{number:09d}",
        "buyerName": name,
        "buyerTelephone": phone,
        "buyerIdType": "1",
        "buyerIdNumber": id_number,
        "payCode": p.payment.code,
        "payName": p.payment.name,
        "payTransactionId": pay_tx,
        "consignee": consignee,
        "consigneeTelephone": consignee_phone,
        "consigneeAddress": address,
    }
    payment = {
        "guid": new_guid(),
        "appType": "1",
        "appTime": stamp,
        "appStatus": "2",
        "payCode": p.payment.code,
        "payName": p.payment.name,
        "payTransactionId": pay_tx,
        "orderNo": order_no,
        "ebpCode": p.platform.code,
        "ebpName": p.platform.name,
        "payerIdType": "1",
        "payerIdNumber": id_number,
        "payerName": name,
        "telephone": phone,
        "amountPaid": paid,
        "currency": "142",
        "payTime": stamp,
    }
    weight = Decimal(rng.randint(3, 40)) / 10
    logistics = {
        "guid": new_guid(),
        "appType": "1",
        "appTime": stamp,
        "appStatus": "2",
        "logisticsCode": p.carrier.code,
        "logisticsName": p.carrier.name,
        "logisticsNo": logistics_no,
        "orderNo": order_no,
        "freight": freight,
        "insuredFee": insured,
        "currency": "142",
        "weight": weight,
        "packNo": 1,
        "consignee": consignee,
        "consigneeAddress": address,
        "consigneeTelephone": consignee_phone,
    }
    inventory = {
        "guid": new_guid(),
        "appType": "1",
        "appTime": stamp,
        "appStatus": "2",
        "orderNo": order_no,
        "ebpCode": p.platform.code,
        "ebpName": p.platform.name,
        "ebcCode": p.ebc.code,
        "ebcName": p.ebc.name,
        "logisticsNo": logistics_no,
        "logisticsCode": p.carrier.code,
        "logisticsName": p.carrier.name,
        "copNo": f"C{number:012d}",
        "assureCode": p.ebc.code,
        "ieFlag": "I",
        "declTime": f"{when:%Y%m%d}",
        "customsCode": "2924",
        "portCode": "2924",
        "buyerIdType": "1",
        "buyerIdNumber": id_number,
        "buyerName": name,
        "buyerTelephone": phone,
        "consigneeAddress": address,
        "agentCode": p.agent.code,
        "agentName": p.agent.name,
        "tradeMode": regime,
        "trafMode": "5" if regime == "9610" else "Y",
        "country": "142" if regime in ("1210", "1239") else "502",
        "freight": freight,
        "insuredFee": insured,
        "currency": "142",
        "packNo": 1,
        "grossWeight": weight,
        "netWeight": (weight * Decimal("0.9")).quantize(CENT),
    }
    if regime == "9610":
        inventory.update(trafNo="CA1048", voyageNo=f"{when:%Y%m%d}", billNo=f"999-{number:08d}")
    else:
        inventory.update(emsNo="T2924W000123", areaCode=p.zone.code, areaName=p.zone.name)
    return Consignment(regime, order, order_lines, payment, logistics, inventory, inventory_lines)


def _lines(
    rng: random.Random, regime: str, max_value: Decimal
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    order_lines: list[dict[str, Any]] = []
    inventory_lines: list[dict[str, Any]] = []
    budget = max_value
    for gnum in range(1, rng.randint(1, 3) + 1):
        hs, name, model, (low, high) = rng.choice(GOODS)
        price = Decimal(rng.randint(low * 100, high * 100)) / 100
        qty = Decimal(rng.randint(1, 3))
        while qty > 1 and qty * price > budget:
            qty -= 1
        if qty * price > budget:
            break
        total = qty * price
        budget -= total
        order_lines.append(
            {
                "gnum": gnum,
                "itemNo": f"SKU{hs[:6]}{gnum:02d}",
                "itemName": name,
                "gmodel": model,
                "unit": "011",
                "qty": qty,
                "price": price,
                "totalPrice": total,
                "currency": "142",
                "country": "502",
            }
        )
        inventory_lines.append(
            {
                "gnum": gnum,
                "itemRecordNo": f"R{hs}" if regime != "9610" else None,
                "itemNo": f"SKU{hs[:6]}{gnum:02d}",
                "itemName": name,
                "gcode": hs,
                "gname": name,
                "gmodel": model,
                "country": "502",
                "currency": "142",
                "qty": qty,
                "unit": "011",
                "qty1": qty,
                "unit1": "011",
                "price": price,
                "totalPrice": total,
            }
        )
    if not order_lines:  # the first good alone was over budget: take one cheap unit
        return _lines(rng, regime, max_value + Decimal(2000))
    return order_lines, inventory_lines


def import_tax(
    inventory_lines: list[dict[str, Any]], freight: Decimal, insured: Decimal
) -> Decimal:
    """The comprehensive tax the rules expect, with the default tax table and 70 % factor."""
    inventory = Inventory(
        freight=freight,
        insuredFee=insured,
        lines=tuple(
            InventoryLine(gnum=line["gnum"], gcode=line["gcode"], totalPrice=line["totalPrice"])
            for line in inventory_lines
        ),
    )
    return comprehensive_tax(inventory, DEFAULT_TAX_TABLE, RETAIL_FACTOR)
