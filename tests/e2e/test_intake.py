"""Intake (SPEC §5.1, §6.1): per-document answers, whole-message refusals, and the rule that a
refused document changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from lxml import etree

from service.demo.consignments import Consignment, message_of, parts
from service.messages.registry import BUNDLE_KINDS, CEB_NS, Kind
from tests.e2e.conftest import KEYS, SENDER_OF, Deployment, deploy, fresh
from tests.e2e.support import (
    bundle_state,
    edit,
    last_seq,
    only_document,
    revised,
    unchanged,
)

OTHER = "9999990001"
Edit = Callable[[Consignment], str]
KEY_FIELDS = {
    Kind.ORDER: ("ebpCode", "orderNo"),
    Kind.PAYMENT: ("payCode", "payTransactionId", "ebpCode", "orderNo"),
    Kind.LOGISTICS: ("logisticsCode", "logisticsNo"),
    Kind.INVENTORY: ("ebpCode", "orderNo", "logisticsCode", "logisticsNo"),
}
RECEIPTS = {
    Kind.ORDER: ("CEB312Message", "OrderReturn"),
    Kind.PAYMENT: ("CEB412Message", "PaymentReturn"),
    Kind.LOGISTICS: ("CEB512Message", "LogisticsReturn"),
    Kind.INVENTORY: ("CEB622Message", "InventoryReturn"),
}


def own_code(role: str) -> str:
    return KEYS[role][0][0]


def head(c: Consignment, kind: Kind) -> dict[str, Any]:
    return parts(c, kind)[0]


def post_one(d: Deployment, body: bytes, role: str) -> dict[str, Any]:
    response = d.post(body, role)
    assert response.status_code == 200, response.text
    return only_document(response.json())


def assert_rejected(result: dict[str, Any], code: str, return_status: str = "100") -> None:
    assert result["status"] == "rejected", result
    assert result["returnStatus"] == return_status, result
    assert result["errors"], result
    assert result["errors"][0]["code"] == code, result
    assert result["errors"][0]["message"], result


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["message"], body
    return body


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A server that refuses messages over 20 000 bytes."""
    with deploy(tmp_path_factory.mktemp("small"), SANDAN_MAX_MESSAGE_BYTES="20000") as d:
        yield d


# --- accepted and duplicate -------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BUNDLE_KINDS), ids=[k.value for k in BUNDLE_KINDS])
def test_accepted_answer(sandan: Deployment, kind: Kind) -> None:
    c = fresh()
    body = c.message(kind)
    response = sandan.post(body, SENDER_OF[kind])
    assert response.status_code == 200, response.text
    answer = response.json()
    root = etree.fromstring(body)
    assert answer["message"] == {"guid": root.get("guid"), "type": etree.QName(root).localname}
    [document] = answer["documents"]
    key = {name: head(c, kind)[name] for name in KEY_FIELDS[kind]}
    if kind is Kind.INVENTORY:  # SPEC §10: the 清单编号 it was given
        assert len(document["key"]["invtNo"]) == 18
        key["invtNo"] = document["key"]["invtNo"]
    assert document == {
        "guid": head(c, kind)["guid"],
        "kind": kind.value,
        "key": key,
        "status": "accepted",
        "returnStatus": "120",
        "errors": [],
    }


def test_duplicate_returns_the_earlier_answer(sandan: Deployment) -> None:
    c = fresh()
    sandan.send_all(c, [Kind.ORDER, Kind.PAYMENT])
    with unchanged(sandan, c.key):
        # A new message (new message guid) carrying the same document.
        result = sandan.send(c, Kind.ORDER)
        assert result["status"] == "duplicate"
        assert result["returnStatus"] == "120"
        assert result["guid"] == c.order["guid"]
        assert [e["code"] for e in result["errors"]] == ["DUPLICATE"]
        assert result["errors"][0]["message"]


def test_duplicate_of_a_decided_document(sandan: Deployment) -> None:
    """A replay after release is still a duplicate (not ALREADY_DECIDED)."""
    c = fresh()
    sandan.send_all(c)
    with unchanged(sandan, c.key):
        for kind in BUNDLE_KINDS:
            result = sandan.send(c, kind)
            assert (result["status"], result["returnStatus"]) == ("duplicate", "120"), result


