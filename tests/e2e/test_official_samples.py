"""The official GACC import samples (CEB311/411/511/621), as published, through HTTP.

The samples are test data, not a consignment: every message repeats one ``guid`` for all its
documents, and the four messages do not share keys. Read document by document (verified by
``test_reading_of_the_samples`` below):

- CEB311: 6 identical orders, one guid -> accepted, then 5 DUPLICATE.
- CEB411: 10 payments alternating guids ...94 / ...95, identical content per guid
  (orders ...0007 and ...0008) -> accepted, accepted, then 8 DUPLICATE.
- CEB511: 6 waybills, one guid, orderNo differs each time (the 4th equals the 3rd, but the
  guid's stored content is the 1st's) -> accepted, then 5 GUID_CONFLICT.
- CEB621: 10 inventories, one guid; only the 9th is identical to the 1st -> accepted, 7
  GUID_CONFLICT, DUPLICATE (9th), GUID_CONFLICT (10th).

That leaves four bundles. The accepted waybill L201603081138007 says orderNo
order20160321116421002 (the order's), but the accepted inventory (order2016030811340001) names
it by logisticsCode + logisticsNo, and SPEC §4 attaches a waybill through the inventory that
names it before anything else: it belongs to the inventory's bundle.

Expected findings after the deadline, from SPEC §5.2 (all import regimes need all four
documents):

- order bundle 1105910159/order20160321116421002, only the order:
  ORDER_PAID_FORMULA holds (14000 + 5000 − 0 + 50 = 19050); ORDER_LINE_TOTAL fails on line 2
  (200 × 10 = 2000 ≠ 12000); ORDER_GOODS_VALUE holds (2000 + 12000 = 14000);
  BUYER_ID_INVALID (130681136250023332: check character X, not 2); SINGLE_LIMIT
  (14000 + 5000 − 0 = 19000 > 5000, two lines); ANNUAL_LIMIT holds (nothing released, 19000 ≤
  26000); MISSING_PAYMENT, MISSING_LOGISTICS, MISSING_INVENTORY.
- payment bundles 1101110325/order2016030811340007 and ...0008, only a payment: every rule
  needs a second document -> MISSING_ORDER, MISSING_LOGISTICS, MISSING_INVENTORY.
- inventory bundle 1101110325/order2016030811340001, inventory + waybill: 9610 fields
  trafNo/voyageNo/billNo are present (REGIME_FIELDS holds), tradeMode 9610 and ieFlag I fit an
  import (no REGIME_MISMATCH); the inventory's own odd line totals (100 × 20 declared as 20)
  are checked only against an order, which is absent -> MISSING_ORDER, MISSING_PAYMENT; and
  INVENTORY_LOGISTICS. SPEC §5.2 words that rule as logisticsCode + logisticsNo only, which
  agree here; the rule as committed (cbde5fb) also holds an import waybill's orderNo against
  the inventory's, and order20160321116421002 ≠ order2016030811340001: the inventory points at
  a parcel of another order. That is the reading asserted below.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from service.config import Settings
from service.rules.idcard import check_character, gb11643_valid
from tests.e2e.conftest import Deployment, KeySpec, deploy

REPO_ROOT = Path(__file__).resolve().parents[2]
CEB = "{http://www.chinaport.gov.cn/ceb}"

# Every document of the samples is transmitted by BaseTransfer/copCode 1101180326.
COP = "1101180326"
OFFICIAL_KEYS: KeySpec = {
    # order ebpCode / ebcCode 1105910159
    "platform": (["1105910159", COP], ["platform"]),
    # payment payCode 1101110323
    "payment": (["1101110323", COP], ["payment"]),
    # waybill logisticsCode 1101180326
    "logistics": ([COP], ["logistics"]),
    # inventory agentCode 1105910159 (ebpCode / ebcCode 1101110325)
    "agent": (["1105910159", COP], ["agent"]),
    "operator": (["2924"], ["operator"]),
}
# (file stem, document element, key role)
MESSAGES = (
    ("CEB311", "Order", "platform"),
    ("CEB411", "Payment", "payment"),
    ("CEB511", "Logistics", "logistics"),
    ("CEB621", "Inventory", "agent"),
)
ORDERS = {"forward": MESSAGES, "reverse": tuple(reversed(MESSAGES))}
DEADLINE_SECONDS = 3.0

GUID_94 = "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
GUID_95 = "4CDE1CFD-EDED-46B1-946C-B8022E42FC95"

# (status, returnStatus, error codes) of one document's answer
Answer = tuple[str, str, tuple[str, ...]]
ACCEPTED: Answer = ("accepted", "120", ())
DUPLICATE: Answer = ("duplicate", "120", ("DUPLICATE",))
CONFLICT: Answer = ("rejected", "100", ("GUID_CONFLICT",))
EXPECTED_RESULTS: dict[str, list[Answer]] = {
    "CEB311": [ACCEPTED] + [DUPLICATE] * 5,
    "CEB411": [ACCEPTED, ACCEPTED] + [DUPLICATE] * 8,
    "CEB511": [ACCEPTED] + [CONFLICT] * 5,
    "CEB621": [ACCEPTED] + [CONFLICT] * 7 + [DUPLICATE, CONFLICT],
}

ORDER_BUNDLE = ("1105910159", "order20160321116421002")
PAYMENT_7 = ("1101110325", "order2016030811340007")
PAYMENT_8 = ("1101110325", "order2016030811340008")
INVENTORY_BUNDLE = ("1101110325", "order2016030811340001")
BUNDLES = (ORDER_BUNDLE, PAYMENT_7, PAYMENT_8, INVENTORY_BUNDLE)
WAYBILL = ("1101180326", "L201603081138007")

# bundle -> {kind: guid} of the documents it holds once everything is posted
EXPECTED_DOCUMENTS: dict[tuple[str, str], dict[str, str]] = {
    ORDER_BUNDLE: {"order": GUID_94},
    PAYMENT_7: {"payment": GUID_94},
    PAYMENT_8: {"payment": GUID_95},
    INVENTORY_BUNDLE: {"inventory": GUID_94, "logistics": GUID_94},
}
EXPECTED_MISSING: dict[tuple[str, str], set[str]] = {
    ORDER_BUNDLE: {"payment", "logistics", "inventory"},
    PAYMENT_7: {"order", "logistics", "inventory"},
    PAYMENT_8: {"order", "logistics", "inventory"},
    INVENTORY_BUNDLE: {"order", "payment"},
}
EXPECTED_FINDINGS: dict[tuple[str, str], set[str]] = {
    ORDER_BUNDLE: {
        "ORDER_LINE_TOTAL",
        "BUYER_ID_INVALID",
        "SINGLE_LIMIT",
        "MISSING_PAYMENT",
        "MISSING_LOGISTICS",
        "MISSING_INVENTORY",
    },
    PAYMENT_7: {"MISSING_ORDER", "MISSING_LOGISTICS", "MISSING_INVENTORY"},
    PAYMENT_8: {"MISSING_ORDER", "MISSING_LOGISTICS", "MISSING_INVENTORY"},
    INVENTORY_BUNDLE: {"INVENTORY_LOGISTICS", "MISSING_ORDER", "MISSING_PAYMENT"},
}
# Personal data of the samples that must never appear in clear in a bundle view.
CLEAR_PII = ("130681136250023332", "130625021345225322", "18813025940", "13522652231")


@pytest.fixture(scope="module")
def reference_dir() -> Path:
    configured = Settings().reference_dir
    path = (configured if configured.is_absolute() else REPO_ROOT / configured).resolve()
    if not (path / "samples" / "import" / "CEB311Message.xml").is_file():
        pytest.skip(f"official GACC reference folder not found at {path}; set SANDAN_REFERENCE_DIR")
    return path


def sample_bytes(reference_dir: Path, stem: str) -> bytes:
    return (reference_dir / "samples" / "import" / f"{stem}Message.xml").read_bytes()


@dataclass
class Played:
    # stem -> the per-document results of its POST
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # stem -> {bundle: {kind: guid}} right after that message was answered
    holdings_after: dict[str, dict[tuple[str, str], dict[str, str]]] = field(default_factory=dict)
    # bundle states right after the last message, before the deadline
    states_before_deadline: dict[tuple[str, str], str] = field(default_factory=dict)
    posting_seconds: float = 0.0
    bundles: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    raw_bundles: dict[tuple[str, str], str] = field(default_factory=dict)
    manifest: list[dict[str, Any]] = field(default_factory=list)


def holdings(d: Deployment) -> dict[tuple[str, str], dict[str, str]]:
    """Which bundles exist and which document guids each holds."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for key in BUNDLES:
        response = d.bundle(key)
        if response.status_code == 404:
            continue
        assert response.status_code == 200, response.text
        out[key] = {kind: doc["guid"] for kind, doc in response.json()["documents"].items()}
    return out


