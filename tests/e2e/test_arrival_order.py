"""Matching is independent of arrival order (SPEC §4): every order of the four documents gives
the same single decision; waybills wait for, and find, their bundle."""

from __future__ import annotations

import dataclasses
import itertools
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from service.demo.consignments import DEMO_PARTIES, Consignment, Enterprise
from service.demo.mistakes import with_mistake
from service.messages.registry import BUNDLE_KINDS, Kind
from tests.e2e.conftest import SENDER_OF, Deployment, fresh
from tests.e2e.support import codes, misrouted, revised

ORDERS = list(itertools.permutations(BUNDLE_KINDS))
IDS = ["-".join(k.value[:3] for k in order) for order in ORDERS]


def _shape(findings: list[dict[str, Any]]) -> list[tuple[str, str, list[tuple[str, ...]]]]:
    """Findings without values: code, severity and which fields were compared."""
    return [
        (
            f["code"],
            f["severity"],
            [
                (c["left"]["document"], c["left"]["field"], c["right"]["document"],
                 c["right"]["field"])
                for c in f["fields"]
            ],
        )
        for f in findings
    ]  # fmt: skip


def _send_in_order(d: Deployment, c: Consignment, order: tuple[Kind, ...]) -> None:
    for i, kind in enumerate(order):
        d.send_all(c, [kind])
        if i < len(order) - 1 and kind is not Kind.LOGISTICS:
            # Incomplete: no decision yet (the 1 h deadline is far away).
            response = d.bundle(c.key)
            assert response.status_code == 200, response.text
            assert response.json()["state"] == "pending"


@pytest.mark.parametrize("order", ORDERS, ids=IDS)
def test_clean_consignment_any_order(sandan: Deployment, order: tuple[Kind, ...]) -> None:
    c = fresh()
    _send_in_order(sandan, c, order)
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "released"
    assert bundle["findings"] == []
    assert sorted(bundle["documents"]) == sorted(k.value for k in BUNDLE_KINDS)
    assert bundle["documents"]["logistics"]["guid"] == c.logistics["guid"]
    [entry] = sandan.entries_for(c.key)
    assert (entry["decision"], entry["rules"]) == ("release", [])
    assert (entry["logisticsCode"], entry["logisticsNo"]) == (
        c.logistics["logisticsCode"],
        c.logistics["logisticsNo"],
    )
    assert [e["event"] for e in bundle["history"]].count("decision") == 1


@pytest.mark.parametrize("order", ORDERS, ids=IDS)
def test_payment_amount_mismatch_any_order(sandan: Deployment, order: tuple[Kind, ...]) -> None:
    c = with_mistake(fresh(), "PAYMENT_AMOUNT")
    _send_in_order(sandan, c, order)
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "exception"
    assert _shape(bundle["findings"]) == [
        ("PAYMENT_AMOUNT", "error", [("payment", "amountPaid", "order", "acturalPaid")])
    ]
    [comparison] = bundle["findings"][0]["fields"]
    assert comparison["left"]["value"] == format(c.payment["amountPaid"], "f")
    assert comparison["right"]["value"] == format(c.order["acturalPaid"], "f")
    [entry] = sandan.entries_for(c.key)
    assert (entry["decision"], entry["rules"]) == ("exception", ["PAYMENT_AMOUNT"])


# Waybill first, waybill last, inventory first, inventory last.
EXTREMES = [
    o for o in ORDERS if Kind.LOGISTICS in (o[0], o[-1]) and Kind.INVENTORY in (o[0], o[-1])
]
EXTREMES += [ORDERS[0], ORDERS[-1]]


@pytest.mark.parametrize(
    "order", EXTREMES, ids=["-".join(k.value[:3] for k in o) for o in EXTREMES]
)
def test_inventory_names_another_waybill(sandan: Deployment, order: tuple[Kind, ...]) -> None:
    c = misrouted(fresh())
    _send_in_order(sandan, c, order)
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "exception"
    # The waybill found its bundle by orderNo, whichever came first.
    assert bundle["documents"]["logistics"]["guid"] == c.logistics["guid"]
    assert _shape(bundle["findings"]) == [
        ("INVENTORY_LOGISTICS", "error", [("inventory", "logisticsNo", "logistics", "logisticsNo")])
    ]
    [entry] = sandan.entries_for(c.key)
    assert (entry["decision"], entry["rules"]) == ("exception", ["INVENTORY_LOGISTICS"])
    # The manifest names the waybill the declaration (inventory) names.
    assert entry["logisticsNo"] == c.inventory["logisticsNo"]


def test_waybill_first_inventory_last(sandan: Deployment) -> None:
    c = fresh()
    sandan.send_all(c, [Kind.LOGISTICS])
    # A waybill names no (ebpCode, orderNo): it waits, and makes no bundle of its own.
    assert sandan.bundle(c.key).status_code == 404

    sandan.send_all(c, [Kind.ORDER])
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "pending"
    assert sorted(bundle["documents"]) == ["logistics", "order"]
    assert bundle["missing"] == ["payment", "inventory"]

    sandan.send_all(c, [Kind.PAYMENT])
    assert sandan.bundle_json(c.key)["missing"] == ["inventory"]
    assert sandan.entries_for(c.key) == []

    sandan.send_all(c, [Kind.INVENTORY])
    bundle = sandan.bundle_json(c.key)
    assert (bundle["state"], bundle["missing"], bundle["findings"]) == ("released", [], [])
    [entry] = sandan.entries_for(c.key)
    assert entry["decision"] == "release"


