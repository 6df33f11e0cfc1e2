"""The review UI session: who signed in, the CSRF token of their forms, their language.

The session lives in a signed cookie (Starlette's SessionMiddleware, itsdangerous): it holds no
secret, only the key's id, code and name, so a reader of the cookie learns nothing it could
use, and a forged one fails the signature. The API key itself is never kept.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

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


def key_id(request: Request) -> int | None:
    """The id of the key the session signed in with; ``service.web.access`` asks the key cache
    whether it still works on every page."""
    data = request.session.get("user")
    if not isinstance(data, dict) or not isinstance(data.get("key_id"), int):
        return None
    return int(data["key_id"])


def sign_in(request: Request, caller: Caller) -> None:
    """A new session for ``caller``: nothing from before sign-in survives (no fixation)."""
    lang = language(request)
    request.session.clear()
    request.session.update(
        user={"key_id": caller.key_id, "code": caller.code, "name": caller.name},
        csrf=secrets.token_urlsafe(32),
        lang=lang,
    )


def end(request: Request) -> None:
    """The session ends without the user asking (their key stopped working): only the
    language stays, for the sign-in page that says why."""
    lang = language(request)
    request.session.clear()
    request.session["lang"] = lang


def sign_out(request: Request) -> None:
    request.session.clear()


def language(request: Request) -> str:
    lang = request.session.get("lang")
    return lang if lang in LANGUAGES else LANGUAGES[0]


def set_language(request: Request, lang: str | None) -> None:
    if lang in LANGUAGES:
        request.session["lang"] = lang