def play(d: Deployment, reference_dir: Path, order: tuple[tuple[str, str, str], ...]) -> Played:
    played = Played()
    started = time.monotonic()
    for stem, _, role in order:
        response = d.post(sample_bytes(reference_dir, stem), role)
        assert response.status_code == 200, response.text
        played.answers[stem] = response.json()["documents"]
        played.holdings_after[stem] = holdings(d)
    played.posting_seconds = time.monotonic() - started
    played.states_before_deadline = {key: d.bundle_json(key)["state"] for key in BUNDLES}

    give_up = time.monotonic() + DEADLINE_SECONDS + 30
    while True:
        views = {key: d.bundle_json(key) for key in BUNDLES}
        if all(view["state"] != "pending" for view in views.values()):
            break
        assert time.monotonic() < give_up, {k: v["state"] for k, v in views.items()}
        time.sleep(0.2)
    played.bundles = views
    played.raw_bundles = {key: d.bundle(key).text for key in BUNDLES}
    played.manifest = d.manifest(after=0, limit=1000)["entries"]
    return played


@pytest.fixture(scope="module")
def runs(
    reference_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Played]]:
    """The four samples posted to a fresh deployment in natural order, and to another in
    reverse order; each played until every bundle is decided."""
    out: dict[str, Played] = {}
    for name, order in ORDERS.items():
        with deploy(
            tmp_path_factory.mktemp(f"official-{name}"),
            keys=OFFICIAL_KEYS,
            SANDAN_BUNDLE_DEADLINE_SECONDS=str(DEADLINE_SECONDS),
        ) as deployment:
            out[name] = play(deployment, reference_dir, order)
    yield out


