"""Amount rules: ORDER_PAID_FORMULA, ORDER_LINE_TOTAL, ORDER_GOODS_VALUE, PAYMENT_AMOUNT,
EXPORT_RECEIPT_AMOUNT."""

from __future__ import annotations

from decimal import Decimal

from service.rules.amounts import (
    export_receipt_amount,
    lines_total,
    order_goods_value,
    order_line_total,
    order_paid_formula,
    paid_formula,
    payment_amount,
)
from service.rules.bundle import BundleDocuments
from service.rules.findings import Severity
from tests.rules.export_factory import export_bundle, export_order
from tests.rules.factory import (
    bundle,
    change,
    change_line,
    compared,
    official_sample_order,
    order,
    run,
    without,
)

D = Decimal


# --- ORDER_PAID_FORMULA -------------------------------------------------------------------


def test_paid_formula_holds_for_the_clean_order() -> None:
    # 800.00 + 10.00 − 0.00 + 136.88 = 946.88
    assert paid_formula(order()) == D("946.88")
    assert run(order_paid_formula, bundle()) is None


def test_paid_formula_holds_for_the_official_sample() -> None:
    # 14000 + 5000 − 0 + 50 = 19050
    assert run(order_paid_formula, BundleDocuments(order=official_sample_order())) is None


def test_paid_formula_catches_a_wrong_acturalpaid() -> None:
    found = run(order_paid_formula, change(bundle(), "order", acturalPaid=D("950.00")))
    assert found is not None and found.code == "ORDER_PAID_FORMULA"
    assert found.severity is Severity.ERROR
    assert compared(found) == [
        (
            "order",
            "acturalPaid",
            "950.00",
            "computed",
            "goodsValue+freight-discount+taxTotal",
            "946.88",
        )
    ]


def test_paid_formula_subtracts_the_discount() -> None:
    # 800.00 + 10.00 − 5.00 + 136.88 = 941.88
    docs = change(bundle(), "order", discount=D("5.00"), acturalPaid=D("941.88"))
    assert run(order_paid_formula, docs) is None
    forgot = change(bundle(), "order", discount=D("5.00"))
    assert compared(run(order_paid_formula, forgot))[0][5] == "941.88"


def test_absent_discount_and_freight_count_as_zero() -> None:
    # 800.00 + 0 − 0 + 136.88 = 936.88
    docs = change(bundle(), "order", discount=None, freight=None, acturalPaid=D("936.88"))
    assert run(order_paid_formula, docs) is None


def test_paid_formula_tolerance() -> None:
    docs = change(bundle(), "order", acturalPaid=D("946.89"))
    assert run(order_paid_formula, docs) is not None
    assert run(order_paid_formula, docs, tolerance=D("0.01")) is None
    assert (
        run(
            order_paid_formula,
            change(bundle(), "order", acturalPaid=D("946.90")),
            tolerance=D("0.01"),
        )
        is not None
    )


def test_paid_formula_is_for_import_orders_only() -> None:
    # An export order has no taxTotal/acturalPaid; its sum is checked against the receipt.
    assert run(order_paid_formula, export_bundle()) is None


# --- ORDER_LINE_TOTAL ---------------------------------------------------------------------


def test_line_totals_hold_for_the_clean_order() -> None:
    assert run(order_line_total, bundle()) is None


def test_official_sample_line_two_is_wrong() -> None:
    # line 1: 100 × 20 = 2000 as declared; line 2: 200 × 10 = 2000, declared 12000
    found = run(order_line_total, BundleDocuments(order=official_sample_order()))
    assert compared(found) == [
        (
            "order",
            "OrderList[2].totalPrice",
            "12000",
            "computed",
            "OrderList[2].qty*price",
            "2000",
        )
    ]


def test_one_comparison_per_bad_line() -> None:
    spoiled = change_line(change_line(order(), 1, totalPrice=D("301.00")), 2, qty=D("2"))
    found = run(order_line_total, BundleDocuments(order=spoiled))
    assert [c[1] for c in compared(found)] == ["OrderList[1].totalPrice", "OrderList[2].totalPrice"]
    # 2 × 150.00 = 300.00 (declared 301.00); 2 × 500.00 = 1000.00 (declared 500.00)
    assert [c[5] for c in compared(found)] == ["300.00", "1000.00"]


