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
from service.api.review import csv_download
from service.clock import beijing, utcnow
from service.engine import review, review_bulk, review_view
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
DECISIONS = ("release", "exception", "reject", "cancel", "return")
SEVERITIES = ("error", "warning")


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

    filters = {k: v for k, v in params.items() if k not in ("page", "size") and v}
    return render(
        request,
        "queue.html",
        result=result,
        params=params,
        csv_url="/review/exceptions.csv" + ("?" + urlencode(filters) if filters else ""),
        back=urlencode(params),
        regimes=REGIMES,
        states=STATES,
        rules=review_view.collision_rules(),
        with_page=with_page,
        with_rule=with_rule,
        bundle_url=_bundle_url,
    )


@router.get("/exceptions.csv")
async def queue_csv(request: Request, services: ServicesDep, me: OperatorPage) -> Response:
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    try:
        return csv_download(services, params)
    except InvalidRequest as exc:
        return render(request, "error.html", 422, message=exc.message)


def _targets(values: list[str]) -> list[review_bulk.Target]:
    """The ticked boxes: each ``version:ebpCode:orderNo`` (an order number may hold colons)."""
    out = []
    for value in values:
        version, _, rest = value.partition(":")
        ebp_code, _, order_no = rest.partition(":")
        if not version.isdigit() or not ebp_code or not order_no:
            raise InvalidRequest("the form names a bundle it cannot read", field="bundle")
        out.append(review_bulk.Target(ebp_code, order_no, int(version)))
    return out


@router.post("/bulk")
async def bulk(request: Request, services: ServicesDep, me: OperatorPage) -> Response:
    form = await request.form()
    back = "/review?" + (field(form, "back") or "")
    action = field(form, "action") or ""
    if not session.csrf_ok(request, field(form, "csrf")):
        lang = session.language(request)
        return render(request, "bulk.html", 403, error=text("csrf", lang), back=back)
    try:
        chosen = [v for v in form.getlist("bundle") if isinstance(v, str)]
        results = await review_bulk.perform(
            services.db,
            action,
            field(form, "reason"),
            _targets(chosen),
            me,
            services.notifier.notify,
        )
    except InvalidRequest as exc:
        return render(request, "bulk.html", exc.status, error=exc.message, back=back)
    return render(
        request,
        "bulk.html",
        action=action,
        results=results,
        back=back,
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
    params = {k: v for k, v in request.query_params.items() if k in ("from", "to") and v}
    try:
        since, until = review_view.parse_days(params)
    except InvalidRequest as exc:
        return render(request, "error.html", 422, message=exc.message)
    async with services.db.read() as conn:
        data = await review_view.dashboard(conn, utcnow(), since, until)
    mix_rows = [
        (row["regime"], {k: v for k, v in row.items() if k != "regime"})
        for row in data["decisionMix"]
    ]
    figures = {
        # the minutes in Beijing time, as every time of the UI
        "throughput": charts.columns(
            [(beijing(p["minute"] + ":00Z")[:16], p["documents"]) for p in data["throughput"]],
            text("throughput", lang),
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
        "top_rules": charts.stacked(
            [
                (r["code"], {"error": r["errors"], "warning": r["warnings"]})
                for r in data["topRules"]
            ],
            SEVERITIES,
            text("top_rules", lang),
            {s: text(f"severity_{s}", lang) for s in SEVERITIES},
            label_width=220,
        ),
        "pending_age": charts.bars(
            [(a["age"], a["bundles"]) for a in data["pendingByAge"]], text("pending_age", lang)
        ),
    }

    def in_queue(**more: str) -> str:
        return "/review?" + urlencode({**params, **more})

    return render(
        request, "dashboard.html", figures=figures, data=data, params=params, in_queue=in_queue
    )


@router.get("/actions")
async def actions(request: Request, services: ServicesDep, me: OperatorPage) -> Response:
    async with services.db.read() as conn:
        rows = await review_view.recent_actions(conn, 200)
    return render(request, "actions.html", rows=rows, bundle_url=_bundle_url)
