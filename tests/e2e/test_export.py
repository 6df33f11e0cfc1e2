"""The export side end to end (SPEC §2–§6): CEB303 orders and bookings, CEB403 receipts,
CEB505 waybills and CEB603 inventories for 9610-export, 1210-export, 9710 and 9810.

Export waybills carry neither ebpCode nor orderNo: they wait under logisticsCode+logisticsNo
until an inventory names them (SPEC §4); receipts attach by (ebpCode, orderNo) like orders.
"""

from __future__ import annotations

import itertools
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from service.demo.consignments import Consignment, parts
from service.demo.exports import (
    EXPORT_MISMATCHES,
    clean_export,
    kinds_to_send,
    with_export_mistake,
)
from service.messages.registry import BUNDLE_KINDS, CEB_NS, Kind
from service.rules.catalogue import RULES
from tests.e2e.conftest import SENDER_OF, Deployment
from tests.e2e.support import codes, revised, wait_until

REGIMES = ["9610", "1210", "9710", "9810"]
EXPORT_ROOTS = {
    Kind.ORDER: "CEB303Message",
    Kind.PAYMENT: "CEB403Message",
    Kind.LOGISTICS: "CEB505Message",
    Kind.INVENTORY: "CEB603Message",
}
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "export.xsd"
# Far from the import numbers fresh() hands out.
_numbers = itertools.count(500000)


def fresh_export(regime: str = "9610") -> Consignment:
    """A clean export consignment with an order and waybill number no other test uses."""
    number = next(_numbers)
    return clean_export(random.Random(number), number, regime=regime)


def required(regime: str) -> list[Kind]:
    """The documents SPEC §3 requires for an export ``regime``, in BUNDLE_KINDS order."""
    if regime in ("9710", "9810"):
        return [Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY]
    return list(BUNDLE_KINDS)


def applicable(regime: str) -> list[str]:
    """The export mistakes found as soon as the documents are in (MISSING_LOGISTICS, an
    inventory naming a waybill that never comes, waits for the deadline: see
    ``test_inventory_names_an_unknown_waybill``)."""
    return [
        code
        for code in sorted(EXPORT_MISMATCHES)
        if code != "MISSING_LOGISTICS"
        and (code != "REGIME_FIELDS" or regime == "1210")
        # 9810 sends no receipt
        and (code != "EXPORT_RECEIPT_AMOUNT" or regime != "9810")
    ]


MISTAKES = [(regime, code) for regime in REGIMES for code in applicable(regime)]


def decided(d: Deployment, c: Consignment, timeout: float = 10.0) -> dict[str, Any]:
    """The bundle of ``c`` once it is no longer pending."""
    return wait_until(lambda: d.bundle_json(c.key), lambda b: b["state"] != "pending", timeout)


