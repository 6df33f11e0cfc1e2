"""The names of the rule catalogue (``rules.catalogue``): its stable codes, the stage each
belongs to, and the shape of one entry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from service.rules.findings import Comparison, Finding, Severity


class Stage(StrEnum):
    # Intake codes reject one document at the door; collision codes judge a whole bundle.
    INTAKE = "intake"
    COLLISION = "collision"


class Code(StrEnum):
    XML_MALFORMED = "XML_MALFORMED"
    XML_FORBIDDEN = "XML_FORBIDDEN"
    MESSAGE_TYPE_UNKNOWN = "MESSAGE_TYPE_UNKNOWN"
    SCHEMA_INVALID = "SCHEMA_INVALID"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    SENDER_MISMATCH = "SENDER_MISMATCH"
    DUPLICATE = "DUPLICATE"
    GUID_CONFLICT = "GUID_CONFLICT"
    STALE = "STALE"
    ALREADY_DECIDED = "ALREADY_DECIDED"
    LIFECYCLE_UNKNOWN = "LIFECYCLE_UNKNOWN"
    LIFECYCLE_KEY_MISMATCH = "LIFECYCLE_KEY_MISMATCH"
    CANCEL_TOO_LATE = "CANCEL_TOO_LATE"
    BUNDLE_CANCELLED = "BUNDLE_CANCELLED"
    RETURN_NOT_RELEASED = "RETURN_NOT_RELEASED"
    RETURN_TOO_LATE = "RETURN_TOO_LATE"
    RETURN_EXCEEDS = "RETURN_EXCEEDS"
    SUMMARY_NOT_RELEASED = "SUMMARY_NOT_RELEASED"
    SUMMARY_DUPLICATE = "SUMMARY_DUPLICATE"
    SUMMARY_PARTY = "SUMMARY_PARTY"
    ORDER_PAID_FORMULA = "ORDER_PAID_FORMULA"
    ORDER_LINE_TOTAL = "ORDER_LINE_TOTAL"
    ORDER_GOODS_VALUE = "ORDER_GOODS_VALUE"
    PAYMENT_AMOUNT = "PAYMENT_AMOUNT"
    PAYMENT_REFERENCE = "PAYMENT_REFERENCE"
    PAYER_IS_BUYER = "PAYER_IS_BUYER"
    BUYER_ID_INVALID = "BUYER_ID_INVALID"
    CONSIGNEE_MISMATCH = "CONSIGNEE_MISMATCH"
    INVENTORY_PARTIES = "INVENTORY_PARTIES"
    INVENTORY_LOGISTICS = "INVENTORY_LOGISTICS"
    INVENTORY_ITEMS = "INVENTORY_ITEMS"
    SINGLE_LIMIT = "SINGLE_LIMIT"
    ANNUAL_LIMIT = "ANNUAL_LIMIT"
    TAX_TOTAL = "TAX_TOTAL"
    REGIME_MISMATCH = "REGIME_MISMATCH"
    REGIME_FIELDS = "REGIME_FIELDS"
    EXPORT_RECEIPT_AMOUNT = "EXPORT_RECEIPT_AMOUNT"
    MISSING_ORDER = "MISSING_ORDER"
    MISSING_PAYMENT = "MISSING_PAYMENT"
    MISSING_LOGISTICS = "MISSING_LOGISTICS"
    MISSING_INVENTORY = "MISSING_INVENTORY"
    MISSING_ARRIVAL = "MISSING_ARRIVAL"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    code: Code
    severity: Severity
    stage: Stage
    message_zh: str
    message_en: str

    def finding(self, fields: Iterable[Comparison]) -> Finding:
        return Finding(
            self.code.value, self.severity, self.message_zh, self.message_en, tuple(fields)
        )
