"""The webhooks page of the review UI, for operators: every subscription with its state and
last error, and the button that resumes a paused one (audited under the operator's name,
through the same function as ``POST /v1/webhooks/{id}/resume``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from service.api.deps import ServicesDep
from service.errors import NotFound
from service.queue import webhook_subscriptions as subscriptions
from service.security.keys import Caller
from service.web import session
from service.web.access import OperatorPage
from service.web.i18n import text
from service.web.pages import field, render

router = APIRouter(prefix="/review", include_in_schema=False)


async def _page(
    request: Request, services: ServicesDep, me: Caller, status: int = 200, error: str = ""
) -> Response:
    rows = await subscriptions.listed(services.db, me)
    return render(
        request,
        "webhooks.html",
        status,
        webhooks=[subscriptions.subscription_json(r) for r in rows],
        error=error or None,
        resumed=request.query_params.get("resumed"),
    )


@router.get("/webhooks")
async def webhooks(request: Request, services: ServicesDep, me: OperatorPage) -> Response:
    return await _page(request, services, me)


@router.post("/webhooks/{webhook_id}/resume")
async def resume(
    request: Request, services: ServicesDep, me: OperatorPage, webhook_id: int
) -> Response:
    form = await request.form()
    lang = session.language(request)
    if not session.csrf_ok(request, field(form, "csrf")):
        return await _page(request, services, me, 403, text("csrf", lang))
    try:
        await subscriptions.resume(services.db, me, webhook_id)
    except NotFound:
        return await _page(request, services, me, 404, text("no_webhook", lang))
    services.webhooks.subscriptions_changed()  # this process's deliverer tries at once
    return RedirectResponse(f"/review/webhooks?resumed={webhook_id}", status_code=303)