def test_inventory_first_waybill_last(sandan: Deployment) -> None:
    c = fresh()
    sandan.send_all(c, [Kind.INVENTORY])
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "pending"
    assert bundle["missing"] == ["order", "payment", "logistics"]

    sandan.send_all(c, [Kind.PAYMENT, Kind.ORDER])
    bundle = sandan.bundle_json(c.key)
    assert (bundle["state"], bundle["missing"]) == ("pending", ["logistics"])
    assert sandan.entries_for(c.key) == []

    sandan.send_all(c, [Kind.LOGISTICS])
    bundle = sandan.bundle_json(c.key)
    assert (bundle["state"], bundle["missing"], bundle["findings"]) == ("released", [], [])
    assert bundle["documents"]["logistics"]["guid"] == c.logistics["guid"]
    [entry] = sandan.entries_for(c.key)
    assert entry["decision"] == "release"


def test_named_waybill_arriving_late_corrects_the_bundle(sandan: Deployment) -> None:
    """The inventory names waybill B; waybill A (same orderNo) came first and was attached.
    When B arrives, the one the declaration names wins and the bundle is released."""
    c = misrouted(fresh())
    sandan.send_all(c)
    assert sandan.bundle_json(c.key)["state"] == "exception"

    named = revised(c, Kind.LOGISTICS, app_type="1", logisticsNo=c.inventory["logisticsNo"])
    result = sandan.send(named, Kind.LOGISTICS)
    assert result["status"] == "accepted", result
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "released", bundle["findings"]
    assert bundle["documents"]["logistics"]["guid"] == named.logistics["guid"]
    entries = sandan.entries_for(c.key)
    assert [(e["decision"], e["rules"]) for e in entries] == [
        ("exception", ["INVENTORY_LOGISTICS"]),
        ("release", []),
    ]


def test_waybill_with_ambiguous_order_no_waits_for_its_inventory(sandan: Deployment) -> None:
    """Two platforms use the same orderNo: the waybill (no ebpCode) cannot tell them apart by
    orderNo and waits under its logisticsNo until an inventory names it."""
    ours = fresh()
    other_platform = Enterprise("9999990001", "别家跨境电商平台有限公司")
    theirs = fresh(parties=dataclasses.replace(DEMO_PARTIES, platform=other_platform))
    # Same orderNo on two platforms, different waybills.
    theirs.order["orderNo"] = theirs.payment["orderNo"] = ours.order["orderNo"]
    theirs.logistics["orderNo"] = theirs.inventory["orderNo"] = ours.order["orderNo"]
    theirs.logistics["logisticsNo"] = theirs.inventory["logisticsNo"] = (
        ours.logistics["logisticsNo"] + "Z"
    )
    assert ours.key != theirs.key

    sandan.send_all(ours, [Kind.ORDER])
    result = sandan.send(theirs, Kind.ORDER, role="other_platform")
    assert result["status"] == "accepted", result
    sandan.send_all(ours, [Kind.LOGISTICS, Kind.PAYMENT])
    for key in (ours.key, theirs.key):
        assert "logistics" not in sandan.bundle_json(key)["documents"]

    sandan.send_all(ours, [Kind.INVENTORY])
    bundle = sandan.bundle_json(ours.key)
    assert bundle["state"] == "released", bundle["findings"]
    assert bundle["documents"]["logistics"]["guid"] == ours.logistics["guid"]
    assert "logistics" not in sandan.bundle_json(theirs.key)["documents"]

    sandan.send_all(theirs, [Kind.LOGISTICS, Kind.PAYMENT, Kind.INVENTORY])
    bundle = sandan.bundle_json(theirs.key)
    assert bundle["state"] == "released", bundle["findings"]
    assert bundle["documents"]["logistics"]["guid"] == theirs.logistics["guid"]
    assert [e["decision"] for e in sandan.entries_for(ours.key)] == ["release"]
    assert [e["decision"] for e in sandan.entries_for(theirs.key)] == ["release"]
    assert codes(bundle["findings"]) == []


def test_concurrent_arrivals_give_one_decision_per_bundle(sandan: Deployment) -> None:
    consignments = [fresh() for _ in range(20)]
    consignments[3] = with_mistake(consignments[3], "PAYMENT_AMOUNT")
    work = [(c, kind) for c in consignments for kind in BUNDLE_KINDS]
    random.Random(20261111).shuffle(work)
    local = threading.local()

    def post(item: tuple[Consignment, Kind]) -> str:
        c, kind = item
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=sandan.server.url, timeout=60)
        response = local.client.post(
            "/v1/messages",
            content=c.message(kind),
            headers=sandan.headers(SENDER_OF[kind], **{"Content-Type": "application/xml"}),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["documents"][0]["status"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(post, work))
    assert statuses == ["accepted"] * len(work)
    for c in consignments:
        entries = sandan.entries_for(c.key)
        wanted = "exception" if c.mistakes else "release"
        assert [e["decision"] for e in entries] == [wanted], (c.key, entries)
        assert sandan.bundle_json(c.key)["state"] == ("exception" if c.mistakes else "released")
