"""The review pages: sign-in, the queue, a bundle, actions, the dashboard, the action log.

Every page reads through ``engine.review_view`` and every action goes through
``engine.review.perform``, the very functions behind the JSON API. Forms post with the session's
CSRF token; a page without a signed-in operator sends the browser to the sign-in form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from service.api.deps import ServicesDep
from service.clock import utcnow
from service.engine import review, review_view
from service.errors import ActionNotAllowed, InvalidRequest, NotFound, VersionConflict
from service.messages.registry import Role
from service.security.keys import Caller
from service.web import charts, session
from service.web.i18n import text

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["urlpart"] = lambda value: quote(str(value), safe="")

router = APIRouter(prefix="/review", include_in_schema=False)

REGIMES = ("I9610", "I1210", "I1239", "E9610", "E1210", "E9710", "E9810")
STATES = ("exception", "pending", "released", "rejected", "all")


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    session.set_language(request, request.query_params.get("lang"))
    lang = session.language(request)
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": lambda key: text(key, lang),
            "csrf": session.csrf_token(request),
            "me": session.operator(request),
            # where the language switch leads: this page (a form's answer names its page)
            "here": request.url.path,
            **context,
        },
        status_code=status,
    )


def _to_login(request: Request) -> RedirectResponse:
    return RedirectResponse("/review/login", status_code=303)


def _bundle_url(ebp_code: str, order_no: str) -> str:
    return f"/review/bundles/{quote(ebp_code, safe='')}/{quote(order_no, safe='')}"


# --- sign-in ---------------------------------------------------------------------------


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _page(request, "login.html")


@router.post("/login")
async def login(request: Request, services: ServicesDep) -> Response:
    form = await request.form()
    if not session.csrf_ok(request, _field(form, "csrf")):
        return _page(request, "login.html", 403, error="csrf")
    key = (_field(form, "key") or "").strip()
    caller = await services.keys.resolve(key) if key else None
    if caller is None:
        return _page(request, "login.html", 401, error="login_failed")
    if Role.OPERATOR not in caller.roles:
        return _page(request, "login.html", 403, error="not_operator")
    session.sign_in(request, caller)
    return RedirectResponse("/review", status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    if session.csrf_ok(request, _field(form, "csrf")):
        session.sign_out(request)
    return _to_login(request)


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


# --- the queue -------------------------------------------------------------------------


@router.get("")
async def queue(request: Request, services: ServicesDep) -> Response:
    me = session.operator(request)
    if me is None:
        return _to_login(request)
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    try:
        f, page, size = review_view.parse_filter(params)
    except InvalidRequest as exc:
        return _page(request, "error.html", 422, message=exc.message)
    async with services.db.read() as conn:
        result = await review_view.queue(conn, f, page, size, utcnow())

    def with_page(n: int) -> str:
        return "/review?" + urlencode({**params, "page": str(n)})

    def with_rule(code: str) -> str:
        return "/review?" + urlencode({**params, "rule": code, "page": "1"})

    return _page(
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
        return _page(
            request, "error.html", 404, message=text("not_found", session.language(request))
        )
    return _page(
        request,
        "bundle.html",
        status,
        b=view,
        kinds=review_view.KINDS,
        mismatched=review_view.mismatched_fields(view["comparisons"]),
        error=error,
        reason=reason,
        done=request.query_params.get("done"),
        action_url=_bundle_url(ebp_code, order_no) + "/actions",
        here=_bundle_url(ebp_code, order_no),
    )


@router.get("/bundles/{ebp_code}/{order_no:path}")
async def bundle(request: Request, services: ServicesDep, ebp_code: str, order_no: str) -> Response:
    me = session.operator(request)
    if me is None:
        return _to_login(request)
    return await _bundle_page(request, services, me, ebp_code, order_no)


@router.post("/bundles/{ebp_code}/{order_no:path}/actions")
async def act(request: Request, services: ServicesDep, ebp_code: str, order_no: str) -> Response:
    me = session.operator(request)
    if me is None:
        return _to_login(request)
    form = await request.form()
    reason = _field(form, "reason") or ""
    if not session.csrf_ok(request, _field(form, "csrf")):
        lang = session.language(request)
        return await _bundle_page(
            request, services, me, ebp_code, order_no, 403, text("csrf", lang), reason
        )
    version = _field(form, "version") or ""
    try:
        if not version.isdigit():
            raise InvalidRequest("the form lacks the bundle version", field="version")
        done = await review.perform(
            services.db,
            ebp_code,
            order_no,
            _field(form, "action") or "",
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
async def dashboard(request: Request, services: ServicesDep) -> Response:
    me = session.operator(request)
    if me is None:
        return _to_login(request)
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
            ["release", "exception", "reject"],
            text("decision_mix", lang),
            {d: text(f"{d}_d", lang) for d in ("release", "exception", "reject")},
        ),
        "top_rules": charts.bars(
            [(r["code"], r["bundles"]) for r in data["topRules"]], text("top_rules", lang)
        ),
        "pending_age": charts.bars(
            [(a["age"], a["bundles"]) for a in data["pendingByAge"]], text("pending_age", lang)
        ),
    }
    return _page(request, "dashboard.html", figures=figures, data=data)


@router.get("/actions")
async def actions(request: Request, services: ServicesDep) -> Response:
    me = session.operator(request)
    if me is None:
        return _to_login(request)
    async with services.db.read() as conn:
        rows = await review_view.recent_actions(conn, 200)
    return _page(request, "actions.html", rows=rows, bundle_url=_bundle_url)
