"""The consignment's physical movement over HTTP (SPEC §10), on a real server (SQLite, or
PostgreSQL with SANDAN_TEST_DATABASE_URL): a 9610 export from its documents to 结关 through the
API alone, arrivals before and after the documents, an arrival the release waits for, and the
official samples of CEB711 / 507 / 607 / 509 through the whole pipeline."""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from service.config import DEFAULT_REQUIRED_SETS, Settings
from service.demo.consignments import DEMO_PARTIES, Consignment
from service.demo.exports import clean_export
from service.demo.movement import arrival_message, departure_message, master_bill_message
from service.messages.registry import BUNDLE_KINDS, Kind
from tests.e2e.conftest import SENDER_OF, Deployment, KeySpec, deploy, fresh
from tests.e2e.test_lifecycle import post
from tests.e2e.test_receipts import receipts
from tests.e2e.web import session_with
from tests.messages.builders import cancel_for, refund_for, serialize
from tests.messages.samples import BROKEN_SAMPLES, repaired, sample

REPO_ROOT = Path(__file__).resolve().parents[2]
P = DEMO_PARTIES
SITE = (P.carrier.code, P.carrier.name)  # the warehouse key's code runs the supervised site
AGENT = (P.agent.code, P.agent.name)
_numbers = itertools.count(700_001)


def export(regime: str = "9610") -> Consignment:
    number = next(_numbers)
    return clean_export(random.Random(number), number, regime=regime)


def send(d: Deployment, c: Consignment, kinds: tuple[Kind, ...] = BUNDLE_KINDS) -> str:
    """Send ``kinds`` of ``c``; the invtNo its inventory was given ("" without one)."""
    invt_no = ""
    for kind in kinds:
        answer = post(d, c.message(kind), SENDER_OF[kind])
        assert answer["status"] == "accepted", answer
        invt_no = answer["key"].get("invtNo", invt_no)
    return invt_no


def codes(answer: dict[str, Any]) -> list[str]:
    return [e["code"] for e in answer.get("errors", ())]


