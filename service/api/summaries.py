"""Export summaries (汇总申报, SPEC §10): GET /v1/summaries/proposal and
GET /v1/summaries/{sumNo}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from service.api.deps import CallerDep, ServicesDep
from service.api.openapi import answers
from service.api.schemas.summaries import Summary, SummaryProposal, summary_xml_example
from service.engine.summary_view import load_summary, proposal, summary_json, summary_xml
from service.errors import NotFound

router = APIRouter(tags=["summaries"])
CEB792 = {
    "application/xml": {
        "schema": {"type": "string", "description": "the CEB792Message (汇总结果单)"},
        "example": summary_xml_example(),
    }
}


@router.get(
    "/v1/summaries/proposal",
    summary="What an ebc could summarise: its released lists of a period and their groups",
    description=(
        "The released or closed export retail lists (9610 / 1210) of `ebcCode` released "
        "between `from` and `to` (YYYY-MM-DD, inclusive, Beijing time) that no summary holds "
        "yet, with the groups a CEB701 naming them would form. `itemNameFlag=1` and "
        "`summaryFlag=2` group as the CEB701 head fields of the same names would."
    ),
    **answers(SummaryProposal, 401, 422),
)
async def get_proposal(
    caller: CallerDep,
    services: ServicesDep,
    ebc_code: Annotated[str, Query(alias="ebcCode")] = "",
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    item_name_flag: Annotated[str | None, Query(alias="itemNameFlag")] = None,
    summary_flag: Annotated[str | None, Query(alias="summaryFlag")] = None,
) -> dict[str, Any]:
    async with services.db.read() as conn:
        return await proposal(
            conn,
            caller,
            ebc_code,
            start,
            end,
            by_item_name=item_name_flag == "1",
            by_owner=summary_flag == "2",
        )


@router.get(
    "/v1/summaries/{sum_no}",
    summary="One export summary (JSON, or its CEB792 with Accept: application/xml)",
    **answers(
        Summary,
        401,
        404,
        description="The summary as JSON, or with `Accept: application/xml` its CEB792 message",
        media=CEB792,
    ),
)
async def get_summary(
    sum_no: str, request: Request, caller: CallerDep, services: ServicesDep
) -> Any:
    async with services.db.read() as conn:
        summary = await load_summary(conn, sum_no, caller)
    if summary is None:
        # the same answer for "absent" and "not yours"
        raise NotFound(f"no summary {sum_no}")
    if "application/xml" in request.headers.get("accept", ""):
        return Response(summary_xml(summary), media_type="application/xml")
    return summary_json(summary, summary["inventories"])
