"""Cross-border retail import comprehensive tax (跨境电商综合税) and the TAX_TOTAL rule.

Per inventory line, with statutory VAT rate ``v`` and consumption tax rate ``c`` from the tax
table (longest HS-code prefix of ``gcode`` wins, "" is the fallback) and the retail factor
``f`` (70 %):

    tariff                = 0                      (0 % within the retail limits)
    consumption tax       = base × c / (1 − c) × f (consumption tax is levied on a price that
                                                    already includes it: 组成计税价格)
    VAT                   = (base + base × c / (1 − c)) × v × f
                            (VAT is levied on the price including the full statutory
                            consumption tax; only the amount due is reduced to 70 %)

The base is the dutiable value (完税价格): the line's ``totalPrice`` plus its share of the
inventory's ``freight`` + ``insuredFee``, apportioned by each line's share of the summed line
totals, because customs values goods including the freight and insurance to the border. (With
all line totals zero there is nothing to apportion by, and the base stays zero.) Order-level
discounts are not deducted: the dutiable value is the declared line price.

Every step is exact (divisions at 60 digits); only the total is rounded, to the fen (0.01,
half up), and compared with the order's ``taxTotal`` within the tolerance. A line whose code no
prefix matches is taxed at zero: keep a "" fallback in the table (the default has one).
Quantity-based (specific) consumption taxes are not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from service.messages.documents import Inventory
from service.messages.registry import Direction
from service.rules.bundle import BundleDocuments, RuleContext
from service.rules.catalogue import Code, finding
from service.rules.compare import ZERO, amount, exact, off, pair
from service.rules.findings import Finding
from service.rules.regime import RegimeView

TaxTable = Mapping[str, tuple[Decimal, Decimal]]
FEN = Decimal("0.01")


def tax_rates(gcode: str | None, table: TaxTable) -> tuple[Decimal, Decimal]:
    """(VAT, consumption tax) statutory rates for an HS code: the longest matching prefix."""
    code = (gcode or "").strip()
    matches = [prefix for prefix in table if code.startswith(prefix)]
    if not matches:
        return ZERO, ZERO
    return table[max(matches, key=len)]


@dataclass(frozen=True, slots=True)
class LineTax:
    gnum: int
    base: Decimal
    consumption: Decimal
    vat: Decimal

    @property
    def total(self) -> Decimal:
        return self.consumption + self.vat


def line_taxes(inventory: Inventory, table: TaxTable, factor: Decimal) -> tuple[LineTax, ...]:
    """Each line's dutiable value and its tax due (after the retail factor), unrounded."""
    with exact():
        goods = sum((amount(line.totalPrice) for line in inventory.lines), ZERO)
        extra = amount(inventory.freight) + amount(inventory.insuredFee)
        out: list[LineTax] = []
        for line in inventory.lines:
            price = amount(line.totalPrice)
            base = price + extra * price / goods if goods else price
            vat_rate, consumption_rate = tax_rates(line.gcode, table)
            consumption = base * consumption_rate / (1 - consumption_rate)
            vat = (base + consumption) * vat_rate
            out.append(LineTax(line.gnum, base, consumption * factor, vat * factor))
        return tuple(out)


def comprehensive_tax(inventory: Inventory, table: TaxTable, factor: Decimal) -> Decimal:
    """The inventory's total comprehensive tax, rounded half up to the fen."""
    with exact():
        total = sum((line.total for line in line_taxes(inventory, table, factor)), ZERO)
        return total.quantize(FEN, rounding=ROUND_HALF_UP)


def tax_total(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    order, inventory = docs.order, docs.inventory
    if order is None or inventory is None or order.direction is not Direction.IMPORT:
        return None
    computed = comprehensive_tax(inventory, ctx.tax_table, ctx.retail_tax_factor)
    if not off(order.taxTotal, computed, ctx.tolerance):
        return None
    return finding(
        Code.TAX_TOTAL,
        [
            pair(
                "order",
                "taxTotal",
                order.taxTotal,
                "computed",
                "comprehensiveTax",
                computed,
            )
        ],
    )
