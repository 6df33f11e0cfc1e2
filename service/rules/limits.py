"""Retail import limits (跨境电商零售进口交易限值): per transaction and per buyer per year.

Both count the transaction value ``goodsValue + freight − discount`` (the tax is not part of
it). Every import regime Sandan knows (9610, 1210, 1239) is retail, so both rules apply to
every import order.

An order of a single indivisible item (one line, qty 1) may exceed the single limit: policy
lets it through the retail channel (taxed in full, which is customs' business, not ours). It
still counts toward, and is still capped by, the annual limit.
"""

from __future__ import annotations

from decimal import Decimal

from service.messages.documents import Order
from service.messages.registry import Direction
from service.rules.bundle import BundleDocuments, RuleContext
from service.rules.catalogue import Code, finding
from service.rules.compare import amount, exact, pair
from service.rules.findings import Finding
from service.rules.regime import RegimeView


def transaction_value(order: Order) -> Decimal:
    """goodsValue + freight − discount: the amount the annual ledger records for the buyer."""
    with exact():
        return amount(order.goodsValue) + amount(order.freight) - amount(order.discount)


def single_indivisible_item(order: Order) -> bool:
    return len(order.lines) == 1 and order.lines[0].qty == 1


def single_limit(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    order = docs.order
    if order is None or order.direction is not Direction.IMPORT:
        return None
    value = transaction_value(order)
    if value <= ctx.single_limit or single_indivisible_item(order):
        return None
    return finding(
        Code.SINGLE_LIMIT,
        [
            pair(
                "computed",
                "goodsValue+freight-discount",
                value,
                "config",
                "single_limit_cny",
                ctx.single_limit,
            )
        ],
    )


def annual_limit(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    order = docs.order
    if order is None or order.direction is not Direction.IMPORT:
        return None
    value = transaction_value(order)
    with exact():
        year = ctx.buyer_year_total + value
    if year <= ctx.annual_limit:
        return None
    return finding(
        Code.ANNUAL_LIMIT,
        [
            pair(
                "computed",
                "buyerYearTotal+goodsValue+freight-discount",
                year,
                "config",
                "annual_limit_cny",
                ctx.annual_limit,
            ),
            # What the buyer had already used this year, so the operator sees why.
            pair(
                "ledger",
                "buyerYearTotal",
                ctx.buyer_year_total,
                "computed",
                "goodsValue+freight-discount",
                value,
            ),
        ],
    )