def all_receipts(d: Deployment, role: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    while page := receipts(d, role, after=after, limit=1000)["receipts"]:
        out += page
        after = page[-1]["seq"]
    return out


def test_a_9610_export_from_order_to_closed(sandan: Deployment) -> None:
    c, other = export(), export()
    invt_no = send(sandan, c)
    other_invt_no = send(sandan, other)
    assert sandan.bundle_json(c.key)["state"] == "released"
    bill = f"B{next(_numbers)}"
    tied = post(
        sandan,
        master_bill_message(
            [c, other], {c.key: invt_no, other.key: other_invt_no}, AGENT, bill_no=bill
        ),
        "agent",
    )
    assert tied["status"] == "accepted", tied
    assert sandan.bundle_json(c.key)["billNo"] == bill
    # the whole bill arrives (运抵单 without lines)
    arrived = post(sandan, arrival_message([c], SITE, bill_no=bill, whole_bill=True), "warehouse")
    assert arrived["status"] == "accepted", arrived
    assert sandan.bundle_json(other.key)["arrivedAt"]
    # only c departs: the bill names other too, but its line is what closes a list
    left = post(sandan, departure_message([c], bill_no=bill), "logistics")
    assert (left["status"], left["returnStatus"]) == ("accepted", "120"), left
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "closed" and bundle["departedAt"] and bundle["arrivedAt"]
    assert [e["decision"] for e in bundle["decisions"]] == ["release", "close"]
    assert {h["event"] for h in bundle["history"]} >= {"movement", "decision"}
    assert sandan.bundle_json(other.key)["state"] == "released"
    assert [e["decision"] for e in sandan.entries_for(c.key)] == ["release", "close"]
    # the review UI: the bundle page shows the bill and both times, the history the events;
    # the queue filters the closed ones
    with session_with(sandan, sandan.keys["operator"]) as (client, _):
        page = client.get(f"/review/bundles/{c.key[0]}/{c.key[1]}", params={"lang": "en"}).text
        assert f'id="bill-no">{bill}<' in page and 'id="arrived-at"' in page
        assert 'id="departed-at"' in page and "Departed (departure report)" in page
        closed = client.get("/review", params={"state": "closed", "lang": "en"}).text
        assert c.key[1] in closed and other.key[1] not in closed
    # the agent's feed: 120, 800 放行, then 899 结关 for the list
    mine = [(r["messageType"], r["returnStatus"]) for r in all_receipts(sandan, "agent")]
    assert ("CEB604Message", "899") in mine
    statuses = [r["returnStatus"] for r in all_receipts(sandan, "agent") if r["invtNo"] == invt_no]
    assert statuses == ["120", "800", "899"]
    # after departure: no cancel; a return is what comes after it
    cancel = post(sandan, serialize(cancel_for(c, invt_no=invt_no, signed=True)))
    assert codes(cancel) == ["CANCEL_TOO_LATE"]
    back = post(sandan, serialize(refund_for(c, invt_no=invt_no, signed=True)))
    assert back["status"] == "accepted", back
    assert sandan.bundle_json(c.key)["state"] == "returned"
    # departing again changes nothing
    again = post(sandan, departure_message([c]), "logistics")
    assert again["status"] == "accepted"
    assert [e["decision"] for e in sandan.entries_for(c.key)] == ["release", "close", "return"]


def test_arrival_before_and_after_the_documents_count_alike(sandan: Deployment) -> None:
    early, late = export(), export()
    send(sandan, early, (Kind.LOGISTICS,))
    answer = post(sandan, arrival_message([early], SITE, bill_no="B1"), "warehouse")
    assert answer["status"] == "accepted", answer
    send(sandan, early, (Kind.ORDER, Kind.PAYMENT, Kind.INVENTORY))
    send(sandan, late)
    answer = post(sandan, arrival_message([late], SITE, bill_no="B1"), "warehouse")
    assert answer["status"] == "accepted", answer
    for c in (early, late):
        bundle = sandan.bundle_json(c.key)
        assert bundle["state"] == "released" and bundle["arrivedAt"], bundle


def test_import_arrival_and_the_codes(sandan: Deployment) -> None:
    c = fresh()
    send(sandan, c, (Kind.ORDER, Kind.INVENTORY))  # not complete: the arrival still counts
    answer = post(sandan, arrival_message([c], SITE, bill_no="B2"), "warehouse")
    assert answer["status"] == "accepted", answer
    assert sandan.bundle_json(c.key)["arrivedAt"]
    unknown = export()
    answer = post(sandan, arrival_message([unknown], SITE, bill_no="B2"), "warehouse")
    assert codes(answer) == ["LIFECYCLE_UNKNOWN"]
    answer = post(sandan, departure_message([unknown]), "logistics")
    assert codes(answer) == ["LIFECYCLE_UNKNOWN"]
    # an arrival is the site's: a platform key may not send one, nor a departure
    response = sandan.post(arrival_message([c], SITE, bill_no="B2"), "platform")
    assert response.status_code == 403, response.text
    assert sandan.post(departure_message([unknown]), "agent").status_code == 403
    # a site key acts for its own operatorCode only
    other_site = ("9999990004", "别的监管场所")
    answer = post(sandan, arrival_message([c], other_site, bill_no="B2"), "warehouse")
    assert codes(answer) == ["SENDER_MISMATCH"]


def test_departure_of_a_list_not_released_is_recorded_not_closed(sandan: Deployment) -> None:
    c = export()
    send(sandan, c, (Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY))  # no receipt: pending
    answer = post(sandan, departure_message([c]), "logistics")
    assert answer["status"] == "accepted", answer
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "pending" and bundle["departedAt"]
    assert "close" not in [e["decision"] for e in bundle["decisions"]]


def test_a_cancelled_consignment_refuses_movement(sandan: Deployment) -> None:
    c = export()
    invt_no = send(sandan, c)
    assert post(sandan, serialize(cancel_for(c, invt_no=invt_no, signed=True)))["status"] == (
        "accepted"
    )
    for body, role in (
        (arrival_message([c], SITE, bill_no="B3"), "warehouse"),
        (departure_message([c]), "logistics"),
        (master_bill_message([c], {c.key: invt_no}, AGENT, bill_no="B3"), "agent"),
    ):
        assert codes(post(sandan, body, role)) == ["BUNDLE_CANCELLED"]


def test_master_bill_key_mismatch(sandan: Deployment) -> None:
    c, other = export(), export()
    invt_no = send(sandan, c)
    send(sandan, other)
    # other's waybill under c's invtNo
    answer = post(sandan, master_bill_message([other], {other.key: invt_no}, AGENT, bill_no="B4"))
    assert codes(answer) == ["LIFECYCLE_KEY_MISMATCH"]
    assert sandan.bundle_json(c.key)["billNo"] is None


def test_arrivals_racing_the_documents_end_the_same(sandan: Deployment) -> None:
    """The waybill first, then its arrival and the other documents at once (on PostgreSQL
    to several processes): whichever commits first, the consignment ends arrived."""
    c = export()
    send(sandan, c, (Kind.LOGISTICS,))
    bodies = [(c.message(k), SENDER_OF[k]) for k in (Kind.ORDER, Kind.PAYMENT, Kind.INVENTORY)]
    bodies.append((arrival_message([c], SITE, bill_no="B5"), "warehouse"))
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        answers = list(pool.map(lambda pair: post(sandan, *pair), bodies))
    assert all(a["status"] == "accepted" for a in answers), answers
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "released" and bundle["arrivedAt"]


# --- a regime that waits for the arrival ------------------------------------------------


@pytest.fixture(scope="module")
def waiting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    sets = {k: list(v) for k, v in DEFAULT_REQUIRED_SETS.items()}
    sets["E9610"] = [*sets["E9610"], "arrival"]
    with deploy(
        tmp_path_factory.mktemp("waiting"),
        SANDAN_REQUIRED_SETS=json.dumps(sets),
        SANDAN_BUNDLE_DEADLINE_SECONDS="4",
    ) as d:
        yield d


def test_the_release_waits_for_a_required_arrival(waiting: Deployment) -> None:
    c = export()
    send(waiting, c)
    bundle = waiting.bundle_json(c.key)
    assert bundle["state"] == "pending" and bundle["missing"] == ["arrival"]
    answer = post(waiting, arrival_message([c], SITE, bill_no="B6"), "warehouse")
    assert answer["status"] == "accepted", answer
    assert waiting.bundle_json(c.key)["state"] == "released"


def test_no_arrival_by_the_deadline_is_missing_arrival(waiting: Deployment) -> None:
    c = export()
    send(waiting, c)
    deadline = time.monotonic() + 30
    while waiting.bundle_json(c.key)["state"] == "pending" and time.monotonic() < deadline:
        time.sleep(0.3)
    bundle = waiting.bundle_json(c.key)
    assert bundle["state"] == "exception"
    assert [f["code"] for f in bundle["findings"]] == ["MISSING_ARRIVAL"]


# --- the official samples ------------------------------------------------------------------

MOVEMENT_SAMPLES = (
    ("import", "CEB711", "warehouse"),
    ("export", "CEB507", "warehouse"),
    ("export", "CEB607", "agent"),
    ("export", "CEB509", "logistics"),
)


@pytest.fixture(scope="module")
def reference_dir() -> Path:
    configured = Settings().reference_dir
    path = (configured if configured.is_absolute() else REPO_ROOT / configured).resolve()
    if not (path / "samples" / "import" / "CEB711Message.xml").is_file():
        pytest.skip(f"official GACC reference folder not found at {path}; set SANDAN_REFERENCE_DIR")
    return path


def _codes(root: etree._Element) -> list[str]:
    names = ("operatorCode", "agentCode", "logisticsCode", "copCode")
    return sorted({t.text.strip() for n in names for t in root.iter(f"{{*}}{n}") if t.text})


@pytest.fixture(scope="module")
def official(reference_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    found = sorted(
        {c for side, stem, _ in MOVEMENT_SAMPLES for c in _codes(sample(reference_dir, side, stem))}
    )
    keys: KeySpec = {
        "warehouse": (found, ["warehouse"]),
        "agent": (found, ["agent"]),
        "logistics": (found, ["logistics"]),
        "operator": (["2924"], ["operator"]),
    }
    with deploy(tmp_path_factory.mktemp("official-movement"), keys) as d:
        yield d


@pytest.mark.reference
@pytest.mark.parametrize(("side", "stem", "role"), MOVEMENT_SAMPLES)
def test_the_official_samples_are_judged_by_the_movement_rules(
    official: Deployment, reference_dir: Path, side: str, stem: str, role: str
) -> None:
    """As published they name waybills and invtNos no consignment has: every document is
    refused with LIFECYCLE_UNKNOWN and its receipt; the XML answer is their receipt."""
    root = sample(reference_dir, side, stem)
    if stem in BROKEN_SAMPLES:
        root = repaired(root)
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    response = official.post(body, role)
    assert response.status_code == 200, response.text
    documents = response.json()["documents"]
    assert documents
    for document in documents:
        assert document["status"] == "rejected", document
        assert codes(document) == ["LIFECYCLE_UNKNOWN"], document
    receipt = official.post(body, role, accept="application/xml")
    names = {etree.QName(e).localname for e in etree.fromstring(receipt.content)}
    assert names & {"DeliveryReturn", "ArrivalReturn", "WayBillReturn", "DepartureReturn"}
