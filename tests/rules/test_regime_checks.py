"""REGIME_MISMATCH and REGIME_FIELDS."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service.rules.bundle import BundleDocuments
from service.rules.regime_checks import regime_fields, regime_mismatch
from tests.rules.export_factory import export_bundle, export_inventory, export_order
from tests.rules.factory import bundle, change, change_line, compared, inventory, order, run

# --- REGIME_MISMATCH ----------------------------------------------------------------------


@pytest.mark.parametrize("regime", ["9610", "1210", "1239"])
def test_clean_import_bundles_agree(regime: str) -> None:
    assert run(regime_mismatch, bundle(regime)) is None


@pytest.mark.parametrize("regime", ["9610", "1210", "9710", "9810"])
def test_clean_export_bundles_agree(regime: str) -> None:
    assert run(regime_mismatch, export_bundle(regime)) is None


@pytest.mark.parametrize("declared", ["9710", "9810", "0110", "1234"])
def test_import_declared_with_a_non_import_regime(declared: str) -> None:
    found = run(regime_mismatch, change(bundle(), "inventory", tradeMode=declared))
    assert compared(found) == [("inventory", "tradeMode", declared, "order", "orderType", "I")]


def test_import_inventory_alone_with_an_export_regime() -> None:
    docs = BundleDocuments(inventory=inventory(tradeMode="9710"))
    assert compared(run(regime_mismatch, docs)) == [
        ("inventory", "tradeMode", "9710", "computed", "direction", "I"),
    ]


def test_import_order_with_an_export_order_type() -> None:
    docs = change(bundle(), "order", orderType="B")
    assert compared(run(regime_mismatch, docs)) == [
        ("order", "orderType", "B", "order", "direction", "I"),
    ]


def test_inventory_ieflag_against_its_message() -> None:
    docs = change(bundle(), "inventory", ieFlag="E")
    assert compared(run(regime_mismatch, docs)) == [
        ("inventory", "ieFlag", "E", "inventory", "direction", "I"),
    ]
    assert run(regime_mismatch, change(bundle(), "inventory", ieFlag=None)) is None


def test_documents_of_both_directions_under_one_key() -> None:
    docs = replace(bundle(), inventory=export_inventory("9610"))
    assert compared(run(regime_mismatch, docs)) == [
        ("inventory", "direction", "E", "order", "direction", "I"),
    ]


@pytest.mark.parametrize(
    ("declared", "order_type"),
    [("9710", "E"), ("9710", "W"), ("9810", "E"), ("9810", "B"), ("9610", "B"), ("1210", "W")],
)
def test_export_regime_against_the_order_type(declared: str, order_type: str) -> None:
    docs = replace(
        export_bundle("9610"), order=export_order(order_type), inventory=export_inventory(declared)
    )
    assert compared(run(regime_mismatch, docs)) == [
        ("inventory", "tradeMode", declared, "order", "orderType", order_type),
    ]


def test_export_declared_with_an_import_only_regime() -> None:
    docs = change(export_bundle("1210"), "inventory", tradeMode="1239")
    assert compared(run(regime_mismatch, docs)) == [
        ("inventory", "tradeMode", "1239", "order", "orderType", "E"),
    ]


def test_a_nonsense_export_order_type_is_reported_once() -> None:
    docs = change(export_bundle("9610"), "order", orderType="X")
    assert compared(run(regime_mismatch, docs)) == [
        ("order", "orderType", "X", "order", "direction", "E"),
    ]


def test_contradictions_are_listed_in_a_fixed_order() -> None:
    docs = replace(
        bundle(),
        order=order(orderType="E"),
        inventory=inventory(tradeMode="9810", ieFlag="E"),
    )
    assert [(c[0], c[1]) for c in compared(run(regime_mismatch, docs))] == [
        ("inventory", "tradeMode"),
        ("order", "orderType"),
        ("inventory", "ieFlag"),
    ]


# --- REGIME_FIELDS ------------------------------------------------------------------------


@pytest.mark.parametrize("regime", ["9610", "1210", "1239"])
def test_clean_import_inventories_have_their_fields(regime: str) -> None:
    assert run(regime_fields, bundle(regime)) is None


@pytest.mark.parametrize("regime", ["9610", "1210", "9710", "9810"])
def test_clean_export_inventories_have_their_fields(regime: str) -> None:
    assert run(regime_fields, export_bundle(regime)) is None


def test_direct_mail_needs_its_transport() -> None:
    docs = change(bundle("9610"), "inventory", trafNo=None, voyageNo=" ", billNo=None)
    assert compared(run(regime_fields, docs)) == [
        ("inventory", "trafNo", None, "inventory", "tradeMode", "9610"),
        ("inventory", "voyageNo", None, "inventory", "tradeMode", "9610"),
        ("inventory", "billNo", None, "inventory", "tradeMode", "9610"),
    ]


@pytest.mark.parametrize("regime", ["1210", "1239"])
def test_bonded_import_needs_account_book_zone_records_and_china(regime: str) -> None:
    spoiled = change_line(
        inventory(regime, emsNo=None, areaCode=None, country="116"), 2, itemRecordNo=None
    )
    found = run(regime_fields, replace(bundle(regime), inventory=spoiled))
    assert compared(found) == [
        ("inventory", "emsNo", None, "inventory", "tradeMode", regime),
        ("inventory", "areaCode", None, "inventory", "tradeMode", regime),
        ("inventory", "InventoryList[2].itemRecordNo", None, "inventory", "tradeMode", regime),
        ("inventory", "country", "116", "computed", "country", "142"),
    ]


def test_bonded_import_does_not_need_transport() -> None:
    docs = change(bundle("1210"), "inventory", trafNo=None, voyageNo=None, billNo=None)
    assert run(regime_fields, docs) is None


def test_special_zone_export_needs_zone_fields() -> None:
    docs = change(export_bundle("1210"), "inventory", iacCode=None)
    assert compared(run(regime_fields, docs)) == [
        ("inventory", "iacCode", None, "inventory", "tradeMode", "1210"),
    ]
    assert run(regime_fields, change(export_bundle("9610"), "inventory", iacCode=None)) is None


def test_an_unusable_declaration_is_checked_against_the_evidence() -> None:
    # Declared 9710 on an import without an account book: the documents say 9610.
    docs = change(bundle("9610"), "inventory", tradeMode="9710", trafNo=None)
    assert compared(run(regime_fields, docs)) == [
        ("inventory", "trafNo", None, "computed", "regime", "9610"),
    ]


def test_fields_need_an_inventory() -> None:
    assert run(regime_fields, BundleDocuments(order=order())) is None
