"""Party rules: PAYMENT_REFERENCE, PAYER_IS_BUYER, BUYER_ID_INVALID, CONSIGNEE_MISMATCH,
INVENTORY_PARTIES, INVENTORY_LOGISTICS."""

from __future__ import annotations

import json
from dataclasses import replace

from service.rules.bundle import BundleDocuments
from service.rules.parties import (
    buyer_id_invalid,
    consignee_mismatch,
    inventory_logistics,
    inventory_parties,
    payer_is_buyer,
    payment_reference,
)
from tests.rules.export_factory import export_bundle
from tests.rules.factory import (
    BUYER_ID,
    bundle,
    change,
    compared,
    id_number,
    official_sample_order,
    order,
    phone,
    run,
    without,
)

OTHER_ID = "440524188001010014"  # valid, someone else


# --- PAYMENT_REFERENCE --------------------------------------------------------------------


def test_payment_reference_matches() -> None:
    assert run(payment_reference, bundle()) is None


def test_payment_reference_compares_each_named_field() -> None:
    docs = change(bundle(), "payment", payCode="3101969999", payTransactionId="PAY-OTHER")
    assert compared(run(payment_reference, docs)) == [
        ("payment", "payCode", "3101969999", "order", "payCode", "3101960003"),
        (
            "payment",
            "payTransactionId",
            "PAY-OTHER",
            "order",
            "payTransactionId",
            "PAY202405010001",
        ),
    ]


def test_payment_reference_only_checks_what_the_order_names() -> None:
    docs = change(bundle(), "payment", payTransactionId="PAY-OTHER")
    unnamed = change(docs, "order", payTransactionId=None)
    assert run(payment_reference, unnamed) is None
    docs = change(bundle(), "order", payCode=" ", payTransactionId="")
    assert run(payment_reference, change(docs, "payment", payCode="X")) is None


# --- PAYER_IS_BUYER -----------------------------------------------------------------------


def test_payer_is_the_buyer() -> None:
    assert run(payer_is_buyer, bundle()) is None


def test_another_payer_is_reported_masked() -> None:
    docs = change(bundle(), "payment", payerIdNumber=id_number(OTHER_ID), payerName="王五")
    found = run(payer_is_buyer, docs)
    assert compared(found) == [
        (
            "payment",
            "payerIdNumber",
            "4405**********0014",
            "order",
            "buyerIdNumber",
            "1101**********002X",
        ),
        ("payment", "payerName", "王五", "order", "buyerName", "张三"),
    ]
    text = json.dumps(found.to_json() if found else None, ensure_ascii=False)
    assert OTHER_ID not in text and BUYER_ID not in text


def test_payer_is_buyer_is_an_import_rule() -> None:
    assert run(payer_is_buyer, export_bundle()) is None


# --- BUYER_ID_INVALID ---------------------------------------------------------------------


def test_valid_buyer_id_passes() -> None:
    assert run(buyer_id_invalid, bundle()) is None


def test_official_sample_buyer_id_fails() -> None:
    found = run(buyer_id_invalid, BundleDocuments(order=official_sample_order()))
    assert compared(found) == [
        ("order", "buyerIdNumber", "1306**********3332", "order", "buyerIdType", "1"),
    ]


def test_only_id_cards_are_checked() -> None:
    docs = change(bundle(), "order", buyerIdNumber=id_number("E12345678"), buyerIdType="2")
    assert run(buyer_id_invalid, docs) is None
    assert run(buyer_id_invalid, change(docs, "order", buyerIdType="1")) is not None


def test_no_verdict_is_no_finding() -> None:
    # A Pii built without a verdict (id_check None) is not evidence of a bad number.
    unknown = replace(id_number(BUYER_ID), id_check=None)
    assert run(buyer_id_invalid, change(bundle(), "order", buyerIdNumber=unknown)) is None


# --- CONSIGNEE_MISMATCH -------------------------------------------------------------------


def test_consignee_matches_and_ignores_surrounding_whitespace() -> None:
    assert run(consignee_mismatch, bundle()) is None
    padded = change(bundle(), "logistics", consigneeAddress=" 上海市浦东新区世纪大道100号 ")
    assert run(consignee_mismatch, padded) is None


def test_consignee_mismatch_reports_each_field() -> None:
    docs = change(
        bundle(),
        "logistics",
        consignee="李四四",
        consigneeTelephone=phone("13900000000"),
        consigneeAddress="上海市浦东新区世纪大道101号",
    )
    assert compared(run(consignee_mismatch, docs)) == [
        ("logistics", "consignee", "李四四", "order", "consignee", "李四"),
        (
            "logistics",
            "consigneeTelephone",
            "139****0000",
            "order",
            "consigneeTelephone",
            "139****4321",
        ),
        (
            "logistics",
            "consigneeAddress",
            "上海市浦东新区世纪大道101号",
            "order",
            "consigneeAddress",
            "上海市浦东新区世纪大道100号",
        ),
    ]


def test_consignee_needs_order_and_waybill() -> None:
    docs = change(bundle(), "logistics", consignee="王五")
    assert run(consignee_mismatch, without(docs, "order")) is None
    assert run(consignee_mismatch, without(docs, "payment", "inventory")) is not None


# --- INVENTORY_PARTIES --------------------------------------------------------------------


def test_inventory_parties_match() -> None:
    assert run(inventory_parties, bundle("9610")) is None
    assert run(inventory_parties, bundle("1210")) is None
    assert run(inventory_parties, export_bundle()) is None


def test_inventory_parties_mismatch() -> None:
    docs = change(bundle(), "inventory", ebcCode="3101969999", buyerIdNumber=id_number(OTHER_ID))
    assert compared(run(inventory_parties, docs)) == [
        ("inventory", "ebcCode", "3101969999", "order", "ebcCode", "3101960002"),
        (
            "inventory",
            "buyerIdNumber",
            "4405**********0014",
            "order",
            "buyerIdNumber",
            "1101**********002X",
        ),
    ]
    renamed = BundleDocuments(order=order(buyerName="张叁"), inventory=bundle().inventory)
    assert [c[1] for c in compared(run(inventory_parties, renamed))] == ["buyerName"]


# --- INVENTORY_LOGISTICS ------------------------------------------------------------------


def test_inventory_names_the_attached_waybill() -> None:
    assert run(inventory_logistics, bundle()) is None
    assert run(inventory_logistics, export_bundle()) is None


def test_inventory_names_another_waybill() -> None:
    docs = change(bundle(), "logistics", logisticsNo="LN202405019999")
    assert compared(run(inventory_logistics, docs)) == [
        (
            "inventory",
            "logisticsNo",
            "LN202405010001",
            "logistics",
            "logisticsNo",
            "LN202405019999",
        ),
    ]
    assert run(inventory_logistics, without(docs, "logistics")) is None


def test_import_waybill_for_another_order() -> None:
    docs = change(bundle(), "logistics", orderNo="SOMEONE-ELSES-ORDER")
    [(left_doc, field, *_rest)] = compared(run(inventory_logistics, docs))
    assert (left_doc, field) == ("inventory", "orderNo")
