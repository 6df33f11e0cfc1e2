"""Dependencies shared by the routers: the process's services and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.api.services import Services
from service.errors import Forbidden, Unauthenticated
from service.messages.registry import Role
from service.security.keys import Caller


async def get_services(request: Request) -> Services:
    # async, though it awaits nothing: FastAPI runs a plain ``def`` dependency in a worker
    # thread, a thread hand-off on every request for a dictionary lookup.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


# The OpenAPI security scheme (an Authorize button in /docs) of every route depending on
# get_caller; it never refuses by itself, so every refusal is Sandan's own 401 problem.
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="An API key (`sandan keys create`, or POST /v1/admin/keys)",
    auto_error=False,
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


async def caller_of(request: Request, services: Services) -> Caller:
    """The caller a request's bearer key names (ingest calls it without a dependency)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer API key")
    # Unauthenticated when the key is unknown, revoked or expired, saying which.
    return await services.keys.authenticate(token.strip())


async def get_caller(request: Request, services: ServicesDep, _bearer: BearerDep) -> Caller:
    return await caller_of(request, services)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_operator(caller: CallerDep) -> Caller:
    """The caller, who must hold the operator role (review API, SPEC §6.4)."""
    if Role.OPERATOR not in caller.roles:
        raise Forbidden("the operator role is required")
    return caller


OperatorDep = Annotated[Caller, Depends(get_operator)]


async def get_admin(caller: CallerDep) -> Caller:
    """The caller, who must hold the admin role (keys, certificates, audit; SPEC §11)."""
    if Role.ADMIN not in caller.roles:
        raise Forbidden("the admin role is required")
    return caller


AdminDep = Annotated[Caller, Depends(get_admin)]
