"""Real answers against the OpenAPI document: a server takes the documented XML examples
(the keys are the demo parties', as ``sandan demo`` prints them), and every route's answer,
and its problems, must be what /openapi.json says. The models in service/api/schemas only
document the routers' dictionaries, so this is what keeps the two the same."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from lxml import etree

from service.api.xml_examples import request_examples
from service.demo.consignments import DEMO_PARTIES, clean_import
from service.demo.exports import clean_export
from service.demo.mistakes import with_mistake
from service.demo.summary import summary_fields, summary_message
from service.messages.receipts import CUSTOMS_TZ
from service.messages.registry import MESSAGE_TYPES, Kind
from tests.api.openapi_support import check_answer, document
from tests.e2e.conftest import KEYS, Deployment, deploy
from tests.e2e.support import wait_until
from tests.e2e.test_lifecycle import released
from tests.e2e.webhook_receiver import receiver
from tests.security.certs import certificate_pem

BUNDLE_PATH = "/v1/bundles/{ebp_code}/{order_no}"
# documents naming consignments the example traffic may not hold (a made-up invtNo, a waybill
# the examples never sent): refused for that, never for their form
LIFECYCLE = {Kind.CANCEL, Kind.RETURN, Kind.SUMMARY, Kind.MASTER_BILL, Kind.ARRIVAL, Kind.DEPARTURE}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    keys = {**KEYS, "admin": (["2924"], ["admin"])}
    with deploy(tmp_path_factory.mktemp("openapi"), keys) as deployment:
        yield deployment


def sender_role(message: bytes) -> str:
    """The role in KEYS whose codes include the message's copCode, for its type."""
    cop = etree.fromstring(message).findtext(".//{*}BaseTransfer/{*}copCode")
    mt = MESSAGE_TYPES[etree.QName(etree.fromstring(message)).localname]
    for role, (codes, roles) in KEYS.items():
        if cop in codes and set(roles) & {r.value for r in mt.roles}:
            return role
    raise AssertionError(f"no key for {cop}")


def answer(
    d: Deployment, method: str, path: str, role: str | None, *, url: str | None = None, **kw: Any
) -> httpx.Response:
    headers = d.headers(role) if role else {}
    response = d.client.request(method, url or path, headers=headers, **kw)
    assert str(response.status_code) in document()["paths"][path][method.lower()]["responses"], (
        f"{method} {url or path} answered {response.status_code}, undocumented: {response.text}"
    )
    check_answer(method, path, response.status_code, response.json())
    return response


def documented_text(
    d: Deployment, path: str, role: str, media_type: str, *, url: str | None = None, **kw: Any
) -> httpx.Response:
    """A GET whose success answer is ``media_type`` text, as documented: its content type,
    and the documented example's first line (an XML root, a CSV header) the same as the
    real one's."""
    headers = d.headers(role, Accept=media_type)
    response = d.client.get(url or path, headers=headers, **kw)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    content = document()["paths"][path]["get"]["responses"]["200"]["content"][media_type]
    assert content["schema"]["type"] == "string"
    example = content["example"]
    if media_type == "application/xml":
        real, documented = etree.fromstring(response.content), etree.fromstring(example.encode())
        assert real.tag == documented.tag
        assert [e.tag for e in real.iter()][:20] == [e.tag for e in documented.iter()][:20]
    else:
        real_header = response.content.decode("utf-8").lstrip("\ufeff").splitlines()[0]
        assert real_header == example.splitlines()[0]
    return response


def test_the_documented_examples_are_accepted_and_answered_as_documented(
    served: Deployment,
) -> None:
    d = served
    for name, body in request_examples().items():
        mt = MESSAGE_TYPES[name]
        response = d.post(body, sender_role(body))
        assert response.status_code == 200, response.text
        check_answer("POST", "/v1/messages", 200, response.json())
        (document_answer,) = response.json()["documents"]
        if mt.kind in LIFECYCLE:
            # the example names a made-up invtNo: refused for that, never for its form
            codes = {e["code"] for e in document_answer["errors"]}
            assert not codes & {"SCHEMA_INVALID", "SENDER_MISMATCH", "FORBIDDEN"}, codes
        else:
            assert document_answer["status"] == "accepted", (name, document_answer)
    # the XML answer is the documented receipt type
    body = request_examples()["CEB311Message"]
    xml = d.post(body, sender_role(body), accept="application/xml")
    assert xml.status_code == 200
    assert etree.QName(etree.fromstring(xml.content)).localname == "CEB312Message"


