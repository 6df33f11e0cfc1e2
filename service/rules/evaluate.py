"""Evaluate a bundle: classify its regime, run every rule that can run, and decide.

- every required document present: the outcome is EXCEPTION if any finding is an error, else
  RELEASE (warnings are kept and do not block);
- something missing, deadline passed: a MISSING_<KIND> error per missing document, plus what
  the present documents already show: EXCEPTION;
- something missing, deadline not passed: PENDING, with the findings so far as a preview.

A rule whose documents are absent, or which does not apply to the bundle's direction, returns
nothing, so a partial bundle gets exactly the findings its documents can support. Findings are
sorted by catalogue order (each rule reports at most one finding, its comparisons in field
order), so the same documents and context always give an equal ``Evaluation``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from service.messages.registry import BUNDLE_KINDS, Kind
from service.rules.amounts import (
    export_receipt_amount,
    order_goods_value,
    order_line_total,
    order_paid_formula,
    payment_amount,
)
from service.rules.bundle import BundleDocuments, RuleContext
from service.rules.catalogue import CATALOGUE_ORDER, MISSING_CODES, Code, finding
from service.rules.compare import side
from service.rules.findings import Comparison, Finding, Severity
from service.rules.items import inventory_items
from service.rules.limits import annual_limit, single_limit
from service.rules.parties import (
    buyer_id_invalid,
    consignee_mismatch,
    inventory_logistics,
    inventory_parties,
    payer_is_buyer,
    payment_reference,
)
from service.rules.regime import RegimeView, classify, required_kinds
from service.rules.regime_checks import regime_fields, regime_mismatch
from service.rules.tax import tax_total

Rule = Callable[[BundleDocuments, RuleContext, RegimeView], Finding | None]

# Each collision rule under the code it reports (MISSING_* are evaluate's own, below).
CHECKS: Mapping[Code, Rule] = MappingProxyType(
    {
        Code.ORDER_PAID_FORMULA: order_paid_formula,
        Code.ORDER_LINE_TOTAL: order_line_total,
        Code.ORDER_GOODS_VALUE: order_goods_value,
        Code.PAYMENT_AMOUNT: payment_amount,
        Code.PAYMENT_REFERENCE: payment_reference,
        Code.PAYER_IS_BUYER: payer_is_buyer,
        Code.BUYER_ID_INVALID: buyer_id_invalid,
        Code.CONSIGNEE_MISMATCH: consignee_mismatch,
        Code.INVENTORY_PARTIES: inventory_parties,
        Code.INVENTORY_LOGISTICS: inventory_logistics,
        Code.INVENTORY_ITEMS: inventory_items,
        Code.SINGLE_LIMIT: single_limit,
        Code.ANNUAL_LIMIT: annual_limit,
        Code.TAX_TOTAL: tax_total,
        Code.REGIME_MISMATCH: regime_mismatch,
        Code.REGIME_FIELDS: regime_fields,
        Code.EXPORT_RECEIPT_AMOUNT: export_receipt_amount,
    }
)


class Outcome(StrEnum):
    PENDING = "pending"
    RELEASE = "release"
    EXCEPTION = "exception"


@dataclass(frozen=True, slots=True)
class Evaluation:
    regime: RegimeView
    required: frozenset[Kind]
    # Required kinds not present, in BUNDLE_KINDS order (order, payment, logistics, inventory),
    # then arrival when the regime's set names it.
    missing: tuple[Kind, ...]
    findings: tuple[Finding, ...]
    outcome: Outcome

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)


# The kinds a required set may name, in the order missing ones are listed: the bundle's
# documents, then its arrival (SPEC §10).
_REQUIRABLE = (*BUNDLE_KINDS, Kind.ARRIVAL)
_ARRIVED = frozenset({Kind.ARRIVAL})


def missing_findings(missing: tuple[Kind, ...], view: RegimeView) -> list[Finding]:
    """One MISSING_<KIND> per absent document, naming the regime that requires it."""
    regime = view.regime
    reason = side("computed", "regime", regime.value if regime is not None else None)
    return [
        finding(MISSING_CODES[kind], [Comparison(side(kind.value, "guid", None), reason)])
        for kind in missing
    ]


def evaluate(docs: BundleDocuments, ctx: RuleContext) -> Evaluation:
    view = classify(docs)
    required = required_kinds(view, ctx.required_sets)
    present = docs.present() | (_ARRIVED if ctx.arrived else frozenset())
    missing = tuple(kind for kind in _REQUIRABLE if kind in required and kind not in present)
    found = [f for check in CHECKS.values() if (f := check(docs, ctx, view)) is not None]
    if missing and ctx.deadline_passed:
        found.extend(missing_findings(missing, view))
    findings = tuple(sorted(found, key=lambda f: CATALOGUE_ORDER[f.code]))
    if missing and not ctx.deadline_passed:
        outcome = Outcome.PENDING
    elif any(f.severity is Severity.ERROR for f in findings):
        outcome = Outcome.EXCEPTION
    else:
        outcome = Outcome.RELEASE
    return Evaluation(view, required, missing, findings, outcome)
