"""Request ids and HTTP latency metrics for every request."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from service.logs import request_id
from service.metrics import HTTP_SECONDS

REQUEST_ID_HEADER = "X-Request-ID"
access = logging.getLogger("sandan.access")


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def _context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # A caller's id is kept (so one id follows a request across systems) if it is sane.
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers[REQUEST_ID_HEADER] = rid
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_SECONDS.labels(request.method, path, str(status)).observe(elapsed)
            # Our own access line, inside the request's context so it carries its id.
            access.info("%s %s %s %.1fms", request.method, request.url.path, status, elapsed * 1000)
            request_id.reset(token)
