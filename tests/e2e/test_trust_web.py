"""The review UI's trust pages (SPEC §11) over HTTP: an admin registers and revokes
certificates, revokes and rotates keys, reads the audit log under the chain's check; each change
is audited under the admin's name, and a refused one changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tests.e2e.conftest import KEYS, Deployment, deploy
from tests.e2e.support import wait_until
from tests.e2e.web import session_with, token
from tests.security.certs import NOW, certificate_pem
from tests.test_trust_cli import sql

TRUST_KEYS = {
    **KEYS,
    "admin": (["2924"], ["admin"]),
    "keeper": (["2924"], ["admin"]),  # signs in to the pages; "admin" checks over the API
}


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(
        tmp_path_factory.mktemp("trust"), TRUST_KEYS, SANDAN_KEY_LAST_USED_FLUSH_SECONDS="0.2"
    ) as deployment:
        yield deployment


@pytest.fixture
def keeper(trust: Deployment) -> Iterator[httpx.Client]:
    """A browser session of the admin key named "keeper"."""
    with session_with(trust, trust.keys["keeper"]) as (client, answer):
        assert answer.headers["location"] == "/review/certificates"
        yield client


def api(d: Deployment, path: str) -> Any:
    answer = d.client.get(path, headers=d.headers("admin"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def audit_records(d: Deployment) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = api(d, "/v1/admin/audit?limit=1000")["records"]
    return records


def row_of(html: str, attribute: str, value: str) -> str:
    found = re.search(rf'<tr {attribute}="{re.escape(value)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row {attribute}={value}"
    return found.group(1)


def state_in(row: str) -> str:
    found = re.search(r'data-state="([a-z_]+)"', row)
    assert found, row
    return found.group(1)


# --- certificates ----------------------------------------------------------------------


def add(client: httpx.Client, **form: str) -> httpx.Response:
    return client.post(
        "/review/certificates",
        data={"csrf": token(client, "/review/certificates"), **form},
        follow_redirects=False,
    )


def test_an_admin_registers_a_certificate_from_pasted_pem(
    trust: Deployment, keeper: httpx.Client
) -> None:
    pem = certificate_pem(0x0A11, name="Paste Sender").decode()
    added = add(keeper, code="3301960101", name="pasted", pem=pem)
    assert added.status_code == 303
    assert added.headers["location"] == "/review/certificates?added=0a11"
    page = keeper.get(added.headers["location"]).text
    assert 'id="done"' in page
    row = row_of(page, "data-serial", "0a11")
    for shown in ("3301960101", "pasted", "rsa", "CN=Paste Sender"):
        assert shown in row
    assert state_in(row) == "active"
    [listed] = api(trust, "/v1/admin/certificates?code=3301960101")["certificates"]
    assert listed["serial"] == "0a11" and listed["name"] == "pasted"
    assert listed["notBefore"] in row and listed["notAfter"] in row  # times as the API gives
    [record] = [r for r in audit_records(trust) if r["subject"] == "certificate 0a11"]
    assert record["action"] == "certificate.add" and record["actor"] == "keeper"


def test_an_admin_registers_a_certificate_from_a_file(
    trust: Deployment, keeper: httpx.Client
) -> None:
    der = x509.load_pem_x509_certificate(certificate_pem(0x0F11)).public_bytes(Encoding.DER)
    added = keeper.post(
        "/review/certificates",
        data={"csrf": token(keeper, "/review/certificates"), "code": "3301960102", "pem": ""},
        files={"file": ("sender.der", der, "application/pkix-cert")},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    assert [
        c["serial"] for c in api(trust, "/v1/admin/certificates?code=3301960102")["certificates"]
    ] == ["0f11"]


def test_certificate_states_show_validity_and_revocation(
    trust: Deployment, keeper: httpx.Client
) -> None:
    old = certificate_pem(
        0x0E01, not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(days=1)
    )
    future = certificate_pem(
        0x0E02, not_before=NOW + timedelta(days=10), not_after=NOW + timedelta(days=20)
    )
    assert add(keeper, code="3301960103", pem=old.decode()).status_code == 303
    assert add(keeper, code="3301960103", pem=future.decode()).status_code == 303
    page = keeper.get("/review/certificates").text
    assert state_in(row_of(page, "data-serial", "0e01")) == "expired"
    assert state_in(row_of(page, "data-serial", "0e02")) == "not_yet_valid"
    assert "已过期" in page and "尚未生效" in page
    english = keeper.get("/review/certificates?lang=en").text
    assert "not yet valid" in english and "Register a certificate" in english


@pytest.mark.parametrize(
    ("form", "status", "says"),
    [
        ({"code": "3301960104", "pem": "not a certificate"}, 422, "certificate"),
        ({"code": "3301960104", "pem": ""}, 422, "请粘贴证书"),
        ({"code": "", "pem": "PEM"}, 422, "enterprise code"),
    ],
)
def test_a_refused_certificate_says_why_and_registers_nothing(
    trust: Deployment, keeper: httpx.Client, form: dict[str, str], status: int, says: str
) -> None:
    if form["pem"] == "PEM":
        form = {**form, "pem": certificate_pem(0x0D04).decode()}
    refused = add(keeper, **form)
    assert refused.status_code == status
    assert 'id="error"' in refused.text and says in refused.text
    assert form["code"] in refused.text  # what was typed stays in the form
    assert api(trust, "/v1/admin/certificates?code=3301960104")["certificates"] == []


def test_a_duplicate_certificate_is_refused_on_the_page(
    trust: Deployment, keeper: httpx.Client
) -> None:
    pem = certificate_pem(0x0D05).decode()
    assert add(keeper, code="3301960105", pem=pem).status_code == 303
    again = add(keeper, code="3301960105", pem=pem)
    assert again.status_code == 409
    assert "already registered" in again.text
    assert len(api(trust, "/v1/admin/certificates?code=3301960105")["certificates"]) == 1


def revoke_certificate(
    client: httpx.Client, serial: str, code: str, csrf: str | None = None
) -> httpx.Response:
    return client.post(
        f"/review/certificates/{serial}/revoke",
        data={
            "csrf": token(client, "/review/certificates") if csrf is None else csrf,
            "code": code,
        },
        follow_redirects=False,
    )


def test_an_admin_revokes_a_certificate_with_the_row_button(
    trust: Deployment, keeper: httpx.Client
) -> None:
    pem = certificate_pem(0x0C06).decode()
    assert add(keeper, code="3301960106", pem=pem).status_code == 303
    assert add(keeper, code="3301960107", pem=pem).status_code == 303  # shared by two codes
    # Without the form's token: refused, nothing revoked.
    assert revoke_certificate(keeper, "0c06", "3301960106", csrf="forged").status_code == 403
    assert (
        api(trust, "/v1/admin/certificates?code=3301960106")["certificates"][0]["revokedAt"] is None
    )

    done = revoke_certificate(keeper, "0c06", "3301960106")
    assert done.status_code == 303, done.text
    page = keeper.get(done.headers["location"]).text
    [mine] = api(trust, "/v1/admin/certificates?code=3301960106")["certificates"]
    [theirs] = api(trust, "/v1/admin/certificates?code=3301960107")["certificates"]
    assert mine["revokedAt"] is not None and theirs["revokedAt"] is None  # the row, only
    assert state_in(row_of(page, 'data-serial="0c06" data-code', "3301960106")) == "revoked"
    [record] = [
        r
        for r in audit_records(trust)
        if r["action"] == "certificate.revoke" and r["subject"] == "certificate 0c06"
    ]
    assert record["actor"] == "keeper" and record["detail"]["codes"] == ["3301960106"]
    gone = revoke_certificate(keeper, "0bad", "3301960106")
    assert gone.status_code == 404 and "no certificate" in gone.text


def test_an_operator_cannot_change_certificates(trust: Deployment) -> None:
    with session_with(trust, trust.keys["operator"]) as (client, _):
        csrf = token(client, "/review")
        refused = client.post(
            "/review/certificates",
            data={"csrf": csrf, "code": "3301960108", "pem": certificate_pem(0x0B08).decode()},
            follow_redirects=False,
        )
        assert refused.status_code == 403
    assert api(trust, "/v1/admin/certificates?code=3301960108")["certificates"] == []


# --- keys ------------------------------------------------------------------------------


def new_key(d: Deployment, name: str, roles: list[str] | None = None) -> tuple[int, str]:
    made = d.client.post(
        "/v1/admin/keys",
        json={"codes": ["3301960201"], "roles": roles or ["warehouse"], "name": name},
        headers=d.headers("admin"),
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"]), str(made.json()["key"])


def last_used(html: str, key_id: int) -> str:
    found = re.search(r'data-last-used="([^"]*)"', row_of(html, "data-key", str(key_id)))
    assert found
    return found.group(1)


def manifest_status(d: Deployment, key: str) -> int:
    return d.client.get("/v1/manifest", headers={"Authorization": f"Bearer {key}"}).status_code


def test_the_keys_page_lists_keys_and_never_a_key(trust: Deployment, keeper: httpx.Client) -> None:
    key_id, key = new_key(trust, "listed")
    assert manifest_status(trust, key) == 200
    # Uses are written behind the requests, by whichever process served them.
    page = wait_until(
        lambda: keeper.get("/review/keys"), lambda page: last_used(page.text, key_id) != ""
    )
    assert page.status_code == 200
    row = row_of(page.text, "data-key", str(key_id))
    assert "listed" in row and "3301960201" in row and "warehouse" in row
    assert state_in(row) == "active"
    [listed] = [k for k in api(trust, "/v1/admin/keys")["keys"] if k["id"] == key_id]
    assert listed["createdAt"] in row
    assert listed["lastUsedAt"] == last_used(page.text, key_id)
    assert all(secret not in page.text for secret in [*trust.keys.values(), key])
    assert "key_hash" not in page.text


def test_an_admin_revokes_a_key(trust: Deployment, keeper: httpx.Client) -> None:
    key_id, key = new_key(trust, "to revoke")
    path = f"/review/keys/{key_id}/revoke"
    assert keeper.post(path, data={"csrf": "x"}).status_code == 403
    assert manifest_status(trust, key) == 200
    done = keeper.post(path, data={"csrf": token(keeper, "/review/keys")}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/review/keys?revoked={key_id}"
    wait_until(lambda: manifest_status(trust, key), lambda status: status == 401, timeout=6.0)
    page = keeper.get(done.headers["location"]).text
    assert state_in(row_of(page, "data-key", str(key_id))) == "revoked"
    [record] = [
        r
        for r in audit_records(trust)
        if r["action"] == "key.revoke" and r["subject"] == f"key {key_id}"
    ]
    assert record["actor"] == "keeper"
    again = keeper.post(path, data={"csrf": token(keeper, "/review/keys")})
    assert again.status_code == 409 and "revoked" in again.text


def test_an_admin_rotates_a_key_and_sees_the_new_one_once(
    trust: Deployment, keeper: httpx.Client
) -> None:
    key_id, key = new_key(trust, "to rotate")
    path = f"/review/keys/{key_id}/rotate"
    bad = keeper.post(path, data={"csrf": token(keeper, "/review/keys"), "grace_hours": "soon"})
    assert bad.status_code == 422 and "grace" in bad.text
    done = keeper.post(path, data={"csrf": token(keeper, "/review/keys"), "grace_hours": "2"})
    assert done.status_code == 200, done.text
    assert done.headers["cache-control"] == "no-store"
    found = re.search(r'id="new-key"[^>]*>(sk_[^<]+)<', done.text)
    assert found, done.text
    fresh_key = found.group(1)
    assert "只显示这一次" in done.text
    assert manifest_status(trust, fresh_key) == 200
    assert manifest_status(trust, key) == 200  # in its grace period
    page = keeper.get("/review/keys").text
    assert fresh_key not in page  # shown once: never again
    old_row = row_of(page, "data-key", str(key_id))
    assert state_in(old_row) == "rotated"
    listed = {k["id"]: k for k in api(trust, "/v1/admin/keys")["keys"]}
    new_id = listed[key_id]["replacedBy"]
    assert new_id is not None and listed[new_id]["name"] == "to rotate"
    assert f"<td>{new_id}</td>" in old_row
    [record] = [
        r
        for r in audit_records(trust)
        if r["action"] == "key.rotate" and r["subject"] == f"key {key_id}"
    ]
    assert record["actor"] == "keeper" and record["detail"]["replacedBy"] == new_id
    twice = keeper.post(path, data={"csrf": token(keeper, "/review/keys")})
    assert twice.status_code == 409 and "already rotated" in twice.text


# --- the audit log ---------------------------------------------------------------------


def test_the_audit_page_shows_the_log_newest_first_under_a_holding_chain(
    trust: Deployment, keeper: httpx.Client
) -> None:
    for n in range(3):
        new_key(trust, f"audited {n}")
    verified = api(trust, "/v1/admin/audit/verify")
    page = keeper.get("/review/audit").text
    assert 'data-ok="true"' in page and "审计链完整" in page
    assert f"{verified['count']} 条记录" in page and verified["lastHash"] in page
    ids = [int(i) for i in re.findall(r'<tr id="record-\d+" data-id="(\d+)"', page)]
    newest = audit_records(trust)[0]
    assert ids[0] == newest["id"] and ids == sorted(ids, reverse=True)
    assert newest["at"] in page and newest["hash"] in page


def test_the_audit_log_pages_and_a_broken_chain_names_its_first_bad_record(
    tmp_path: Path,
) -> None:
    with deploy(tmp_path, {"admin": (["2924"], ["admin"])}) as d:
        for n in range(60):
            new_key(d, f"key {n}")  # 60 key.create records after the admin key's own
        with session_with(d, d.keys["admin"]) as (client, _):
            first = client.get("/review/audit").text
            ids = [int(i) for i in re.findall(r'data-id="(\d+)"', first)]
            assert ids == list(range(61, 11, -1))  # 50 a page, newest first
            older = re.search(r'href="(/review/audit\?before=\d+)" rel="next"', first)
            assert older, first
            second = client.get(older.group(1)).text
            assert [int(i) for i in re.findall(r'data-id="(\d+)"', second)] == list(
                range(11, 0, -1)
            )
            assert 'rel="next"' not in second and 'rel="first"' in second

            sql(d.settings.database_url, "UPDATE audit_log SET actor = 'mallory' WHERE id = 7")
            broken = client.get(older.group(1)).text
            assert 'data-ok="false"' in broken and 'data-broken-at="7"' in broken
            assert "审计链断裂" in broken and "record 7" in broken
            assert re.search(r'<tr id="record-7" data-id="7" class="broken">', broken)
            assert 'class="broken"' not in broken.replace(
                'id="record-7" data-id="7" class="broken"', ""
            )
            # The newest page links to the page that holds the bad record.
            assert 'href="/review/audit?before=8#record-7"' in client.get("/review/audit").text