def test_guid_conflict(sandan: Deployment) -> None:
    c = fresh()
    sandan.send_all(c, [Kind.ORDER, Kind.LOGISTICS])
    for kind, change in (
        (Kind.ORDER, {"consigneeAddress": "上海市黄浦区南京东路1号"}),
        (Kind.LOGISTICS, {"weight": c.logistics["weight"] + 1}),
    ):
        other = c.copy()
        head(other, kind).update(change)
        with unchanged(sandan, c.key):
            assert_rejected(sandan.send(other, kind), "GUID_CONFLICT")
    assert sandan.bundle_json(c.key)["documents"]["order"]["guid"] == c.order["guid"]


@pytest.mark.parametrize("kind", [Kind.ORDER, Kind.INVENTORY], ids=["order", "inventory"])
def test_rejected_document_leaves_no_bundle(sandan: Deployment, kind: Kind) -> None:
    """A GUID_CONFLICT that names another orderNo must not create that order's bundle."""
    c = fresh()
    sandan.send_all(c, [kind])
    other = c.copy()
    other_order_no = c.key[1] + "X"
    head(other, kind)["orderNo"] = other_order_no
    with unchanged(sandan, c.key):
        assert_rejected(sandan.send(other, kind), "GUID_CONFLICT")
    assert sandan.bundle((c.key[0], other_order_no)).status_code == 404


def test_same_document_twice_in_one_message(sandan: Deployment) -> None:
    c = fresh()
    twin = c.copy()
    twin.order["consigneeAddress"] = "上海市黄浦区南京东路1号"  # same guid, other content
    response = sandan.post(message_of([c, c, twin], Kind.ORDER), "platform")
    assert response.status_code == 200
    first, second, third = response.json()["documents"]
    assert (first["status"], first["returnStatus"]) == ("accepted", "120")
    assert (second["status"], second["returnStatus"]) == ("duplicate", "120")
    assert_rejected(third, "GUID_CONFLICT")
    bundle = sandan.bundle_json(c.key)
    assert [h["event"] for h in bundle["history"]] == ["document"]


# --- SENDER_MISMATCH --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BUNDLE_KINDS), ids=[k.value for k in BUNDLE_KINDS])
def test_cop_code_of_another_enterprise(sandan: Deployment, kind: Kind) -> None:
    c = fresh()
    others = [k for k in BUNDLE_KINDS if k is not kind]
    sandan.send_all(c, others)
    with unchanged(sandan, c.key):
        result = post_one(sandan, c.message(kind, cop_code=OTHER), SENDER_OF[kind])
        assert_rejected(result, "SENDER_MISMATCH")
        assert "copCode" in result["errors"][0]["path"]
    assert sandan.bundle_json(c.key)["missing"] == [kind.value]
    # The rejected document did not count: the right one is still new and completes it.
    assert sandan.send(c, kind)["status"] == "accepted"
    assert sandan.bundle_json(c.key)["state"] == "released"


# The document's own party fields, set to enterprises the sending key does not act for.
FOREIGN_PARTIES = {
    Kind.ORDER: {"ebpCode": OTHER, "ebcCode": "9999990002"},
    Kind.PAYMENT: {"payCode": "9999990003"},
    Kind.LOGISTICS: {"logisticsCode": "9999990004"},
    Kind.INVENTORY: {"agentCode": "9999990005", "ebcCode": "9999990002"},
}


@pytest.mark.parametrize("kind", list(BUNDLE_KINDS), ids=[k.value for k in BUNDLE_KINDS])
def test_party_code_of_another_enterprise(sandan: Deployment, kind: Kind) -> None:
    c = fresh()
    sandan.send_all(c, [k for k in BUNDLE_KINDS if k is not kind])
    foreign = c.copy()
    head(foreign, kind).update(FOREIGN_PARTIES[kind])
    role = SENDER_OF[kind]
    other_key = (OTHER, c.order["orderNo"])
    with unchanged(sandan, c.key, other_key):
        # copCode is the sender's own: only the document's party code is wrong.
        result = post_one(sandan, foreign.message(kind, cop_code=own_code(role)), role)
        assert_rejected(result, "SENDER_MISMATCH")
    assert sandan.send(c, kind)["status"] == "accepted"
    assert sandan.bundle_json(c.key)["state"] == "released"