# --- the reading of the samples ------------------------------------------------------------


def _content(document: etree._Element) -> tuple[tuple[str, str], ...]:
    """A document's leaves as (name, stripped text), in order: its content, formatting aside."""
    return tuple(
        (etree.QName(node).localname, (node.text or "").strip())
        for node in document.iter()
        if isinstance(node.tag, str) and len(node) == 0
    )


def _expected_from_file(root: etree._Element, element: str) -> list[Answer]:
    """SPEC §5.1 applied to one sender's documents in order: a new guid is accepted, a guid
    seen with the same content is a DUPLICATE, with other content a GUID_CONFLICT."""
    stored: dict[str, tuple[tuple[str, str], ...]] = {}
    out: list[Answer] = []
    for document in root.iterfind(f"{CEB}{element}"):
        guid = document.findtext(f".//{CEB}guid")
        assert guid is not None
        content = _content(document)
        if guid not in stored:
            stored[guid] = content
            out.append(ACCEPTED)
        else:
            out.append(DUPLICATE if stored[guid] == content else CONFLICT)
    return out


@pytest.mark.reference
@pytest.mark.parametrize(("stem", "element"), [(s, e) for s, e, _ in MESSAGES])
def test_reading_of_the_samples(reference_dir: Path, stem: str, element: str) -> None:
    """The expectations written above are what the files say, read independently."""
    body = sample_bytes(reference_dir, stem)
    root = etree.fromstring(body.removeprefix(b"\xef\xbb\xbf"))
    assert _expected_from_file(root, element) == EXPECTED_RESULTS[stem]
    assert root.findtext(f"{CEB}BaseTransfer/{CEB}copCode") == COP
    assert root.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None


def test_sample_buyer_id_fails_gb11643() -> None:
    assert check_character("13068113625002333") == "X"
    assert not gb11643_valid("130681136250023332")


# --- intake answers ------------------------------------------------------------------------


@pytest.mark.reference
@pytest.mark.parametrize("run", list(ORDERS))
@pytest.mark.parametrize("stem", [s for s, _, _ in MESSAGES])
def test_per_document_results(runs: dict[str, Played], run: str, stem: str) -> None:
    answers = runs[run].answers[stem]
    got = [(a["status"], a["returnStatus"], tuple(e["code"] for e in a["errors"])) for a in answers]
    assert got == EXPECTED_RESULTS[stem]
    guids = [a["guid"] for a in answers]
    if stem == "CEB411":
        assert guids == [GUID_94, GUID_95] * 5
    else:
        assert set(guids) == {GUID_94}


