"""Rule context from settings: the thresholds the engine hands to the pure rules."""

from __future__ import annotations

from decimal import Decimal

from service.config import Settings
from service.rules.bundle import RuleContext


def rule_context(
    settings: Settings,
    *,
    buyer_year_total: Decimal,
    deadline_passed: bool,
    arrived: bool = False,
) -> RuleContext:
    return RuleContext(
        single_limit=settings.single_limit_cny,
        annual_limit=settings.annual_limit_cny,
        tolerance=settings.amount_tolerance,
        retail_tax_factor=settings.retail_tax_factor,
        tax_table=settings.tax_table,
        required_sets=settings.required_sets,
        buyer_year_total=buyer_year_total,
        deadline_passed=deadline_passed,
        arrived=arrived,
    )
