"""GET /v1/receipts over HTTP (SPEC §10 "Decision receipts"): intake and decision receipts,
cursor, limit, long poll, scoping and the XML form."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from service.demo.consignments import Consignment
from service.demo.exports import clean_export
from service.messages.registry import BUNDLE_KINDS, CEB_NS, Kind
from tests.e2e.conftest import KEYS, Deployment, deploy, fresh
from tests.e2e.support import mistaken, wait_until

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
RECEIPT_KEYS = {
    "seq",
    "messageType",
    "guid",
    "invtNo",
    "returnStatus",
    "returnTime",
    "returnInfo",
}
SANDAN_NS = "urn:sandan:receipts"


def receipts(d: Deployment, role: str, **params: Any) -> dict[str, Any]:
    response = d.client.get("/v1/receipts", params=params, headers=d.headers(role))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def last_receipt(d: Deployment, role: str) -> int:
    after = 0
    while True:
        page = receipts(d, role, after=after, limit=1000)
        if not page["receipts"]:
            return after
        after = page["next"]


def said(page: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["messageType"], r["guid"], r["returnStatus"]) for r in page["receipts"]]


@pytest.fixture
def since(sandan: Deployment) -> dict[str, int]:
    """Each role's cursor before the test (the deployment is shared by the module)."""
    return {role: last_receipt(sandan, role) for role in KEYS}


def act(d: Deployment, c: Consignment, action: str) -> None:
    version = d.bundle_json(c.key)["version"]
    response = d.client.post(
        f"/v1/bundles/{c.key[0]}/{c.key[1]}/actions",
        json={"action": action, "reason": "checked", "version": version},
        headers=d.headers("operator"),
    )
    assert response.status_code == 200, response.text


def test_documents_sent_get_their_intake_receipts(
    sandan: Deployment, since: dict[str, int]
) -> None:
    c = fresh()
    sandan.send_all(c, [Kind.ORDER, Kind.INVENTORY])
    page = receipts(sandan, "platform", after=since["platform"])
    assert said(page) == [("CEB312Message", c.order["guid"], "120")]
    [receipt] = page["receipts"]
    assert set(receipt) == RECEIPT_KEYS
    assert receipt["returnInfo"] == "入库成功 accepted"
    assert len(receipt["returnTime"]) == 17 and receipt["returnTime"].isdigit()
    assert page["next"] == receipt["seq"]
    assert said(receipts(sandan, "agent", after=since["agent"])) == [
        ("CEB622Message", c.inventory["guid"], "120")
    ]
    # a replay is answered with the original receipt and adds nothing to the feed
    assert sandan.send(c, Kind.ORDER)["status"] == "duplicate"
    assert receipts(sandan, "platform", after=page["next"])["receipts"] == []


def test_a_refused_document_gets_its_receipt_and_is_not_stored(
    sandan: Deployment, since: dict[str, int]
) -> None:
    c = fresh()
    body = c.message(Kind.ORDER).replace(b"<ceb:currency>142</ceb:currency>", b"")
    answer = sandan.post(body, "platform")
    assert answer.status_code == 200, answer.text
    assert answer.json()["documents"][0]["returnStatus"] == "-1"
    [receipt] = receipts(sandan, "platform", after=since["platform"])["receipts"]
    assert (receipt["guid"], receipt["returnStatus"]) == (c.order["guid"], "-1")
    assert receipt["returnInfo"].startswith("SCHEMA_INVALID")
    assert sandan.bundle(c.key).status_code == 404
    # a message refused whole (not well-formed) has no documents and gets no receipt
    assert sandan.post(b"<ceb:CEB311Message", "platform").status_code == 400
    assert receipts(sandan, "platform", after=receipt["seq"])["receipts"] == []


def test_a_release_tells_the_inventory_sender_800(
    sandan: Deployment, since: dict[str, int]
) -> None:
    c = fresh()
    sandan.send_all(c)
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "released"
    page = receipts(sandan, "agent", after=since["agent"])
    assert said(page) == [
        ("CEB622Message", c.inventory["guid"], "120"),
        ("CEB622Message", c.inventory["guid"], "800"),
    ]
    decision = page["receipts"][-1]
    assert decision["returnInfo"] == "放行 released"
    assert bundle["invtNo"] and decision["invtNo"] == bundle["invtNo"]
    assert page["receipts"][0]["invtNo"] == bundle["invtNo"]
    # the other senders hear of their own documents only
    for role in ("platform", "payment", "logistics"):
        page = receipts(sandan, role, after=since[role])
        assert [r["returnStatus"] for r in page["receipts"]] == ["120"], role


