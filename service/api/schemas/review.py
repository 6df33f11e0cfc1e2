"""The review API's answers (SPEC §6.4)."""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas.bundles import BUNDLE_EXAMPLE, Bundle
from service.api.schemas.common import Side, State, example
from service.clock import beijing
from service.engine.review_export import COLUMNS


class QueueItem(BaseModel):
    ebpCode: str
    orderNo: str
    logisticsNo: str | None
    direction: Literal["I", "E"]
    regime: str | None
    state: State
    invtNo: str | None
    version: int
    rules: list[str]
    missing: list[str]
    firstSeenAt: str | None
    decidedAt: str | None
    ageSeconds: int


class SeverityCount(BaseModel):
    error: int = Field(description="bundles where the code is an error")
    warning: int = Field(description="bundles where the code is a warning")


_QUEUE_ITEM: dict[str, Any] = {
    "ebpCode": "3301960001",
    "orderNo": "EX2026111100000010",
    "logisticsNo": "EY2611110000000010",
    "direction": "E",
    "regime": "9810",
    "state": "exception",
    "invtNo": "29242026E000000001",
    "version": 3,
    "rules": ["INVENTORY_PARTIES"],
    "missing": [],
    "firstSeenAt": "2026-11-11T00:00:01.501715Z",
    "decidedAt": "2026-11-11T00:00:03.778811Z",
    "ageSeconds": 15,
}


class Queue(BaseModel):
    model_config = example(
        {
            "items": [_QUEUE_ITEM],
            "total": 1,
            "page": 1,
            "size": 20,
            "pages": 1,
            "counts": {"INVENTORY_PARTIES": 1},
            "countsBySeverity": {"INVENTORY_PARTIES": {"error": 1, "warning": 0}},
        }
    )
    items: list[QueueItem]
    total: int
    page: int
    size: int
    pages: int
    counts: dict[str, int] = Field(description="rule code -> bundles, most frequent first")
    countsBySeverity: dict[str, SeverityCount] = Field(
        description="the same bundles, as errors and as warnings, in the same order"
    )


class Minute(BaseModel):
    minute: str = Field(description="YYYY-MM-DD hh:mm, UTC")
    documents: int


class RegimeMix(BaseModel):
    """Decisions of one regime: ``regime`` and one count per decision made."""

    model_config = ConfigDict(extra="allow")
    regime: str = Field(description='direction + regime code, e.g. "I9610"')


class StateCount(BaseModel):
    state: State
    bundles: int


class RuleCount(BaseModel):
    code: str
    bundles: int = Field(description="bundles in exception with a finding of this code")
    errors: int = Field(description="of them, where it is an error")
    warnings: int = Field(description="of them, where it is a warning")


class AgeBand(BaseModel):
    age: Literal["<1h", "1–6h", "6–24h", ">24h"]
    bundles: int


class Dashboard(BaseModel):
    model_config = example(
        {
            "from": "2026-11-11",
            "to": None,
            "throughput": [{"minute": "2026-11-11 00:00", "documents": 75}],
            "decisionMix": [{"regime": "I1210", "exception": 3, "release": 5}],
            "bundlesByState": [{"state": "exception", "bundles": 5}],
            "topRules": [
                {"code": "INVENTORY_PARTIES", "bundles": 3, "errors": 3, "warnings": 0},
                {"code": "TAX_TOTAL", "bundles": 2, "errors": 0, "warnings": 2},
            ],
            "pendingByAge": [
                {"age": "<1h", "bundles": 4},
                {"age": "1–6h", "bundles": 1},
                {"age": "6–24h", "bundles": 0},
                {"age": ">24h", "bundles": 0},
            ],
        }
    )
    since: str | None = Field(alias="from", description="the first day counted (YYYY-MM-DD)")
    until: str | None = Field(alias="to", description="the last day counted, inclusive")
    throughput: list[Minute] = Field(description="documents per minute, the last hour")
    decisionMix: list[RegimeMix]
    bundlesByState: list[StateCount]
    topRules: list[RuleCount]
    pendingByAge: list[AgeBand]


class AuditAction(BaseModel):
    id: int
    at: str | None
    by: str
    action: str
    reason: str | None
    bundleVersion: int | None
    newVersion: int | None
    stateBefore: str | None
    stateAfter: str | None
    seq: int | None = Field(description="the manifest entry the action appended")


