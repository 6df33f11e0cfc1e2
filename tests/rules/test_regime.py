"""Regime classification and the documents each regime requires."""

from __future__ import annotations

import pytest

from service.config import DEFAULT_REQUIRED_SETS, Settings
from service.messages.registry import BUNDLE_KINDS, Direction, Kind
from service.rules.bundle import BundleDocuments
from service.rules.regime import Regime, RegimeView, classify, required_kinds
from tests.rules.export_factory import (
    export_bundle,
    export_inventory,
    export_order,
    receipt,
)
from tests.rules.factory import bundle, change, inventory, logistics, order, payment, without

IMP, EXP = Direction.IMPORT, Direction.EXPORT
ALL = frozenset(BUNDLE_KINDS)
NO_RECEIPT = frozenset({Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY})


def _view(docs: BundleDocuments) -> tuple[Direction | None, str | None, str | None]:
    view = classify(docs)
    return view.direction, view.declared, view.classified


def test_nothing_yet() -> None:
    view = classify(BundleDocuments())
    assert (view.direction, view.declared, view.classified, view.regime) == (None, None, None, None)


@pytest.mark.parametrize("regime", ["9610", "1210", "1239"])
def test_a_declared_import_regime_is_kept(regime: str) -> None:
    # 1239 stays 1239: its own code and required set, checked like 1210.
    assert _view(bundle(regime)) == (IMP, regime, regime)
    assert classify(bundle(regime)).regime == Regime("I" + regime)


def test_import_without_inventory_defaults_to_direct_mail() -> None:
    assert _view(BundleDocuments(order=order())) == (IMP, None, "9610")
    assert _view(BundleDocuments(logistics=logistics())) == (IMP, None, "9610")


def test_import_evidence_decides_when_the_declaration_is_unusable() -> None:
    # An account book (emsNo) is bonded evidence; without one, direct mail.
    assert _view(change(bundle("1210"), "inventory", tradeMode="9710")) == (IMP, "9710", "1210")
    assert _view(change(bundle("9610"), "inventory", tradeMode="0110")) == (IMP, "0110", "9610")


def test_declared_tradeMode_is_read_stripped() -> None:
    assert _view(change(bundle(), "inventory", tradeMode=" 1210 "))[1] == "1210"


@pytest.mark.parametrize(("regime", "order_type"), [("9710", "B"), ("9810", "W")])
def test_export_order_type_decides(regime: str, order_type: str) -> None:
    assert _view(export_bundle(regime)) == (EXP, regime, regime)
    # Whatever the inventory says, a B order is 9710 and a W order 9810.
    contradicted = change(export_bundle(regime), "inventory", tradeMode="9610")
    assert _view(contradicted) == (EXP, "9610", regime)
    assert _view(BundleDocuments(order=export_order(order_type))) == (EXP, None, regime)


@pytest.mark.parametrize("regime", ["9610", "1210"])
def test_export_retail_follows_the_declaration(regime: str) -> None:
    assert _view(export_bundle(regime)) == (EXP, regime, regime)


def test_export_retail_evidence_when_the_declaration_contradicts() -> None:
    # An E order declared 9710: retail, and special-zone only if the zone fields are there.
    assert _view(change(export_bundle("9610"), "inventory", tradeMode="9710"))[2] == "9610"
    assert _view(change(export_bundle("1210"), "inventory", tradeMode="9710"))[2] == "1210"
    # The official CEB603 sample declares 0101 (general trade).
    assert _view(change(export_bundle("9610"), "inventory", tradeMode="0101"))[2] == "9610"


def test_export_without_an_order_takes_a_valid_declaration() -> None:
    assert _view(BundleDocuments(inventory=export_inventory("9810"))) == (EXP, "9810", "9810")
    assert _view(BundleDocuments(payment=receipt())) == (EXP, None, "9610")


def test_the_evidence_sets_the_direction_before_the_declaration() -> None:
    mixed = BundleDocuments(order=order(), inventory=export_inventory("9610"))
    assert _view(mixed)[0] is IMP
    receipt_only = BundleDocuments(payment=receipt(), inventory=inventory())
    assert _view(receipt_only)[0] is EXP
    assert _view(BundleDocuments(inventory=inventory()))[0] is IMP


def test_effective_regime() -> None:
    assert RegimeView(IMP, "1210", "1210").effective == "1210"
    # a declaration outside the direction gives way to the evidence
    view = RegimeView(IMP, "9710", "9610")
    assert (view.declared_valid, view.effective, view.regime) == (False, "9610", Regime.IMPORT_9610)
    assert RegimeView(EXP, "1239", "9610").effective == "9610"
    assert RegimeView(EXP, "9710", "9610").regime is Regime.EXPORT_9710
    assert Regime.EXPORT_9710.direction is EXP and Regime.EXPORT_9710.code == "9710"


# --- required_kinds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("docs", "required"),
    [
        (bundle("9610"), ALL),
        (bundle("1210"), ALL),
        (bundle("1239"), ALL),
        (BundleDocuments(order=order()), ALL),
        (export_bundle("9610"), ALL),
        (export_bundle("1210"), ALL),
        (export_bundle("9710"), NO_RECEIPT),
        (export_bundle("9810"), NO_RECEIPT),
    ],
)
def test_default_required_sets(docs: BundleDocuments, required: frozenset[Kind]) -> None:
    assert required_kinds(classify(docs), DEFAULT_REQUIRED_SETS) == required


def test_required_sets_are_configuration() -> None:
    sets = {**DEFAULT_REQUIRED_SETS, "I1210": ["order", "inventory"]}
    assert required_kinds(classify(bundle("1210")), sets) == {Kind.ORDER, Kind.INVENTORY}
    assert required_kinds(classify(bundle("9610")), sets) == ALL


def test_lifecycle_kinds_are_never_required_documents() -> None:
    """A cancel or return names a bundle; it is not one of its documents (SPEC §10)."""
    assert {Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS, Kind.INVENTORY} == ALL
    sets = {**DEFAULT_REQUIRED_SETS, "I1210": ["order", "cancel"]}
    with pytest.raises(ValueError, match="cancel"):
        required_kinds(classify(bundle("1210")), sets)
    with pytest.raises(ValueError, match="return"):
        Settings(required_sets={"I9610": ["order", "return"]})


def test_unknown_cases_require_everything() -> None:
    assert required_kinds(classify(BundleDocuments()), DEFAULT_REQUIRED_SETS) == ALL
    # a regime the configuration forgot must not be released with fewer documents
    sets = {k: v for k, v in DEFAULT_REQUIRED_SETS.items() if k != "E9710"}
    assert required_kinds(classify(export_bundle("9710")), sets) == ALL


def test_a_misspelt_kind_in_the_configuration_is_an_error() -> None:
    with pytest.raises(ValueError):
        required_kinds(classify(bundle()), {"I9610": ["order", "payments"]})


def test_incomplete_bundles_still_classify() -> None:
    assert _view(without(bundle("1210"), "order", "payment")) == (IMP, "1210", "1210")
    assert _view(BundleDocuments(payment=payment()))[0] is IMP
