"""The review API's answers (SPEC §6.4)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas.bundles import BUNDLE_EXAMPLE, Bundle
from service.api.schemas.common import Side, State, example


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


class Queue(BaseModel):
    model_config = example(
        {
            "items": [
                {
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
            ],
            "total": 1,
            "page": 1,
            "size": 20,
            "pages": 1,
            "counts": {"INVENTORY_PARTIES": 1},
        }
    )
    items: list[QueueItem]
    total: int
    page: int
    size: int
    pages: int
    counts: dict[str, int] = Field(description="rule code -> bundles, most frequent first")


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
    bundles: int


class AgeBand(BaseModel):
    age: Literal["<1h", "1–6h", "6–24h", ">24h"]
    bundles: int


class Dashboard(BaseModel):
    model_config = example(
        {
            "throughput": [{"minute": "2026-11-11 00:00", "documents": 75}],
            "decisionMix": [{"regime": "I1210", "exception": 3, "release": 5}],
            "bundlesByState": [{"state": "exception", "bundles": 5}],
            "topRules": [{"code": "TAX_TOTAL", "bundles": 2}],
            "pendingByAge": [{"age": "<1h", "bundles": 4}, {"age": ">24h", "bundles": 0}],
        }
    )
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