@pytest.mark.reference
@pytest.mark.parametrize("run", list(ORDERS))
def test_keys_in_answers(runs: dict[str, Played], run: str) -> None:
    answers = runs[run].answers
    assert answers["CEB311"][0]["key"] == {"ebpCode": ORDER_BUNDLE[0], "orderNo": ORDER_BUNDLE[1]}
    assert answers["CEB411"][0]["key"] == {
        "payCode": "1101110323",
        "payTransactionId": "P0242250007",
        "ebpCode": PAYMENT_7[0],
        "orderNo": PAYMENT_7[1],
    }
    assert answers["CEB411"][1]["key"]["orderNo"] == PAYMENT_8[1]
    assert answers["CEB511"][0]["key"] == {
        "logisticsCode": WAYBILL[0],
        "logisticsNo": WAYBILL[1],
    }
    key = dict(answers["CEB621"][0]["key"])
    invt_no = key.pop("invtNo")
    assert key == {
        "ebpCode": INVENTORY_BUNDLE[0],
        "orderNo": INVENTORY_BUNDLE[1],
        "logisticsCode": WAYBILL[0],
        "logisticsNo": WAYBILL[1],
    }
    # SPEC §10: the sample's customsCode 3700, the year, I, a 9-digit sequence
    assert re.fullmatch(r"3700\d{4}I\d{9}", invt_no), invt_no


# --- matching ------------------------------------------------------------------------------


@pytest.mark.reference
@pytest.mark.parametrize("run", list(ORDERS))
def test_accepted_documents_land_in_their_bundles(runs: dict[str, Played], run: str) -> None:
    played = runs[run]
    last = played.holdings_after[ORDERS[run][-1][0]]
    assert last == EXPECTED_DOCUMENTS
    assert {
        key: {k: v["guid"] for k, v in b["documents"].items()} for key, b in played.bundles.items()
    } == EXPECTED_DOCUMENTS
    waybill = played.bundles[INVENTORY_BUNDLE]["documents"]["logistics"]
    assert waybill["key"] == {
        "orderNo": ORDER_BUNDLE[1],  # the waybill's own orderNo is the order's...
        "logisticsCode": WAYBILL[0],
        "logisticsNo": WAYBILL[1],
    }  # ...yet the inventory that names it decides where it belongs (SPEC §4)


@pytest.mark.reference
def test_waybill_moves_to_the_inventory_that_names_it(runs: dict[str, Played]) -> None:
    """Natural order: the waybill first attaches by orderNo to the only bundle with that
    orderNo (the order's); the inventory naming it then takes it."""
    after = runs["forward"].holdings_after
    assert after["CEB511"][ORDER_BUNDLE] == {"order": GUID_94, "logistics": GUID_94}
    assert INVENTORY_BUNDLE not in after["CEB511"]
    assert after["CEB621"][ORDER_BUNDLE] == {"order": GUID_94}
    assert after["CEB621"][INVENTORY_BUNDLE] == {"inventory": GUID_94, "logistics": GUID_94}


@pytest.mark.reference
def test_waybill_joins_the_inventory_that_named_it_first(runs: dict[str, Played]) -> None:
    """Reverse order: the inventory is there first, so the waybill goes straight to it and
    the order arriving later does not pull it back by orderNo."""
    after = runs["reverse"].holdings_after
    assert after["CEB511"] == {INVENTORY_BUNDLE: {"inventory": GUID_94, "logistics": GUID_94}}
    assert after["CEB311"][ORDER_BUNDLE] == {"order": GUID_94}
    assert after["CEB311"][INVENTORY_BUNDLE]["logistics"] == GUID_94


# --- decisions -----------------------------------------------------------------------------


@pytest.mark.reference
@pytest.mark.parametrize("run", list(ORDERS))
def test_bundles_wait_for_their_deadline(runs: dict[str, Played], run: str) -> None:
    played = runs[run]
    assert played.posting_seconds < DEADLINE_SECONDS, "posting took longer than the deadline"
    assert played.states_before_deadline == dict.fromkeys(BUNDLES, "pending")


