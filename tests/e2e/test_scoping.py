"""No one acts for another, warehouses see only their own, personal data stays masked
(SPEC §6.2, §6.3, §7)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from service.demo.consignments import DEMO_PARTIES, Consignment, Enterprise, buyer_id
from service.messages.registry import BUNDLE_KINDS, Kind
from service.security.provision import create_api_key
from tests.e2e.conftest import KEYS, SENDER_OF, Deployment, fresh
from tests.e2e.support import edit, last_seq, mask_id, mask_phone, only_document, unchanged

OTHER_CARRIER = Enterprise("9999990004", "别家国际物流有限公司")


@pytest.fixture(scope="module")
def scoped(sandan: Deployment) -> Iterator[Deployment]:
    """The module's server with one more key: a carrier whose code is other_warehouse's."""
    sandan.keys["other_carrier"] = asyncio.run(
        create_api_key(sandan.settings, [OTHER_CARRIER.code], ["logistics"], "other_carrier")
    )
    yield sandan


def carried_by_other(d: Deployment) -> Consignment:
    c = fresh(parties=dataclasses.replace(DEMO_PARTIES, carrier=OTHER_CARRIER))
    for kind in BUNDLE_KINDS:
        role = "other_carrier" if kind is Kind.LOGISTICS else SENDER_OF[kind]
        assert d.send(c, kind, role)["status"] == "accepted"
    assert d.bundle_json(c.key)["state"] == "released"
    return c


def visible(d: Deployment, role: str, after: int) -> set[tuple[str, str]]:
    entries = d.manifest(role, after=after, limit=1000)["entries"]
    return {(e["ebpCode"], e["orderNo"]) for e in entries}


def test_warehouse_sees_only_its_carriers_consignments(scoped: Deployment) -> None:
    after = last_seq(scoped)
    ours = fresh()
    scoped.send_all(ours)
    theirs = carried_by_other(scoped)

    assert visible(scoped, "warehouse", after) == {ours.key}
    assert visible(scoped, "other_warehouse", after) == {theirs.key}
    assert visible(scoped, "nobody", after) == set()
    assert visible(scoped, "operator", after) == {ours.key, theirs.key}
    # The platform is a party of both.
    assert visible(scoped, "platform", after) == {ours.key, theirs.key}
    assert visible(scoped, "other_platform", after) == set()

    # A cursor over filtered entries never moves past what the caller was given.
    page = scoped.manifest("other_warehouse", after=after, limit=1000)
    assert page["next"] == page["entries"][-1]["seq"]
    empty = scoped.manifest("nobody", after=after)
    assert empty == {"entries": [], "next": after}


@pytest.mark.parametrize("role", ["platform", "payment", "logistics", "agent", "operator"])
def test_parties_see_the_bundle(scoped: Deployment, role: str) -> None:
    c = fresh()
    scoped.send_all(c)
    response = scoped.bundle(c.key, role)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "released"


@pytest.mark.parametrize("role", ["other_platform", "other_warehouse", "nobody", "other_carrier"])
def test_strangers_get_404(scoped: Deployment, role: str) -> None:
    c = fresh()
    scoped.send_all(c)
    response = scoped.bundle(c.key, role)
    absent = scoped.bundle((c.key[0], c.key[1] + "NOPE"), "operator")
    assert response.status_code == absent.status_code == 404
    # Existence is not disclosed: the same answer as for a bundle that does not exist.
    assert response.json()["code"] == absent.json()["code"] == "NOT_FOUND"
    assert c.order["buyerName"] not in response.text


def test_other_carrier_sees_its_bundle_but_not_ours(scoped: Deployment) -> None:
    theirs = carried_by_other(scoped)
    assert scoped.bundle(theirs.key, "other_carrier").status_code == 200
    assert scoped.bundle(theirs.key, "logistics").status_code == 404


def test_platform_cannot_post_another_platforms_order(scoped: Deployment) -> None:
    c = fresh()
    # The other platform posts DEMO's order under its own copCode.
    with unchanged(scoped, c.key):
        result = only_document(
            scoped.post(c.message(Kind.ORDER, cop_code="9999990001"), "other_platform").json()
        )
        assert (result["status"], result["returnStatus"]) == ("rejected", "100")
        assert result["errors"][0]["code"] == "SENDER_MISMATCH"
    # DEMO's platform posts an order that belongs entirely to the other platform.
    foreign = fresh()
    foreign.order.update(ebpCode="9999990001", ebcCode="9999990002")
    body = foreign.message(Kind.ORDER, cop_code=KEYS["platform"][0][0])
    with unchanged(scoped, foreign.key):
        result = only_document(scoped.post(body, "platform").json())
        assert (result["status"], result["errors"][0]["code"]) == ("rejected", "SENDER_MISMATCH")


def test_carrier_cannot_post_another_carriers_waybill(scoped: Deployment) -> None:
    c = fresh(parties=dataclasses.replace(DEMO_PARTIES, carrier=OTHER_CARRIER))
    for cop_code in (OTHER_CARRIER.code, DEMO_PARTIES.carrier.code):
        response = scoped.post(c.message(Kind.LOGISTICS, cop_code=cop_code), "logistics")
        result = only_document(response.json())
        assert (result["status"], result["errors"][0]["code"]) == ("rejected", "SENDER_MISMATCH")
    # The rightful carrier's waybill is still new.
    assert scoped.send(c, Kind.LOGISTICS, "other_carrier")["status"] == "accepted"


# --- personal data ----------------------------------------------------------------------------


def secrets_of(c: Consignment) -> set[str]:
    return {
        c.order["buyerIdNumber"],
        c.payment["payerIdNumber"],
        c.inventory["buyerIdNumber"],
        c.order["buyerTelephone"],
        c.order["consigneeTelephone"],
        c.payment["telephone"],
        c.logistics["consigneeTelephone"],
        c.inventory["buyerTelephone"],
    }


def assert_no_clear(text: str, secrets: set[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{where} holds {secret} in clear"


def paid_by_someone_else() -> Consignment:
    """A consignment paid with another person's ID and phone: PAYER_IS_BUYER shows both."""
    c = fresh()
    c.payment["payerIdNumber"] = buyer_id(random.Random(c.order["orderNo"]))
    c.payment["telephone"] = "13900001111"
    c.logistics["consigneeTelephone"] = c.order["consigneeTelephone"] = "13700002222"
    assert c.payment["payerIdNumber"] != c.order["buyerIdNumber"]
    return c


