"""Who may open a review page: a signed-in user whose key still works, holding the page's role.

Every page asks the key cache about the session's key (by id, trusted for at most 5 s, like a
bearer key): a key revoked or expired since sign-in ends the session, and the browser goes to
the sign-in form, which says why. Operators see the review pages, admins the trust pages
(certificates, keys, audit), a key with both roles sees both.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.responses import RedirectResponse, Response
from starlette.requests import Request

from service.api.deps import ServicesDep
from service.errors import Unauthenticated
from service.messages.registry import Role
from service.security.auth import KeyExpired
from service.security.keys import Caller
from service.web import session
from service.web.i18n import text
from service.web.pages import render

LOGIN = "/review/login"
# Roles that open some part of the review UI.
REVIEW_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})


class LeavePage(Exception):
    """Raised by a page's dependency: the answer is ``response``, not the page."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


async def leave_page(request: Request, exc: Exception) -> Response:
    """The exception handler answering a ``LeavePage``."""
    assert isinstance(exc, LeavePage)
    return exc.response


def to_login(ended: str | None = None) -> RedirectResponse:
    """The sign-in form; ``ended`` (revoked, expired) says why the session ended."""
    return RedirectResponse(LOGIN + (f"?ended={ended}" if ended else ""), status_code=303)


async def signed_in(request: Request, services: ServicesDep) -> Caller:
    """The signed-in user, as their key stands now."""
    key_id = session.key_id(request)
    if key_id is None:
        raise LeavePage(to_login())
    try:
        me = await services.keys.by_id(key_id)
    except KeyExpired:
        session.end(request)
        raise LeavePage(to_login("expired")) from None
    except Unauthenticated:  # revoked (or, never in practice, gone)
        session.end(request)
        raise LeavePage(to_login("revoked")) from None
    if not me.has_any(REVIEW_ROLES):
        session.end(request)
        raise LeavePage(to_login())
    request.state.me = me
    return me


SignedIn = Annotated[Caller, Depends(signed_in)]


def _holding(role: Role, refusal: str) -> object:
    async def dependency(request: Request, me: SignedIn) -> Caller:
        if role not in me.roles:
            message = text(refusal, session.language(request))
            raise LeavePage(render(request, "error.html", 403, message=message))
        return me

    return Depends(dependency)


# The signed-in user of a review page (operators) or of a trust page (admins).
OperatorPage = Annotated[Caller, _holding(Role.OPERATOR, "needs_operator")]
AdminPage = Annotated[Caller, _holding(Role.ADMIN, "needs_admin")]