def test_reading_routes_answer_as_documented(served: Deployment) -> None:
    d = served
    entries = answer(d, "GET", "/v1/manifest", "operator", params={"limit": 10}).json()
    assert entries["entries"], "the examples' consignments were decided"
    # a consignment of its own, released, for the operator's action
    consignment = clean_import(random.Random(90_001), 90_001)
    d.send_all(consignment)
    entry = {"ebpCode": consignment.key[0], "orderNo": consignment.key[1]}
    key = f"/v1/bundles/{entry['ebpCode']}/{entry['orderNo']}"
    wait_until(lambda: d.bundle_json(consignment.key)["state"], lambda s: s == "released")
    answer(d, "GET", BUNDLE_PATH, "operator", url=key)
    answer(d, "GET", "/v1/receipts", "agent")
    answer(d, "GET", "/v1/review/exceptions", "operator", params={"state": "all"})
    answer(d, "GET", "/v1/review/dashboard", "operator")
    review_key = f"/v1/review/bundles/{entry['ebpCode']}/{entry['orderNo']}"
    bundle = answer(
        d, "GET", "/v1/review/bundles/{ebp_code}/{order_no}", "operator", url=review_key
    ).json()
    assert bundle["sides"]
    action = {"action": "reopen", "reason": "checked", "version": bundle["version"]}
    done = answer(
        d,
        "POST",
        "/v1/bundles/{ebp_code}/{order_no}/actions",
        "operator",
        url=key + "/actions",
        json=action,
    ).json()
    # the same version again is stale: a documented 409
    stale = answer(
        d,
        "POST",
        "/v1/bundles/{ebp_code}/{order_no}/actions",
        "operator",
        url=key + "/actions",
        json={**action, "action": "release"},
    )
    assert stale.status_code == 409 and done["state"] == "exception"
    actions = answer(d, "GET", "/v1/review/actions", "operator").json()["actions"]
    assert actions and actions[0]["reason"] == "checked"
    answer(d, "GET", "/healthz", None)
    answer(d, "GET", "/readyz", None)


def test_admin_routes_answer_as_documented(served: Deployment) -> None:
    d = served
    created = answer(
        d, "POST", "/v1/admin/keys", "admin", json={"codes": ["3301960777"], "roles": ["agent"]}
    ).json()
    keys = answer(d, "GET", "/v1/admin/keys", "admin").json()["keys"]
    assert any(k["id"] == created["id"] for k in keys)
    rotated = answer(
        d,
        "POST",
        "/v1/admin/keys/{key_id}/rotate",
        "admin",
        url=f"/v1/admin/keys/{created['id']}/rotate",
        json={},
    ).json()
    answer(
        d,
        "POST",
        "/v1/admin/keys/{key_id}/revoke",
        "admin",
        url=f"/v1/admin/keys/{rotated['id']}/revoke",
    )
    pem = certificate_pem(0x0C0D).decode()
    answer(d, "POST", "/v1/admin/certificates", "admin", json={"code": "3301960778", "pem": pem})
    answer(d, "GET", "/v1/admin/certificates", "admin")
    answer(
        d,
        "DELETE",
        "/v1/admin/certificates/{serial}",
        "admin",
        url="/v1/admin/certificates/0c0d",
    )
    assert answer(d, "GET", "/v1/admin/audit", "admin").json()["records"]
    assert answer(d, "GET", "/v1/admin/audit/verify", "admin").json()["ok"] is True


def test_problems_answer_as_documented(served: Deployment) -> None:
    d = served
    assert answer(d, "GET", "/v1/manifest", None).status_code == 401
    assert answer(d, "GET", "/v1/manifest", "operator", params={"limit": 0}).status_code == 422
    missing = answer(d, "GET", BUNDLE_PATH, "operator", url="/v1/bundles/0000000000/NONE")
    assert missing.status_code == 404
    assert answer(d, "GET", "/v1/admin/keys", "operator").status_code == 403
    refused = d.client.post(
        "/v1/messages",
        content=b"<not xml",
        headers=d.headers("platform", **{"Content-Type": "application/xml"}),
    )
    assert refused.status_code == 400
    check_answer("POST", "/v1/messages", 400, refused.json())


