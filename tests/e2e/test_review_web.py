"""The review UI's HTTP surface without a browser: sign-in, session cookie flags, CSRF, and
form actions that are refused changing nothing (the browser tests in tests/ui do the rest)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from service.config import Settings
from tests.e2e.conftest import Deployment, deploy, fresh
from tests.e2e.support import mistaken, unchanged, wait_until
from tests.e2e.web import csrf_of, session_with


@contextmanager
def signed_in(d: Deployment) -> Iterator[tuple[httpx.Client, httpx.Response]]:
    """A client signed in with the operator key, and the sign-in's answer."""
    with session_with(d, d.keys["operator"]) as signed:
        yield signed


@pytest.mark.parametrize(
    "path", ["/review", "/review/dashboard", "/review/actions", "/review/bundles/1/2"]
)
def test_pages_send_strangers_to_the_sign_in_form(sandan: Deployment, path: str) -> None:
    answer = sandan.client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/review/login"


def test_the_session_cookie_is_signed_scoped_and_holds_no_key(sandan: Deployment) -> None:
    with signed_in(sandan) as (client, answer):
        assert answer.status_code == 303 and answer.headers["location"] == "/review"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/review" in cookie
        assert "secure" not in cookie
        value = client.cookies["sandan_review"]
        payload = json.loads(base64.b64decode(value.split(".")[0] + "=="))
        assert payload["user"]["name"] == "operator"
        assert sandan.keys["operator"] not in json.dumps(payload)
        # A cookie edited by hand fails the signature: signed out.
        forged = base64.b64encode(json.dumps({"user": {"key_id": 1, "code": "x"}}).encode())
        client.cookies.set("sandan_review", forged.decode() + "." + value.split(".", 1)[1])
        assert client.get("/review", follow_redirects=False).status_code == 303
    # The API never sets or needs the cookie.
    api = sandan.client.get("/v1/review/dashboard", headers=sandan.headers("operator"))
    assert "set-cookie" not in api.headers


@pytest.mark.parametrize(
    ("role", "status", "text"),
    [("platform", 403, "审单员权限"), ("warehouse", 403, "审单员权限"), (None, 401, "密钥无效")],
)
def test_keys_without_a_review_role_cannot_sign_in(
    sandan: Deployment, role: str | None, status: int, text: str
) -> None:
    with httpx.Client(base_url=sandan.server.url, timeout=30) as client:
        form = client.get("/review/login")
        key = sandan.keys[role] if role else "sk_nonsense"
        answer = client.post("/review/login", data={"csrf": csrf_of(form.text), "key": key})
        assert answer.status_code == status
        assert text in answer.text
        assert client.get("/review", follow_redirects=False).status_code == 303


def test_sign_in_without_the_form_token_is_refused(sandan: Deployment) -> None:
    with httpx.Client(base_url=sandan.server.url, timeout=30) as client:
        client.get("/review/login")
        answer = client.post("/review/login", data={"key": sandan.keys["operator"]})
        assert answer.status_code == 403
        assert client.get("/review", follow_redirects=False).status_code == 303


def test_refused_form_actions_change_nothing(sandan: Deployment) -> None:
    c = mistaken(fresh(), "PAYMENT_AMOUNT")
    sandan.send_all(c)
    view = wait_until(lambda: sandan.bundle_json(c.key), lambda b: b["state"] == "exception")
    path = f"/review/bundles/{c.key[0]}/{c.key[1]}"
    with signed_in(sandan) as (client, _), unchanged(sandan, c.key):
        token = csrf_of(client.get(path).text)
        form = {"csrf": token, "action": "release", "version": str(view["version"])}
        no_reason = client.post(path + "/actions", data={**form, "reason": "  "})
        assert no_reason.status_code == 422
        assert "reason" in no_reason.text
        stale = client.post(
            path + "/actions", data={**form, "reason": "ok", "version": str(view["version"] - 1)}
        )
        assert stale.status_code == 409
        no_token = client.post(path + "/actions", data={**form, "csrf": "", "reason": "ok"})
        assert no_token.status_code == 403
        bad_version = client.post(path + "/actions", data={**form, "version": "v", "reason": "x"})
        assert bad_version.status_code == 422
        # Signing out ends the session; its cookie no longer opens anything.
        client.post("/review/logout", data={"csrf": token})
        assert client.get(path, follow_redirects=False).status_code == 303


def test_secure_cookies_when_configured(tmp_path: Path) -> None:
    with deploy(tmp_path, SANDAN_SESSION_COOKIE_SECURE="true") as d:
        answer = d.client.get("/review/login")
        assert "secure" in answer.headers["set-cookie"].lower()


def test_the_development_session_secret_is_refused_in_production() -> None:
    with pytest.raises(ValueError, match="SANDAN_SESSION_SECRET"):
        Settings(environment="production", pii_key="a real secret")
    Settings(environment="production", pii_key="a real secret", session_secret="another one")
