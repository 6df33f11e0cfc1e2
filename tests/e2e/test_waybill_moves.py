"""SPEC §10, last paragraph, over HTTP: a waybill version naming another orderNo moves the
waybill; the bundle that held it is judged again (it may now miss its logistics), as well as
the one that gains it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from service.demo.consignments import Consignment
from service.messages.registry import Kind
from tests.e2e.conftest import Deployment, deploy, fresh
from tests.e2e.support import codes, revised, wait_until

ORDER, PAYMENT, LOGISTICS, INVENTORY = Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS, Kind.INVENTORY


@pytest.fixture(scope="module")
def sandan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Bundles reach their deadline 5 s after their first document: long enough to see a
    bundle pending again after the move, short enough to see its deadline pass."""
    with deploy(tmp_path_factory.mktemp("moves"), SANDAN_BUNDLE_DEADLINE_SECONDS="5") as deployment:
        yield deployment


def misnamed_for(a: Consignment, b: Consignment) -> Consignment:
    """B's waybill as the carrier first sends it: naming A's orderNo."""
    out = b.copy()
    out.logistics["orderNo"] = a.order["orderNo"]
    return out


def events(bundle: dict[str, Any]) -> list[str]:
    return [e["event"] for e in bundle["history"]]


def test_a_waybill_renamed_to_another_order_moves_there(sandan: Deployment) -> None:
    a, b = fresh(), fresh()
    misnamed = misnamed_for(a, b)
    sandan.send_all(a, [ORDER, PAYMENT, INVENTORY])
    sandan.send_all(misnamed, [LOGISTICS])
    held = sandan.bundle_json(a.key)
    assert held["state"] == "exception"
    assert held["documents"]["logistics"]["guid"] == misnamed.logistics["guid"]
    assert sorted(codes(held["findings"])) == ["CONSIGNEE_MISMATCH", "INVENTORY_LOGISTICS"]
    sandan.send_all(b, [ORDER, PAYMENT])

    corrected = revised(misnamed, LOGISTICS, orderNo=b.order["orderNo"])
    result = sandan.send(corrected, LOGISTICS)
    assert (result["status"], result["returnStatus"]) == ("accepted", "120"), result

    left = sandan.bundle_json(a.key)
    assert (left["state"], left["missing"], left["findings"]) == ("pending", ["logistics"], [])
    assert "logistics" not in left["documents"]
    assert events(left)[-1] == "detached"
    gained = sandan.bundle_json(b.key)
    assert (gained["state"], gained["missing"]) == ("pending", ["inventory"])
    assert gained["documents"]["logistics"]["guid"] == corrected.logistics["guid"]
    assert events(gained)[-2:] == ["document", "attached"]

    sandan.send_all(b, [INVENTORY])
    done = sandan.bundle_json(b.key)
    assert (done["state"], done["findings"]) == ("released", [])
    [entry] = sandan.entries_for(b.key)
    assert (entry["decision"], entry["logisticsNo"]) == ("release", b.logistics["logisticsNo"])

    # A's deadline passes without a waybill of its own
    late = wait_until(
        lambda: sandan.bundle_json(a.key), lambda v: v["state"] == "exception", timeout=20
    )
    assert codes(late["findings"]) == ["MISSING_LOGISTICS"]
    assert [(e["decision"], e["rules"]) for e in sandan.entries_for(a.key)] == [
        ("exception", ["CONSIGNEE_MISMATCH", "INVENTORY_LOGISTICS"]),
        ("exception", ["MISSING_LOGISTICS"]),
    ]


def test_the_named_bundle_of_the_new_order_gains_it_and_is_released(sandan: Deployment) -> None:
    """A's inventory names B's waybill too (a typo): the waybill goes to the naming bundle
    whose order it names, first A, then, renamed, B, which is complete and released."""
    a, b = fresh(), fresh()
    a.inventory["logisticsNo"] = b.logistics["logisticsNo"]
    misnamed = misnamed_for(a, b)
    sandan.send_all(a, [ORDER, PAYMENT, INVENTORY])
    sandan.send_all(b, [ORDER, PAYMENT, INVENTORY])
    sandan.send_all(misnamed, [LOGISTICS])
    assert (
        sandan.bundle_json(a.key)["documents"]["logistics"]["guid"] == (misnamed.logistics["guid"])
    )

    corrected = revised(misnamed, LOGISTICS, orderNo=b.order["orderNo"])
    assert sandan.send(corrected, LOGISTICS)["status"] == "accepted"
    gained = sandan.bundle_json(b.key)
    assert (gained["state"], gained["findings"]) == ("released", [])
    assert gained["documents"]["logistics"]["guid"] == corrected.logistics["guid"]
    left = sandan.bundle_json(a.key)
    assert (left["state"], left["missing"]) == ("pending", ["logistics"])

    # the release is final: the waybill cannot move back out of it
    back = revised(misnamed, LOGISTICS, app_time="20261111000200")
    refused = sandan.send(back, LOGISTICS)
    assert (refused["status"], [e["code"] for e in refused["errors"]]) == (
        "rejected",
        ["ALREADY_DECIDED"],
    )
    assert (
        sandan.bundle_json(b.key)["documents"]["logistics"]["guid"] == (corrected.logistics["guid"])
    )