_ACTION_EXAMPLE = {
    "id": 7,
    "at": "2026-11-11T00:10:00.000000Z",
    "by": "operator 2924",
    "action": "release",
    "reason": "tax checked by hand",
    "bundleVersion": 3,
    "newVersion": 4,
    "stateBefore": "exception",
    "stateAfter": "released",
    "seq": 43,
}


class RecentAction(AuditAction):
    ebpCode: str
    orderNo: str


class Actions(BaseModel):
    model_config = example(
        {"actions": [{**_ACTION_EXAMPLE, "ebpCode": "3301960001", "orderNo": "SD1"}]}
    )
    actions: list[RecentAction]


class FieldValue(BaseModel):
    field: str
    value: str | None = Field(description="protected values by their mask")


class ReviewSide(BaseModel):
    guid: str
    messageType: str
    signature: str
    signatureSerial: str | None
    fields: list[FieldValue]
    xml: str = Field(description="the stored document, masked, indented")


class ComparedPair(BaseModel):
    code: str
    severity: Literal["error", "warning"]
    left: Side
    right: Side
    mismatch: bool


class ReviewBundle(Bundle):
    model_config = example(
        {
            **BUNDLE_EXAMPLE,
            "sides": {
                "order": {
                    "guid": "2D4F58FD-5935-4D17-89C1-7835F1FC13CE",
                    "messageType": "CEB311Message",
                    "signature": "absent",
                    "signatureSerial": None,
                    "fields": [{"field": "buyerIdNumber", "value": "1101**********002X"}],
                    "xml": '<ceb:Order xmlns:ceb="http://www.chinaport.gov.cn/ceb">...',
                }
            },
            "comparisons": [],
            "audit": [_ACTION_EXAMPLE],
        }
    )
    sides: dict[str, ReviewSide] = Field(description="kind -> fields and masked XML")
    comparisons: list[ComparedPair]
    audit: list[AuditAction]


class ActionDone(BaseModel):
    model_config = example(
        {"action": "release", "seq": 43, "state": "released", "version": 4, "auditId": 7}
    )
    action: Literal["release", "reject", "reopen"]
    seq: int = Field(description="the manifest entry the action appended")
    state: State
    version: int
    auditId: int


class BulkDone(BaseModel):
    """A bundle the action was applied to: the single action's answer."""

    ebpCode: str
    orderNo: str
    outcome: Literal["done"]
    action: Literal["release", "reject"]
    seq: int = Field(description="the manifest entry the action appended")
    state: State
    version: int
    auditId: int


class BulkRefused(BaseModel):
    """A bundle the action was refused for: the problem a single action would answer
    (VERSION_CONFLICT with the current ``version``, ACTION_NOT_ALLOWED with its ``state``,
    NOT_FOUND); the other bundles are not affected."""

    model_config = ConfigDict(extra="allow")
    ebpCode: str
    orderNo: str
    outcome: Literal["refused"]
    code: str
    message: str


class BulkOutcome(BaseModel):
    model_config = example(
        {
            "action": "release",
            "done": 1,
            "refused": 1,
            "results": [
                {
                    "ebpCode": "3301960001",
                    "orderNo": "SD2026111100000001",
                    "outcome": "done",
                    "action": "release",
                    "seq": 44,
                    "state": "released",
                    "version": 4,
                    "auditId": 8,
                },
                {
                    "ebpCode": "3301960001",
                    "orderNo": "SD2026111100000002",
                    "outcome": "refused",
                    "code": "VERSION_CONFLICT",
                    "message": "the bundle changed since the page was loaded: reload it and "
                    "decide again",
                    "version": 5,
                },
            ],
        }
    )
    action: str = Field(description="the action as asked")
    done: int
    refused: int
    results: list[BulkDone | BulkRefused] = Field(description="one per bundle, in order")


def queue_csv_example() -> str:
    """The CSV of the ``Queue`` example's bundle (its finding an error), without the BOM."""
    item = _QUEUE_ITEM
    cells = {
        **item,
        "regime": item["direction"] + item["regime"],
        "errors": " ".join(item["rules"]),
        "warnings": "",
        "missing": " ".join(item["missing"]),
        "firstSeenAtBeijing": beijing(item["firstSeenAt"]),
        "decidedAtBeijing": beijing(item["decidedAt"]),
    }
    out = io.StringIO()
    writer = csv.writer(out, dialect="excel")
    writer.writerow(COLUMNS)
    writer.writerow([cells[name] for name in COLUMNS])
    return out.getvalue()
