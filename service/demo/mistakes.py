"""Import mistakes the way real senders make them: one per collision rule code.

Each mutation changes a clean consignment so that its rule fires, carrying the change
through the other documents where a careful sender's system would (so the amounts still
agree across documents unless the amount is the mistake).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from service.demo.consignments import Consignment, import_tax


def _repay(c: Consignment, delta: Decimal) -> None:
    """Change what the buyer paid on order and payment alike (the amounts still agree)."""
    c.order["acturalPaid"] += delta
    c.payment["amountPaid"] += delta


def _paid_formula(c: Consignment) -> None:
    _repay(c, Decimal("1.00"))


def _line_total(c: Consignment) -> None:
    # A line total that is not qty × price, carried consistently everywhere else.
    c.order_lines[0]["totalPrice"] += 1
    c.inventory_lines[0]["totalPrice"] += 1
    c.order["goodsValue"] += 1
    _repay(c, Decimal(1))


def _goods_value(c: Consignment) -> None:
    c.order["goodsValue"] += 10
    _repay(c, Decimal(10))


def _payment_amount(c: Consignment) -> None:
    c.payment["amountPaid"] -= Decimal("0.01")


def _payment_reference(c: Consignment) -> None:
    c.payment["payTransactionId"] = c.payment["payTransactionId"] + "X"


def _payer_is_buyer(c: Consignment) -> None:
    c.payment["payerName"] = "代付人" + c.payment["payerName"]


def _buyer_id_invalid(c: Consignment) -> None:
    number = c.order["buyerIdNumber"]
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    for head in (c.order, c.inventory):
        head["buyerIdNumber"] = bad
    c.payment["payerIdNumber"] = bad


def _consignee(c: Consignment) -> None:
    c.logistics["consigneeAddress"] = c.logistics["consigneeAddress"] + "B座"


def _inventory_parties(c: Consignment) -> None:
    c.inventory["buyerName"] = c.inventory["buyerName"] + "某"


def _inventory_logistics(c: Consignment) -> None:
    # A waybill number of no consignment at all (a typo'd prefix), never the parcel's own.
    c.inventory["logisticsNo"] = "ZT" + c.inventory["logisticsNo"][2:]


def _inventory_items(c: Consignment) -> None:
    c.inventory_lines[0]["qty"] += 1
    c.inventory_lines[0]["qty1"] += 1
    c.inventory_lines[0]["totalPrice"] = c.inventory_lines[0]["qty"] * c.inventory_lines[0]["price"]


def _single_limit(c: Consignment) -> None:
    extra = Decimal("5200.00")
    line = dict(
        c.order_lines[0],
        gnum=len(c.order_lines) + 1,
        qty=Decimal(2),
        price=extra / 2,
        totalPrice=extra,
        itemName="轻奢手表",
        gmodel="40mm",
    )
    inv = dict(
        c.inventory_lines[0],
        gnum=line["gnum"],
        qty=Decimal(2),
        qty1=Decimal(2),
        price=extra / 2,
        totalPrice=extra,
        itemName="轻奢手表",
        gname="轻奢手表",
        gmodel="40mm",
        gcode="9102110000",
    )
    c.order_lines.append(line)
    c.inventory_lines.append(inv)
    _retax(c, extra)


def _retax(c: Consignment, goods_delta: Decimal) -> None:
    old_tax = c.order["taxTotal"]
    new_tax = import_tax(c.inventory_lines, c.inventory["freight"], c.inventory["insuredFee"])
    c.order["goodsValue"] += goods_delta
    c.order["taxTotal"] = new_tax
    _repay(c, goods_delta + new_tax - old_tax)


def _tax_total(c: Consignment) -> None:
    c.order["taxTotal"] += Decimal("3.00")
    _repay(c, Decimal("3.00"))


def _regime_mismatch(c: Consignment) -> None:
    c.inventory["tradeMode"] = "9710"


def _regime_fields(c: Consignment) -> None:
    if c.regime == "9610":
        c.inventory.pop("billNo", None)
    else:
        c.inventory.pop("emsNo", None)


MISMATCHES: dict[str, Callable[[Consignment], None]] = {
    "ORDER_PAID_FORMULA": _paid_formula,
    "ORDER_LINE_TOTAL": _line_total,
    "ORDER_GOODS_VALUE": _goods_value,
    "PAYMENT_AMOUNT": _payment_amount,
    "PAYMENT_REFERENCE": _payment_reference,
    "PAYER_IS_BUYER": _payer_is_buyer,
    "BUYER_ID_INVALID": _buyer_id_invalid,
    "CONSIGNEE_MISMATCH": _consignee,
    "INVENTORY_PARTIES": _inventory_parties,
    "INVENTORY_LOGISTICS": _inventory_logistics,
    "INVENTORY_ITEMS": _inventory_items,
    "SINGLE_LIMIT": _single_limit,
    "TAX_TOTAL": _tax_total,
    "REGIME_MISMATCH": _regime_mismatch,
    "REGIME_FIELDS": _regime_fields,
}


def with_mistake(c: Consignment, code: str) -> Consignment:
    """A copy of ``c`` with the mistake that trips ``code``."""
    out = c.copy()
    MISMATCHES[code](out)
    out.mistakes.append(code)
    return out