def test_personal_data_is_masked_everywhere(scoped: Deployment) -> None:
    c = paid_by_someone_else()
    secrets = secrets_of(c)
    for kind in BUNDLE_KINDS:
        for accept in (None, "application/xml"):
            response = scoped.post(c.message(kind), SENDER_OF[kind], accept=accept)
            assert response.status_code == 200
            assert_no_clear(response.text, secrets, f"the {kind.value} ingest answer")

    bundle = scoped.bundle(c.key)
    assert bundle.json()["state"] == "exception"
    assert_no_clear(bundle.text, secrets, "the bundle")
    [finding] = [f for f in bundle.json()["findings"] if f["code"] == "PAYER_IS_BUYER"]
    shown = {
        (side["field"], side["value"])
        for comparison in finding["fields"]
        for side in (comparison["left"], comparison["right"])
    }
    assert ("payerIdNumber", mask_id(c.payment["payerIdNumber"])) in shown
    assert ("buyerIdNumber", mask_id(c.order["buyerIdNumber"])) in shown
    assert re.search(r"\d{4}\*{10}[\dX]{4}", bundle.text)

    for role in ("operator", "warehouse", "platform"):
        manifest = scoped.client.get(
            "/v1/manifest", params={"after": 0, "limit": 1000}, headers=scoped.headers(role)
        )
        assert_no_clear(manifest.text, secrets, f"the manifest as {role}")

    log = scoped.server.log()
    assert "POST /v1/messages" in log  # the log is the server's, and it is written
    assert_no_clear(log, secrets, "the server log")
    # Nor anybody else's: nothing in the log looks like an ID card or a mobile number.
    assert not re.findall(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])", log)
    assert not re.findall(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])", log)


def test_consignee_mismatch_shows_masked_phones(scoped: Deployment) -> None:
    c = fresh()
    c.order["consigneeTelephone"] = "13600003333"
    c.logistics["consigneeTelephone"] = "13600004444"
    scoped.send_all(c)
    bundle = scoped.bundle(c.key)
    assert_no_clear(bundle.text, secrets_of(c), "the bundle")
    [finding] = bundle.json()["findings"]
    assert finding["code"] == "CONSIGNEE_MISMATCH"
    [comparison] = finding["fields"]
    assert comparison["left"] == {
        "document": "logistics",
        "field": "consigneeTelephone",
        "value": mask_phone("13600004444"),
    }
    assert comparison["right"]["value"] == mask_phone("13600003333")


def _schema_invalid_answers(d: Deployment, c: Consignment, old: str, new: str) -> list[Any]:
    body = edit(c.message(Kind.ORDER), old, new)
    answers: list[Any] = []
    response = d.post(body, "platform")
    result = only_document(response.json())
    assert result["errors"][0]["code"] == "SCHEMA_INVALID"
    answers.append(response.text)
    receipt = d.post(body, "platform", accept="application/xml")
    info = etree.fromstring(receipt.content).findtext(
        ".//{http://www.chinaport.gov.cn/ceb}returnInfo"
    )
    assert info and "SCHEMA_INVALID" in info
    answers.append(receipt.text)
    return answers


def test_schema_errors_do_not_echo_a_phone_number(scoped: Deployment) -> None:
    """A telephone field too long for the schema (two numbers in one field): the answer says
    which field and why, without repeating the numbers in clear."""
    c = fresh()
    phones = "13812345678 / 13987654321 / 13611112222"
    old = f"<ceb:buyerTelephone>{c.order['buyerTelephone']}</ceb:buyerTelephone>"
    new = f"<ceb:buyerTelephone>{phones}</ceb:buyerTelephone>"
    for text in _schema_invalid_answers(scoped, c, old, new):
        assert "buyerTelephone" in text
        assert_no_clear(text, {"13812345678", "13987654321", "13611112222"}, "the answer")
    assert_no_clear(scoped.server.log(), {"13812345678", "13987654321"}, "the server log")


def test_schema_errors_do_not_echo_an_id_number(scoped: Deployment) -> None:
    """An ID number field holding the ID and the name (a sender's mapping error)."""
    c = fresh()
    clear = c.order["buyerIdNumber"]
    old = f"<ceb:buyerIdNumber>{clear}</ceb:buyerIdNumber>"
    new = f"<ceb:buyerIdNumber>{clear} {'王' * 50}</ceb:buyerIdNumber>"
    for text in _schema_invalid_answers(scoped, c, old, new):
        assert "buyerIdNumber" in text
        assert_no_clear(text, {clear}, "the answer")
