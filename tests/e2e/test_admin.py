"""The admin API (SPEC §11) on a real server: certificates, keys, the audit log; a revoked or
expired key gets 401 saying which; operator actions land in the audit chain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.messages.registry import Kind
from tests.e2e.conftest import KEYS, Deployment, deploy, fresh
from tests.e2e.support import mistaken, wait_until
from tests.security.certs import certificate_pem

ADMIN_KEYS = {**KEYS, "admin": (["2924"], ["admin"])}


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(
        tmp_path_factory.mktemp("admin"),
        ADMIN_KEYS,
        SANDAN_KEY_LAST_USED_FLUSH_SECONDS="0.2",
    ) as deployment:
        yield deployment


def admin(d: Deployment) -> dict[str, str]:
    return d.headers("admin")


def test_admin_routes_need_the_admin_role(trusted: Deployment) -> None:
    for path in ("/v1/admin/certificates", "/v1/admin/keys", "/v1/admin/audit"):
        assert trusted.client.get(path, headers=trusted.headers("operator")).status_code == 403
        assert trusted.client.get(path).status_code == 401


def test_certificates_add_list_revoke(trusted: Deployment) -> None:
    pem = certificate_pem(0x0ABC, name="API Sender").decode()
    added = trusted.client.post(
        "/v1/admin/certificates",
        json={"code": "3301960011", "pem": pem, "name": "rollover"},
        headers=admin(trusted),
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["serial"] == "0abc" and body["code"] == "3301960011"
    assert body["algorithm"] == "rsa" and body["subject"] == "CN=API Sender"
    assert body["revokedAt"] is None and body["name"] == "rollover"
    assert body["notBefore"].endswith("Z") and body["notAfter"].endswith("Z")

    twice = trusted.client.post(
        "/v1/admin/certificates", json={"code": "3301960011", "pem": pem}, headers=admin(trusted)
    )
    assert twice.status_code == 409 and twice.json()["code"] == "CERTIFICATE_EXISTS"
    bad = trusted.client.post(
        "/v1/admin/certificates", json={"code": "3301960011", "pem": "xx"}, headers=admin(trusted)
    )
    assert bad.status_code == 422 and bad.json()["code"] == "CERTIFICATE_INVALID"

    listed = trusted.client.get(
        "/v1/admin/certificates", params={"code": "3301960011"}, headers=admin(trusted)
    ).json()["certificates"]
    assert [c["serial"] for c in listed] == ["0abc"]

    revoked = trusted.client.delete("/v1/admin/certificates/000ABC", headers=admin(trusted))
    assert revoked.status_code == 200, revoked.text
    [row] = revoked.json()["certificates"]
    assert row["revokedAt"] is not None
    gone = trusted.client.delete("/v1/admin/certificates/0def", headers=admin(trusted))
    assert gone.status_code == 404


def test_a_revoked_key_gets_401_saying_so(trusted: Deployment) -> None:
    created = trusted.client.post(
        "/v1/admin/keys",
        json={"codes": ["3301960021"], "roles": ["warehouse"], "name": "to revoke"},
        headers=admin(trusted),
    )
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]
    bearer = {"Authorization": f"Bearer {key}"}
    assert trusted.client.get("/v1/manifest", headers=bearer).status_code == 200
    revoked = trusted.client.post(f"/v1/admin/keys/{key_id}/revoke", headers=admin(trusted))
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    refused = trusted.client.get("/v1/manifest", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["code"] == "UNAUTHENTICATED" and "revoked" in refused.json()["message"]
    again = trusted.client.post(f"/v1/admin/keys/{key_id}/revoke", headers=admin(trusted))
    assert again.status_code == 409


def test_an_expired_key_gets_401_saying_so(trusted: Deployment) -> None:
    codes, roles = KEYS["platform"]
    made = trusted.client.post(
        "/v1/admin/keys", json={"codes": codes, "roles": roles}, headers=admin(trusted)
    ).json()
    rotated = trusted.client.post(
        f"/v1/admin/keys/{made['id']}/rotate", json={"graceHours": 0}, headers=admin(trusted)
    )
    assert rotated.status_code == 201, rotated.text
    assert rotated.json()["replaces"]["replacedBy"] == rotated.json()["id"]

    def post(key: str) -> httpx.Response:
        return trusted.client.post(
            "/v1/messages",
            content=fresh().message(Kind.ORDER),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/xml"},
        )

    refused = post(made["key"])
    assert refused.status_code == 401 and "expired" in refused.json()["message"]
    accepted = post(rotated.json()["key"])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["documents"][0]["status"] == "accepted"


def test_keys_list_shows_last_use_and_never_the_key(trusted: Deployment) -> None:
    trusted.client.get("/v1/manifest", headers=trusted.headers("warehouse"))

    def warehouse_key() -> dict[str, object]:
        keys = trusted.client.get("/v1/admin/keys", headers=admin(trusted)).json()["keys"]
        [found] = [k for k in keys if k["name"] == "warehouse"]
        return dict(found)

    seen = wait_until(warehouse_key, lambda k: k["lastUsedAt"] is not None)
    assert seen["roles"] == ["warehouse"] and seen["state"] == "active"
    text = trusted.client.get("/v1/admin/keys", headers=admin(trusted)).text
    assert all(key not in text for key in trusted.keys.values())
    assert "hash" not in text


def test_changes_and_operator_actions_are_in_the_audit_chain(trusted: Deployment) -> None:
    c = mistaken(fresh(), "PAYMENT_AMOUNT")
    trusted.send_all(c)
    key = (c.order["ebpCode"], c.order["orderNo"])
    bundle = wait_until(lambda: trusted.bundle_json(key), lambda b: b["state"] == "exception")
    done = trusted.client.post(
        f"/v1/bundles/{key[0]}/{key[1]}/actions",
        json={"action": "release", "reason": "checked by phone", "version": bundle["version"]},
        headers=trusted.headers("operator"),
    )
    assert done.status_code == 200, done.text
    records = trusted.client.get("/v1/admin/audit", headers=admin(trusted)).json()["records"]
    [release] = [r for r in records if r["action"] == "review.release"]
    assert release["actor"] == "operator" and release["subject"] == f"bundle {key[0]}/{key[1]}"
    assert release["detail"]["reason"] == "checked by phone"
    assert {"key.create", "key.revoke", "key.rotate", "certificate.add"} <= {
        r["action"] for r in records
    }
    assert records[0]["prevHash"] == records[1]["hash"]  # newest first, chained
    verified = trusted.client.get("/v1/admin/audit/verify", headers=admin(trusted)).json()
    assert verified["ok"] and verified["count"] == len(records)
    assert verified["lastHash"] == records[0]["hash"]


def test_revocation_by_the_cli_reaches_the_running_server(
    tmp_path: Path,
) -> None:
    from tests.test_cli import sandan

    with deploy(tmp_path, {"warehouse": ([KEYS["warehouse"][0][0]], ["warehouse"])}) as d:
        assert d.client.get("/v1/manifest", headers=d.headers("warehouse")).status_code == 200
        done = sandan(d.settings.database_url, "keys", "revoke", "1")
        assert done.returncode == 0, done.stderr
        wait_until(
            lambda: d.client.get("/v1/manifest", headers=d.headers("warehouse")).status_code,
            lambda status: status == 401,
            timeout=5.0,
        )
