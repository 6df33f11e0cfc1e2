"""Comprehensive tax (跨境电商综合税) and TAX_TOTAL. Every expected figure is worked by hand."""

from __future__ import annotations

from decimal import Decimal

from service.config import DEFAULT_TAX_TABLE
from service.messages.documents import InventoryLine
from service.rules.findings import Severity
from service.rules.tax import comprehensive_tax, line_taxes, tax_rates, tax_total
from tests.rules.export_factory import export_bundle
from tests.rules.factory import TAX_TOTAL, bundle, change, compared, inventory, run, without

D = Decimal
F = D("0.7")
TABLE = DEFAULT_TAX_TABLE


def _lines(*specs: tuple[str, str]) -> tuple[InventoryLine, ...]:
    """(gcode, totalPrice) per line."""
    return tuple(
        InventoryLine(gnum=n, gcode=gcode, qty=D("1"), price=D(total), totalPrice=D(total))
        for n, (gcode, total) in enumerate(specs, start=1)
    )


def test_longest_prefix_wins() -> None:
    assert tax_rates("1901101000", TABLE) == (D("0.09"), D("0"))  # "190110" beats ""
    assert tax_rates("3304990099", TABLE) == (D("0.13"), D("0.15"))
    assert tax_rates("8518300000", TABLE) == (D("0.13"), D("0"))  # only "" matches
    table = {"": (D("0.13"), D("0")), "33": (D("0.13"), D("0.10")), "3304": (D("0.13"), D("0.15"))}
    assert tax_rates("3303000000", table) == (D("0.13"), D("0.10"))
    assert tax_rates("3304100000", table) == (D("0.13"), D("0.15"))


def test_no_code_uses_the_fallback_and_no_fallback_taxes_nothing() -> None:
    assert tax_rates(None, TABLE) == (D("0.13"), D("0"))
    assert tax_rates("8518300000", {"3304": (D("0.13"), D("0.15"))}) == (D("0"), D("0"))


def test_general_goods_pay_nine_point_one_percent() -> None:
    # 1000.00 at VAT 13 %, no consumption tax: 1000 × 13 % × 0.7 = 91.00
    inv = inventory(lines=_lines(("8518300000", "1000.00")), freight=None, insuredFee=None)
    assert comprehensive_tax(inv, TABLE, F) == D("91.00")


def test_cosmetics_pay_consumption_tax_on_the_tax_inclusive_price() -> None:
    # 1000.00 at VAT 13 %, consumption tax 15 %:
    #   consumption = 1000 × 0.15 / 0.85          = 176.470588…
    #   VAT         = (1000 + 176.470588…) × 0.13 = 152.941176…
    #   due         = (176.470588… + 152.941176…) × 0.7 = 230.588235… → 230.59 (≈ 23.06 %)
    inv = inventory(lines=_lines(("3304990099", "1000.00")), freight=None, insuredFee=None)
    (line,) = line_taxes(inv, TABLE, F)
    assert line.consumption.quantize(D("0.000001")) == D("123.529412")  # 176.470588… × 0.7
    assert line.vat.quantize(D("0.000001")) == D("107.058824")  # 152.941176… × 0.7
    assert comprehensive_tax(inv, TABLE, F) == D("230.59")


def test_the_factory_bundle_worked_through() -> None:
    # freight 10.00 + insuredFee 6.00 = 16.00 over line totals 300 : 500 → 6.00 : 10.00
    #   gnum 1 base 306.00, VAT 9 %:  306 × 0.09 × 0.7                         = 19.278
    #   gnum 2 base 510.00, 13 %/15 %: (510 × 0.15/0.85 = 90; (510 + 90) × 0.13 = 78) × 0.7
    #                                  = 168 × 0.7                              = 117.6
    #   total 136.878 → 136.88
    first, second = line_taxes(inventory(), TABLE, F)
    assert (first.base, first.consumption, first.vat) == (D("306"), D("0"), D("19.278"))
    assert (second.base, second.consumption, second.vat) == (D("510"), D("63"), D("54.6"))
    assert comprehensive_tax(inventory(), TABLE, F) == TAX_TOTAL == D("136.88")


def test_rounding_is_half_up_on_the_total() -> None:
    # a 15.00 book (VAT 9 %): 15 × 0.09 × 0.7 = 0.945 → 0.95 (half-even would give 0.94)
    inv = inventory(lines=_lines(("4901990000", "15.00")), freight=None, insuredFee=None)
    assert comprehensive_tax(inv, TABLE, F) == D("0.95")
    # two such lines: 0.945 + 0.945 = 1.89 exactly; rounding each line first would give 1.90
    two = inventory(
        lines=_lines(("4901990000", "15.00"), ("4901990000", "15.00")),
        freight=None,
        insuredFee=None,
    )
    assert comprehensive_tax(two, TABLE, F) == D("1.89")


def test_freight_without_goods_value_is_not_apportioned() -> None:
    inv = inventory(lines=_lines(("8518300000", "0")), freight=D("10"), insuredFee=D("0"))
    assert comprehensive_tax(inv, TABLE, F) == D("0.00")


def test_the_retail_factor_is_configuration() -> None:
    # the factory inventory at the full statutory rate: 136.878 / 0.7 = 195.54
    assert comprehensive_tax(inventory(), TABLE, D("1")) == D("195.54")


# --- TAX_TOTAL ----------------------------------------------------------------------------


def test_tax_total_matches_for_both_import_regimes() -> None:
    assert run(tax_total, bundle("9610")) is None
    assert run(tax_total, bundle("1210")) is None


def test_tax_total_mismatch_is_a_warning() -> None:
    found = run(tax_total, change(bundle(), "order", taxTotal=D("136.87")))
    assert found is not None and found.severity is Severity.WARNING
    assert compared(found) == [
        ("order", "taxTotal", "136.87", "computed", "comprehensiveTax", "136.88"),
    ]


def test_tax_total_tolerance() -> None:
    docs = change(bundle(), "order", taxTotal=D("136.87"))
    assert run(tax_total, docs, tolerance=D("0.01")) is None
    assert (
        run(tax_total, change(bundle(), "order", taxTotal=D("136.86")), tolerance=D("0.01"))
        is not None
    )


def test_tax_total_follows_the_configured_table() -> None:
    # Cosmetics at 0 % consumption tax: gnum 2 due = 510 × 0.13 × 0.7 = 46.41; 19.278 + 46.41
    # = 65.688 → 65.69, far from the declared 136.88.
    table = {**TABLE, "3304": (D("0.13"), D("0"))}
    assert compared(run(tax_total, bundle(), tax_table=table))[0][5] == "65.69"


def test_tax_total_needs_an_import_order_and_an_inventory() -> None:
    docs = change(bundle(), "order", taxTotal=D("1"))
    assert run(tax_total, without(docs, "inventory")) is None
    assert run(tax_total, export_bundle()) is None