def test_summary_routes_answer_as_documented(served: Deployment) -> None:
    d = served
    export = clean_export(random.Random(90_002), 90_002)
    invt_no = released(d, export)
    ebc = DEMO_PARTIES.ebc
    today = datetime.now(CUSTOMS_TZ).date().isoformat()
    proposed = answer(
        d,
        "GET",
        "/v1/summaries/proposal",
        "platform",
        params={"ebcCode": ebc.code, "from": today, "to": today},
    ).json()
    assert invt_no in proposed["inventories"] and proposed["lines"]
    bad = {"ebcCode": ebc.code, "from": today, "to": "tomorrow"}
    assert answer(d, "GET", "/v1/summaries/proposal", "platform", params=bad).status_code == 422
    message = summary_message(summary_fields(ebc.code, ebc.name), [invt_no], ebc.code)
    applied = d.post(message, "platform")
    assert applied.status_code == 200, applied.text
    (summary_answer,) = applied.json()["documents"]
    assert summary_answer["status"] == "accepted", summary_answer
    sum_no = summary_answer["key"]["sumNo"]
    url = f"/v1/summaries/{sum_no}"
    summary = answer(d, "GET", "/v1/summaries/{sum_no}", "platform", url=url).json()
    assert summary["inventories"] == [invt_no]
    documented_text(d, "/v1/summaries/{sum_no}", "platform", "application/xml", url=url)
    missing = answer(
        d, "GET", "/v1/summaries/{sum_no}", "platform", url="/v1/summaries/29242026S999999999"
    )
    assert missing.status_code == 404


def test_review_tools_answer_as_documented(served: Deployment) -> None:
    d = served
    documented_text(d, "/v1/review/exceptions.csv", "operator", "text/csv", params={"state": "all"})
    consignment = clean_import(random.Random(90_003), 90_003)
    d.send_all(consignment)
    wait_until(lambda: d.bundle_json(consignment.key)["state"], lambda s: s == "released")
    version = d.bundle_json(consignment.key)["version"]
    key = {"ebpCode": consignment.key[0], "orderNo": consignment.key[1]}
    body = {
        "action": "reject",
        "reason": "documented",
        "bundles": [{**key, "version": version}, {**key, "version": version}],
    }
    outcome = answer(d, "POST", "/v1/review/bulk", "operator", json=body).json()
    # the second names the version the first made stale: refused, as documented
    assert [r["outcome"] for r in outcome["results"]] == ["done", "refused"], outcome
    assert answer(d, "POST", "/v1/review/bulk", "operator", json={}).status_code == 422
    assert answer(d, "POST", "/v1/review/bulk", "platform", json=body).status_code == 403
    rejected = answer(d, "GET", "/v1/review/exceptions", "operator", params={"state": "rejected"})
    assert rejected.json()["total"] >= 1
    # a bundle in exception for a rule: the counts per severity and the top rules have it
    faulty = with_mistake(clean_import(random.Random(90_004), 90_004), "PAYMENT_AMOUNT")
    d.send_all(faulty)
    wait_until(lambda: d.bundle_json(faulty.key)["state"], lambda s: s == "exception")
    queue = answer(d, "GET", "/v1/review/exceptions", "operator").json()
    assert queue["countsBySeverity"]["PAYMENT_AMOUNT"]["error"] >= 1
    dashboard = answer(d, "GET", "/v1/review/dashboard", "operator", params={"from": today()})
    assert dashboard.json()["from"] == today()
    top = {r["code"]: r for r in dashboard.json()["topRules"]}
    assert top["PAYMENT_AMOUNT"]["errors"] >= 1


def today() -> str:
    return datetime.now(CUSTOMS_TZ).date().isoformat()


def test_webhook_routes_answer_as_documented(served: Deployment) -> None:
    d = served
    path = "/v1/webhooks/{webhook_id}"
    with receiver() as r:
        created = answer(
            d, "POST", "/v1/webhooks", "warehouse", json={"url": r.url, "after": 0}
        ).json()
        r.secret = created["secret"]
        one = f"/v1/webhooks/{created['id']}"
        assert any(
            w["id"] == created["id"]
            for w in answer(d, "GET", "/v1/webhooks", "warehouse").json()["webhooks"]
        )
        answer(d, "GET", path, "warehouse", url=one)
        deliveries = wait_until(
            lambda: answer(
                d, "GET", path + "/deliveries", "warehouse", url=one + "/deliveries"
            ).json()["deliveries"],
            bool,
        )
        assert deliveries[0]["statusCode"] == 200
        answer(d, "POST", path + "/resume", "operator", url=one + "/resume")
        refused = answer(d, "POST", "/v1/webhooks", "warehouse", json={"url": "ftp://x"})
        assert refused.status_code == 422
        assert answer(d, "POST", "/v1/webhooks", "platform", json={"url": r.url}).status_code == 403
        assert answer(d, "GET", path, "other_warehouse", url=one).status_code == 404
        deleted = d.client.delete(one, headers=d.headers("warehouse"))
        assert deleted.status_code == 204
        assert "204" in document()["paths"][path]["delete"]["responses"]
        assert answer(d, "DELETE", path, "warehouse", url=one).status_code == 404