def mentions(entries: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    return [e for e in entries if text in json.dumps(e, ensure_ascii=False)]


def all_entries(d: Deployment) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = d.manifest(after=0, limit=1000)["entries"]
    return entries


# --- the kinds each regime sends ------------------------------------------------------------


def test_kinds_to_send_follow_the_required_sets() -> None:
    """The factory sends what SPEC §3 requires, plus the optional 9710 receipt."""
    assert kinds_to_send(fresh_export("9610")) == list(BUNDLE_KINDS)
    assert kinds_to_send(fresh_export("1210")) == list(BUNDLE_KINDS)
    assert kinds_to_send(fresh_export("9710")) == list(BUNDLE_KINDS)
    assert kinds_to_send(fresh_export("9810")) == [Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY]


# --- clean consignments ---------------------------------------------------------------------


@pytest.mark.parametrize("regime", REGIMES)
def test_clean_export_is_released(sandan: Deployment, regime: str) -> None:
    c = fresh_export(regime)
    kinds = kinds_to_send(c)
    sandan.send_all(c, kinds)

    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "released", bundle["findings"]
    assert bundle["direction"] == "E"
    assert bundle["regime"] == {"declared": regime, "classified": regime}
    assert (bundle["findings"], bundle["missing"]) == ([], [])
    documents = bundle["documents"]
    assert {kind: doc["guid"] for kind, doc in documents.items()} == {
        kind.value: parts(c, kind)[0]["guid"] for kind in kinds
    }
    assert {kind: doc["messageType"] for kind, doc in documents.items()} == {
        kind.value: EXPORT_ROOTS[kind] for kind in kinds
    }
    # The waybill came in by its own key, without any order number.
    assert bundle["documents"]["logistics"]["key"] == {
        "logisticsCode": c.logistics["logisticsCode"],
        "logisticsNo": c.logistics["logisticsNo"],
    }

    [entry] = sandan.entries_for(c.key)
    assert (entry["regime"], entry["direction"], entry["decision"]) == (regime, "E", "release")
    assert (entry["rules"], entry["by"]) == ([], "engine")
    assert (entry["logisticsCode"], entry["logisticsNo"]) == (
        c.logistics["logisticsCode"],
        c.logistics["logisticsNo"],
    )
    assert bundle["decisions"] == [entry]


def test_9710_receipt_is_optional(sandan: Deployment) -> None:
    """9710 without its receipt: complete, released at once, and the receipt may come later."""
    c = fresh_export("9710")
    sandan.send_all(c, [Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY])
    bundle = sandan.bundle_json(c.key)
    assert (bundle["state"], bundle["missing"], bundle["findings"]) == ("released", [], [])
    assert "payment" not in bundle["documents"]
    [entry] = sandan.entries_for(c.key)
    assert (entry["regime"], entry["decision"], entry["rules"]) == ("9710", "release", [])


def test_9710_late_receipt_is_judged_like_an_early_one(sandan: Deployment) -> None:
    """SPEC §4: the same documents give the same result whichever order they came in. A 9710
    is complete without its (optional) receipt; a receipt whose charge is off by 0.50 is an
    EXPORT_RECEIPT_AMOUNT warning when it comes before the last required document, and must
    not pass unjudged when it comes after: the bundle never shows a receipt its findings and
    its standing manifest entry have not looked at."""
    early = with_export_mistake(fresh_export("9710"), "EXPORT_RECEIPT_AMOUNT")
    sandan.send_all(early, [Kind.PAYMENT, Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY])
    early_bundle = sandan.bundle_json(early.key)
    assert early_bundle["state"] == "released"
    assert codes(early_bundle["findings"]) == ["EXPORT_RECEIPT_AMOUNT"]
    assert sandan.entries_for(early.key)[-1]["rules"] == ["EXPORT_RECEIPT_AMOUNT"]

    late = with_export_mistake(fresh_export("9710"), "EXPORT_RECEIPT_AMOUNT")
    sandan.send_all(late, [Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY])
    assert sandan.bundle_json(late.key)["state"] == "released"
    result = sandan.send(late, Kind.PAYMENT)
    bundle = sandan.bundle_json(late.key)
    assert bundle["state"] == "released"
    if result["status"] == "accepted":
        # the receipt joined the bundle: it is judged like the early one
        assert bundle["documents"]["payment"]["guid"] == late.payment["guid"]
        assert codes(bundle["findings"]) == ["EXPORT_RECEIPT_AMOUNT"], bundle["findings"]
        last = sandan.entries_for(late.key)[-1]
        assert (last["decision"], last["rules"]) == ("release", ["EXPORT_RECEIPT_AMOUNT"])
    else:
        # or it is refused as too late, and the bundle does not show it
        assert "payment" not in bundle["documents"], result


def test_receipt_may_be_sent_by_the_enterprise(sandan: Deployment) -> None:
    """A 收款单 names payCode and ebcCode: the ebc that received the money may send it."""
    c = fresh_export("9610")
    # as the ebc's own system sends it: BaseTransfer/copCode is the ebc
    response = sandan.post(c.message(Kind.PAYMENT, c.payment["ebcCode"]), "platform")
    assert response.status_code == 200, response.text
    [result] = response.json()["documents"]
    assert result["status"] == "accepted", result
    sandan.send_all(c, [Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY])
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "released", bundle["findings"]
    assert bundle["documents"]["payment"]["guid"] == c.payment["guid"]


# --- required sets after the deadline -------------------------------------------------------


@pytest.mark.parametrize("regime", REGIMES)
def test_missing_required_document_after_deadline(hasty: Deployment, regime: str) -> None:
    """Each required document of the regime left out in turn: after the deadline the bundle is
    an exception naming it; when it arrives late, the bundle is released."""
    cases = {absent: fresh_export(regime) for absent in required(regime)}
    for absent, c in cases.items():
        hasty.send_all(c, [k for k in kinds_to_send(c) if k is not absent])

    for absent, c in cases.items():
        bundle = decided(hasty, c)
        # Without an inventory nothing names the export waybill: it is not in the bundle either.
        gone = [Kind.LOGISTICS, Kind.INVENTORY] if absent is Kind.INVENTORY else [absent]
        wanted = [f"MISSING_{k.value.upper()}" for k in gone]
        assert bundle["state"] == "exception", (absent, bundle)
        assert bundle["missing"] == [k.value for k in gone], absent
        assert codes(bundle["findings"]) == wanted, absent
        assert absent.value not in bundle["documents"]
        for f in bundle["findings"]:
            assert f["severity"] == RULES[f["code"]].severity.value == "error"
        [entry] = hasty.entries_for(c.key)
        assert (entry["direction"], entry["decision"], entry["rules"]) == ("E", "exception", wanted)

        result = hasty.send(c, absent)
        assert result["status"] == "accepted", result
        bundle = hasty.bundle_json(c.key)
        assert (bundle["state"], bundle["missing"], bundle["findings"]) == ("released", [], []), (
            absent
        )
        assert bundle["documents"]["logistics"]["guid"] == c.logistics["guid"]
        entries = hasty.entries_for(c.key)
        assert [(e["decision"], e["rules"]) for e in entries] == [
            ("exception", wanted),
            ("release", []),
        ]


@pytest.mark.parametrize("regime", ["9710", "9810"])
def test_no_receipt_is_no_violation(hasty: Deployment, regime: str) -> None:
    """9710 (receipt optional) and 9810 (no receipt) without one: released, and the sweeper
    adds nothing after the deadline."""
    c = fresh_export(regime)
    hasty.send_all(c, [Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY])
    [entry] = hasty.entries_for(c.key)
    assert (entry["decision"], entry["rules"]) == ("release", [])
    # Past the deadline (1.5 s) plus sweeps: another bundle's exception proves a sweep ran.
    witness = fresh_export(regime)
    hasty.send_all(witness, [Kind.ORDER])
    assert decided(hasty, witness)["state"] == "exception"
    bundle = hasty.bundle_json(c.key)
    assert (bundle["state"], bundle["missing"], bundle["findings"]) == ("released", [], [])
    assert len(hasty.entries_for(c.key)) == 1


def test_9810_receipt_without_booking(hasty: Deployment) -> None:
    """A 9810 with a receipt but no booking (CEB303): MISSING_ORDER, receipt in the bundle."""
    c = fresh_export("9810")
    hasty.send_all(c, [Kind.PAYMENT, Kind.LOGISTICS, Kind.INVENTORY])
    bundle = decided(hasty, c)
    assert bundle["state"] == "exception"
    assert bundle["regime"] == {"declared": "9810", "classified": "9810"}
    assert bundle["missing"] == ["order"]
    assert codes(bundle["findings"]) == ["MISSING_ORDER"]
    assert bundle["documents"]["payment"]["guid"] == c.payment["guid"]
    assert bundle["documents"]["logistics"]["guid"] == c.logistics["guid"]
    [entry] = hasty.entries_for(c.key)
    assert (entry["regime"], entry["decision"], entry["rules"]) == (
        "9810",
        "exception",
        ["MISSING_ORDER"],
    )


# --- collision rules ------------------------------------------------------------------------


def test_every_export_mistake_is_covered() -> None:
    covered = {code for _, code in MISTAKES} | {"MISSING_LOGISTICS"}
    assert covered == set(EXPORT_MISMATCHES)
    assert {regime for regime, code in MISTAKES if code == "REGIME_FIELDS"} == {"1210"}
    assert {regime for regime, code in MISTAKES if code == "EXPORT_RECEIPT_AMOUNT"} == {
        "9610",
        "1210",
        "9710",
    }


@pytest.mark.parametrize(("regime", "code"), MISTAKES, ids=[f"{r}-{c}" for r, c in MISTAKES])
def test_export_mistake_is_found(sandan: Deployment, regime: str, code: str) -> None:
    c = with_export_mistake(fresh_export(regime), code)
    sandan.send_all(c, kinds_to_send(c))

    bundle = sandan.bundle_json(c.key)
    warning = RULES[code].severity.value == "warning"
    assert warning == (code == "EXPORT_RECEIPT_AMOUNT")
    assert bundle["state"] == ("released" if warning else "exception"), bundle["findings"]
    assert bundle["direction"] == "E"
    assert bundle["missing"] == []
    found = codes(bundle["findings"])
    assert code in found
    # The mutation makes exactly this mistake: no other error rides along.
    errors = {f["code"] for f in bundle["findings"] if f["severity"] == "error"}
    assert errors == (set() if warning else {code})
    for f in bundle["findings"]:
        assert f["fields"], f
        for comparison in f["fields"]:
            assert comparison["left"]["value"] != comparison["right"]["value"], comparison
    if code != "REGIME_MISMATCH":
        assert bundle["regime"] == {"declared": regime, "classified": regime}

    [entry] = sandan.entries_for(c.key)
    assert entry["decision"] == ("release" if warning else "exception")
    assert entry["direction"] == "E"
    assert code in entry["rules"]
    assert entry["rules"] == found
    assert entry["regime"] == regime


@pytest.mark.parametrize("regime", ["9610", "1210", "9710"])
def test_export_receipt_amount_shows_both_sides(sandan: Deployment, regime: str) -> None:
    c = with_export_mistake(fresh_export(regime), "EXPORT_RECEIPT_AMOUNT")
    sandan.send_all(c, kinds_to_send(c))
    [finding] = sandan.bundle_json(c.key)["findings"]
    assert (finding["code"], finding["severity"]) == ("EXPORT_RECEIPT_AMOUNT", "warning")
    shown = [
        (f["left"]["document"], f["left"]["field"], f["right"]["document"])
        for f in finding["fields"]
    ]
    assert shown[0][:2] == ("payment", "charge"), shown
    assert Decimal(finding["fields"][0]["left"]["value"]) == c.payment["charge"]
    assert Decimal(finding["fields"][0]["right"]["value"]) == (
        c.order["goodsValue"] + c.order["freight"]
    )


def test_regime_fields_names_iac_code(sandan: Deployment) -> None:
    c = with_export_mistake(fresh_export("1210"), "REGIME_FIELDS")
    sandan.send_all(c, kinds_to_send(c))
    [finding] = sandan.bundle_json(c.key)["findings"]
    assert finding["code"] == "REGIME_FIELDS"
    assert [f["left"]["field"] for f in finding["fields"]] == ["iacCode"]
    assert finding["fields"][0]["right"] == {
        "document": "inventory",
        "field": "tradeMode",
        "value": "1210",
    }


def test_9710_declared_with_retail_order(sandan: Deployment) -> None:
    """A 9710 (B2B) declaration whose order is a retail one (type E): REGIME_MISMATCH."""
    c = fresh_export("9710")
    c.order["orderType"] = "E"
    sandan.send_all(c, kinds_to_send(c))
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "exception"
    assert bundle["regime"] == {"declared": "9710", "classified": "9610"}
    assert codes(bundle["findings"]) == ["REGIME_MISMATCH"]
    [finding] = bundle["findings"]
    assert [(f["left"], f["right"]) for f in finding["fields"]] == [
        (
            {"document": "inventory", "field": "tradeMode", "value": "9710"},
            {"document": "order", "field": "orderType", "value": "E"},
        )
    ]
    [entry] = sandan.entries_for(c.key)
    assert (entry["decision"], entry["rules"]) == ("exception", ["REGIME_MISMATCH"])


@pytest.mark.parametrize("regime", REGIMES)
def test_inventory_changed_to_another_waybill(sandan: Deployment, regime: str) -> None:
    """INVENTORY_LOGISTICS on export: the waybill attached through the inventory, then a
    change of the inventory names another waybill number."""
    c = fresh_export(regime)
    sandan.send_all(c, [Kind.LOGISTICS, Kind.INVENTORY])
    assert sandan.bundle_json(c.key)["documents"]["logistics"]["guid"] == c.logistics["guid"]
    other = "ZT" + c.inventory["logisticsNo"][2:]
    changed = revised(c, Kind.INVENTORY, logisticsNo=other)
    assert sandan.send(changed, Kind.INVENTORY)["status"] == "accepted"
    assert sandan.bundle_json(c.key)["state"] == "pending"
    # the receipt before the order: the order completes every regime's required set
    sandan.send_all(c, [k for k in (Kind.PAYMENT, Kind.ORDER) if k in kinds_to_send(c)])

    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "exception", bundle
    assert codes(bundle["findings"]) == ["INVENTORY_LOGISTICS"]
    [finding] = bundle["findings"]
    assert [
        (f["left"]["field"], f["left"]["value"], f["right"]["value"]) for f in finding["fields"]
    ] == [("logisticsNo", other, c.logistics["logisticsNo"])]
    [entry] = sandan.entries_for(c.key)
    assert (entry["decision"], entry["rules"]) == ("exception", ["INVENTORY_LOGISTICS"])
    assert entry["logisticsNo"] == other


@pytest.mark.parametrize("regime", REGIMES)
def test_inventory_names_an_unknown_waybill(hasty: Deployment, regime: str) -> None:
    """The factory's MISSING_LOGISTICS mistake (the inventory names a waybill number that
    does not exist). An export waybill names no order, so nothing ties the real one to this
    bundle (SPEC §4): it stays unattached, and at the deadline the bundle lacks its waybill."""
    c = with_export_mistake(fresh_export(regime), "MISSING_LOGISTICS")
    assert c.inventory["logisticsNo"] != c.logistics["logisticsNo"]
    hasty.send_all(c, kinds_to_send(c))
    bundle = decided(hasty, c)
    assert bundle["state"] == "exception"
    assert bundle["missing"] == ["logistics"]
    assert codes(bundle["findings"]) == ["MISSING_LOGISTICS"]
    assert "logistics" not in bundle["documents"]
    assert mentions(all_entries(hasty), c.logistics["logisticsNo"]) == []


# --- arrival order --------------------------------------------------------------------------


def _send_in_order(d: Deployment, c: Consignment, order: tuple[Kind, ...]) -> None:
    """Send one document at a time; until the last, the bundle (if any) stays pending, and a
    waybill is in it only once the inventory has come."""
    for i, kind in enumerate(order):
        d.send_all(c, [kind])
        if i == len(order) - 1:
            break
        sent = order[: i + 1]
        response = d.bundle(c.key)
        if set(sent) == {Kind.LOGISTICS}:
            assert response.status_code == 404, response.text
            continue
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert bundle["state"] == "pending", (sent, bundle)
        named = Kind.LOGISTICS in sent and Kind.INVENTORY in sent
        assert ("logistics" in bundle["documents"]) is named, (sent, bundle["documents"])
        assert d.entries_for(c.key) == []


def _assert_single_release(d: Deployment, c: Consignment) -> None:
    bundle = d.bundle_json(c.key)
    assert (bundle["state"], bundle["missing"], bundle["findings"]) == ("released", [], [])
    assert sorted(bundle["documents"]) == sorted(k.value for k in kinds_to_send(c))
    assert bundle["documents"]["logistics"]["guid"] == c.logistics["guid"]
    [entry] = d.entries_for(c.key)
    assert (entry["decision"], entry["rules"], entry["regime"]) == ("release", [], c.regime)
    assert (entry["logisticsCode"], entry["logisticsNo"]) == (
        c.logistics["logisticsCode"],
        c.logistics["logisticsNo"],
    )
    assert [e["event"] for e in bundle["history"]].count("decision") == 1


def _extreme(c: Consignment, first: Kind, last: Kind) -> tuple[Kind, ...]:
    middle = [k for k in kinds_to_send(c) if k not in (first, last)]
    return (first, *middle, last)


@pytest.mark.parametrize("regime", REGIMES)
def test_waybill_first_inventory_last(sandan: Deployment, regime: str) -> None:
    c = fresh_export(regime)
    _send_in_order(sandan, c, _extreme(c, Kind.LOGISTICS, Kind.INVENTORY))
    _assert_single_release(sandan, c)


@pytest.mark.parametrize("regime", REGIMES)
def test_inventory_first_waybill_last(sandan: Deployment, regime: str) -> None:
    c = fresh_export(regime)
    _send_in_order(sandan, c, _extreme(c, Kind.INVENTORY, Kind.LOGISTICS))
    _assert_single_release(sandan, c)


ORDERS = list(itertools.permutations(BUNDLE_KINDS))


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(k.value[:3] for k in o) for o in ORDERS])
def test_clean_9610_export_any_order(sandan: Deployment, order: tuple[Kind, ...]) -> None:
    c = fresh_export("9610")
    _send_in_order(sandan, c, order)
    _assert_single_release(sandan, c)


