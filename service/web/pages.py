"""Rendering a review UI page: the templates, and what every page is given (the language, its
words, the CSRF token, who is signed in and which parts of the UI their roles open)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.requests import Request

from service.clock import beijing
from service.messages.registry import Role
from service.security.keys import Caller
from service.web import labels, session
from service.web.i18n import text

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["urlpart"] = lambda value: quote(str(value), safe="")


def beijing_time(value: Any) -> Markup:
    """An instant as the API gives it (UTC, ISO 8601), shown in Beijing time; the instant
    itself stays in the element's ``datetime`` for machines."""
    if value is None or value == "":
        return Markup("")
    return Markup('<time datetime="{}">{}</time>').format(str(value), beijing(value))


templates.env.filters["beijing"] = beijing_time
templates.env.filters["beijing_text"] = beijing  # inside an attribute: text, no element
templates.env.globals["field_label"] = labels.label
templates.env.globals["field_note"] = labels.note


def signed_in_as(request: Request) -> Caller | None:
    """Who ``service.web.access`` found signed in for this request (None on the sign-in page)."""
    me = getattr(request.state, "me", None)
    return me if isinstance(me, Caller) else None


def home(me: Caller | None) -> str:
    """Where a user starts: the queue for an operator, the certificates for an admin only."""
    if me is not None and Role.OPERATOR not in me.roles and Role.ADMIN in me.roles:
        return "/review/certificates"
    return "/review"


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    session.set_language(request, request.query_params.get("lang"))
    lang = session.language(request)
    me = signed_in_as(request)
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": lambda key: text(key, lang),
            "csrf": session.csrf_token(request),
            "me": me,
            "is_operator": me is not None and Role.OPERATOR in me.roles,
            "is_admin": me is not None and Role.ADMIN in me.roles,
            "home": home(me),
            # where the language switch leads: this page (a form's answer names its page)
            "here": request.url.path,
            **context,
        },
        status_code=status,
    )


def field(form: Any, name: str) -> str | None:
    """A text field of a submitted form (None when absent or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else None
