"""GET /v1/bundles/{ebpCode}/{orderNo} (SPEC §6.2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.api.deps import CallerDep, ServicesDep
from service.api.openapi import answers
from service.api.schemas.bundles import Bundle
from service.engine.bundle_view import load_bundle
from service.errors import NotFound

router = APIRouter(tags=["bundles"])


@router.get(
    "/v1/bundles/{ebp_code}/{order_no:path}",
    summary="One bundle with findings and history",
    **answers(Bundle, 401, 404),
)
async def get_bundle(
    ebp_code: str, order_no: str, caller: CallerDep, services: ServicesDep
) -> dict[str, Any]:
    async with services.db.read() as conn:
        view = await load_bundle(conn, ebp_code, order_no, caller)
    if view is None:
        # Same answer for "absent" and "not yours": existence is not disclosed.
        raise NotFound(f"no bundle {ebp_code}/{order_no}")
    return view
