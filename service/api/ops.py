"""Health and readiness (SPEC §6.5)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.deps import ServicesDep
from service.api.openapi import answers
from service.api.schemas.ops import Health, Readiness

router = APIRouter(tags=["operations"])

_READY = answers(Readiness)
_READY["responses"][503] = {
    "model": Readiness,
    "description": "Something it needs is unreachable: which, in `checks`",
    "content": {
        "application/json": {
            "example": {
                "status": "unavailable",
                "checks": {"database": "unavailable: OperationalError"},
            }
        }
    },
}


@router.get("/healthz", summary="The process is up", **answers(Health))
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Database (and broker, when configured) reachable",
    **_READY,
)
async def readyz(request: Request, services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await services.db.ping()
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["database"] = f"unavailable: {type(exc).__name__}"
    broker = getattr(request.app.state, "broker", None)  # a BrokerCheck when NATS is configured
    if broker is not None:
        checks["broker"] = await broker.check()
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
