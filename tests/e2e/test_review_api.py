"""The review JSON API over HTTP (SPEC §6.4): operators only, reasons required, optimistic
version check, manifest entries and audit records, the queue's filters and the dashboard."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.clock import beijing
from service.demo.consignments import Consignment
from tests.e2e.conftest import Deployment, fresh
from tests.e2e.support import mistaken, unchanged, wait_until

PAYMENT_AMOUNT = "PAYMENT_AMOUNT"


def key_of(c: Consignment) -> tuple[str, str]:
    return c.order["ebpCode"], c.order["orderNo"]


def exception_bundle(d: Deployment, code: str = PAYMENT_AMOUNT) -> tuple[str, str]:
    c = mistaken(fresh(), code)
    d.send_all(c)
    key = key_of(c)
    wait_until(lambda: d.bundle_json(key)["state"], lambda s: s == "exception")
    return key


def act(
    d: Deployment, key: tuple[str, str], body: dict[str, Any], role: str = "operator"
) -> httpx.Response:
    headers = d.headers(role) if role else {}
    return d.client.post(f"/v1/bundles/{key[0]}/{key[1]}/actions", json=body, headers=headers)


def queue(d: Deployment, role: str = "operator", **params: Any) -> httpx.Response:
    return d.client.get("/v1/review/exceptions", params=params, headers=d.headers(role))


def actions(d: Deployment) -> list[dict[str, Any]]:
    response = d.client.get("/v1/review/actions", headers=d.headers("operator"))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["actions"]
    return found


def test_release_override_appends_an_operator_entry_and_an_audit_record(
    sandan: Deployment,
) -> None:
    key = exception_bundle(sandan)
    version = sandan.bundle_json(key)["version"]
    response = act(sandan, key, {"action": "release", "reason": "银行确认金额", "version": version})
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["state"] == "released"
    assert done["version"] > version
    entries = sandan.entries_for(key)
    assert [(e["decision"], e["by"]) for e in entries] == [
        ("exception", "engine"),
        ("release", "operator"),
    ]
    assert entries[-1]["seq"] == done["seq"]
    assert entries[-1]["rules"] == [PAYMENT_AMOUNT]
    (record,) = [a for a in actions(sandan) if (a["ebpCode"], a["orderNo"]) == key]
    assert record["action"] == "release"
    assert record["by"] == "operator"
    assert record["reason"] == "银行确认金额"
    assert record["seq"] == done["seq"]
    assert record["bundleVersion"] == version
    view = sandan.client.get(
        f"/v1/review/bundles/{key[0]}/{key[1]}", headers=sandan.headers("operator")
    ).json()
    assert view["state"] == "released"
    assert view["audit"] == [{k: v for k, v in record.items() if k not in ("ebpCode", "orderNo")}]
    assert view["history"][-1]["event"] == "operator"
    assert view["history"][-1]["reason"] == "银行确认金额"


@pytest.mark.parametrize("role", ["platform", "warehouse", "agent", None])
def test_actions_need_the_operator_role(sandan: Deployment, role: str | None) -> None:
    key = exception_bundle(sandan)
    version = sandan.bundle_json(key)["version"]
    with unchanged(sandan, key):
        response = act(
            sandan, key, {"action": "release", "reason": "mine", "version": version}, role or ""
        )
        assert response.status_code == (401 if role is None else 403)
        assert response.json()["code"] == ("UNAUTHENTICATED" if role is None else "FORBIDDEN")
        for path in ("/v1/review/exceptions", "/v1/review/dashboard", "/v1/review/actions"):
            answer = sandan.client.get(path, headers=sandan.headers(role) if role else {})
            assert answer.status_code == (401 if role is None else 403)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"action": "release", "reason": ""}, 422, "INVALID_REQUEST"),
        ({"action": "release", "reason": "  \n "}, 422, "INVALID_REQUEST"),
        ({"action": "release"}, 422, "INVALID_REQUEST"),
        ({"action": "approve", "reason": "ok"}, 422, "INVALID_REQUEST"),
        ({"action": "reopen", "reason": "ok"}, 409, "ACTION_NOT_ALLOWED"),
        ({"action": "release", "reason": "ok", "version": "x"}, 422, "INVALID_REQUEST"),
    ],
)
def test_bad_actions_get_a_clear_error_and_change_nothing(
    sandan: Deployment, body: dict[str, Any], status: int, code: str
) -> None:
    key = exception_bundle(sandan)
    body = {"version": sandan.bundle_json(key)["version"], **body}
    with unchanged(sandan, key):
        response = act(sandan, key, body)
        assert response.status_code == status, response.text
        assert response.json()["code"] == code
    if "reason" in response.json().get("message", ""):
        assert response.json()["field"] == "reason"


def test_a_stale_version_cannot_override_a_newer_decision(sandan: Deployment) -> None:
    key = exception_bundle(sandan)
    seen = sandan.bundle_json(key)["version"]
    first = act(sandan, key, {"action": "reject", "reason": "first look", "version": seen})
    assert first.status_code == 200, first.text
    with unchanged(sandan, key):
        stale = act(sandan, key, {"action": "release", "reason": "stale page", "version": seen})
        assert stale.status_code == 409
        assert stale.json()["code"] == "VERSION_CONFLICT"
    assert sandan.entries_for(key)[-1]["decision"] == "reject"


def test_reject_and_reopen(sandan: Deployment) -> None:
    key = exception_bundle(sandan)
    version = sandan.bundle_json(key)["version"]
    rejected = act(sandan, key, {"action": "reject", "reason": "fake", "version": version}).json()
    assert rejected["state"] == "rejected"
    reopened = act(
        sandan, key, {"action": "reopen", "reason": "appeal", "version": rejected["version"]}
    ).json()
    assert reopened["state"] == "exception"
    assert sandan.bundle_json(key)["state"] == "exception"
    assert [e["decision"] for e in sandan.entries_for(key)] == ["exception", "reject", "exception"]
    assert [
        a["action"] for a in reversed(actions(sandan)) if (a["ebpCode"], a["orderNo"]) == key
    ] == ["reject", "reopen"]


def test_the_queue_filters_counts_and_searches(sandan: Deployment) -> None:
    key = exception_bundle(sandan, "CONSIGNEE_MISMATCH")
    bundle = sandan.bundle_json(key)
    waybill = bundle["documents"]["logistics"]["key"]["logisticsNo"]
    everything = queue(sandan, size=100).json()
    assert everything["counts"]["CONSIGNEE_MISMATCH"] >= 1
    assert all(item["state"] == "exception" for item in everything["items"])
    ages = [item["ageSeconds"] for item in everything["items"]]
    assert ages == sorted(ages, reverse=True)  # oldest first

    by_rule = queue(sandan, rule="CONSIGNEE_MISMATCH", size=100).json()
    assert by_rule["items"] and all("CONSIGNEE_MISMATCH" in i["rules"] for i in by_rule["items"])
    assert by_rule["total"] == everything["counts"]["CONSIGNEE_MISMATCH"]
    assert queue(sandan, rule="TAX_TOTAL").json()["total"] == 0

    for q in (key[1], waybill):
        found = queue(sandan, q=q, state="all").json()
        assert [(i["ebpCode"], i["orderNo"]) for i in found["items"]] == [key]
    assert queue(sandan, q=key[1], regime="I9610").json()["total"] == 1
    assert queue(sandan, q=key[1], regime="E9610").json()["total"] == 0
    assert queue(sandan, q=key[1], enterprise=key[0]).json()["total"] == 1
    assert queue(sandan, q=key[1], enterprise="9999990001").json()["total"] == 0
    today = beijing(bundle["history"][0]["at"])[:10]  # the queue's days are Beijing days
    assert queue(sandan, q=key[1], **{"from": today, "to": today}).json()["total"] == 1
    assert queue(sandan, q=key[1], to="2020-01-01").json()["total"] == 0
    assert queue(sandan, q=key[1], state="released").json()["total"] == 0

    page = queue(sandan, size=20, page=1).json()
    assert page["size"] == 20 and page["pages"] == max(1, -(-page["total"] // 20))
    for bad in ({"from": "yesterday"}, {"state": "lost"}, {"size": "7"}, {"page": "0"}):
        answer = queue(sandan, **bad)
        assert answer.status_code == 422
        assert answer.json()["code"] == "INVALID_REQUEST"


def test_the_dashboard(sandan: Deployment) -> None:
    exception_bundle(sandan)
    response = sandan.client.get("/v1/review/dashboard", headers=sandan.headers("operator"))
    assert response.status_code == 200
    data = response.json()
    assert len(data["throughput"]) == 60
    assert sum(p["documents"] for p in data["throughput"]) >= 4
    mix = {row["regime"]: row for row in data["decisionMix"]}
    assert mix["I9610"]["exception"] >= 1
    assert PAYMENT_AMOUNT in {r["code"] for r in data["topRules"]}
    assert [b["age"] for b in data["pendingByAge"]] == ["<1h", "1–6h", "6–24h", ">24h"]