def test_platform_key_may_declare_the_inventory_of_its_ebc(sandan: Deployment) -> None:
    """Inventory party: agentCode or ebcCode. The platform key holds the ebc code."""
    c = fresh()
    sandan.send_all(c, [Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS])
    body = c.message(Kind.INVENTORY, cop_code=c.inventory["ebcCode"])
    assert post_one(sandan, body, "platform")["status"] == "accepted"
    assert sandan.bundle_json(c.key)["state"] == "released"


def test_mixed_message_rejects_only_the_foreign_document(sandan: Deployment) -> None:
    mine, theirs = fresh(), fresh()
    theirs.order.update(FOREIGN_PARTIES[Kind.ORDER])
    response = sandan.post(message_of([mine, theirs], Kind.ORDER), "platform")
    assert response.status_code == 200
    first, second = response.json()["documents"]
    assert first["status"] == "accepted"
    assert_rejected(second, "SENDER_MISMATCH")
    assert sandan.bundle(mine.key).status_code == 200
    assert sandan.bundle(theirs.key).status_code == 404
    assert sandan.bundle((own_code("platform"), theirs.order["orderNo"])).status_code == 404


# --- versions: STALE, supersede, delete, ALREADY_DECIDED ---------------------------------------


def test_change_must_be_newer_than_the_stored_version(sandan: Deployment) -> None:
    c = fresh()
    sandan.send_all(c, [Kind.ORDER, Kind.PAYMENT])
    for app_time in ("20261111000000", "20261110235959"):
        with unchanged(sandan, c.key):
            stale = revised(c, Kind.ORDER, app_time=app_time, consignee="李四")
            assert_rejected(sandan.send(stale, Kind.ORDER), "STALE")

    newer = revised(c, Kind.ORDER, app_time="20261111000200")
    assert sandan.send(newer, Kind.ORDER)["status"] == "accepted"
    bundle = sandan.bundle_json(c.key)
    assert bundle["documents"]["order"]["guid"] == newer.order["guid"]
    assert bundle["documents"]["order"]["appType"] == "2"

    # Older than the change now stored, though newer than the first version.
    between = revised(c, Kind.ORDER, app_time="20261111000100")
    with unchanged(sandan, c.key):
        assert_rejected(sandan.send(between, Kind.ORDER), "STALE")

    sandan.send_all(newer, [Kind.LOGISTICS, Kind.INVENTORY])
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "released"
    assert bundle["documents"]["order"]["guid"] == newer.order["guid"]


def test_waiting_waybill_versions(sandan: Deployment) -> None:
    """Waybill versions are ordered by logisticsCode + logisticsNo, even before a bundle."""
    c = fresh()
    sandan.send_all(c, [Kind.LOGISTICS])
    seq = last_seq(sandan)
    stale = revised(c, Kind.LOGISTICS, app_time=c.logistics["appTime"], weight=9)
    assert_rejected(sandan.send(stale, Kind.LOGISTICS), "STALE")
    newer = revised(c, Kind.LOGISTICS, app_time="20261111000500")
    assert sandan.send(newer, Kind.LOGISTICS)["status"] == "accepted"
    assert sandan.manifest(after=seq)["entries"] == []

    sandan.send_all(c, [Kind.ORDER, Kind.PAYMENT, Kind.INVENTORY])
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "released", bundle["findings"]
    assert bundle["documents"]["logistics"]["guid"] == newer.logistics["guid"]


def test_change_corrects_an_exception(sandan: Deployment) -> None:
    c = fresh()
    wrong = c.copy()
    wrong.payment["amountPaid"] -= 1
    sandan.send_all(wrong)
    assert sandan.bundle_json(c.key)["state"] == "exception"

    fixed = revised(c, Kind.PAYMENT)
    assert sandan.send(fixed, Kind.PAYMENT)["status"] == "accepted"
    bundle = sandan.bundle_json(c.key)
    assert (bundle["state"], bundle["findings"]) == ("released", [])
    assert bundle["documents"]["payment"]["guid"] == fixed.payment["guid"]
    assert [(e["decision"], e["rules"]) for e in sandan.entries_for(c.key)] == [
        ("exception", ["PAYMENT_AMOUNT"]),
        ("release", []),
    ]


