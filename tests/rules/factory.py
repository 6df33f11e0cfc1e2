"""Documents for rule tests: a clean import bundle (9610 or 1210) and ways to spoil it.

``bundle("9610")`` and ``bundle("1210")`` evaluate to RELEASE with zero findings under
``context()`` (the default configuration). Other suites (engine, e2e) reuse these numbers:
change them only together, and keep the arithmetic below true.

    platform (ebp)       3101960001  示例跨境电商平台有限公司      order ORD202405010001
    e-commerce (ebc)     3101960002  示例跨境电商企业有限公司
    payment company      3101960003  示例支付有限公司              payTransactionId PAY202405010001
    carrier              3101960004  示例国际物流有限公司          waybill LN202405010001
    declaration agent    3101960005
    buyer                张三, ID 11010519491231002X (GB 11643 valid; masked 1101**********002X),
                         phone 13812345678
    consignee            李四, 13987654321, 上海市浦东新区世纪大道100号

    gnum 1  婴幼儿配方奶粉 900g  2 × 150.00 = 300.00  gcode 1901101000: VAT 9 %, no consumption tax
    gnum 2  保湿面霜 50ml        1 × 500.00 = 500.00  gcode 3304990099: VAT 13 %, consumption 15 %

    goodsValue 800.00 + freight 10.00 − discount 0.00 + taxTotal 136.88 = acturalPaid 946.88
    transaction value 810.00 (single limit 5 000, annual limit 26 000)

    comprehensive tax (service.rules.tax), inventory freight 10.00 + insuredFee 6.00 = 16.00
    apportioned by line total (300 : 500) = 6.00 : 10.00, so the dutiable bases are
      gnum 1: 306.00 → VAT 306 × 9 % = 27.54; × 0.7 = 19.278
      gnum 2: 510.00 → consumption 510 × 0.15 / 0.85 = 90; VAT (510 + 90) × 13 % = 78;
              (90 + 78) × 0.7 = 117.6
      total 136.878 → 136.88 (half up, to the fen)
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from service.config import DEFAULT_REQUIRED_SETS, DEFAULT_TAX_TABLE, Settings
from service.messages.documents import (
    Inventory,
    InventoryLine,
    Logistics,
    Order,
    OrderLine,
    Payment,
    Pii,
    PiiKind,
)
from service.messages.registry import Direction
from service.rules.bundle import BundleDocuments, RuleContext
from service.rules.evaluate import Rule
from service.rules.findings import Finding
from service.rules.idcard import gb11643_valid
from service.rules.regime import classify

D = Decimal

EBP_CODE, EBP_NAME = "3101960001", "示例跨境电商平台有限公司"
EBC_CODE, EBC_NAME = "3101960002", "示例跨境电商企业有限公司"
PAY_CODE, PAY_NAME = "3101960003", "示例支付有限公司"
LOGISTICS_CODE, LOGISTICS_NAME = "3101960004", "示例国际物流有限公司"
AGENT_CODE = "3101960005"
ORDER_NO, PAY_TRANSACTION_ID, LOGISTICS_NO = "ORD202405010001", "PAY202405010001", "LN202405010001"
BUYER_NAME, BUYER_ID, BUYER_PHONE = "张三", "11010519491231002X", "13812345678"
CONSIGNEE, CONSIGNEE_PHONE = "李四", "13987654321"
CONSIGNEE_ADDRESS = "上海市浦东新区世纪大道100号"
APP_TIME = "20240501103000"

GOODS_VALUE, FREIGHT, DISCOUNT = D("800.00"), D("10.00"), D("0.00")
TAX_TOTAL, ACTURAL_PAID = D("136.88"), D("946.88")
TRANSACTION_VALUE = D("810.00")
INSURED_FEE = D("6.00")


def protect(value: str, kind: PiiKind) -> Pii:
    """A stand-in for the service's PiiProtector: plain SHA-256, same masking shape."""
    digest = hashlib.sha256(value.strip().upper().encode()).hexdigest()
    if kind is PiiKind.ID_NUMBER:
        return Pii(value[:4] + "*" * (len(value) - 8) + value[-4:], digest, gb11643_valid(value))
    return Pii(value[:3] + "*" * (len(value) - 7) + value[-4:], digest)


def id_number(value: str) -> Pii:
    return protect(value, PiiKind.ID_NUMBER)


def phone(value: str) -> Pii:
    return protect(value, PiiKind.PHONE)


def order_lines() -> tuple[OrderLine, ...]:
    return (
        OrderLine(
            gnum=1,
            itemNo="SKU-MILK-900",
            itemName="婴幼儿配方奶粉 900g",
            gmodel="900g/罐",
            unit="122",
            qty=D("2"),
            price=D("150.00"),
            totalPrice=D("300.00"),
            currency="142",
            country="116",
        ),
        OrderLine(
            gnum=2,
            itemNo="SKU-CREAM-50",
            itemName="保湿面霜 50ml",
            gmodel="50ml/瓶",
            unit="142",
            qty=D("1"),
            price=D("500.00"),
            totalPrice=D("500.00"),
            currency="142",
            country="116",
        ),
    )