# --- XML receipts ---------------------------------------------------------------------------

RECEIPTS = {
    Kind.ORDER: ("CEB304Message", "OrderReturn"),
    Kind.PAYMENT: ("CEB404Message", "ReceiptsReturn"),
    Kind.LOGISTICS: ("CEB506Message", "LogisticsReturn"),
    Kind.INVENTORY: ("CEB604Message", "InventoryReturn"),
}


@pytest.fixture(scope="module")
def export_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


@pytest.mark.parametrize("kind", list(BUNDLE_KINDS), ids=[k.value for k in BUNDLE_KINDS])
def test_xml_receipt(sandan: Deployment, export_schema: etree.XMLSchema, kind: Kind) -> None:
    c = fresh_export("9610")
    response = sandan.post(c.message(kind), SENDER_OF[kind], accept="application/xml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    export_schema.assertValid(root)
    root_name, item_name = RECEIPTS[kind]
    assert root.tag == f"{{{CEB_NS}}}{root_name}"
    [item] = root.findall(f"{{{CEB_NS}}}{item_name}")
    assert item.findtext(f"{{{CEB_NS}}}guid") == parts(c, kind)[0]["guid"]
    assert item.findtext(f"{{{CEB_NS}}}returnStatus") == "120"
    if kind is Kind.LOGISTICS:
        assert item.findtext(f"{{{CEB_NS}}}logisticsNo") == c.logistics["logisticsNo"]
    else:
        assert item.findtext(f"{{{CEB_NS}}}orderNo") == c.order["orderNo"]
    # The XML answer stored the document: the JSON replay says duplicate.
    again = sandan.post(c.message(kind), SENDER_OF[kind])
    assert [d["status"] for d in again.json()["documents"]] == ["duplicate"]


# --- a waybill nobody names -----------------------------------------------------------------


def test_unnamed_waybill_stays_unattached(hasty: Deployment) -> None:
    """A waybill that no inventory names is accepted, waits, and is in no bundle and no
    manifest entry, even after the deadline of a bundle that would have wanted it."""
    lone = fresh_export("9610")
    result = hasty.send(lone, Kind.LOGISTICS)
    assert result["status"] == "accepted", result
    assert result["returnStatus"] == "120"
    assert result["key"] == {
        "logisticsCode": lone.logistics["logisticsCode"],
        "logisticsNo": lone.logistics["logisticsNo"],
    }
    assert hasty.bundle(lone.key).status_code == 404

    # The same consignment's order and receipt come too, but never its inventory.
    hasty.send_all(lone, [Kind.ORDER, Kind.PAYMENT])
    bundle = decided(hasty, lone)
    assert bundle["state"] == "exception"
    assert "logistics" not in bundle["documents"]
    assert bundle["missing"] == ["logistics", "inventory"]
    assert codes(bundle["findings"]) == ["MISSING_LOGISTICS", "MISSING_INVENTORY"]
    [entry] = hasty.entries_for(lone.key)
    assert entry["logisticsNo"] is None
    assert mentions(all_entries(hasty), lone.logistics["logisticsNo"]) == []
