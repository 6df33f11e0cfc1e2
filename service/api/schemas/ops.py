"""/healthz and /readyz (SPEC §6.5)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from service.api.schemas.common import example


class Health(BaseModel):
    model_config = example({"status": "ok"})
    status: Literal["ok"]


class Readiness(BaseModel):
    model_config = example({"status": "ready", "checks": {"database": "ok", "broker": "ok"}})
    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(
        description='database (and broker): "ok" or "unavailable: <reason>"'
    )