def test_delete_removes_a_document_from_a_pending_bundle(sandan: Deployment) -> None:
    c = fresh()
    sandan.send_all(c, [Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS])
    assert sandan.bundle_json(c.key)["missing"] == ["inventory"]

    deletion = revised(c, Kind.PAYMENT, app_type="3", app_time="20261111001000")
    assert sandan.send(deletion, Kind.PAYMENT)["status"] == "accepted"
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "pending"
    assert "payment" not in bundle["documents"]
    assert bundle["missing"] == ["payment", "inventory"]

    # The inventory alone no longer completes it.
    sandan.send_all(c, [Kind.INVENTORY])
    bundle = sandan.bundle_json(c.key)
    assert (bundle["state"], bundle["missing"]) == ("pending", ["payment"])
    assert sandan.entries_for(c.key) == []

    again = revised(c, Kind.PAYMENT, app_type="1", app_time="20261111002000")
    assert sandan.send(again, Kind.PAYMENT)["status"] == "accepted"
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "released"
    assert bundle["documents"]["payment"]["guid"] == again.payment["guid"]


@pytest.mark.parametrize("kind", list(BUNDLE_KINDS), ids=[k.value for k in BUNDLE_KINDS])
@pytest.mark.parametrize("app_type", ["2", "3"], ids=["change", "delete"])
def test_released_bundle_is_final(sandan: Deployment, kind: Kind, app_type: str) -> None:
    c = fresh()
    sandan.send_all(c)
    assert sandan.bundle_json(c.key)["state"] == "released"
    late = revised(c, kind, app_type=app_type, app_time="20261111010000")
    with unchanged(sandan, c.key):
        assert_rejected(sandan.send(late, kind), "ALREADY_DECIDED")


# --- SCHEMA_INVALID ---------------------------------------------------------------------------

SCHEMA_CASES: dict[str, tuple[Kind, Edit, Edit, str, str]] = {
    # name: (kind, text to replace, replacement factory, path, words in the message)
    "orderNo-too-long": (
        Kind.ORDER,
        lambda c: f"<ceb:orderNo>{c.order['orderNo']}</ceb:orderNo>",
        lambda c: f"<ceb:orderNo>{c.order['orderNo']}{'X' * 60}</ceb:orderNo>",
        "/CEB311Message/Order[1]/OrderHead/orderNo",
        "maxLength",
    ),
    "buyerName-missing": (
        Kind.ORDER,
        lambda c: f"<ceb:buyerName>{c.order['buyerName']}</ceb:buyerName>",
        lambda c: "",
        "/CEB311Message/Order[1]/OrderHead/buyerName",
        "buyerName",
    ),
    "payment-foreign-currency": (
        Kind.PAYMENT,
        lambda c: "<ceb:currency>142</ceb:currency>",
        lambda c: "<ceb:currency>502</ceb:currency>",
        "/CEB411Message/Payment[1]/PaymentHead/currency",
        "502",
    ),
    "waybill-weight-not-a-number": (
        Kind.LOGISTICS,
        lambda c: f"<ceb:weight>{c.logistics['weight']}</ceb:weight>",
        lambda c: "<ceb:weight>heavy</ceb:weight>",
        "/CEB511Message/Logistics[1]/LogisticsHead/weight",
        "heavy",
    ),
    "inventory-gnum-not-a-number": (
        Kind.INVENTORY,
        lambda c: "<ceb:gnum>1</ceb:gnum>",
        lambda c: "<ceb:gnum>one</ceb:gnum>",
        "/CEB621Message/Inventory[1]/InventoryList[1]/gnum",
        "one",
    ),
}


