"""The bundle (SPEC §6.2), the ingest answer (§6.1) and the manifest page (§6.3)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas.common import (
    FINDING_EXAMPLE,
    Finding,
    ManifestEntry,
    State,
    example,
)

Kind = Literal["order", "payment", "logistics", "inventory", "cancel", "return"]
# what ingest answers for: a bundle's documents, the summary (CEB701) and the movement ones
AnswerKind = Literal[
    "order",
    "payment",
    "logistics",
    "inventory",
    "cancel",
    "return",
    "summary",
    "arrival",
    "masterbill",
    "departure",
]

_DOC_KEY = {"ebpCode": "3301960001", "orderNo": "SD2026111100000001"}


class DocumentError(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str = Field(description="SCHEMA_INVALID, SENDER_MISMATCH, SIGNATURE_INVALID, ...")
    path: str | None = Field(default=None, description="where in the document, when known")
    message: str


class DocumentAnswer(BaseModel):
    guid: str
    kind: AnswerKind
    key: dict[str, str] = Field(
        description="the bundle key fields the document carries (ebpCode, orderNo, "
        "logisticsCode, logisticsNo), and invtNo once assigned; a summary's ebcCode and "
        "copNo, and its sumNo once accepted"
    )
    status: Literal["accepted", "duplicate", "rejected"]
    returnStatus: str = Field(description='"120" accepted, "100" refused, "-..." unprocessable')
    errors: list[DocumentError]


class MessageHead(BaseModel):
    guid: str
    type: str = Field(description="the CEB message type, e.g. CEB311Message")


class IngestAnswer(BaseModel):
    """One result per document of the message, in its order."""

    model_config = example(
        {
            "message": {"guid": "9A1B2C3D-0000-4000-8000-00000000A311", "type": "CEB311Message"},
            "documents": [
                {
                    "guid": "4CDE1CFD-EDED-46B1-946C-B8022E42FC94",
                    "kind": "order",
                    "key": _DOC_KEY,
                    "status": "accepted",
                    "returnStatus": "120",
                    "errors": [],
                },
                {
                    "guid": "5DEF2D0E-FEFE-47C2-A57D-C9133F53AD05",
                    "kind": "order",
                    "key": {"ebpCode": "3301960001", "orderNo": "SD2026111100000002"},
                    "status": "rejected",
                    "returnStatus": "100",
                    "errors": [
                        {
                            "code": "SCHEMA_INVALID",
                            "path": "/ceb:CEB311Message/ceb:Order[2]/ceb:OrderHead/ceb:goodsValue",
                            "message": "'abc' is not a valid value of the decimal type",
                        }
                    ],
                },
            ],
        }
    )
    message: MessageHead
    documents: list[DocumentAnswer]


class ManifestPage(BaseModel):
    model_config = example(
        {"entries": ManifestEntry.model_config["json_schema_extra"]["examples"], "next": 42}  # type: ignore[index]
    )
    entries: list[ManifestEntry]
    next: int = Field(description="the cursor to pass as `after` next time")


class Regime(BaseModel):
    declared: str | None = Field(description="the inventory's tradeMode, as declared")
    classified: str | None = Field(description="what the documents present say it is")


class StoredDocument(BaseModel):
    guid: str
    messageType: str
    appType: str | None = Field(description="1 new, 2 change, 3 delete")
    appTime: str | None
    receivedAt: str | None
    signature: str = Field(description="absent, unverified, verified, ...")
    signatureSerial: str | None
    key: dict[str, str]


class ReturnLine(BaseModel):
    gnum: int
    qty: str
    value: str


class Return(BaseModel):
    invtNo: str
    at: str | None
    value: str = Field(description="decimal string, the lines' sum")
    lines: list[ReturnLine]


class HistoryEvent(BaseModel):
    """One event; the detail keys shown depend on the event (document, decision, action)."""

    model_config = ConfigDict(extra="allow")
    at: str | None
    version: int
    event: str = Field(description="document, decision, action, cancel, return, ...")


_DOCUMENT_EXAMPLE = {
    "guid": "2D4F58FD-5935-4D17-89C1-7835F1FC13CE",
    "messageType": "CEB311Message",
    "appType": "1",
    "appTime": "20261111000000",
    "receivedAt": "2026-11-11T00:00:01.778811Z",
    "signature": "absent",
    "signatureSerial": None,
    "key": _DOC_KEY,
}

BUNDLE_EXAMPLE = {
    **_DOC_KEY,
    "direction": "I",
    "regime": {"declared": "1210", "classified": "1210"},
    "state": "exception",
    "version": 2,
    "invtNo": "29242026I000000003",
    "documents": {"order": _DOCUMENT_EXAMPLE},
    "missing": ["payment", "logistics", "inventory"],
    "findings": [FINDING_EXAMPLE],
    "deadline": "2026-11-12T00:00:01.778811Z",
    "decidedAt": "2026-11-11T00:00:03.101010Z",
    "cancelledAt": None,
    "returns": [],
    "decisions": [],
    "history": [
        {
            "at": "2026-11-11T00:00:01.778811Z",
            "version": 1,
            "event": "document",
            "kind": "order",
            "guid": "2D4F58FD-5935-4D17-89C1-7835F1FC13CE",
            "appType": "1",
            "appTime": "20261111000000",
            "messageType": "CEB311Message",
        }
    ],
}


class Bundle(BaseModel):
    model_config = example(BUNDLE_EXAMPLE)
    ebpCode: str
    orderNo: str
    direction: Literal["I", "E"]
    regime: Regime
    state: State
    version: int = Field(description="pass it back with an operator action")
    invtNo: str | None
    documents: dict[str, StoredDocument] = Field(description="kind -> the current document")
    missing: list[str] = Field(description="kinds the regime needs and the bundle lacks")
    findings: list[Finding]
    deadline: str | None
    decidedAt: str | None
    cancelledAt: str | None
    returns: list[Return]
    decisions: list[ManifestEntry]
    history: list[HistoryEvent]
