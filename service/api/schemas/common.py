"""Shapes several answers share: the problem body, findings, manifest entries."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

State = Literal["pending", "released", "exception", "rejected", "cancelled", "returned", "closed"]
Decision = Literal["release", "exception", "reject", "cancel", "return", "close"]


def example(value: dict[str, Any]) -> ConfigDict:
    """A model config carrying one example (JSON schema ``examples``)."""
    return ConfigDict(json_schema_extra={"examples": [value]})


class Problem(BaseModel):
    """Every error: a code, a message, and sometimes more (``errors``, ``limit``...)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [{"code": "UNAUTHENTICATED", "message": "missing bearer API key"}]
        },
    )
    code: str = Field(description="a stable code, e.g. XML_MALFORMED, FORBIDDEN, NOT_FOUND")
    message: str = Field(description="what went wrong, for a person")


class Side(BaseModel):
    document: str = Field(description="order, payment, logistics, inventory, or a computation")
    field: str = Field(description="the official field name; lines as OrderList[2].qty")
    value: str | None


class Comparison(BaseModel):
    left: Side = Field(description="the document under test")
    right: Side = Field(description="what it was held against")


class Finding(BaseModel):
    code: str = Field(description="the rule code (SPEC §5)")
    severity: Literal["error", "warning"]
    message_zh: str
    message_en: str
    fields: list[Comparison] = Field(description="the values compared, both sides")


FINDING_EXAMPLE = {
    "code": "AMOUNT_MISMATCH",
    "severity": "error",
    "message_zh": "支付金额与订单实付金额不一致",
    "message_en": "payment amount differs from the order's amount paid",
    "fields": [
        {
            "left": {"document": "payment", "field": "amountPaid", "value": "318.40"},
            "right": {"document": "order", "field": "acturalPaid", "value": "328.40"},
        }
    ],
}


class ManifestEntry(BaseModel):
    model_config = example(
        {
            "id": "0b7f4c1e-54a4-4c38-9a3f-6f0f2f1e9a10",
            "seq": 42,
            "ebpCode": "4403169D3W",
            "orderNo": "SO2026111100000001",
            "logisticsCode": "4403180H2Y",
            "logisticsNo": "YT2611110000000001",
            "invtNo": "44032026I000000001",
            "regime": "9610",
            "direction": "I",
            "decision": "release",
            "rules": [],
            "decidedAt": "2026-11-11T00:00:03.120000Z",
            "by": "engine",
            "reason": None,
        }
    )
    id: str = Field(description="the entry's id: the broker's de-duplication id")
    seq: int = Field(description="strictly increasing")
    ebpCode: str
    orderNo: str
    logisticsCode: str | None
    logisticsNo: str | None
    invtNo: str | None = Field(description="the consignment's 清单编号, once assigned")
    regime: str | None
    direction: Literal["I", "E"]
    decision: Decision
    rules: list[str] = Field(description="the rule codes behind an exception or reject")
    decidedAt: str | None
    by: str = Field(description='"engine" or the operator')
    reason: str | None
