"""The rule catalogue: every code of SPEC §5, with severity, stage and both texts."""

from __future__ import annotations

import re
import string

from service.messages.registry import Kind
from service.rules.catalogue import CATALOGUE_ORDER, MISSING_CODES, RULES, Code, Stage, finding
from service.rules.findings import Comparison, Severity, Side

# SPEC §5.1 and §5.2, in the spec's order.
INTAKE = [
    "XML_MALFORMED",
    "XML_FORBIDDEN",
    "MESSAGE_TYPE_UNKNOWN",
    "SCHEMA_INVALID",
    "SIGNATURE_INVALID",
    "SENDER_MISMATCH",
    "DUPLICATE",
    "GUID_CONFLICT",
    "STALE",
    "ALREADY_DECIDED",
    # SPEC §10, after the decision
    "LIFECYCLE_UNKNOWN",
    "LIFECYCLE_KEY_MISMATCH",
    "CANCEL_TOO_LATE",
    "BUNDLE_CANCELLED",
    "RETURN_NOT_RELEASED",
    "RETURN_TOO_LATE",
    "RETURN_EXCEEDS",
    "SUMMARY_NOT_RELEASED",
    "SUMMARY_DUPLICATE",
    "SUMMARY_PARTY",
]
COLLISION = [
    "ORDER_PAID_FORMULA",
    "ORDER_LINE_TOTAL",
    "ORDER_GOODS_VALUE",
    "PAYMENT_AMOUNT",
    "PAYMENT_REFERENCE",
    "PAYER_IS_BUYER",
    "BUYER_ID_INVALID",
    "CONSIGNEE_MISMATCH",
    "INVENTORY_PARTIES",
    "INVENTORY_LOGISTICS",
    "INVENTORY_ITEMS",
    "SINGLE_LIMIT",
    "ANNUAL_LIMIT",
    "TAX_TOTAL",
    "REGIME_MISMATCH",
    "REGIME_FIELDS",
    "EXPORT_RECEIPT_AMOUNT",
    "MISSING_ORDER",
    "MISSING_PAYMENT",
    "MISSING_LOGISTICS",
    "MISSING_INVENTORY",
    # SPEC §10: a regime whose required set names the arrival (configuration)
    "MISSING_ARRIVAL",
]
WARNINGS = {"TAX_TOTAL", "EXPORT_RECEIPT_AMOUNT"}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_spec_code_in_spec_order() -> None:
    assert list(RULES) == INTAKE + COLLISION
    assert [CATALOGUE_ORDER[code] for code in RULES] == list(range(len(RULES)))
    assert {code.value for code in Code} == set(RULES)


def test_stages_and_severities() -> None:
    for code in INTAKE:
        assert RULES[code].stage is Stage.INTAKE
        assert RULES[code].severity is Severity.ERROR
    for code in COLLISION:
        assert RULES[code].stage is Stage.COLLISION
        expected = Severity.WARNING if code in WARNINGS else Severity.ERROR
        assert RULES[code].severity is expected, code


def test_texts_are_chinese_and_english_sentences_without_placeholders() -> None:
    for code, spec in RULES.items():
        assert spec.code.value == code
        assert _CJK.search(spec.message_zh), code
        assert not _CJK.search(spec.message_en), code
        assert spec.message_en[0].isupper(), code
        for text in (spec.message_zh, spec.message_en):
            # Fixed sentences: the specifics travel in the comparisons, nothing to format.
            assert all(name is None for _, name, _, _ in string.Formatter().parse(text)), code
            assert text == text.strip()


def test_texts_are_distinct() -> None:
    assert len({spec.message_zh for spec in RULES.values()}) == len(RULES)
    assert len({spec.message_en for spec in RULES.values()}) == len(RULES)


def test_payment_amount_text() -> None:
    assert RULES["PAYMENT_AMOUNT"].message_zh == "支付金额与订单实际支付金额不一致"


def test_missing_code_for_every_kind() -> None:
    assert {kind: code.value for kind, code in MISSING_CODES.items()} == {
        Kind.ORDER: "MISSING_ORDER",
        Kind.PAYMENT: "MISSING_PAYMENT",
        Kind.LOGISTICS: "MISSING_LOGISTICS",
        Kind.INVENTORY: "MISSING_INVENTORY",
        Kind.ARRIVAL: "MISSING_ARRIVAL",
    }


def test_finding_takes_code_severity_and_texts_from_the_catalogue() -> None:
    fields = [Comparison(Side("order", "a", "1"), Side("computed", "a", "2"))]
    made = finding(Code.TAX_TOTAL, fields)
    spec = RULES["TAX_TOTAL"]
    assert made.code == "TAX_TOTAL" and type(made.code) is str
    assert made.severity is Severity.WARNING
    assert (made.message_zh, made.message_en) == (spec.message_zh, spec.message_en)
    assert made.fields == tuple(fields)
