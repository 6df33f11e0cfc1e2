"""The review JSON API (SPEC §6.4), operators only: the queue, one bundle, actions, the
dashboard. The web UI (service/web) calls the same engine functions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from service.api.deps import OperatorDep, ServicesDep
from service.api.openapi import answers
from service.api.schemas.review import ActionDone, Actions, Dashboard, Queue, ReviewBundle
from service.clock import utcnow
from service.engine import review, review_view
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
    q: Annotated[str, Query(description="order number or waybill number")] = "",
) -> dict[str, Any]:
    # `from`, `to`, `sort`, `page` and `size` are read from the query string as well.
    params = dict(request.query_params)
    f, page, size = review_view.parse_filter(params)
    async with services.db.read() as conn:
        return await review_view.queue(conn, f, page, size, utcnow())


@router.get(
    "/v1/review/dashboard",
    summary="Throughput, decision mix, top rules, pending by age",
    **answers(Dashboard, 401, 403),
)
async def get_dashboard(operator: OperatorDep, services: ServicesDep) -> dict[str, Any]:
    async with services.db.read() as conn:
        return await review_view.dashboard(conn, utcnow())


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
