"""Every collision rule of SPEC §5.2, end to end: documents in, finding and manifest entry out."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from service.demo.consignments import Consignment, buyer_id, clean_import, import_tax, mobile
from service.demo.mistakes import MISMATCHES, with_mistake
from service.messages.registry import BUNDLE_KINDS, Kind
from service.rules.catalogue import RULES
from tests.e2e.conftest import SENDER_OF, Deployment, fresh
from tests.e2e.support import codes, mask_id, mistaken, wait_until

Expected = Callable[[Consignment], Any]


def _order(name: str) -> Expected:
    return lambda c: c.order[name]


def _paid_computed(c: Consignment) -> Decimal:
    o = c.order
    return Decimal(o["goodsValue"] + o["freight"] - o["discount"] + o["taxTotal"])


def _value(c: Consignment) -> Decimal:
    o = c.order
    return Decimal(o["goodsValue"] + o["freight"] - o["discount"])


def _tax(c: Consignment) -> Decimal:
    return import_tax(c.inventory_lines, c.inventory["freight"], c.inventory["insuredFee"])


# code -> the comparison it must show: (left document, left field, expected left value,
#                                       right document, right field, expected right value)
# Values computed from the consignment as sent; None means "the field is absent".
SHOWN: dict[str, tuple[str, str, Expected, str, str, Expected]] = {
    "ORDER_PAID_FORMULA": (
        "order", "acturalPaid", _order("acturalPaid"),
        "computed", "goodsValue+freight-discount+taxTotal", _paid_computed,
    ),
    "ORDER_LINE_TOTAL": (
        "order", "OrderList[1].totalPrice", lambda c: c.order_lines[0]["totalPrice"],
        "computed", "OrderList[1].qty*price",
        lambda c: c.order_lines[0]["qty"] * c.order_lines[0]["price"],
    ),
    "ORDER_GOODS_VALUE": (
        "order", "goodsValue", _order("goodsValue"),
        "computed", "sum(OrderList.totalPrice)",
        lambda c: sum((line["totalPrice"] for line in c.order_lines), Decimal(0)),
    ),
    "PAYMENT_AMOUNT": (
        "payment", "amountPaid", lambda c: c.payment["amountPaid"],
        "order", "acturalPaid", _order("acturalPaid"),
    ),
    "PAYMENT_REFERENCE": (
        "payment", "payTransactionId", lambda c: c.payment["payTransactionId"],
        "order", "payTransactionId", _order("payTransactionId"),
    ),
    "PAYER_IS_BUYER": (
        "payment", "payerName", lambda c: c.payment["payerName"],
        "order", "buyerName", _order("buyerName"),
    ),
    "BUYER_ID_INVALID": (
        "order", "buyerIdNumber", lambda c: mask_id(c.order["buyerIdNumber"]),
        "order", "buyerIdType", lambda c: "1",
    ),
    "CONSIGNEE_MISMATCH": (
        "logistics", "consigneeAddress", lambda c: c.logistics["consigneeAddress"],
        "order", "consigneeAddress", _order("consigneeAddress"),
    ),
    "INVENTORY_PARTIES": (
        "inventory", "buyerName", lambda c: c.inventory["buyerName"],
        "order", "buyerName", _order("buyerName"),
    ),
    "INVENTORY_LOGISTICS": (
        "inventory", "logisticsNo", lambda c: c.inventory["logisticsNo"],
        "logistics", "logisticsNo", lambda c: c.logistics["logisticsNo"],
    ),
    "INVENTORY_ITEMS": (
        "inventory", "InventoryList[1].qty", lambda c: c.inventory_lines[0]["qty"],
        "order", "OrderList[1].qty", lambda c: c.order_lines[0]["qty"],
    ),
    "SINGLE_LIMIT": (
        "computed", "goodsValue+freight-discount", _value,
        "config", "single_limit_cny", lambda c: Decimal(5000),
    ),
    "TAX_TOTAL": (
        "order", "taxTotal", _order("taxTotal"),
        "computed", "comprehensiveTax", _tax,
    ),
    "REGIME_MISMATCH": (
        "inventory", "tradeMode", lambda c: "9710",
        "order", "orderType", lambda c: "I",
    ),
    "REGIME_FIELDS": (
        # 9610 needs billNo, 1210 the account book emsNo: the mutation drops the one that counts
        "inventory", "billNo|emsNo", lambda c: None,
        "inventory", "tradeMode", lambda c: c.regime,
    ),
}  # fmt: skip


def _same(shown: Any, expected: str | Decimal | None) -> bool:
    if expected is None or shown is None:
        return shown is expected
    if isinstance(expected, Decimal):
        return Decimal(shown) == expected
    return bool(shown == expected)


def assert_finding_shape(finding: dict[str, Any]) -> None:
    spec = RULES[finding["code"]]
    assert finding["severity"] == spec.severity.value
    assert finding["message_zh"] == spec.message_zh
    assert finding["message_en"] == spec.message_en
    assert finding["message_zh"] != finding["message_en"]
    assert finding["fields"], finding
    for comparison in finding["fields"]:
        for name in ("left", "right"):
            assert set(comparison[name]) == {"document", "field", "value"}, comparison


def test_every_mismatch_has_a_shown_comparison() -> None:
    assert set(SHOWN) == set(MISMATCHES)


@pytest.mark.parametrize("number", [9, 19, 24, 31])
def test_demo_inventory_logistics_mistake_names_no_real_waybill(number: int) -> None:
    """The demo generator's INVENTORY_LOGISTICS mistake must make the inventory name a waybill
    that is neither its own nor another consignment's (the e2e tests and ``sandan demo`` rely
    on it). Numbers as ``fresh()`` hands them out."""
    clean = clean_import(random.Random(number), number)
    bad = with_mistake(clean, "INVENTORY_LOGISTICS")
    named = bad.inventory["logisticsNo"]
    assert named != clean.logistics["logisticsNo"], "the mistake changed nothing"
    others = {clean_import(random.Random(n), n).logistics["logisticsNo"] for n in range(1, 200)} - {
        clean.logistics["logisticsNo"]
    }
    assert named not in others, f"{named} is another consignment's waybill"


@pytest.mark.parametrize("regime", ["9610", "1210"])
@pytest.mark.parametrize("code", sorted(MISMATCHES))
def test_mismatch_is_found(sandan: Deployment, code: str, regime: str) -> None:
    c = mistaken(fresh(regime), code)
    sandan.send_all(c)

    bundle = sandan.bundle_json(c.key)
    warning = code == "TAX_TOTAL"
    assert bundle["state"] == ("released" if warning else "exception"), bundle["findings"]
    assert bundle["regime"] == {"declared": c.inventory["tradeMode"], "classified": regime}
    assert bundle["missing"] == []
    found = {f["code"]: f for f in bundle["findings"]}
    assert code in found
    # The mutation makes exactly this mistake: no other error rides along.
    errors = {f["code"] for f in bundle["findings"] if f["severity"] == "error"}
    assert errors == (set() if warning else {code})
    for f in bundle["findings"]:
        assert_finding_shape(f)

    left_doc, left_field, left, right_doc, right_field, right = SHOWN[code]
    shown = found[code]["fields"]
    matching = [
        comparison
        for comparison in shown
        if comparison["left"]["document"] == left_doc
        and comparison["left"]["field"] in left_field.split("|")
        and comparison["right"]["document"] == right_doc
        and comparison["right"]["field"] == right_field
    ]
    assert len(matching) == 1, shown
    [comparison] = matching
    assert _same(comparison["left"]["value"], left(c)), comparison
    assert _same(comparison["right"]["value"], right(c)), comparison
    assert comparison["left"]["value"] != comparison["right"]["value"]

    [entry] = sandan.entries_for(c.key)
    assert entry["decision"] == ("release" if warning else "exception")
    assert code in entry["rules"]
    assert entry["rules"] == codes(bundle["findings"])
    if code != "REGIME_MISMATCH":
        assert entry["regime"] == regime
    assert entry["by"] == "engine"
    assert entry["logisticsNo"] == c.inventory["logisticsNo"]
    assert bundle["decisions"] == [entry]


@pytest.mark.parametrize("regime", ["9610", "1210"])
def test_regime_fields_names_the_field_of_the_regime(sandan: Deployment, regime: str) -> None:
    c = with_mistake(fresh(regime), "REGIME_FIELDS")
    sandan.send_all(c)
    [finding] = sandan.bundle_json(c.key)["findings"]
    wanted = "billNo" if regime == "9610" else "emsNo"
    assert [f["left"]["field"] for f in finding["fields"]] == [wanted]


@pytest.mark.parametrize("regime", ["9610", "1210"])
def test_clean_consignment_has_no_findings(sandan: Deployment, regime: str) -> None:
    c = fresh(regime)
    sandan.send_all(c)
    bundle = sandan.bundle_json(c.key)
    assert (bundle["state"], bundle["findings"]) == ("released", [])
    [entry] = sandan.entries_for(c.key)
    assert (entry["decision"], entry["rules"]) == ("release", [])


def test_buyer_id_invalid_shows_only_the_masked_number(sandan: Deployment) -> None:
    clean = fresh()
    c = with_mistake(clean, "BUYER_ID_INVALID")
    bad, good = c.order["buyerIdNumber"], clean.order["buyerIdNumber"]
    assert bad != good
    for kind in BUNDLE_KINDS:
        response = sandan.post(c.message(kind), SENDER_OF[kind])
        assert response.status_code == 200
        assert bad not in response.text
    response = sandan.bundle(c.key)
    assert response.status_code == 200
    assert response.json()["state"] == "exception"
    [finding] = response.json()["findings"]
    assert finding["code"] == "BUYER_ID_INVALID"
    assert finding["fields"][0]["left"]["value"] == mask_id(bad)
    assert mask_id(bad) in response.text
    for clear in (bad, good, bad[:17], bad[4:14]):
        assert clear not in response.text
    manifest = sandan.client.get(
        "/v1/manifest", params={"after": 0, "limit": 1000}, headers=sandan.headers("operator")
    )
    assert bad not in manifest.text


def test_annual_limit(sandan: Deployment) -> None:
    rng = random.Random("annual-limit-buyer")
    buyer = ("欧阳娜娜", buyer_id(rng), mobile(rng))
    limit = Decimal(26000)
    total = Decimal(0)
    released: list[Consignment] = []
    while True:
        # max_value is a budget: the generator may use less of it, so count what it made.
        c = fresh(buyer=buyer, max_value=Decimal(4900))
        value = c.order["goodsValue"] + c.order["freight"] - c.order["discount"]
        assert value <= Decimal(5000)
        sandan.send_all(c)
        bundle = sandan.bundle_json(c.key)
        if total + value <= limit:
            assert bundle["state"] == "released", (total, value, bundle["findings"])
            total += value
            released.append(c)
            assert len(released) < 40, "the generator makes implausibly small orders"
            continue
        break
    assert len(released) >= 5
    assert bundle["state"] == "exception"
    assert codes(bundle["findings"]) == ["ANNUAL_LIMIT"]
    [finding] = bundle["findings"]
    assert_finding_shape(finding)
    shown = {(f["left"]["document"], f["left"]["field"]): f for f in finding["fields"]}
    year = shown[("computed", "buyerYearTotal+goodsValue+freight-discount")]
    assert Decimal(year["left"]["value"]) == total + value
    assert Decimal(year["right"]["value"]) == limit
    ledger = shown[("ledger", "buyerYearTotal")]
    assert Decimal(ledger["left"]["value"]) == total
    assert Decimal(ledger["right"]["value"]) == value
    [entry] = sandan.entries_for(c.key)
    assert (entry["decision"], entry["rules"]) == ("exception", ["ANNUAL_LIMIT"])
    # The buyer's ID appears nowhere in clear.
    assert buyer[1] not in str(bundle)


def test_annual_limit_counts_only_this_buyer(sandan: Deployment) -> None:
    """Another buyer's spending does not count against this one."""
    rng = random.Random("annual-limit-other-buyer")
    buyer = ("司马懿", buyer_id(rng), mobile(rng))
    c = fresh(buyer=buyer, max_value=Decimal(4900))
    sandan.send_all(c)
    assert sandan.bundle_json(c.key)["state"] == "released"


