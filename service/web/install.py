"""Mounting the review UI on the application: its session cookie, static files and pages."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from service.config import Settings
from service.web import routes, session, trust, webhooks
from service.web.access import LeavePage, leave_page
from service.web.pages import HERE

STATIC = HERE / "static"


def install(app: FastAPI, settings: Settings) -> None:
    # The cookie is scoped to /review: API callers (bearer keys) never carry or get one.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret,
        session_cookie=session.COOKIE,
        max_age=settings.session_max_age_seconds,
        path=session.PATH,
        same_site="lax",
        https_only=settings.session_cookie_secure,
    )
    app.mount("/review/static", StaticFiles(directory=STATIC), name="review-static")
    app.add_exception_handler(LeavePage, leave_page)
    app.include_router(routes.router)
    app.include_router(trust.router)
    app.include_router(webhooks.router)
