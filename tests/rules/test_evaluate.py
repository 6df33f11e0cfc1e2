"""evaluate(): which rules run, MISSING_* at the deadline, the outcome, determinism."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest

from service.messages.registry import BUNDLE_KINDS, Direction, Kind
from service.rules import evaluate as evaluate_module
from service.rules.bundle import BundleDocuments, RuleContext
from service.rules.catalogue import CATALOGUE_ORDER, RULES, Code, Stage
from service.rules.evaluate import CHECKS, Outcome, evaluate
from service.rules.findings import Severity
from service.rules.regime import RegimeView
from tests.rules.export_factory import export_bundle
from tests.rules.factory import (
    bundle,
    change,
    change_line,
    context,
    id_number,
    inventory,
    official_sample_order,
    order,
    without,
)

D = Decimal
ALL = frozenset(BUNDLE_KINDS)


@pytest.mark.parametrize("regime", ["9610", "1210", "1239"])
def test_clean_import_bundle_is_released_without_findings(regime: str) -> None:
    result = evaluate(bundle(regime), context())
    assert result.outcome is Outcome.RELEASE
    assert result.findings == ()
    assert result.missing == ()
    assert result.required == ALL
    assert result.regime == RegimeView(Direction.IMPORT, regime, regime)


@pytest.mark.parametrize("regime", ["9610", "1210", "9710", "9810"])
def test_clean_export_bundle_is_released_without_findings(regime: str) -> None:
    result = evaluate(export_bundle(regime), context())
    assert (result.outcome, result.findings, result.missing) == (Outcome.RELEASE, (), ())
    assert result.regime == RegimeView(Direction.EXPORT, regime, regime)


def test_complete_bundle_with_an_error_is_an_exception() -> None:
    result = evaluate(change(bundle(), "payment", amountPaid=D("946.87")), context())
    assert result.outcome is Outcome.EXCEPTION
    assert result.codes == ("PAYMENT_AMOUNT",)


def test_warnings_do_not_block_release() -> None:
    result = evaluate(
        change(bundle(), "order", taxTotal=D("136.00"), acturalPaid=D("946.00")), context()
    )
    # 946.00 = 800 + 10 − 0 + 136.00, and the payment says 946.88: only the payment is wrong
    assert result.codes == ("PAYMENT_AMOUNT", "TAX_TOTAL")
    fixed = change(
        change(bundle(), "order", taxTotal=D("136.00"), acturalPaid=D("946.00")),
        "payment",
        amountPaid=D("946.00"),
    )
    result = evaluate(fixed, context())
    assert result.outcome is Outcome.RELEASE
    assert result.codes == ("TAX_TOTAL",)
    assert result.findings[0].severity is Severity.WARNING


def test_a_complete_bundle_ignores_the_deadline() -> None:
    assert evaluate(bundle(), context(deadline_passed=True)).outcome is Outcome.RELEASE


def test_incomplete_before_the_deadline_is_pending_with_a_preview() -> None:
    # The official sample order alone: what the order can show already.
    result = evaluate(BundleDocuments(order=official_sample_order()), context())
    assert result.outcome is Outcome.PENDING
    assert result.missing == (Kind.PAYMENT, Kind.LOGISTICS, Kind.INVENTORY)
    assert result.codes == ("ORDER_LINE_TOTAL", "BUYER_ID_INVALID", "SINGLE_LIMIT")


def test_incomplete_after_the_deadline_is_an_exception_naming_what_is_missing() -> None:
    result = evaluate(BundleDocuments(order=official_sample_order()), context(deadline_passed=True))
    assert result.outcome is Outcome.EXCEPTION
    assert result.codes == (
        "ORDER_LINE_TOTAL",
        "BUYER_ID_INVALID",
        "SINGLE_LIMIT",
        "MISSING_PAYMENT",
        "MISSING_LOGISTICS",
        "MISSING_INVENTORY",
    )
    missing = result.findings[3]
    assert missing.to_json()["fields"] == [
        {
            "left": {"document": "payment", "field": "guid", "value": None},
            "right": {"document": "computed", "field": "regime", "value": "I9610"},
        }
    ]


def test_a_clean_partial_bundle_after_the_deadline() -> None:
    result = evaluate(without(bundle("1210"), "payment"), context(deadline_passed=True))
    assert (result.outcome, result.codes) == (Outcome.EXCEPTION, ("MISSING_PAYMENT",))
    assert result.findings[0].fields[0].right.value == "I1210"
    result = evaluate(without(bundle("1210"), "payment"), context())
    assert (result.outcome, result.codes, result.missing) == (Outcome.PENDING, (), (Kind.PAYMENT,))


def test_order_and_waybill_already_show_a_consignee_mismatch() -> None:
    docs = BundleDocuments(order=order(), logistics=bundle().logistics)
    docs = change(docs, "logistics", consigneeAddress="北京市海淀区")
    assert evaluate(docs, context()).codes == ("CONSIGNEE_MISMATCH",)


def test_missing_order_after_the_deadline_still_judges_the_rest() -> None:
    docs = change(without(bundle(), "order"), "inventory", logisticsNo="LN-OTHER")
    result = evaluate(docs, context(deadline_passed=True))
    assert result.codes == ("INVENTORY_LOGISTICS", "MISSING_ORDER")


def test_an_empty_bundle_needs_everything() -> None:
    result = evaluate(BundleDocuments(), context())
    assert (result.outcome, result.required, result.missing) == (
        Outcome.PENDING,
        ALL,
        tuple(BUNDLE_KINDS),
    )
    late = evaluate(BundleDocuments(), context(deadline_passed=True))
    assert late.codes == (
        "MISSING_ORDER",
        "MISSING_PAYMENT",
        "MISSING_LOGISTICS",
        "MISSING_INVENTORY",
    )
    assert late.findings[0].fields[0].right.value is None


def test_export_9710_needs_no_receipt_but_checks_one_that_came() -> None:
    assert evaluate(export_bundle("9710"), context()).outcome is Outcome.RELEASE
    with_receipt = replace(export_bundle("9710"), payment=export_bundle("9610").payment)
    wrong = change(with_receipt, "payment", charge=D("1.00"))
    result = evaluate(wrong, context())
    assert (result.outcome, result.codes) == (Outcome.RELEASE, ("EXPORT_RECEIPT_AMOUNT",))


def test_the_required_set_comes_from_the_context() -> None:
    sets = {"I9610": ["order", "inventory"]}
    result = evaluate(without(bundle(), "payment", "logistics"), context(required_sets=sets))
    assert result.outcome is Outcome.RELEASE
    assert result.required == frozenset({Kind.ORDER, Kind.INVENTORY})


# --- every rule is wired under its own code -----------------------------------------------

Spoil = Callable[[], tuple[BundleDocuments, RuleContext]]
_SPOILERS: dict[str, Spoil] = {
    "ORDER_PAID_FORMULA": lambda: (change(bundle(), "order", acturalPaid=D("950")), context()),
    "ORDER_LINE_TOTAL": lambda: (
        replace(bundle(), order=change_line(order(), 1, totalPrice=D("301"))),
        context(),
    ),
    "ORDER_GOODS_VALUE": lambda: (change(bundle(), "order", goodsValue=D("799")), context()),
    "PAYMENT_AMOUNT": lambda: (change(bundle(), "payment", amountPaid=D("1")), context()),
    "PAYMENT_REFERENCE": lambda: (change(bundle(), "payment", payTransactionId="X"), context()),
    "PAYER_IS_BUYER": lambda: (change(bundle(), "payment", payerName="王五"), context()),
    "BUYER_ID_INVALID": lambda: (
        change(bundle(), "order", buyerIdNumber=id_number("110105194912310021")),
        context(),
    ),
    "CONSIGNEE_MISMATCH": lambda: (change(bundle(), "logistics", consignee="王五"), context()),
    "INVENTORY_PARTIES": lambda: (change(bundle(), "inventory", ebcCode="X"), context()),
    "INVENTORY_LOGISTICS": lambda: (change(bundle(), "inventory", logisticsNo="X"), context()),
    "INVENTORY_ITEMS": lambda: (
        replace(bundle(), inventory=change_line(inventory(), 2, qty=D("3"))),
        context(),
    ),
    "SINGLE_LIMIT": lambda: (bundle(), context(single_limit=D("800"))),
    "ANNUAL_LIMIT": lambda: (bundle(), context(buyer_year_total=D("25500"))),
    "TAX_TOTAL": lambda: (bundle(), context(retail_tax_factor=D("1"))),
    "REGIME_MISMATCH": lambda: (change(bundle(), "inventory", tradeMode="9710"), context()),
    "REGIME_FIELDS": lambda: (change(bundle(), "inventory", trafNo=None), context()),
    "EXPORT_RECEIPT_AMOUNT": lambda: (change(export_bundle(), "payment", charge=D("1")), context()),
    "MISSING_ORDER": lambda: (without(bundle(), "order"), context(deadline_passed=True)),
    "MISSING_PAYMENT": lambda: (without(bundle(), "payment"), context(deadline_passed=True)),
    "MISSING_LOGISTICS": lambda: (without(bundle(), "logistics"), context(deadline_passed=True)),
    "MISSING_INVENTORY": lambda: (without(bundle(), "inventory"), context(deadline_passed=True)),
    # a regime whose required set names the arrival (SPEC §10), none reported by the deadline
    "MISSING_ARRIVAL": lambda: (
        bundle(),
        context(
            deadline_passed=True,
            required_sets={"I9610": ["order", "payment", "logistics", "inventory", "arrival"]},
        ),
    ),
}


def test_a_required_arrival_holds_the_release_until_it_is_reported() -> None:
    sets = {"I9610": ["order", "payment", "logistics", "inventory", "arrival"]}
    waiting = evaluate(bundle(), context(required_sets=sets))
    assert (waiting.outcome, waiting.missing) == (Outcome.PENDING, (Kind.ARRIVAL,))
    arrived = evaluate(bundle(), replace(context(required_sets=sets), arrived=True))
    assert (arrived.outcome, arrived.missing) == (Outcome.RELEASE, ())


def test_every_collision_code_is_wired() -> None:
    # CHECKS holds every collision rule but MISSING_*, which evaluate() reports itself.
    collision = {c for c, spec in RULES.items() if spec.stage is Stage.COLLISION}
    assert set(_SPOILERS) == collision
    missing = {c for c in collision if c.startswith("MISSING_")}
    assert {code.value for code in CHECKS} == collision - missing


@pytest.mark.parametrize("code", list(_SPOILERS))
def test_each_code_is_reported_and_decides_by_its_severity(code: str) -> None:
    docs, ctx = _SPOILERS[code]()
    result = evaluate(docs, ctx)
    assert code in result.codes
    blocked = RULES[code].severity is Severity.ERROR
    assert result.outcome is (Outcome.EXCEPTION if blocked else Outcome.RELEASE)


# --- determinism --------------------------------------------------------------------------


def _spoil_everything() -> BundleDocuments:
    docs = change(bundle(), "payment", amountPaid=D("1"), payerName="王五")
    docs = change(docs, "inventory", tradeMode="9710", logisticsNo="X", trafNo=None)
    docs = change(docs, "logistics", consignee="王五")
    return replace(docs, order=change_line(docs.order or order(), 2, totalPrice=D("1")))


def test_findings_come_in_catalogue_order() -> None:
    result = evaluate(_spoil_everything(), context(single_limit=D("1")))
    positions = [CATALOGUE_ORDER[code] for code in result.codes]
    assert positions == sorted(positions)
    assert len(set(result.codes)) == len(result.codes)  # one finding per rule
    assert Code.REGIME_MISMATCH.value in result.codes


def test_catalogue_order_does_not_depend_on_the_order_rules_run_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs, ctx = _spoil_everything(), context(single_limit=D("1"), deadline_passed=True)
    docs = replace(docs, payment=None)
    expected = evaluate(docs, ctx)
    monkeypatch.setattr(evaluate_module, "CHECKS", dict(reversed(list(CHECKS.items()))))
    assert evaluate(docs, ctx) == expected
    assert expected.codes[-1] == "MISSING_PAYMENT"


def test_same_documents_same_evaluation() -> None:
    docs, ctx = _spoil_everything(), context(single_limit=D("1"))
    first, second = evaluate(docs, ctx), evaluate(docs, ctx)
    assert first == second
    as_json = [json.dumps(f.to_json(), ensure_ascii=False) for f in first.findings]
    assert as_json == [json.dumps(f.to_json(), ensure_ascii=False) for f in second.findings]
    # rebuilt from scratch, equal documents give an equal evaluation too
    assert evaluate(_spoil_everything(), context(single_limit=D("1"))) == first