def test_line_total_tolerance_and_fractional_quantities() -> None:
    # 1.5 kg × 33.33 = 49.995: a declared 50.00 is off by 0.005
    line = change_line(order(), 1, qty=D("1.5"), price=D("33.33"), totalPrice=D("50.00"))
    docs = BundleDocuments(order=line)
    assert compared(run(order_line_total, docs))[0][5] == "49.995"
    assert run(order_line_total, docs, tolerance=D("0.01")) is None
    assert run(order_line_total, docs, tolerance=D("0.004")) is not None


def test_line_totals_are_checked_on_export_orders_too() -> None:
    assert run(order_line_total, export_bundle()) is None
    spoiled = BundleDocuments(order=change_line(export_order(), 1, qty=D("11")))
    # 11 × 100.00 = 1100.00, declared 1000.00
    assert compared(run(order_line_total, spoiled))[0][2:] == (
        "1000.00",
        "computed",
        "OrderList[1].qty*price",
        "1100.00",
    )


# --- ORDER_GOODS_VALUE --------------------------------------------------------------------


def test_goods_value_is_the_sum_of_declared_line_totals() -> None:
    assert lines_total(order()) == D("800.00")
    assert run(order_goods_value, bundle()) is None
    # The sample: 2000 + 12000 (as declared, although 12000 is itself wrong) = 14000
    assert run(order_goods_value, BundleDocuments(order=official_sample_order())) is None


def test_goods_value_mismatch() -> None:
    found = run(order_goods_value, change(bundle(), "order", goodsValue=D("799.00")))
    assert compared(found) == [
        ("order", "goodsValue", "799.00", "computed", "sum(OrderList.totalPrice)", "800.00"),
    ]
    assert (
        run(
            order_goods_value,
            change(bundle(), "order", goodsValue=D("799.99")),
            tolerance=D("0.01"),
        )
        is None
    )


def test_goods_value_is_for_import_orders_only() -> None:
    docs = export_bundle()
    assert run(order_goods_value, change(docs, "order", goodsValue=D("1.00"))) is None


# --- PAYMENT_AMOUNT -----------------------------------------------------------------------


def test_payment_amount_matches() -> None:
    assert run(payment_amount, bundle()) is None
    # Equal numbers written differently are equal.
    assert run(payment_amount, change(bundle(), "payment", amountPaid=D("946.880"))) is None


def test_payment_amount_differs_exactly_even_with_a_tolerance() -> None:
    docs = change(bundle(), "payment", amountPaid=D("946.87"))
    found = run(payment_amount, docs, tolerance=D("1.00"))
    assert compared(found) == [
        ("payment", "amountPaid", "946.87", "order", "acturalPaid", "946.88"),
    ]


def test_payment_amount_needs_both_documents() -> None:
    docs = change(bundle(), "payment", amountPaid=D("1"))
    assert run(payment_amount, without(docs, "order")) is None


# --- EXPORT_RECEIPT_AMOUNT ----------------------------------------------------------------


def test_receipt_charge_is_goods_value_plus_freight() -> None:
    # 1000.00 + 50.00 = 1050.00
    assert run(export_receipt_amount, export_bundle()) is None


def test_receipt_charge_mismatch_is_a_warning() -> None:
    found = run(export_receipt_amount, change(export_bundle(), "payment", charge=D("1000.00")))
    assert found is not None and found.severity is Severity.WARNING
    assert compared(found) == [
        ("payment", "charge", "1000.00", "computed", "goodsValue+freight", "1050.00"),
    ]
    docs = change(export_bundle(), "payment", charge=D("1049.99"))
    assert run(export_receipt_amount, docs, tolerance=D("0.01")) is None


def test_receipt_rule_ignores_import_payments() -> None:
    assert run(export_receipt_amount, change(bundle(), "payment", charge=D("1"))) is None
