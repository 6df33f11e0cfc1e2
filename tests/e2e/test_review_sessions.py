"""Review UI sessions against their keys (SPEC §11): a key revoked or expired after sign-in
ends its session within seconds, wherever the change was made; which pages each role opens."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import KEYS, Deployment, deploy
from tests.e2e.support import wait_until
from tests.e2e.web import session_with

ROLE_KEYS = {
    **KEYS,
    "admin": (["2924"], ["admin"]),
    "both": (["2924"], ["operator", "admin"]),
}
OPERATOR_PAGES = ["/review", "/review/dashboard", "/review/actions"]
ADMIN_PAGES = ["/review/certificates", "/review/keys", "/review/audit"]


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(tmp_path_factory.mktemp("sessions"), ROLE_KEYS) as deployment:
        yield deployment


def new_operator_key(d: Deployment) -> tuple[int, str]:
    made = d.client.post(
        "/v1/admin/keys",
        json={"codes": ["2924"], "roles": ["operator"], "name": "shift"},
        headers=d.headers("admin"),
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"]), str(made.json()["key"])


def page_status(client: httpx.Client, path: str = "/review") -> tuple[int, str | None]:
    answer = client.get(path, follow_redirects=False)
    return answer.status_code, answer.headers.get("location")


def test_a_key_revoked_by_the_cli_ends_its_session_within_seconds(sessions: Deployment) -> None:
    from tests.test_cli import sandan

    key_id, key = new_operator_key(sessions)
    with session_with(sessions, key) as (client, answer):
        assert answer.status_code == 303 and answer.headers["location"] == "/review"
        assert page_status(client) == (200, None)
        # Another process revokes it: this server hears of it through its 5 s key cache.
        done = sandan(sessions.settings.database_url, "keys", "revoke", str(key_id))
        assert done.returncode == 0, done.stderr
        ended = wait_until(
            lambda: page_status(client, "/review/dashboard"),
            lambda status: status[0] == 303,
            timeout=6.0,
        )
        assert ended == (303, "/review/login?ended=revoked")
        login = client.get(ended[1])
        assert "密钥已被吊销" in login.text
        assert "revoked" in client.get("/review/login?ended=revoked&lang=en").text
        # The session is over, not merely refused once: the cookie opens nothing now.
        assert page_status(client) == (303, "/review/login")


def test_a_key_revoked_by_the_admin_api_ends_its_session(sessions: Deployment) -> None:
    key_id, key = new_operator_key(sessions)
    with session_with(sessions, key) as (client, _):
        assert page_status(client) == (200, None)
        revoked = sessions.client.post(
            f"/v1/admin/keys/{key_id}/revoke", headers=sessions.headers("admin")
        )
        assert revoked.status_code == 200, revoked.text
        # At once in the process that revoked it, within seconds in the others (PostgreSQL
        # runs a worker per core).
        ended = wait_until(
            lambda: page_status(client, "/review/actions"),
            lambda status: status[0] == 303,
            timeout=6.0,
        )
        assert ended == (303, "/review/login?ended=revoked")


def test_a_key_that_expires_ends_its_session(sessions: Deployment) -> None:
    key_id, key = new_operator_key(sessions)
    with session_with(sessions, key) as (client, _):
        assert page_status(client) == (200, None)
        rotated = sessions.client.post(
            f"/v1/admin/keys/{key_id}/rotate",
            json={"graceHours": 0},
            headers=sessions.headers("admin"),
        )
        assert rotated.status_code == 201, rotated.text
        ended = wait_until(lambda: page_status(client), lambda s: s[0] == 303, timeout=6.0)
        assert ended == (303, "/review/login?ended=expired")
        assert "密钥已过期" in client.get("/review/login?ended=expired").text
    # The new key signs in.
    with session_with(sessions, rotated.json()["key"]) as (client, answer):
        assert answer.headers["location"] == "/review"


def nav(html: str) -> set[str]:
    return {path for path in OPERATOR_PAGES + ADMIN_PAGES if f'href="{path}"' in html}


@pytest.mark.parametrize(
    ("role", "home", "opens", "refuses"),
    [
        ("operator", "/review", OPERATOR_PAGES, ADMIN_PAGES),
        ("admin", "/review/certificates", ADMIN_PAGES, OPERATOR_PAGES),
        ("both", "/review", OPERATOR_PAGES + ADMIN_PAGES, []),
    ],
)
def test_each_role_opens_its_pages_and_sees_their_links(
    sessions: Deployment, role: str, home: str, opens: list[str], refuses: list[str]
) -> None:
    with session_with(sessions, sessions.keys[role]) as (client, answer):
        assert answer.status_code == 303 and answer.headers["location"] == home
        for path in opens:
            page = client.get(path, follow_redirects=False)
            assert page.status_code == 200, (path, page.text)
            assert nav(page.text) == set(opens), path
        for path in refuses:
            page = client.get(path, follow_redirects=False)
            assert page.status_code == 403, path
            assert "权限" in page.text
