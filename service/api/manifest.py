"""GET /v1/manifest: decisions by cursor, with long poll (SPEC §6.3)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.api.deps import CallerDep, ServicesDep
from service.api.openapi import answers
from service.api.schemas.bundles import ManifestPage

router = APIRouter(tags=["manifest"])


@router.get(
    "/v1/manifest",
    summary="Manifest entries after a cursor",
    **answers(ManifestPage, 401, 422, 503),
)
async def get_manifest(
    caller: CallerDep,
    services: ServicesDep,
    after: Annotated[int, Query(ge=0, description="return entries with seq > after")] = 0,
    limit: Annotated[int, Query(ge=1, description="at most this many entries")] = 100,
    wait: Annotated[float, Query(ge=0, description="long poll: seconds to wait for one")] = 0,
) -> dict[str, Any]:
    settings = services.settings
    codes = None if caller.sees_everything else caller.visible_codes
    entries, nxt = await services.manifest.read(
        after,
        min(limit, settings.manifest_max_limit),
        min(wait, settings.manifest_max_wait_seconds),
        codes,
    )
    return {"entries": entries, "next": nxt}