MISSING_KINDS = [Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS, Kind.INVENTORY]


@pytest.mark.parametrize("absent", MISSING_KINDS, ids=[k.value for k in MISSING_KINDS])
def test_missing_document_after_deadline(hasty: Deployment, absent: Kind) -> None:
    c = fresh()
    hasty.send_all(c, [k for k in BUNDLE_KINDS if k is not absent])
    code = f"MISSING_{absent.value.upper()}"

    bundle = wait_until(
        lambda: hasty.bundle_json(c.key), lambda b: b["state"] != "pending", timeout=10
    )
    assert bundle["state"] == "exception"
    assert bundle["missing"] == [absent.value]
    assert codes(bundle["findings"]) == [code]
    [finding] = bundle["findings"]
    assert_finding_shape(finding)
    assert finding["fields"][0]["left"]["document"] == absent.value
    assert absent.value not in bundle["documents"]
    [entry] = hasty.entries_for(c.key)
    assert (entry["decision"], entry["rules"]) == ("exception", [code])

    # The late document arrives: the bundle is decided again and the release stands.
    result = hasty.send(c, absent)
    assert result["status"] == "accepted", result
    bundle = hasty.bundle_json(c.key)
    assert bundle["state"] == "released"
    assert bundle["missing"] == []
    assert bundle["findings"] == []
    entries = hasty.entries_for(c.key)
    assert [e["decision"] for e in entries] == ["exception", "release"]
    assert entries[0]["seq"] < entries[1]["seq"]
    assert entries[1]["rules"] == []
    assert [e["seq"] for e in bundle["decisions"]] == [e["seq"] for e in entries]


def test_nothing_missing_is_not_swept(hasty: Deployment) -> None:
    """A complete bundle is decided at once; the sweeper never adds a MISSING entry to it."""
    c = fresh()
    hasty.send_all(c)
    [entry] = hasty.entries_for(c.key)
    assert entry["decision"] == "release"
    # Longer than the deadline plus a few sweeps.
    wait_until(lambda: hasty.bundle_json(c.key), lambda b: b["state"] == "released")
    other = fresh()
    hasty.send_all(other, [Kind.ORDER])
    wait_until(lambda: hasty.bundle_json(other.key), lambda b: b["state"] == "exception")
    assert len(hasty.entries_for(c.key)) == 1