def test_an_exception_names_its_rules(sandan: Deployment, since: dict[str, int]) -> None:
    c = mistaken(fresh(), "PAYMENT_AMOUNT")
    sandan.send_all(c)
    rules = [f["code"] for f in sandan.bundle_json(c.key)["findings"]]
    assert "PAYMENT_AMOUNT" in rules
    decision = receipts(sandan, "agent", after=since["agent"])["receipts"][-1]
    assert (decision["guid"], decision["returnStatus"]) == (c.inventory["guid"], "100")
    assert decision["returnInfo"] == f"海关退单: {', '.join(rules)}"


def test_operator_reject_and_release(sandan: Deployment, since: dict[str, int]) -> None:
    c = mistaken(fresh(), "PAYMENT_AMOUNT")
    sandan.send_all(c)
    after = receipts(sandan, "agent", after=since["agent"])["next"]
    act(sandan, c, "release")
    act(sandan, c, "reject")
    page = receipts(sandan, "agent", after=after)
    assert said(page) == [
        ("CEB622Message", c.inventory["guid"], "800"),
        ("CEB622Message", c.inventory["guid"], "100"),
    ]
    assert [r["returnInfo"] for r in page["receipts"]] == [
        "放行 released (人工审核 operator): PAYMENT_AMOUNT",
        "海关退单 (人工审核 operator): PAYMENT_AMOUNT",
    ]


