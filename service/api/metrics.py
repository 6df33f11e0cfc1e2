"""GET /metrics in the Prometheus text format (SPEC §6.5); with several worker processes,
the totals of all of them, whichever answers."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from service.api.deps import ServicesDep
from service.clock import utcnow
from service.engine.review_view import AGE_EDGES
from service.metrics import PENDING_AGES, PENDING_BUNDLES, PENDING_BY_AGE, REGISTRY, RELAY_LAG
from service.multiprocess_metrics import latest
from service.queue.relay import relay_lag
from service.store import bundles
from service.store import review as review_store

router = APIRouter(tags=["operations"])
STATES = ("pending", "released", "exception", "rejected", "closed")


_EXAMPLE = """# HELP sandan_documents_total Documents answered by ingest, by kind, status and code
# TYPE sandan_documents_total counter
sandan_documents_total{code="",kind="order",status="accepted"} 1200.0
# HELP sandan_bundles Bundles by state (read at scrape time)
# TYPE sandan_bundles gauge
sandan_bundles{state="pending"} 37.0
"""


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "The text exposition format; every worker process's values summed",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}, "example": _EXAMPLE}},
        }
    },
)
async def metrics(services: ServicesDep) -> Response:
    async with services.db.read() as conn:
        counts = await bundles.count_by_state(conn)
        # every pending bundle: no filter of the queue applies to the metrics
        ages = await review_store.pending_by_age(
            conn, review_store.QueueFilter(state=None), utcnow(), AGE_EDGES
        )
    for state in STATES:
        PENDING_BUNDLES.labels(state).set(counts.get(state, 0))
    for age, n in zip(PENDING_AGES, ages, strict=True):
        PENDING_BY_AGE.labels(age).set(n)
    settings = services.settings
    RELAY_LAG.set(await relay_lag(services.db, settings.nats_stream) if settings.nats_url else -1)
    return Response(latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