def order(**changes: Any) -> Order:
    clean = Order(
        direction=Direction.IMPORT,
        guid="0a3c5e2f-1b4d-4e6f-8a9b-000000000311",
        appTime=APP_TIME,
        orderType="I",
        orderNo=ORDER_NO,
        ebpCode=EBP_CODE,
        ebpName=EBP_NAME,
        ebcCode=EBC_CODE,
        ebcName=EBC_NAME,
        goodsValue=GOODS_VALUE,
        freight=FREIGHT,
        discount=DISCOUNT,
        taxTotal=TAX_TOTAL,
        acturalPaid=ACTURAL_PAID,
        currency="142",
        buyerRegNo="zhangsan2024",
        buyerName=BUYER_NAME,
        buyerTelephone=phone(BUYER_PHONE),
        buyerIdType="1",
        buyerIdNumber=id_number(BUYER_ID),
        payCode=PAY_CODE,
        payName=PAY_NAME,
        payTransactionId=PAY_TRANSACTION_ID,
        consignee=CONSIGNEE,
        consigneeTelephone=phone(CONSIGNEE_PHONE),
        consigneeAddress=CONSIGNEE_ADDRESS,
        consigneeDistrict="310115",
        lines=order_lines(),
    )
    return replace(clean, **changes)


def payment(**changes: Any) -> Payment:
    clean = Payment(
        direction=Direction.IMPORT,
        guid="0a3c5e2f-1b4d-4e6f-8a9b-000000000411",
        appTime=APP_TIME,
        payCode=PAY_CODE,
        payName=PAY_NAME,
        payTransactionId=PAY_TRANSACTION_ID,
        orderNo=ORDER_NO,
        ebpCode=EBP_CODE,
        ebpName=EBP_NAME,
        payerIdType="1",
        payerIdNumber=id_number(BUYER_ID),
        payerName=BUYER_NAME,
        telephone=phone(BUYER_PHONE),
        amountPaid=ACTURAL_PAID,
        currency="142",
        payTime="20240501102000",
    )
    return replace(clean, **changes)


def logistics(**changes: Any) -> Logistics:
    clean = Logistics(
        direction=Direction.IMPORT,
        guid="0a3c5e2f-1b4d-4e6f-8a9b-000000000511",
        appTime=APP_TIME,
        logisticsCode=LOGISTICS_CODE,
        logisticsName=LOGISTICS_NAME,
        logisticsNo=LOGISTICS_NO,
        billNo="781-23456789",
        orderNo=ORDER_NO,
        freight=FREIGHT,
        insuredFee=INSURED_FEE,
        currency="142",
        weight=D("2.30"),
        packNo=1,
        goodsInfo="奶粉、面霜",
        consignee=CONSIGNEE,
        consigneeAddress=CONSIGNEE_ADDRESS,
        consigneeTelephone=phone(CONSIGNEE_PHONE),
    )
    return replace(clean, **changes)


def inventory_lines(regime: str = "9610") -> tuple[InventoryLine, ...]:
    # Bonded goods (1210/1239) carry the item's bonded-account record number; direct mail none.
    bonded = regime in ("1210", "1239")
    return (
        InventoryLine(
            gnum=1,
            itemRecordNo="T2244W000001-0001" if bonded else None,
            itemNo="SKU-MILK-900",
            itemName="婴幼儿配方奶粉 900g",
            gcode="1901101000",
            gname="婴幼儿配方奶粉",
            gmodel="900g/罐",
            country="116",
            tradeCountry="116",
            currency="142",
            qty=D("2"),
            unit="122",
            qty1=D("1.8"),
            unit1="035",
            price=D("150.00"),
            totalPrice=D("300.00"),
        ),
        InventoryLine(
            gnum=2,
            itemRecordNo="T2244W000001-0002" if bonded else None,
            itemNo="SKU-CREAM-50",
            itemName="保湿面霜 50ml",
            gcode="3304990099",
            gname="面霜",
            gmodel="50ml/瓶",
            country="116",
            tradeCountry="116",
            currency="142",
            qty=D("1"),
            unit="142",
            qty1=D("0.05"),
            unit1="035",
            price=D("500.00"),
            totalPrice=D("500.00"),
        ),
    )


