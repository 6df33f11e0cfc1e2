"""SINGLE_LIMIT and ANNUAL_LIMIT; transaction_value."""

from __future__ import annotations

from decimal import Decimal

from service.messages.documents import OrderLine
from service.rules.bundle import BundleDocuments
from service.rules.limits import annual_limit, single_limit, transaction_value
from tests.rules.export_factory import export_bundle, export_order
from tests.rules.factory import (
    TRANSACTION_VALUE,
    compared,
    official_sample_order,
    order,
    run,
)

D = Decimal


def _order_worth(value: str, lines: int = 2, qty: str = "1") -> BundleDocuments:
    """An import order whose transaction value is ``value`` (no freight, no discount)."""
    each = D(value) / lines
    made = tuple(
        OrderLine(gnum=n, itemName=f"商品{n}", qty=D(qty), price=each / D(qty), totalPrice=each)
        for n in range(1, lines + 1)
    )
    return BundleDocuments(
        order=order(goodsValue=D(value), freight=D("0"), discount=D("0"), lines=made)
    )


def test_transaction_value() -> None:
    # 800.00 + 10.00 − 0.00 (the tax is not part of it)
    assert transaction_value(order()) == TRANSACTION_VALUE == D("810.00")
    # 800.00 + 10.00 − 25.50
    assert transaction_value(order(discount=D("25.50"))) == D("784.50")
    assert transaction_value(order(freight=None, discount=None)) == D("800.00")


# --- SINGLE_LIMIT -------------------------------------------------------------------------


def test_within_the_single_limit() -> None:
    assert run(single_limit, BundleDocuments(order=order())) is None
    assert run(single_limit, _order_worth("5000.00")) is None  # the limit itself is allowed


def test_over_the_single_limit() -> None:
    found = run(single_limit, _order_worth("5000.02"))
    assert compared(found) == [
        (
            "computed",
            "goodsValue+freight-discount",
            "5000.02",
            "config",
            "single_limit_cny",
            "5000",
        )
    ]


def test_official_sample_is_over_the_single_limit() -> None:
    # 14000 + 5000 − 0 = 19000 > 5000, and it has two lines
    found = run(single_limit, BundleDocuments(order=official_sample_order()))
    assert compared(found)[0][2] == "19000"


def test_freight_counts_and_discount_relieves() -> None:
    docs = _order_worth("4990.00")
    assert docs.order is not None
    over = BundleDocuments(
        order=order(goodsValue=D("4990.00"), freight=D("20.00"), lines=docs.order.lines)
    )
    assert run(single_limit, over) is not None  # 4990 + 20 = 5010
    relieved = BundleDocuments(
        order=order(
            goodsValue=D("4990.00"), freight=D("20.00"), discount=D("10.00"), lines=docs.order.lines
        )
    )
    assert run(single_limit, relieved) is None  # 4990 + 20 − 10 = 5000


def test_a_single_indivisible_item_may_exceed_it() -> None:
    assert run(single_limit, _order_worth("8000.00", lines=1, qty="1")) is None
    assert run(single_limit, _order_worth("8000.00", lines=1, qty="1.000")) is None


def test_the_exception_is_only_for_one_line_of_qty_one() -> None:
    assert run(single_limit, _order_worth("8000.00", lines=1, qty="2")) is not None
    assert run(single_limit, _order_worth("8000.00", lines=2, qty="1")) is not None


def test_the_limit_is_configuration() -> None:
    assert run(single_limit, BundleDocuments(order=order()), single_limit=D("800")) is not None


def test_export_orders_have_no_retail_import_limit() -> None:
    huge = export_order(goodsValue=D("99999.00"))
    assert run(single_limit, BundleDocuments(order=huge)) is None
    assert run(single_limit, export_bundle()) is None


# --- ANNUAL_LIMIT -------------------------------------------------------------------------


def test_within_the_annual_limit() -> None:
    docs = BundleDocuments(order=order())
    assert run(annual_limit, docs) is None
    # 25190.00 already + 810.00 = 26000.00: exactly the limit is allowed
    assert run(annual_limit, docs, buyer_year_total=D("25190.00")) is None


def test_over_the_annual_limit() -> None:
    # 25190.01 + 810.00 = 26000.01
    found = run(annual_limit, BundleDocuments(order=order()), buyer_year_total=D("25190.01"))
    assert compared(found) == [
        (
            "computed",
            "buyerYearTotal+goodsValue+freight-discount",
            "26000.01",
            "config",
            "annual_limit_cny",
            "26000",
        ),
        (
            "ledger",
            "buyerYearTotal",
            "25190.01",
            "computed",
            "goodsValue+freight-discount",
            "810.00",
        ),
    ]


def test_indivisible_single_items_count_toward_the_annual_limit() -> None:
    docs = _order_worth("8000.00", lines=1)
    assert run(annual_limit, docs, buyer_year_total=D("18000.00")) is None
    assert run(annual_limit, docs, buyer_year_total=D("18000.01")) is not None
    # and one alone above the annual limit is refused even by a buyer with no history
    assert run(annual_limit, _order_worth("26000.01", lines=1)) is not None


def test_annual_limit_is_for_imports() -> None:
    assert run(annual_limit, export_bundle(), buyer_year_total=D("99999")) is None
