"""Amount rules: the order's own arithmetic, and the money each payment document reports.

Computed amounts (a formula, qty × price, a sum) are held against the declared one within the
configured tolerance; two declared amounts on different documents must be equal exactly.
Absent optional amounts (``discount``, ``freight``) count as zero, as customs reads them.
"""

from __future__ import annotations

from decimal import Decimal

from service.messages.documents import Order
from service.messages.registry import Direction
from service.rules.bundle import BundleDocuments, RuleContext
from service.rules.catalogue import Code, finding
from service.rules.compare import amount, exact, off, pair, same
from service.rules.findings import Comparison, Finding
from service.rules.regime import RegimeView


def paid_formula(order: Order) -> Decimal:
    """goodsValue + freight − discount + taxTotal: what the buyer should have paid."""
    with exact():
        return (
            amount(order.goodsValue)
            + amount(order.freight)
            - amount(order.discount)
            + amount(order.taxTotal)
        )


def lines_total(order: Order) -> Decimal:
    """Σ of the declared line totals (not of qty × price: a wrong line is ORDER_LINE_TOTAL's)."""
    with exact():
        return sum((amount(line.totalPrice) for line in order.lines), Decimal(0))


def order_paid_formula(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    order = docs.order
    if order is None or order.direction is not Direction.IMPORT:
        return None
    computed = paid_formula(order)
    if not off(order.acturalPaid, computed, ctx.tolerance):
        return None
    return finding(
        Code.ORDER_PAID_FORMULA,
        [
            pair(
                "order",
                "acturalPaid",
                order.acturalPaid,
                "computed",
                "goodsValue+freight-discount+taxTotal",
                computed,
            )
        ],
    )


def order_line_total(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    # Every order, import or export: a line total that is not qty × price is wrong anywhere.
    order = docs.order
    if order is None:
        return None
    bad: list[Comparison] = []
    for line in order.lines:
        if line.qty is None or line.price is None:
            continue  # the schema requires both; nothing to compute without them
        with exact():
            computed = line.qty * line.price
        if off(line.totalPrice, computed, ctx.tolerance):
            bad.append(
                pair(
                    "order",
                    f"OrderList[{line.gnum}].totalPrice",
                    line.totalPrice,
                    "computed",
                    f"OrderList[{line.gnum}].qty*price",
                    computed,
                )
            )
    return finding(Code.ORDER_LINE_TOTAL, bad) if bad else None


def order_goods_value(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    order = docs.order
    if order is None or order.direction is not Direction.IMPORT:
        return None
    computed = lines_total(order)
    if not off(order.goodsValue, computed, ctx.tolerance):
        return None
    return finding(
        Code.ORDER_GOODS_VALUE,
        [
            pair(
                "order",
                "goodsValue",
                order.goodsValue,
                "computed",
                "sum(OrderList.totalPrice)",
                computed,
            )
        ],
    )


def payment_amount(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    # Import payment vouchers only: an export receipt reports ``charge`` instead (see below).
    order, payment = docs.order, docs.payment
    if order is None or payment is None or payment.direction is not Direction.IMPORT:
        return None
    if same(payment.amountPaid, order.acturalPaid):
        return None
    return finding(
        Code.PAYMENT_AMOUNT,
        [
            pair(
                "payment",
                "amountPaid",
                payment.amountPaid,
                "order",
                "acturalPaid",
                order.acturalPaid,
            )
        ],
    )


def export_receipt_amount(
    docs: BundleDocuments, ctx: RuleContext, view: RegimeView
) -> Finding | None:
    order, receipt = docs.order, docs.payment
    if order is None or receipt is None or receipt.direction is not Direction.EXPORT:
        return None
    with exact():
        computed = amount(order.goodsValue) + amount(order.freight)
    if not off(receipt.charge, computed, ctx.tolerance):
        return None
    return finding(
        Code.EXPORT_RECEIPT_AMOUNT,
        [
            pair(
                "payment",
                "charge",
                receipt.charge,
                "computed",
                "goodsValue+freight",
                computed,
            )
        ],
    )
