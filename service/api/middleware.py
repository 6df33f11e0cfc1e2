"""Request ids and HTTP latency metrics for every request."""

from __future__ import annotations

import logging
import time
import uuid

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.logs import request_id
from service.metrics import HTTP_SECONDS

REQUEST_ID_HEADER = "X-Request-ID"
# With ``access_log="errors"``, a request this slow is logged whatever its status.
_SLOW_SECONDS = 1.0
access = logging.getLogger("sandan.access")


class RequestContext:
    """Plain ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware
    runs every request through a task group and memory streams, a cost ingest paid on each
    message."""

    def __init__(self, app: ASGIApp, access_log: str = "all") -> None:
        self.app = app
        self.log_all = access_log == "all"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A caller's id is kept (so one id follows a request across systems) if it is sane.
        given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        rid = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_SECONDS.labels(scope["method"], path, str(status)).observe(elapsed)
            # Our own access line, inside the request's context so it carries its id.
            if self.log_all or status >= 400 or elapsed > _SLOW_SECONDS:
                access.info(
                    "%s %s %s %.1fms", scope["method"], scope["path"], status, elapsed * 1000
                )
            request_id.reset(token)


def install(app: FastAPI, access_log: str = "all") -> None:
    """Request ids and HTTP latency metrics for every request; access log lines for all
    requests or only failed and slow ones (``Settings.access_log``)."""
    app.add_middleware(RequestContext, access_log=access_log)
