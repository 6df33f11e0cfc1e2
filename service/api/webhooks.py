"""Webhooks: a warehouse's manifest entries POSTed to its URL instead of polled (issue 15).

``POST /v1/webhooks`` (warehouse key) answers the subscription with its signing ``secret``,
shown this once; ``GET`` lists or shows subscriptions without it. A warehouse sees and changes
its own (by enterprise code), an operator sees and resumes every one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from service.api.deps import CallerDep, ServicesDep
from service.api.openapi import answers
from service.api.schemas.webhooks import (
    CreatedSubscription,
    Deliveries,
    Subscription,
    Subscriptions,
)
from service.queue import webhook_subscriptions as subscriptions
from service.queue.webhook_subscriptions import delivery_json, subscription_json

router = APIRouter(tags=["webhooks"])


class WebhookRequest(BaseModel):
    url: str = Field(description="http:// or https:// URL the entries are POSTed to")
    after: int | None = Field(
        default=None,
        ge=0,
        description="deliver entries with seq > after (default: the manifest's current end)",
    )


@router.post(
    "/v1/webhooks",
    summary="Subscribe to the manifest by webhook",
    **answers(
        CreatedSubscription,
        401,
        403,
        422,
        status=201,
        description="Created; the signing secret is shown this once",
    ),
)
async def create_webhook(
    body: WebhookRequest, caller: CallerDep, services: ServicesDep
) -> dict[str, Any]:
    created = await subscriptions.create(
        services.db, services.settings, caller, body.url, body.after
    )
    services.webhooks.subscriptions_changed()  # this process's deliverer looks at once
    return created


@router.get(
    "/v1/webhooks", summary="The caller's webhook subscriptions", **answers(Subscriptions, 401)
)
async def list_webhooks(caller: CallerDep, services: ServicesDep) -> dict[str, Any]:
    rows = await subscriptions.listed(services.db, caller)
    return {"webhooks": [subscription_json(r) for r in rows]}


@router.get(
    "/v1/webhooks/{webhook_id}",
    summary="One webhook subscription",
    **answers(Subscription, 401, 404, 422),
)
async def get_webhook(webhook_id: int, caller: CallerDep, services: ServicesDep) -> dict[str, Any]:
    return subscription_json(await subscriptions.find(services.db, caller, webhook_id))


@router.delete(
    "/v1/webhooks/{webhook_id}",
    status_code=204,
    summary="Delete a subscription",
    **answers(None, 401, 404, 422),
)
async def delete_webhook(webhook_id: int, caller: CallerDep, services: ServicesDep) -> Response:
    await subscriptions.remove(services.db, caller, webhook_id)
    return Response(status_code=204)


@router.post(
    "/v1/webhooks/{webhook_id}/resume",
    summary="Resume a paused subscription",
    **answers(Subscription, 401, 404, 422),
)
async def resume_webhook(
    webhook_id: int, caller: CallerDep, services: ServicesDep
) -> dict[str, Any]:
    row = await subscriptions.resume(services.db, caller, webhook_id)
    services.webhooks.subscriptions_changed()  # this process's deliverer tries at once
    return subscription_json(row)


@router.get(
    "/v1/webhooks/{webhook_id}/deliveries",
    summary="Delivery attempts, newest first",
    **answers(Deliveries, 401, 404, 422),
)
async def list_deliveries(
    webhook_id: int,
    caller: CallerDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, description="attempts with id < before")] = None,
) -> dict[str, Any]:
    rows = await subscriptions.deliveries(services.db, caller, webhook_id, limit, before)
    return {"deliveries": [delivery_json(r) for r in rows]}
