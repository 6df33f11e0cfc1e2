"""GET /v1/receipts: the caller's receipts by cursor, with long poll (SPEC §10)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import CallerDep, ServicesDep
from service.api.openapi import problem_answers
from service.queue.receipts import receipt_json, receipts_xml

router = APIRouter(tags=["receipts"])

_XML_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<sandan:Receipts xmlns:sandan="urn:sandan:receipts" next="8">
<sandan:Receipt seq="8">
<ceb:CEB622Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="..." version="1.0">
  <ceb:InventoryReturn>
    <ceb:guid>4CDE1CFD-EDED-46B1-946C-B8022E42FC94</ceb:guid>
    ...
    <ceb:returnStatus>800</ceb:returnStatus>
    <ceb:returnTime>20261111080000123</ceb:returnTime>
    <ceb:returnInfo>放行 released</ceb:returnInfo>
  </ceb:InventoryReturn>
</ceb:CEB622Message>
</sandan:Receipt>
</sandan:Receipts>
"""


class Receipt(BaseModel):
    seq: int = Field(description="strictly increasing, without gaps across all recipients")
    messageType: str = Field(description="the receipt's CEB message, e.g. CEB312Message")
    guid: str = Field(description="the document the receipt is about")
    invtNo: str | None = Field(description="the consignment's 清单编号, once assigned")
    returnStatus: str = Field(description="120 entered, 100 退单, -1 unprocessable, 800 放行")
    returnTime: str = Field(description="YYYYMMDDhhmmssSSS, Beijing time")
    returnInfo: str


class ReceiptPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "receipts": [
                        {
                            "seq": 8,
                            "messageType": "CEB622Message",
                            "guid": "4CDE1CFD-EDED-46B1-946C-B8022E42FC94",
                            "invtNo": "29242026I000000001",
                            "returnStatus": "800",
                            "returnTime": "20261111080000123",
                            "returnInfo": "放行 released",
                        }
                    ],
                    "next": 8,
                }
            ]
        }
    )
    receipts: list[Receipt]
    next: int = Field(description="the cursor to pass as `after` next time")


@router.get(
    "/v1/receipts",
    summary="The caller's receipts after a cursor",
    description=(
        "Every receipt Sandan issued to one of the key's enterprise codes, in `seq` order: "
        "the intake receipt of each document it sent (a replay adds none) and, for the "
        "sender of an inventory, the decision receipts (CEB622 / CEB604: `800` on a release, "
        "`100` on an exception or an operator's reject, naming the rules). Delivery is "
        "at-least-once and nothing is skipped: the same cursor gives the same receipts. "
        "With `Accept: application/xml` the page is a `sandan:Receipts` document "
        "(namespace `urn:sandan:receipts`, attribute `next`) holding one `sandan:Receipt "
        "seq=...` per receipt, each wrapping the complete CEB return message, valid "
        "against the customs schema, whose guid is the same at every read."
    ),
    response_model=ReceiptPage,
    responses={
        200: {
            "content": {"application/xml": {"schema": {"type": "string"}, "example": _XML_EXAMPLE}}
        },
        **problem_answers(401, 503),
    },
)
async def get_receipts(
    request: Request,
    caller: CallerDep,
    services: ServicesDep,
    after: Annotated[int, Query(ge=0, description="return receipts with seq > after")] = 0,
    limit: Annotated[int, Query(ge=1, description="at most this many receipts")] = 100,
    wait: Annotated[float, Query(ge=0, description="long poll: seconds to wait for one")] = 0,
) -> Any:
    settings = services.settings
    rows, nxt = await services.receipts.read(
        after,
        min(limit, settings.manifest_max_limit),
        min(wait, settings.manifest_max_wait_seconds),
        caller.codes,
    )
    if "application/xml" in request.headers.get("accept", ""):
        return Response(receipts_xml(rows, nxt), media_type="application/xml")
    return {"receipts": [receipt_json(r) for r in rows], "next": nxt}
