"""Access log lines: every request, or only failed and slow ones (SANDAN_ACCESS_LOG)."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from service.api import middleware


def _app(access_log: str) -> FastAPI:
    app = FastAPI()

    @app.get("/fine")
    async def fine() -> dict[str, str]:
        return {"ok": "yes"}

    middleware.install(app, access_log)
    return app


@pytest.mark.parametrize(("setting", "logged"), [("all", {200, 404}), ("errors", {404})])
async def test_which_requests_are_logged(
    setting: str, logged: set[int], caplog: pytest.LogCaptureFixture
) -> None:
    transport = httpx.ASGITransport(app=_app(setting))
    with caplog.at_level(logging.INFO, logger="sandan.access"):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/fine")).status_code == 200
            assert (await client.get("/missing")).status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "sandan.access"]
    assert {int(line.split()[2]) for line in lines} == logged
