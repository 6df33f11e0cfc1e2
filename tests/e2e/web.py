"""Driving the review UI over HTTP, as a browser without JavaScript would: forms, CSRF tokens,
the session cookie."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.e2e.conftest import Deployment


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@contextmanager
def session_with(d: Deployment, key: str) -> Iterator[tuple[httpx.Client, httpx.Response]]:
    """A client that signed in with ``key``, and the sign-in's answer."""
    with httpx.Client(base_url=d.server.url, timeout=30) as client:
        form = client.get("/review/login")
        answer = client.post("/review/login", data={"csrf": csrf_of(form.text), "key": key})
        yield client, answer


def token(client: httpx.Client, path: str) -> str:
    """The CSRF token of the page at ``path`` (the session's)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)
