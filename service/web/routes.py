"""The review pages: sign-in, the queue, a bundle, actions, the dashboard, the action log.

Every page reads through ``engine.review_view`` and every action goes through
``engine.review.perform``, the very functions behind the JSON API. Forms post with the session's
CSRF token; ``service.web.access`` decides who may open a page (an operator whose key still
works), sending anyone else to the sign-in form.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from service.api.deps import ServicesDep
from service.clock import utcnow
from service.engine import review, review_view
from service.errors import ActionNotAllowed, InvalidRequest, NotFound, VersionConflict
from service.security.keys import Caller
from service.store.review import STATES as BUNDLE_STATES
from service.web import charts, history, session
from service.web.access import REVIEW_ROLES, OperatorPage, to_login
from service.web.i18n import text
from service.web.pages import field, home, render

router = APIRouter(prefix="/review", include_in_schema=False)

REGIMES = ("I9610", "I1210", "I1239", "E9610", "E1210", "E9710", "E9810")
STATES = (*BUNDLE_STATES, "all")
# The manifest decisions in the order the dashboard stacks them (SPEC §6.3, §10).
DECISIONS = ("release", "exception", "reject", "cancel", "return", "close")


def _bundle_url(ebp_code: str, order_no: str) -> str:
    return f"/review/bundles/{quote(ebp_code, safe='')}/{quote(order_no, safe='')}"


# --- sign-in ---------------------------------------------------------------------------


ENDED = ("revoked", "expired")


@router.get("/login")
async def login_form(request: Request) -> Response:
    ended = request.query_params.get("ended")
    return render(request, "login.html", ended=ended if ended in ENDED else None)


@router.post("/login")
async def login(request: Request, services: ServicesDep) -> Response:
    form = await request.form()
    if not session.csrf_ok(request, field(form, "csrf")):
        return render(request, "login.html", 403, error="csrf")
    key = (field(form, "key") or "").strip()
    caller = await services.keys.resolve(key) if key else None
    if caller is None:
        return render(request, "login.html", 401, error="login_failed")
    if not caller.has_any(REVIEW_ROLES):
        return render(request, "login.html", 403, error="no_review_role")
    session.sign_in(request, caller)
    return RedirectResponse(home(caller), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    if session.csrf_ok(request, field(form, "csrf")):
        session.sign_out(request)
    return to_login()


# --- the queue -------------------------------------------------------------------------


@router.get("")
async def queue(request: Request, services: ServicesDep, me: OperatorPage) -> Response:
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    try:
        f, page, size = review_view.parse_filter(params)
    except InvalidRequest as exc:
        return render(request, "error.html", 422, message=exc.message)
    async with services.db.read() as conn:
        result = await review_view.queue(conn, f, page, size, utcnow())

    def with_page(n: int) -> str:
        return "/review?" + urlencode({**params, "page": str(n)})

    def with_rule(code: str) -> str:
        return "/review?" + urlencode({**params, "rule": code, "page": "1"})

    return render(
        request,
        "queue.html",
        result=result,
        params=params,
        regimes=REGIMES,
        states=STATES,
        rules=review_view.collision_rules(),
        with_page=with_page,
        with_rule=with_rule,
        bundle_url=_bundle_url,
    )


# --- one bundle ------------------------------------------------------------------------


async def _bundle_page(
    request: Request,
    services: ServicesDep,
    me: Caller,
    ebp_code: str,
    order_no: str,
    status: int = 200,
    error: str | None = None,
    reason: str = "",
) -> Response:
    async with services.db.read() as conn:
        view = await review_view.review_bundle(conn, ebp_code, order_no, me)
    if view is None:
        return render(
            request, "error.html", 404, message=text("not_found", session.language(request))
        )
    return render(
        request,
        "bundle.html",
        status,
        b=view,
        kinds=review_view.KINDS,
        mismatched=review_view.mismatched_fields(view["comparisons"]),
        # what the bundle's state allows, as engine.review judges it (none once cancelled)
        actions=[a.value for a, move in review.MOVES.items() if view["state"] in move.from_states],
        events=history.events(view["history"]),
        item_names=history.item_names(view["sides"]),
        returned_total=history.returned_total(view["returns"]),
        error=error,
        reason=reason,
        done=request.query_params.get("done"),
        action_url=_bundle_url(ebp_code, order_no) + "/actions",
        here=_bundle_url(ebp_code, order_no),
    )


@router.get("/bundles/{ebp_code}/{order_no:path}")
async def bundle(
    request: Request, services: ServicesDep, me: OperatorPage, ebp_code: str, order_no: str
) -> Response:
    return await _bundle_page(request, services, me, ebp_code, order_no)


@router.post("/bundles/{ebp_code}/{order_no:path}/actions")
async def act(
    request: Request, services: ServicesDep, me: OperatorPage, ebp_code: str, order_no: str
) -> Response:
    form = await request.form()
    reason = field(form, "reason") or ""
    if not session.csrf_ok(request, field(form, "csrf")):
        lang = session.language(request)
        return await _bundle_page(
            request, services, me, ebp_code, order_no, 403, text("csrf", lang), reason
        )
    version = field(form, "version") or ""
    try:
        if not version.isdigit():
            raise InvalidRequest("the form lacks the bundle version", field="version")
        done = await review.perform(
            services.db,
            ebp_code,
            order_no,
            field(form, "action") or "",
            reason,
            int(version),
            me,
            services.notifier.notify,
        )
    except VersionConflict:
        lang = session.language(request)
        return await _bundle_page(
            request, services, me, ebp_code, order_no, 409, text("stale", lang), reason
        )
    except (InvalidRequest, ActionNotAllowed, NotFound) as exc:
        return await _bundle_page(
            request, services, me, ebp_code, order_no, exc.status, exc.message, reason
        )
    return RedirectResponse(
        _bundle_url(ebp_code, order_no) + f"?done={done.action}", status_code=303
    )


# --- dashboard and action log ----------------------------------------------------------


@router.get("/dashboard")
async def dashboard(request: Request, services: ServicesDep, me: OperatorPage) -> Response:
    # The charts are drawn in the page's language: a ?lang= switch counts from this page on.
    session.set_language(request, request.query_params.get("lang"))
    lang = session.language(request)
    async with services.db.read() as conn:
        data = await review_view.dashboard(conn, utcnow())
    mix_rows = [
        (row["regime"], {k: v for k, v in row.items() if k != "regime"})
        for row in data["decisionMix"]
    ]
    figures = {
        "throughput": charts.columns(
            [(p["minute"], p["documents"]) for p in data["throughput"]], text("throughput", lang)
        ),
        "decision_mix": charts.stacked(
            mix_rows,
            DECISIONS,
            text("decision_mix", lang),
            {d: text(f"{d}_d", lang) for d in DECISIONS},
        ),
        "states": charts.bars(
            [(text(s["state"], lang), s["bundles"]) for s in data["bundlesByState"]],
            text("bundles_by_state", lang),
        ),
        "top_rules": charts.bars(
            [(r["code"], r["bundles"]) for r in data["topRules"]], text("top_rules", lang)
        ),
        "pending_age": charts.bars(
            [(a["age"], a["bundles"]) for a in data["pendingByAge"]], text("pending_age", lang)
        ),
    }
    return render(request, "dashboard.html", figures=figures, data=data)


@router.get("/actions")
async def actions(request: Request, services: ServicesDep, me: OperatorPage) -> Response:
    async with services.db.read() as conn:
        rows = await review_view.recent_actions(conn, 200)
    return render(request, "actions.html", rows=rows, bundle_url=_bundle_url)
