"""清单编号 (SPEC §10): every accepted inventory is given an 18-character invtNo in the official
form, unique, kept through its versions, in the answer, the bundle and the manifest."""

from __future__ import annotations

import random
import re

from service.demo.exports import clean_export
from service.messages.registry import Kind
from tests.e2e.conftest import SENDER_OF, Deployment, fresh
from tests.e2e.support import revised

FORM = re.compile(r"(\d{4})(\d{4})([IE])(\d{9})")


def _invt_no(d: Deployment, body: bytes, role: str = SENDER_OF[Kind.INVENTORY]) -> str:
    response = d.post(body, role)
    assert response.status_code == 200, response.text
    (document,) = response.json()["documents"]
    assert document["status"] == "accepted", document["errors"]
    return str(document["key"]["invtNo"])


def test_an_inventory_gets_an_invt_no_kept_through_its_versions(sandan: Deployment) -> None:
    c = fresh()
    first = _invt_no(sandan, c.message(Kind.INVENTORY))
    found = FORM.fullmatch(first)
    assert found, first
    assert found.group(1) == c.inventory["customsCode"]
    assert found.group(3) == "I"
    later = revised(c, Kind.INVENTORY, app_time="20261111000200")
    again = _invt_no(sandan, later.message(Kind.INVENTORY))
    assert again == first
    sandan.send_all(c, [Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS])  # and it is released
    bundle = sandan.bundle_json(c.key)
    assert bundle["invtNo"] == first
    assert bundle["returns"] == [] and bundle["cancelledAt"] is None
    entries = sandan.entries_for(c.key)
    assert entries and {e["invtNo"] for e in entries} == {first}


def test_invt_nos_are_unique_and_export_ones_say_e(sandan: Deployment) -> None:
    seen = set()
    for _ in range(3):
        c = fresh()
        seen.add(_invt_no(sandan, c.message(Kind.INVENTORY)))
    assert len(seen) == 3
    export = clean_export(random.Random(77), 770_001, regime="9610")
    number = _invt_no(sandan, export.message(Kind.INVENTORY))
    assert FORM.fullmatch(number) and number[8] == "E"


def test_a_rejected_inventory_gets_none(sandan: Deployment) -> None:
    c = fresh()
    body = c.message(Kind.INVENTORY).replace(b"<ceb:appType>1<", b"<ceb:appType>9<", 1)
    response = sandan.post(body, SENDER_OF[Kind.INVENTORY])
    (document,) = response.json()["documents"]
    assert document["status"] == "rejected"
    assert "invtNo" not in document["key"]
