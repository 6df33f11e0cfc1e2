"""An ASGI app that answers ``POST /v1/messages`` exactly like Sandan, without storing.

It runs the service's own pieces, not copies: the same router, authentication (API keys read
from the database, cached as in the service), error bodies and middleware, and the same
``Ingestor`` — parse, message type and role, schema check, sender scoping, extraction, PII
masking of the raw XML — whose intake batcher is swapped for one that answers "accepted" at
once. So the ceiling is the cost of everything in front of the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api import ingest, middleware, ops, problems
from service.app import build_services
from service.config import Settings
from service.engine.incoming import IncomingDocument, Outcome
from service.engine.intake import IntakeBatcher
from service.engine.receipts import IntakeReceipts


class AcceptAll(IntakeBatcher):
    """The store replaced by nothing: every document that reaches intake is "accepted"."""

    def __init__(self) -> None:
        # Deliberately not the base initialiser: there is no database and no batch loop.
        self.submitted = 0

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def submit(
        self,
        sender: str,
        items: list[IncomingDocument],
        *,
        receipts: IntakeReceipts | None = None,
    ) -> list[Outcome]:
        self.submitted += len(items)
        return [Outcome.accepted() for _ in items]


def create_ceiling_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The service's own wiring (keys, settings, preparation and its worker processes),
        # with intake swapped for AcceptAll.
        services = build_services(settings, batcher=AcceptAll())
        app.state.services = services
        app.state.broker = None
        if services.prepare_pool is not None:
            await services.prepare_pool.start()
        try:
            yield
        finally:
            if services.prepare_pool is not None:
                await services.prepare_pool.stop()
            await services.db.dispose()

    app = FastAPI(title="Sandan ceiling (parse and validate only)", lifespan=lifespan)
    problems.install(app)
    middleware.install(app, settings.access_log)
    app.include_router(ingest.router)
    app.include_router(ops.router)
    return app


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from service.logs import logging_config

    uvicorn.run(
        create_ceiling_app(settings),
        host=host,
        port=port,
        log_config=logging_config(settings.log_level, settings.log_format),
        access_log=False,  # as `sandan serve`: the middleware logs each request
    )
