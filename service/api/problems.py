"""Every error renders as one JSON shape: {"code", "message", ...}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from service.errors import RateLimited, SandanError, ServiceUnavailable
from service.store.database import is_unavailable

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    @app.exception_handler(SandanError)
    async def _sandan(_request: Request, exc: SandanError) -> JSONResponse:
        headers = {"Retry-After": "1"} if isinstance(exc, ServiceUnavailable) else None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after)}
        if exc.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse(exc.problem(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"path": "/".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        return JSONResponse(
            {"code": "INVALID_REQUEST", "message": "invalid request", "errors": details},
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return JSONResponse({"code": code, "message": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        if is_unavailable(exc):
            # A database call outside ``Database``'s own mapping: still the database's
            # outage, and still something a sender should retry rather than report.
            log.warning("database unavailable: %s", exc)
            problem = ServiceUnavailable("database unavailable, retry later")
            return JSONResponse(problem.problem(), status_code=503, headers={"Retry-After": "1"})
        log.exception("unhandled error")
        return JSONResponse({"code": "INTERNAL", "message": "internal error"}, status_code=500)