def test_cursor_pages_and_limit(sandan: Deployment, since: dict[str, int]) -> None:
    start = since["agent"]
    for _ in range(3):
        sandan.send_all(fresh())
    everything = receipts(sandan, "agent", after=start)
    assert len(everything["receipts"]) == 6  # 120 and 800 for each inventory
    seqs = [r["seq"] for r in everything["receipts"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 6 and seqs[0] > start
    assert everything["next"] == seqs[-1]

    collected: list[dict[str, Any]] = []
    after = start
    while True:
        page = receipts(sandan, "agent", after=after, limit=4)
        assert len(page["receipts"]) <= 4
        assert receipts(sandan, "agent", after=after, limit=4) == page  # at-least-once
        if not page["receipts"]:
            assert page["next"] == after
            break
        collected += page["receipts"]
        after = page["next"]
    assert collected == everything["receipts"]
    assert receipts(sandan, "agent", after=seqs[-1] + 1000) == {
        "receipts": [],
        "next": seqs[-1] + 1000,
    }
    too_few = sandan.client.get(
        "/v1/receipts", params={"limit": 0}, headers=sandan.headers("agent")
    )
    assert too_few.status_code == 422


def test_a_key_sees_only_its_own_codes_receipts(sandan: Deployment, since: dict[str, int]) -> None:
    c = fresh()
    sandan.send_all(c)
    for role in ("other_platform", "nobody", "operator"):
        assert receipts(sandan, role, after=since[role])["receipts"] == [], role
    # receipts are the code's, whichever of its keys asks: the warehouse key holds the
    # carrier's code
    carrier = receipts(sandan, "logistics", after=since["logistics"])
    assert said(carrier) == [("CEB512Message", c.logistics["guid"], "120")]
    assert receipts(sandan, "warehouse", after=since["warehouse"]) == carrier
    assert sandan.client.get("/v1/receipts").status_code == 401


def test_the_xml_form_holds_each_receipt_as_its_valid_ceb_message(
    sandan: Deployment, since: dict[str, int]
) -> None:
    imported, exported = fresh(), clean_export(random.Random(7), 700_007)
    sandan.send_all(imported)
    sandan.send_all(exported)
    page = receipts(sandan, "agent", after=since["agent"])
    response = sandan.client.get(
        "/v1/receipts",
        params={"after": since["agent"]},
        headers=sandan.headers("agent", Accept="application/xml"),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{SANDAN_NS}}}Receipts"
    assert int(root.get("next", "")) == page["next"]
    schemas = {
        side: etree.XMLSchema(etree.parse(str(SCHEMAS / f"{side}.xsd")))
        for side in ("import", "export")
    }
    wrapped = root.findall(f"{{{SANDAN_NS}}}Receipt")
    assert [int(w.get("seq", "")) for w in wrapped] == [r["seq"] for r in page["receipts"]]
    for receipt, wrapper in zip(page["receipts"], wrapped, strict=True):
        [message] = list(wrapper)
        assert message.tag == f"{{{CEB_NS}}}{receipt['messageType']}"
        side = "export" if receipt["messageType"] == "CEB604Message" else "import"
        schemas[side].assertValid(etree.fromstring(etree.tostring(message)))
        [item] = list(message)
        assert item.findtext(f"{{{CEB_NS}}}guid") == receipt["guid"]
        assert item.findtext(f"{{{CEB_NS}}}returnStatus") == receipt["returnStatus"]
        assert item.findtext(f"{{{CEB_NS}}}returnTime") == receipt["returnTime"]
        assert item.findtext(f"{{{CEB_NS}}}invtNo") == receipt["invtNo"]
    assert [r["messageType"] for r in page["receipts"]] == ["CEB622Message"] * 2 + [
        "CEB604Message"
    ] * 2
    # read again, the same messages (their guids included)
    again = sandan.client.get(
        "/v1/receipts",
        params={"after": since["agent"]},
        headers=sandan.headers("agent", Accept="application/xml"),
    )
    assert again.content == response.content


# --- long poll (a server whose periodic re-read would come far too late) -------------------


@pytest.fixture(scope="module")
def sleepy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(
        tmp_path_factory.mktemp("sleepy"), SANDAN_MANIFEST_POLL_INTERVAL_SECONDS="30"
    ) as deployment:
        yield deployment


class Poll(threading.Thread):
    def __init__(self, d: Deployment, role: str, **params: Any) -> None:
        super().__init__(daemon=True)
        self.url, self.headers, self.params = d.server.url, d.headers(role), params
        self.returned_at = 0.0
        self.response: httpx.Response | None = None

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            self.response = client.get("/v1/receipts", params=self.params, headers=self.headers)
            self.returned_at = time.monotonic()

    def body(self) -> dict[str, Any]:
        self.join(30)
        assert self.response is not None, "the long poll did not return"
        assert self.response.status_code == 200, self.response.text
        body: dict[str, Any] = self.response.json()
        return body


def polling(d: Deployment, role: str, after: int) -> Poll:
    poll = Poll(d, role, after=after, wait=20)
    poll.start()
    wait_until(lambda: poll.is_alive(), bool)
    time.sleep(0.5)  # the poll reached the server and waits
    assert poll.is_alive(), "the poll returned before anything was issued"
    return poll


@pytest.mark.parametrize("cause", ["intake", "decision", "operator"])
def test_a_long_poll_wakes_on_a_new_receipt(sleepy: Deployment, cause: str) -> None:
    """Woken by this process's commit: an intake receipt (the inventory of a consignment
    still missing its payment), a decision receipt (the payment completes it; the agent
    sent nothing), an operator's release."""
    c = mistaken(fresh(), "PAYMENT_AMOUNT") if cause == "operator" else fresh()
    before = {
        "intake": [],
        "decision": [Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY],
        "operator": list(BUNDLE_KINDS),
    }[cause]
    if before:
        sleepy.send_all(c, before)
    poll = polling(sleepy, "agent", last_receipt(sleepy, "agent"))
    if cause == "intake":
        sleepy.send_all(c, [Kind.INVENTORY])
    elif cause == "decision":
        sleepy.send_all(c, [Kind.PAYMENT])
    else:
        act(sleepy, c, "release")
    issued_at = time.monotonic()
    body = poll.body()
    assert poll.returned_at - issued_at < 3.0, "woken by the commit, not the 30 s re-read"
    expected = {"intake": "120", "decision": "800", "operator": "800"}[cause]
    assert [(r["guid"], r["returnStatus"]) for r in body["receipts"]] == [
        (c.inventory["guid"], expected)
    ]


def test_a_long_poll_sleeps_through_other_codes_receipts(sleepy: Deployment) -> None:
    started = time.monotonic()
    poll = Poll(sleepy, "other_platform", after=last_receipt(sleepy, "other_platform"), wait=2)
    poll.start()
    time.sleep(0.3)
    sleepy.send_all(fresh())
    assert poll.body()["receipts"] == []
    assert poll.returned_at - started >= 1.8


def test_the_openapi_document_describes_both_forms(sandan: Deployment) -> None:
    spec = sandan.client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/receipts"]["get"]
    content = operation["responses"]["200"]["content"]
    assert set(content) >= {"application/json", "application/xml"}
    assert "sandan:Receipts" in operation["description"]
    assert {p["name"] for p in operation["parameters"]} == {"after", "limit", "wait"}