@pytest.mark.parametrize("case", list(SCHEMA_CASES))
def test_schema_invalid(sandan: Deployment, case: str) -> None:
    kind, old, new, path, words = SCHEMA_CASES[case]
    c = fresh()
    sandan.send_all(c, [k for k in BUNDLE_KINDS if k is not kind])
    body = edit(c.message(kind), old(c), new(c))
    with unchanged(sandan, c.key):
        result = post_one(sandan, body, SENDER_OF[kind])
        assert_rejected(result, "SCHEMA_INVALID", return_status="-1")
        assert result["guid"] == head(c, kind)["guid"]
        assert all(e["code"] == "SCHEMA_INVALID" for e in result["errors"])
        error = result["errors"][0]
        assert error["path"] == path, result["errors"]
        assert words in error["message"], error
    # Nothing of the invalid document was stored: its guid is still new.
    assert sandan.send(c, kind)["status"] == "accepted"
    assert sandan.bundle_json(c.key)["state"] == "released"


@pytest.fixture(scope="module")
def with_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A server that prepares large messages in a worker process (engine/prepare_pool.py)."""
    with deploy(tmp_path_factory.mktemp("worker"), SANDAN_PREPARE_WORKERS="1") as d:
        yield d


@pytest.mark.parametrize("server", ["sandan", "with_worker"])
def test_hundred_documents_one_broken(server: str, request: pytest.FixtureRequest) -> None:
    sandan: Deployment = request.getfixturevalue(server)
    consignments = [fresh() for _ in range(100)]
    broken = 41
    victim = consignments[broken]
    long_no = victim.order["orderNo"] + "X" * 60
    body = edit(
        message_of(consignments, Kind.ORDER),
        f"<ceb:orderNo>{victim.order['orderNo']}</ceb:orderNo>",
        f"<ceb:orderNo>{long_no}</ceb:orderNo>",
    )
    seq = last_seq(sandan)
    response = sandan.post(body, "platform")
    assert response.status_code == 200, response.text
    documents = response.json()["documents"]
    assert len(documents) == 100
    assert [d["guid"] for d in documents] == [c.order["guid"] for c in consignments]
    statuses = [d["status"] for d in documents]
    assert statuses.count("accepted") == 99
    assert_rejected(documents[broken], "SCHEMA_INVALID", return_status="-1")
    assert (
        documents[broken]["errors"][0]["path"]
        == f"/CEB311Message/Order[{broken + 1}]/OrderHead/orderNo"
    )
    assert all(d["errors"] == [] for i, d in enumerate(documents) if i != broken)

    assert sandan.bundle(victim.key).status_code == 404
    assert sandan.bundle((victim.key[0], long_no)).status_code == 404
    for i in (0, broken - 1, broken + 1, 99):
        bundle = sandan.bundle_json(consignments[i].key)
        assert bundle["documents"]["order"]["guid"] == consignments[i].order["guid"]

    # The whole message again: the 99 are duplicates, the broken one is rejected again.
    replay = sandan.post(body, "platform")
    assert replay.status_code == 200
    again = replay.json()["documents"]
    assert [d["status"] for d in again] == [
        "rejected" if i == broken else "duplicate" for i in range(100)
    ]
    assert [d["returnStatus"] for d in again] == [d["returnStatus"] for d in documents]

    # And as the customs receipt.
    receipt = sandan.post(body, "platform", accept="application/xml")
    assert receipt.status_code == 200
    assert receipt.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(receipt.content)
    assert root.tag == f"{{{CEB_NS}}}CEB312Message"
    items = root.findall(f"{{{CEB_NS}}}OrderReturn")
    assert [i.findtext(f"{{{CEB_NS}}}guid") for i in items] == [d["guid"] for d in documents]
    assert [i.findtext(f"{{{CEB_NS}}}returnStatus") for i in items] == [
        d["returnStatus"] for d in documents
    ]
    assert "orderNo" in (items[broken].findtext(f"{{{CEB_NS}}}returnInfo") or "")
    assert sandan.manifest(after=seq)["entries"] == []
    assert sandan.bundle((victim.key[0], long_no)).status_code == 404


def test_more_than_hundred_documents(sandan: Deployment) -> None:
    """101 documents break the envelope (maxOccurs 100): every document is rejected."""
    consignments = [fresh() for _ in range(101)]
    response = sandan.post(message_of(consignments, Kind.ORDER), "platform")
    assert response.status_code == 200, response.text
    documents = response.json()["documents"]
    assert len(documents) == 101
    for document in documents:
        assert_rejected(document, "SCHEMA_INVALID", return_status="-1")
        assert "100" in document["errors"][0]["message"]
    for c in (consignments[0], consignments[100]):
        assert sandan.bundle(c.key).status_code == 404


@pytest.mark.parametrize("accept", ["application/json", "application/xml"])
def test_replayed_messages_are_all_duplicates(sandan: Deployment, accept: str) -> None:
    consignments = [fresh() for _ in range(5)]
    bodies = {kind: message_of(consignments, kind) for kind in BUNDLE_KINDS}
    for kind, body in bodies.items():
        response = sandan.post(body, SENDER_OF[kind])
        assert [d["status"] for d in response.json()["documents"]] == ["accepted"] * 5
    before = {c.key: bundle_state(sandan, c.key) for c in consignments}
    assert all(state[1]["state"] == "released" for state in before.values())
    seq = last_seq(sandan)

    for kind, body in bodies.items():
        response = sandan.post(body, SENDER_OF[kind], accept=accept)
        assert response.status_code == 200, response.text
        guids = [head(c, kind)["guid"] for c in consignments]
        if accept == "application/json":
            documents = response.json()["documents"]
            assert [d["guid"] for d in documents] == guids
            assert {(d["status"], d["returnStatus"]) for d in documents} == {("duplicate", "120")}
            assert {e["code"] for d in documents for e in d["errors"]} == {"DUPLICATE"}
        else:
            root = etree.fromstring(response.content)
            message, item = RECEIPTS[kind]
            assert root.tag == f"{{{CEB_NS}}}{message}"
            assert len(root.get("guid", "")) == 36
            items = root.findall(f"{{{CEB_NS}}}{item}")
            assert [i.findtext(f"{{{CEB_NS}}}guid") for i in items] == guids
            assert [i.findtext(f"{{{CEB_NS}}}returnStatus") for i in items] == ["120"] * 5
            for i in items:
                assert re.fullmatch(r"\d{17}", i.findtext(f"{{{CEB_NS}}}returnTime") or "")

    assert sandan.manifest(after=seq)["entries"] == []
    assert {c.key: bundle_state(sandan, c.key) for c in consignments} == before


# --- whole-message refusals -------------------------------------------------------------------


def _gbk(body: bytes) -> bytes:
    return body.replace(b'encoding="UTF-8"', b'encoding="GBK"').decode().encode("gbk")


REFUSALS: dict[str, tuple[Callable[[bytes], bytes], int, str]] = {
    # name: (body factory, status, code)
    "truncated": (lambda b: b[: len(b) // 2], 400, "XML_MALFORMED"),
    "not-xml": (lambda b: b"order, please", 400, "XML_MALFORMED"),
    "gbk-declared": (_gbk, 400, "XML_MALFORMED"),
    "gbk-undeclared": (lambda b: b.decode().encode("gbk"), 400, "XML_MALFORMED"),
    "utf-16": (lambda b: b.decode().encode("utf-16"), 400, "XML_MALFORMED"),
    "doctype-entity": (
        lambda b: b.replace(
            b"?>\n",
            b'?>\n<!DOCTYPE x [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n',
            1,
        ).replace(b"<ceb:note>", b"<ceb:note>&lol2;"),
        400,
        "XML_FORBIDDEN",
    ),
    "external-entity": (
        lambda b: b.replace(
            b"?>\n", b'?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n', 1
        ),
        400,
        "XML_FORBIDDEN",
    ),
    "doctype-only": (
        lambda b: b.replace(b"?>\n", b'?>\n<!DOCTYPE ceb:CEB311Message SYSTEM "x.dtd">\n', 1),
        400,
        "XML_FORBIDDEN",
    ),
    "xinclude": (
        lambda b: b.replace(
            b"<ceb:BaseTransfer>",
            b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"'
            b' parse="text"/><ceb:BaseTransfer>',
        ),
        400,
        "XML_FORBIDDEN",
    ),
    "stylesheet": (
        lambda b: b.replace(
            b"?>\n", b'?>\n<?xml-stylesheet type="text/xsl" href="http://example.com/x.xsl"?>\n', 1
        ),
        400,
        "XML_FORBIDDEN",
    ),
    "unknown-root": (
        lambda b: b.replace(b"CEB311Message", b"CEB999Message"),
        415,
        "MESSAGE_TYPE_UNKNOWN",
    ),
    # customs' own return message is not something enterprises send in
    "receipt-message": (
        lambda b: b.replace(b"CEB311Message", b"CEB312Message"),
        415,
        "MESSAGE_TYPE_UNKNOWN",
    ),
    "foreign-namespace": (
        lambda b: b.replace(b"http://www.chinaport.gov.cn/ceb", b"urn:example:ceb"),
        415,
        "MESSAGE_TYPE_UNKNOWN",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_whole_message_refused(sandan: Deployment, case: str) -> None:
    make, status, code = REFUSALS[case]
    c = fresh()
    c.order["note"] = "请尽快发货"
    body = make(c.message(Kind.ORDER))
    with unchanged(sandan, c.key):
        problem(sandan.post(body, "platform"), status, code)
    # The document itself was never stored.
    assert sandan.send(c, Kind.ORDER)["status"] == "accepted"


def test_utf8_bom_is_allowed(sandan: Deployment) -> None:
    c = fresh()
    result = post_one(sandan, b"\xef\xbb\xbf" + c.message(Kind.ORDER), "platform")
    assert result["status"] == "accepted"


def test_json_content_type_is_refused(sandan: Deployment) -> None:
    c = fresh()
    with unchanged(sandan, c.key):
        response = sandan.client.post(
            "/v1/messages",
            content=c.message(Kind.ORDER),
            headers=sandan.headers("platform", **{"Content-Type": "application/json"}),
        )
        problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer sk_not-a-key", "Basic cGxhdGZvcm06cGFzcw=="],
    ids=["missing", "empty", "unknown", "basic"],
)
def test_unauthenticated(sandan: Deployment, authorization: str | None) -> None:
    c = fresh()
    headers = {"Content-Type": "application/xml"}
    if authorization is not None:
        headers["Authorization"] = authorization
    with unchanged(sandan, c.key):
        response = sandan.client.post(
            "/v1/messages", content=c.message(Kind.ORDER), headers=headers
        )
        problem(response, 401, "UNAUTHENTICATED")
        for path in ("/v1/manifest", f"/v1/bundles/{c.key[0]}/{c.key[1]}"):
            problem(sandan.client.get(path, headers=headers), 401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (Kind.ORDER, "payment"),
        (Kind.PAYMENT, "platform"),
        (Kind.LOGISTICS, "warehouse"),
        (Kind.INVENTORY, "logistics"),
        (Kind.ORDER, "operator"),
    ],
)
def test_key_without_the_role(sandan: Deployment, kind: Kind, role: str) -> None:
    c = fresh()
    # The copCode is the caller's own: the role alone is what is missing.
    body = c.message(kind, cop_code=own_code(role))
    with unchanged(sandan, c.key):
        problem(sandan.post(body, role), 403, "FORBIDDEN")


# --- size limit -------------------------------------------------------------------------------


def test_message_within_the_limit(small: Deployment) -> None:
    c = fresh()
    body = c.message(Kind.ORDER)
    assert len(body) < 20_000
    assert post_one(small, body, "platform")["status"] == "accepted"


def test_message_over_the_limit(small: Deployment) -> None:
    consignments = [fresh() for _ in range(20)]
    body = message_of(consignments, Kind.ORDER)
    assert len(body) > 20_000
    keys = [c.key for c in consignments[:3]]
    with unchanged(small, *keys):
        problem(small.post(body, "platform"), 413, "MESSAGE_TOO_LARGE")

        # Without a Content-Length (chunked): refused while reading.
        def chunks() -> Iterator[bytes]:
            for start in range(0, len(body), 4096):
                yield body[start : start + 4096]

        response = small.client.post(
            "/v1/messages",
            content=chunks(),
            headers=small.headers("platform", **{"Content-Type": "application/xml"}),
        )
        problem(response, 413, "MESSAGE_TOO_LARGE")
    assert small.bundle(consignments[-1].key).status_code == 404