@pytest.mark.reference
@pytest.mark.parametrize("run", list(ORDERS))
@pytest.mark.parametrize("key", BUNDLES, ids=lambda k: k[1])
def test_findings_after_the_deadline(
    runs: dict[str, Played], run: str, key: tuple[str, str]
) -> None:
    bundle = runs[run].bundles[key]
    assert bundle["state"] == "exception"
    assert {f["code"] for f in bundle["findings"]} == EXPECTED_FINDINGS[key]
    assert len(bundle["findings"]) == len(EXPECTED_FINDINGS[key])
    assert all(f["severity"] == "error" for f in bundle["findings"])
    assert set(bundle["missing"]) == EXPECTED_MISSING[key]
    assert bundle["direction"] == "I"
    assert bundle["decidedAt"] is not None


@pytest.mark.reference
@pytest.mark.parametrize("run", list(ORDERS))
def test_order_bundle_findings_name_the_values(runs: dict[str, Played], run: str) -> None:
    findings = {f["code"]: f for f in runs[run].bundles[ORDER_BUNDLE]["findings"]}
    [line] = findings["ORDER_LINE_TOTAL"]["fields"]
    assert line["left"]["field"] == "OrderList[2].totalPrice"
    assert line["left"]["value"] == "12000"
    assert line["right"]["value"] == "2000"
    [limit] = findings["SINGLE_LIMIT"]["fields"]
    assert limit["left"]["value"] == "19000"
    assert limit["right"]["value"] == "5000"


@pytest.mark.reference
@pytest.mark.parametrize("run", list(ORDERS))
def test_inventory_bundle_flags_the_waybills_order(runs: dict[str, Played], run: str) -> None:
    findings = {f["code"]: f for f in runs[run].bundles[INVENTORY_BUNDLE]["findings"]}
    # logisticsCode and logisticsNo agree; only the order the waybill names does not
    [compared] = findings["INVENTORY_LOGISTICS"]["fields"]
    assert compared["left"] == {
        "document": "inventory",
        "field": "orderNo",
        "value": INVENTORY_BUNDLE[1],
    }
    assert compared["right"] == {
        "document": "logistics",
        "field": "orderNo",
        "value": ORDER_BUNDLE[1],
    }


@pytest.mark.reference
@pytest.mark.parametrize("run", list(ORDERS))
def test_inventory_bundle_regime(runs: dict[str, Played], run: str) -> None:
    bundle = runs[run].bundles[INVENTORY_BUNDLE]
    assert bundle["regime"]["declared"] == "9610"
    assert bundle["regime"]["classified"] == "9610"
    # the samples carry a ds:Signature and no certificate is registered: accepted, unverified
    assert {doc["signature"] for doc in bundle["documents"].values()} == {"unverified"}


@pytest.mark.reference
@pytest.mark.parametrize("run", list(ORDERS))
def test_one_engine_entry_per_bundle(runs: dict[str, Played], run: str) -> None:
    entries = runs[run].manifest
    by_key = {(e["ebpCode"], e["orderNo"]): e for e in entries}
    assert len(entries) == len(BUNDLES) == len(by_key)
    assert set(by_key) == set(BUNDLES)
    for key, entry in by_key.items():
        assert entry["decision"] == "exception"
        assert entry["by"] == "engine"
        assert set(entry["rules"]) == EXPECTED_FINDINGS[key]
    inventory_entry = by_key[INVENTORY_BUNDLE]
    assert (inventory_entry["logisticsCode"], inventory_entry["logisticsNo"]) == WAYBILL
    assert by_key[ORDER_BUNDLE]["logisticsNo"] is None


@pytest.mark.reference
@pytest.mark.parametrize("run", list(ORDERS))
def test_no_clear_personal_data_in_bundle_views(runs: dict[str, Played], run: str) -> None:
    for key, text in runs[run].raw_bundles.items():
        for value in CLEAR_PII:
            assert value not in text, (key, value)


@pytest.mark.reference
def test_reverse_order_gives_the_same_final_state(runs: dict[str, Played]) -> None:
    def final(played: Played) -> dict[tuple[str, str], Any]:
        return {
            key: (
                b["state"],
                sorted(f["code"] for f in b["findings"]),
                sorted(b["missing"]),
                {kind: doc["guid"] for kind, doc in b["documents"].items()},
                b["regime"],
            )
            for key, b in played.bundles.items()
        }

    def entries(played: Played) -> dict[tuple[str, str], Any]:
        return {
            (e["ebpCode"], e["orderNo"]): (e["decision"], sorted(e["rules"]), e["logisticsNo"])
            for e in played.manifest
        }

    assert final(runs["forward"]) == final(runs["reverse"])
    assert entries(runs["forward"]) == entries(runs["reverse"])
