"""GET /metrics in the Prometheus text format (SPEC §6.5); with several worker processes,
the totals of all of them, whichever answers."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from service.api.deps import ServicesDep
from service.metrics import PENDING_BUNDLES, REGISTRY, RELAY_LAG
from service.multiprocess_metrics import latest
from service.queue.relay import relay_lag
from service.store import bundles

router = APIRouter(tags=["operations"])
STATES = ("pending", "released", "exception", "rejected", "closed")


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(services: ServicesDep) -> Response:
    async with services.db.read() as conn:
        counts = await bundles.count_by_state(conn)
    for state in STATES:
        PENDING_BUNDLES.labels(state).set(counts.get(state, 0))
    settings = services.settings
    RELAY_LAG.set(await relay_lag(services.db, settings.nats_stream) if settings.nats_url else -1)
    return Response(latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
