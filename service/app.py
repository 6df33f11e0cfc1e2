"""The FastAPI application factory and its lifespan; nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api import (
    admin,
    bundles,
    ingest,
    manifest,
    metrics,
    middleware,
    openapi,
    ops,
    problems,
    receipts,
    review,
    summaries,
    webhooks,
)
from service.api.services import Services
from service.config import Settings, get_settings
from service.engine.decide import Decided
from service.engine.ingest import Ingestor
from service.engine.intake import IntakeBatcher
from service.engine.prepare import build_preparer
from service.engine.prepare_pool import PreparePool
from service.engine.sweeper import Sweeper
from service.gc_tuning import tune_collector
from service.multiprocess_metrics import forget_this_process
from service.queue.broker import BrokerCheck
from service.queue.manifest import ManifestReader, Notifier
from service.queue.receipts import ReceiptsReader
from service.queue.relay import relay_for_serve
from service.queue.wakeups import ManifestListener
from service.queue.webhooks import WebhookDeliverer
from service.security.auth import KeyCache
from service.security.certificate_book import CertificateBook
from service.security.key_uses import KeyUseRecorder
from service.security.limits import build_rate_limiter
from service.store import keys as key_store
from service.store.database import Database
from service.web.install import install as install_review_ui


def build_services(settings: Settings, batcher: IntakeBatcher | None = None) -> Services:
    """The process's services; ``batcher`` replaces intake (the load test's ceiling)."""
    db = Database(settings.database_url)
    # The receipts feed's polls wake on intake receipts, and on everything that wakes the
    # manifest's (decisions carry receipts; other processes' commits notify one channel).
    receipt_wakeups = Notifier()
    notifier = Notifier(also=receipt_wakeups)

    def wake_pollers(decided: list[Decided]) -> None:
        if decided:
            notifier.notify()

    batcher = batcher or IntakeBatcher(
        db, settings, on_commit=wake_pollers, on_receipts=receipt_wakeups.notify
    )
    workers = settings.prepare_worker_count
    pool = (
        PreparePool(
            workers, settings.pii_key, settings.max_message_bytes, settings.signature_policy
        )
        if workers
        else None
    )

    async def lookup(digest: str) -> dict[str, object] | None:
        async with db.read() as conn:
            return await key_store.find_key(conn, digest)

    async def lookup_id(key_id: int) -> dict[str, object] | None:
        async with db.read() as conn:
            return await key_store.get(conn, key_id)

    keys = KeyCache(
        lookup,
        ttl_seconds=settings.key_cache_seconds,
        extra_codes=settings.warehouse_scopes,
        lookup_id=lookup_id,
    )
    certificates = CertificateBook(db, settings.certificate_refresh_seconds)
    return Services(
        settings=settings,
        db=db,
        batcher=batcher,
        ingestor=Ingestor(
            build_preparer(settings.pii_key, settings.max_message_bytes, settings.signature_policy),
            batcher,
            pool,
            settings.prepare_offload_bytes,
            # with the policy off, no certificate lookup per message
            certificates if settings.signature_policy != "off" else None,
            limiter=build_rate_limiter(settings, db),
        ),
        prepare_pool=pool,
        notifier=notifier,
        manifest=ManifestReader(db, notifier, settings.manifest_poll_interval_seconds),
        receipts=ReceiptsReader(db, receipt_wakeups, settings.manifest_poll_interval_seconds),
        sweeper=Sweeper(db, settings, on_commit=wake_pollers),
        webhooks=WebhookDeliverer(db, settings, notifier),
        keys=keys,
        key_uses=KeyUseRecorder(db, keys, settings.key_last_used_flush_seconds),
        certificates=certificates,
    )


def create_served_app() -> FastAPI:
    """The app a ``sandan serve`` worker process runs (``serve.APP_FACTORY``)."""
    return create_app(serving=True)


def create_app(settings: Settings | None = None, *, serving: bool = False) -> FastAPI:
    """``serving``: the process exists to serve this app (``sandan serve``), so its garbage
    collector is tuned for it once the app has started (``gc_tuning``); tests and tools that
    build apps in their own process leave theirs alone."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        relay = relay_for_serve(services.db, settings, services.notifier)
        # /readyz asks the relay's connection when there is one, else connects briefly.
        app.state.broker = (
            BrokerCheck(settings.nats_url, relay.broker if relay else None)
            if settings.nats_url
            else None
        )
        # Other processes on the same PostgreSQL wake this one's long polls and relay.
        listener = (
            ManifestListener(
                settings.database_url, services.notifier, receipts=services.receipts.notifier
            )
            if services.db.is_postgres
            else None
        )
        if services.prepare_pool is not None:
            await services.prepare_pool.start()
        await services.batcher.start()
        await services.sweeper.start()
        await services.webhooks.start()
        await services.key_uses.start()
        if listener is not None:
            await listener.start()
        if relay is not None:
            await relay.start()
        if serving:
            tune_collector(settings)
        try:
            yield
        finally:
            if relay is not None:
                await relay.stop()
            if listener is not None:
                await listener.stop()
            await services.sweeper.stop()
            await services.webhooks.stop()
            await services.key_uses.stop()  # writes the last notes of use
            await services.batcher.stop()
            if services.prepare_pool is not None:
                await services.prepare_pool.stop()
            await services.db.dispose()
            forget_this_process()

    app = FastAPI(
        title="Sandan",
        summary="Three-document collision (三单对碰) for cross-border e-commerce customs messages",
        version="0.1.0",
        lifespan=lifespan,
        # served by service.api.openapi with their assets local (no CDN)
        docs_url=None,
        redoc_url=None,
    )
    openapi.install(app)
    problems.install(app)
    middleware.install(app, settings.access_log)
    for router in (
        ingest.router,
        bundles.router,
        manifest.router,
        receipts.router,
        summaries.router,
        review.router,
        webhooks.router,
        admin.router,
        ops.router,
        metrics.router,
    ):
        app.include_router(router)
    install_review_ui(app, settings)
    return app
