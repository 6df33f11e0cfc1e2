"""The operator's session: who signed in, the CSRF token of their forms, their language.

The session lives in a signed cookie (Starlette's SessionMiddleware, itsdangerous): it holds no
secret, only the key's id, code and name, so a reader of the cookie learns nothing it could
use, and a forged one fails the signature. The API key itself is never kept.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

from service.messages.registry import Role
from service.security.keys import Caller
from service.web.i18n import LANGUAGES

COOKIE = "sandan_review"
PATH = "/review"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (the login form already carries one)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(submitted, str)
        and hmac.compare_digest(expected.encode(), submitted.encode())
    )


def operator(request: Request) -> Caller | None:
    data = request.session.get("operator")
    if not isinstance(data, dict):
        return None
    return Caller(
        key_id=int(data["key_id"]),
        code=str(data["code"]),
        codes=frozenset({str(data["code"])}),
        roles=frozenset({Role.OPERATOR}),
        name=data.get("name"),
    )


def sign_in(request: Request, caller: Caller) -> None:
    """A new session for ``caller``: nothing from before sign-in survives (no fixation)."""
    lang = language(request)
    request.session.clear()
    request.session.update(
        operator={"key_id": caller.key_id, "code": caller.code, "name": caller.name},
        csrf=secrets.token_urlsafe(32),
        lang=lang,
    )


def sign_out(request: Request) -> None:
    request.session.clear()


def language(request: Request) -> str:
    lang = request.session.get("lang")
    return lang if lang in LANGUAGES else LANGUAGES[0]


def set_language(request: Request, lang: str | None) -> None:
    if lang in LANGUAGES:
        request.session["lang"] = lang