def inventory(regime: str = "9610", **changes: Any) -> Inventory:
    """The declaration list for ``regime`` 9610 (direct mail) or 1210/1239 (bonded)."""
    bonded = regime in ("1210", "1239")
    clean = Inventory(
        direction=Direction.IMPORT,
        guid="0a3c5e2f-1b4d-4e6f-8a9b-000000000621",
        appTime=APP_TIME,
        orderNo=ORDER_NO,
        ebpCode=EBP_CODE,
        ebpName=EBP_NAME,
        ebcCode=EBC_CODE,
        ebcName=EBC_NAME,
        logisticsNo=LOGISTICS_NO,
        logisticsCode=LOGISTICS_CODE,
        logisticsName=LOGISTICS_NAME,
        copNo="COP202405010001",
        assureCode=EBC_CODE,
        ieFlag="I",
        declTime="20240501",
        customsCode="2244",
        portCode="2244",
        ieDate="20240501",
        buyerIdType="1",
        buyerIdNumber=id_number(BUYER_ID),
        buyerName=BUYER_NAME,
        buyerTelephone=phone(BUYER_PHONE),
        consigneeAddress=CONSIGNEE_ADDRESS,
        agentCode=AGENT_CODE,
        agentName="示例报关有限公司",
        tradeMode=regime,
        currency="142",
        freight=FREIGHT,
        insuredFee=INSURED_FEE,
        wrapType="2",
        packNo=1,
        grossWeight=D("2.30"),
        netWeight=D("1.85"),
        lines=inventory_lines(regime),
    )
    if bonded:
        # Already in the bonded zone: account book and zone enterprise, departing from China.
        clean = replace(
            clean,
            emsNo="T2244W000001",
            areaCode="3122W60001",
            areaName="示例保税仓储有限公司",
            trafMode="9",
            country="142",
        )
    else:
        # Direct mail: flown in on a named flight under a master air waybill, from Japan.
        clean = replace(
            clean,
            trafMode="5",
            trafNo="MU5101",
            voyageNo="20240501",
            billNo="781-23456789",
            country="116",
        )
    return replace(clean, **changes)


def bundle(regime: str = "9610") -> BundleDocuments:
    return BundleDocuments(order(), payment(), logistics(), inventory(regime))


def context(**changes: Any) -> RuleContext:
    """The default configuration (Settings' defaults, no environment read), nothing used yet."""
    fields = Settings.model_fields
    clean = RuleContext(
        single_limit=fields["single_limit_cny"].default,
        annual_limit=fields["annual_limit_cny"].default,
        tolerance=fields["amount_tolerance"].default,
        retail_tax_factor=fields["retail_tax_factor"].default,
        tax_table=DEFAULT_TAX_TABLE,
        required_sets=DEFAULT_REQUIRED_SETS,
        buyer_year_total=D("0"),
        deadline_passed=False,
    )
    return replace(clean, **changes)


_Doc = TypeVar("_Doc", Order, Inventory)


def change_line(doc: _Doc, gnum: int, /, **changes: Any) -> _Doc:
    """``doc`` with the line numbered ``gnum`` changed."""
    lines = tuple(replace(line, **changes) if line.gnum == gnum else line for line in doc.lines)
    return replace(doc, lines=lines)


def change(docs: BundleDocuments, kind: str, **changes: Any) -> BundleDocuments:
    """``docs`` with fields of its ``kind`` document ("order", "payment", ...) changed."""
    current = getattr(docs, kind)
    assert current is not None, f"the bundle has no {kind}"
    return replace(docs, **{kind: replace(current, **changes)})


def without(docs: BundleDocuments, *kinds: str) -> BundleDocuments:
    return replace(docs, **dict.fromkeys(kinds))


def official_sample_order() -> Order:
    """The order of the official CEB311 sample (reference/gacc-202205/samples/import): its
    second line declares 200 × 10 as 12000, and its buyer ID fails the check digit."""
    return order(
        orderNo="order20160321116421002",
        ebpCode="1105910159",
        ebcCode="1105910159",
        goodsValue=D("14000"),
        freight=D("5000"),
        discount=D("0"),
        taxTotal=D("50"),
        acturalPaid=D("19050"),
        buyerName="aa",
        buyerIdNumber=id_number("130681136250023332"),
        payCode="1105910159",
        payTransactionId="20160001634226001",
        consignee="焦洪宇",
        consigneeTelephone=phone("13522652231"),
        consigneeAddress="北京市海淀区",
        lines=(
            OrderLine(
                gnum=1,
                itemNo="AF001-001",
                itemName="b",
                qty=D("100"),
                price=D("20"),
                totalPrice=D("2000"),
                currency="142",
                country="116",
            ),
            OrderLine(
                gnum=2,
                itemNo="AF001-002",
                itemName="v",
                qty=D("200"),
                price=D("10"),
                totalPrice=D("12000"),
                currency="142",
                country="116",
            ),
        ),
    )


def run(rule: Rule, docs: BundleDocuments, **context_changes: Any) -> Finding | None:
    """Run one rule the way ``evaluate`` does, under ``context(**context_changes)``."""
    return rule(docs, context(**context_changes), classify(docs))


def compared(found: Finding | None) -> list[tuple[str, str, str | None, str, str, str | None]]:
    """A finding's comparisons as flat tuples: (doc, field, value, doc, field, value)."""
    assert found is not None, "expected a finding"
    return [
        (a.document, a.field, a.value, b.document, b.field, b.value)
        for a, b in ((c.left, c.right) for c in found.fields)
    ]
