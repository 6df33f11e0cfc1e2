"""Finding JSON: the shape the store, the API and the UI read."""

from __future__ import annotations

import json

from service.rules.findings import Comparison, Finding, Severity, Side

_FINDING = Finding(
    code="PAYMENT_AMOUNT",
    severity=Severity.ERROR,
    message_zh="支付金额与订单实际支付金额不一致",
    message_en="Payment amountPaid differs from the order's acturalPaid",
    fields=(
        Comparison(Side("payment", "amountPaid", "946.87"), Side("order", "acturalPaid", "946.88")),
        Comparison(Side("order", "buyerIdNumber", "1101**********002X"), Side("x", "y", None)),
    ),
)


def test_json_shape() -> None:
    assert _FINDING.to_json() == {
        "code": "PAYMENT_AMOUNT",
        "severity": "error",
        "message_zh": "支付金额与订单实际支付金额不一致",
        "message_en": "Payment amountPaid differs from the order's acturalPaid",
        "fields": [
            {
                "left": {"document": "payment", "field": "amountPaid", "value": "946.87"},
                "right": {"document": "order", "field": "acturalPaid", "value": "946.88"},
            },
            {
                "left": {
                    "document": "order",
                    "field": "buyerIdNumber",
                    "value": "1101**********002X",
                },
                "right": {"document": "x", "field": "y", "value": None},
            },
        ],
    }


def test_round_trip_through_json_text() -> None:
    text = json.dumps(_FINDING.to_json(), ensure_ascii=False)
    assert Finding.from_json(json.loads(text)) == _FINDING


def test_severity_decides_blocking() -> None:
    assert _FINDING.blocks
    warning = Finding("TAX_TOTAL", Severity.WARNING, "zh", "en", ())
    assert not warning.blocks
    assert Finding.from_json(warning.to_json()).severity is Severity.WARNING
