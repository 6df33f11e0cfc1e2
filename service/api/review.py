"""The review JSON API (SPEC §6.4), operators only: the queue, one bundle, actions, the
dashboard. The web UI (service/web) calls the same engine functions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from service.api.deps import OperatorDep, ServicesDep
from service.api.openapi import answers
from service.api.schemas.review import (
    ActionDone,
    Actions,
    BulkOutcome,
    Dashboard,
    Queue,
    ReviewBundle,
    queue_csv_example,
)
from service.clock import utcnow
from service.engine import review, review_bulk, review_export, review_view
from service.errors import NotFound

router = APIRouter(tags=["review"])


class ActionRequest(BaseModel):
    action: str = Field(description="release | reject | reopen")
    reason: str | None = Field(default=None, description="why; required")
    version: int = Field(description="the bundle version the decision was made on")


@router.get(
    "/v1/review/exceptions",
    summary="The exception queue, filtered, by age",
    **answers(Queue, 401, 403, 422),
)
async def get_queue(
    request: Request,
    operator: OperatorDep,
    services: ServicesDep,
    state: Annotated[str, Query(description="exception (default), pending, ..., or all")] = "",
    regime: Annotated[str, Query(description='"I9610", "E9710" or a bare code')] = "",
    rule: Annotated[str, Query(description="a finding code")] = "",
    enterprise: Annotated[str, Query(description="any party code")] = "",
    q: Annotated[str, Query(description="the start of an order, waybill or invt number")] = "",
) -> dict[str, Any]:
    # `from`, `to`, `sort`, `page` and `size` are read from the query string as well.
    params = dict(request.query_params)
    f, page, size = review_view.parse_filter(params)
    async with services.db.read() as conn:
        return await review_view.queue(conn, f, page, size, utcnow())


def csv_download(services: ServicesDep, params: dict[str, str]) -> StreamingResponse:
    """The queue under ``params`` as a CSV download (the API's and the review page's)."""
    f, _, _ = review_view.parse_filter(params)
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        _encoded(review_export.queue_csv(services.db, f)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sandan-queue-{stamp}.csv"'},
    )


async def _encoded(chunks: AsyncIterator[str]) -> AsyncIterator[bytes]:
    async for text in chunks:
        yield text.encode("utf-8")


@router.get(
    "/v1/review/exceptions.csv",
    summary="The exception queue as CSV: every bundle the filters select",
    response_class=StreamingResponse,
    **answers(
        None,
        401,
        403,
        422,
        description="UTF-8 CSV with a byte order mark (for Excel), the header first; "
        "a download (Content-Disposition)",
        media={
            "text/csv": {
                "schema": {"type": "string", "description": "one row per bundle"},
                "example": queue_csv_example(),
            }
        },
    ),
)
async def get_queue_csv(
    request: Request, operator: OperatorDep, services: ServicesDep
) -> StreamingResponse:
    # The queue's filters (state, regime, rule, enterprise, q, from, to, sort); no paging.
    return csv_download(services, dict(request.query_params))


class BulkBundle(BaseModel):
    ebpCode: str
    orderNo: str
    version: int = Field(description="the bundle version the decision was made on")


class BulkRequest(BaseModel):
    action: str = Field(description="release | reject")
    reason: str | None = Field(default=None, description="why; required, one for all")
    bundles: list[BulkBundle] = Field(description=f"at most {review_bulk.MAX_BUNDLES}")


@router.post(
    "/v1/review/bulk",
    summary="Release or reject many bundles with one reason, each audited as a single action",
    **answers(BulkOutcome, 401, 403, 422),
)
async def post_bulk(
    body: BulkRequest, operator: OperatorDep, services: ServicesDep
) -> dict[str, Any]:
    targets = [review_bulk.Target(b.ebpCode, b.orderNo, b.version) for b in body.bundles]
    results = await review_bulk.perform(
        services.db, body.action, body.reason, targets, operator, services.notifier.notify
    )
    return {
        "action": body.action,
        "done": sum(r["outcome"] == "done" for r in results),
        "refused": sum(r["outcome"] == "refused" for r in results),
        "results": results,
    }


@router.get(
    "/v1/review/dashboard",
    summary="Throughput, decision mix, top rules, pending by age",
    **answers(Dashboard, 401, 403),
)
async def get_dashboard(
    request: Request, operator: OperatorDep, services: ServicesDep
) -> dict[str, Any]:
    # `from` and `to`: inclusive Beijing calendar days, as the queue's.
    since, until = review_view.parse_days(dict(request.query_params))
    async with services.db.read() as conn:
        return await review_view.dashboard(conn, utcnow(), since, until)


@router.get(
    "/v1/review/actions",
    summary="The audit trail, newest first",
    **answers(Actions, 401, 403, 422),
)
async def get_actions(
    operator: OperatorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    async with services.db.read() as conn:
        return {"actions": await review_view.recent_actions(conn, limit)}


@router.get(
    "/v1/review/bundles/{ebp_code}/{order_no:path}",
    summary="One bundle for review: fields, masked XML, compared pairs, audit trail",
    **answers(ReviewBundle, 401, 403, 404),
)
async def get_review_bundle(
    ebp_code: str, order_no: str, operator: OperatorDep, services: ServicesDep
) -> dict[str, Any]:
    async with services.db.read() as conn:
        view = await review_view.review_bundle(conn, ebp_code, order_no, operator)
    if view is None:
        raise NotFound(f"no bundle {ebp_code}/{order_no}")
    return view


@router.post(
    "/v1/bundles/{ebp_code}/{order_no:path}/actions",
    summary="Release (override), reject or reopen a bundle, with a reason",
    **answers(ActionDone, 401, 403, 404, 409, 422),
)
async def post_action(
    ebp_code: str,
    order_no: str,
    body: ActionRequest,
    operator: OperatorDep,
    services: ServicesDep,
) -> dict[str, Any]:
    done = await review.perform(
        services.db,
        ebp_code,
        order_no,
        body.action,
        body.reason,
        body.version,
        operator,
        services.notifier.notify,
    )
    return {
        "action": done.action,
        "seq": done.seq,
        "state": done.state,
        "version": done.version,
        "auditId": done.audit_id,
    }
