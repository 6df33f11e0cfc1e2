"""Clean export bundles for rule tests: 9610 / 1210 (retail, order type E, with a receipt),
9710 (B2B, order type B) and 9810 (overseas warehouse, order type W), no receipt for the last
two. Each evaluates to RELEASE with zero findings under ``factory.context()``.

    order EXP202405010001 from platform 3101960001 / enterprise 3101960002
    gnum 1  蓝牙耳机  10 × 100.00 = 1000.00;  goodsValue 1000.00 + freight 50.00
    receipt charge 1050.00 (= goodsValue + freight)
    waybill 3101960004 / LE202405010001
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from service.messages.documents import (
    Inventory,
    InventoryLine,
    Logistics,
    Order,
    OrderLine,
    Payment,
)
from service.messages.registry import Direction
from service.rules.bundle import BundleDocuments
from tests.rules.factory import (
    AGENT_CODE,
    EBC_CODE,
    EBC_NAME,
    EBP_CODE,
    EBP_NAME,
    LOGISTICS_CODE,
    LOGISTICS_NAME,
    PAY_CODE,
    PAY_NAME,
)

D = Decimal
EXPORT_ORDER_NO, EXPORT_LOGISTICS_NO = "EXP202405010001", "LE202405010001"
APP_TIME = "20240501150000"
# The order type each export regime's order carries (SPEC §3).
ORDER_TYPES = {"9610": "E", "1210": "E", "9710": "B", "9810": "W"}


def export_order(order_type: str = "E", **changes: Any) -> Order:
    clean = Order(
        direction=Direction.EXPORT,
        guid="1b4d6f30-2c5e-4f70-9bac-000000000303",
        appTime=APP_TIME,
        orderType=order_type,
        orderNo=EXPORT_ORDER_NO,
        ebpCode=EBP_CODE,
        ebpName=EBP_NAME,
        ebcCode=EBC_CODE,
        ebcName=EBC_NAME,
        goodsValue=D("1000.00"),
        freight=D("50.00"),
        currency="142",
        lines=(
            OrderLine(
                gnum=1,
                itemNo="SKU-EAR-01",
                itemName="蓝牙耳机",
                unit="007",
                currency="142",
                qty=D("10"),
                price=D("100.00"),
                totalPrice=D("1000.00"),
            ),
        ),
    )
    return replace(clean, **changes)


def receipt(**changes: Any) -> Payment:
    clean = Payment(
        direction=Direction.EXPORT,
        guid="1b4d6f30-2c5e-4f70-9bac-000000000403",
        appTime=APP_TIME,
        ebpCode=EBP_CODE,
        ebpName=EBP_NAME,
        ebcCode=EBC_CODE,
        ebcName=EBC_NAME,
        orderNo=EXPORT_ORDER_NO,
        payCode=PAY_CODE,
        payName=PAY_NAME,
        payNo="PN202405010001",
        charge=D("1050.00"),
        currency="142",
        accountingDate="20240501150000",
    )
    return replace(clean, **changes)


def export_logistics(**changes: Any) -> Logistics:
    clean = Logistics(
        direction=Direction.EXPORT,
        guid="1b4d6f30-2c5e-4f70-9bac-000000000505",
        appTime=APP_TIME,
        logisticsCode=LOGISTICS_CODE,
        logisticsName=LOGISTICS_NAME,
        logisticsNo=EXPORT_LOGISTICS_NO,
        freight=D("50.00"),
        insuredFee=D("0"),
        currency="142",
        weight=D("3.00"),
        packNo=1,
        goodsInfo="蓝牙耳机",
    )
    return replace(clean, **changes)


def export_inventory(regime: str = "9610", **changes: Any) -> Inventory:
    # Special-zone export (1210) names the zone enterprise, its account book and item records.
    zone = regime == "1210"
    clean = Inventory(
        direction=Direction.EXPORT,
        guid="1b4d6f30-2c5e-4f70-9bac-000000000603",
        appTime=APP_TIME,
        customsCode="2244",
        orderNo=EXPORT_ORDER_NO,
        ebpCode=EBP_CODE,
        ebpName=EBP_NAME,
        logisticsCode=LOGISTICS_CODE,
        logisticsName=LOGISTICS_NAME,
        logisticsNo=EXPORT_LOGISTICS_NO,
        copNo="COPE202405010001",
        ieFlag="E",
        portCode="2244",
        ieDate="20240502",
        statisticsFlag="A",
        agentCode=AGENT_CODE,
        ebcCode=EBC_CODE,
        ebcName=EBC_NAME,
        ownerCode=EBC_CODE,
        ownerName=EBC_NAME,
        iacCode="3122W60001" if zone else None,
        emsNo="T2244W000002" if zone else None,
        tradeMode=regime,
        trafMode="5",
        country="502",
        freight=D("50.00"),
        insuredFee=D("0"),
        currency="142",
        wrapType="2",
        packNo=1,
        grossWeight=D("3.00"),
        netWeight=D("2.50"),
        lines=(
            InventoryLine(
                gnum=1,
                itemNo="SKU-EAR-01",
                itemRecordNo="T2244W000002-0001" if zone else None,
                itemName="蓝牙耳机",
                gcode="8518300000",
                gname="蓝牙耳机",
                country="142",
                currency="142",
                qty=D("10"),
                unit="007",
                qty1=D("10"),
                unit1="007",
                price=D("100.00"),
                totalPrice=D("1000.00"),
            ),
        ),
    )
    return replace(clean, **changes)


def export_bundle(regime: str = "9610") -> BundleDocuments:
    # 9710 and 9810 need no receipt: their payment is settled outside the retail channel.
    return BundleDocuments(
        export_order(ORDER_TYPES[regime]),
        receipt() if regime in ("9610", "1210") else None,
        export_logistics(),
        export_inventory(regime),
    )
