"""Dependencies shared by the routers: the process's services and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.api.services import Services
from service.errors import Unauthenticated
from service.security.keys import Caller


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_caller(request: Request, services: ServicesDep) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer API key")
    caller = await services.keys.resolve(token.strip())
    if caller is None:
        raise Unauthenticated("unknown API key")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
