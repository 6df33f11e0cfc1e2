"""The consignment after its decision over HTTP (SPEC §10), on a real server (on PostgreSQL a
worker per core): release → cancel → receipts, returns, the codes, and the official samples of
the lifecycle types through the whole pipeline."""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from service.config import Settings
from service.demo.consignments import Consignment
from service.demo.exports import clean_export
from service.messages.registry import BUNDLE_KINDS, Kind
from tests.e2e.conftest import SENDER_OF, Deployment, KeySpec, deploy, fresh
from tests.e2e.support import revised
from tests.e2e.test_receipts import receipts
from tests.messages.builders import cancel_for, refund_for, serialize
from tests.messages.samples import BROKEN_SAMPLES, repaired, sample

REPO_ROOT = Path(__file__).resolve().parents[2]
AGENT = SENDER_OF[Kind.INVENTORY]
LIFECYCLE_CODES = {
    "LIFECYCLE_UNKNOWN",
    "LIFECYCLE_KEY_MISMATCH",
    "CANCEL_TOO_LATE",
    "BUNDLE_CANCELLED",
    "RETURN_NOT_RELEASED",
    "RETURN_TOO_LATE",
    "RETURN_EXCEEDS",
}


def post(d: Deployment, body: bytes, role: str = AGENT) -> dict[str, Any]:
    response = d.post(body, role)
    assert response.status_code == 200, response.text
    (document,) = response.json()["documents"]
    return dict(document)


def released(d: Deployment, c: Consignment) -> str:
    """Send the consignment's four documents; the invtNo its inventory was given."""
    invt_no = ""
    for kind in BUNDLE_KINDS:
        answer = post(d, c.message(kind), SENDER_OF[kind])
        assert answer["status"] == "accepted", answer
        invt_no = answer["key"].get("invtNo", invt_no)
    assert d.bundle_json(c.key)["state"] == "released"
    return invt_no


def test_release_cancel_and_the_receipts_that_tell_it(sandan: Deployment) -> None:
    c = fresh()
    invt_no = released(sandan, c)
    answer = post(sandan, serialize(cancel_for(c, invt_no=invt_no, signed=True)))
    assert (answer["status"], answer["returnStatus"]) == ("accepted", "120")
    assert answer["key"]["invtNo"] == invt_no

    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "cancelled" and bundle["cancelledAt"]
    assert [e["decision"] for e in bundle["decisions"]] == ["release", "cancel"]
    assert any(h["event"] == "lifecycle" for h in bundle["history"])
    entries = sandan.entries_for(c.key)
    assert [(e["decision"], e["invtNo"]) for e in entries] == [
        ("release", invt_no),
        ("cancel", invt_no),
    ]
    # the agent's feed: the inventory's 120, its 800 放行, then the cancel's 120 and 399 审结
    mine = [
        (r["messageType"], r["returnStatus"])
        for r in _all_receipts(sandan, AGENT)
        if r["invtNo"] == invt_no
    ]
    assert mine == [
        ("CEB622Message", "120"),
        ("CEB622Message", "800"),
        ("CEB624Message", "120"),
        ("CEB624Message", "399"),
    ]
    # nothing more for a cancelled consignment
    changed = revised(c, Kind.ORDER, app_time="20261111000900").message(Kind.ORDER)
    late = post(sandan, changed, SENDER_OF[Kind.ORDER])
    assert [e["code"] for e in late["errors"]] == ["BUNDLE_CANCELLED"]
    again = post(sandan, serialize(refund_for(c, invt_no=invt_no, signed=True)))
    assert [e["code"] for e in again["errors"]] == ["BUNDLE_CANCELLED"]


def _all_receipts(d: Deployment, role: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    while page := receipts(d, role, after=after, limit=1000)["receipts"]:
        out += page
        after = page[-1]["seq"]
    return out


def test_returns_over_http(sandan: Deployment) -> None:
    c = fresh()
    invt_no = released(sandan, c)
    first = c.inventory_lines[0]
    part = {int(first["gnum"]): first["qty"]}
    answer = post(sandan, serialize(refund_for(c, part, invt_no=invt_no, signed=True)))
    assert answer["status"] == "accepted", answer
    bundle = sandan.bundle_json(c.key)
    (returned,) = bundle["returns"]
    assert returned["invtNo"] == invt_no and returned["lines"][0]["gnum"] == int(first["gnum"])
    too_much = post(sandan, serialize(refund_for(c, part, invt_no=invt_no, signed=True)))
    assert [e["code"] for e in too_much["errors"]] == ["RETURN_EXCEEDS"]
    assert sandan.bundle_json(c.key)["version"] == bundle["version"]
    assert [e["decision"] for e in sandan.entries_for(c.key)][-1] == "return"


def test_export_cancel_over_http(sandan: Deployment) -> None:
    c = clean_export(random.Random(4242), 424_242, regime="9610")
    invt_no = released(sandan, c)
    assert invt_no[8] == "E"
    answer = post(sandan, serialize(cancel_for(c, invt_no=invt_no, signed=True)))
    assert answer["status"] == "accepted", answer
    assert sandan.bundle_json(c.key)["state"] == "cancelled"


def test_concurrent_cancels_and_returns_of_one_consignment_apply_once(
    sandan: Deployment,
) -> None:
    """Sent at once (on PostgreSQL to several processes): the consignment is locked, one
    cancel wins, the others see it cancelled; a return races them and ends either applied
    before the cancel or refused after it."""
    c = fresh()
    invt_no = released(sandan, c)
    bodies = [serialize(cancel_for(c, invt_no=invt_no, signed=True)) for _ in range(4)]
    bodies.append(serialize(refund_for(c, invt_no=invt_no, signed=True)))
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        answers = list(pool.map(lambda body: post(sandan, body), bodies))
    cancels, (ret,) = answers[:4], answers[4:]
    decisions = [e["decision"] for e in sandan.entries_for(c.key)]
    if ret["status"] == "accepted":  # the return came first: in full, the bundle is returned
        assert all(a["errors"][0]["code"] == "CANCEL_TOO_LATE" for a in cancels), cancels
        assert decisions == ["release", "return"]
        assert sandan.bundle_json(c.key)["state"] == "returned"
    else:
        assert [e["code"] for e in ret["errors"]] == ["BUNDLE_CANCELLED"]
        assert sorted(a["status"] for a in cancels) == ["accepted"] + ["rejected"] * 3
        assert decisions == ["release", "cancel"]
        assert sandan.bundle_json(c.key)["state"] == "cancelled"


# --- the official samples ------------------------------------------------------------------

LIFECYCLE_SAMPLES = (
    ("import", "CEB623"),
    ("import", "CEB625"),
    ("export", "CEB605"),
    ("export", "CEB213"),
)


@pytest.fixture(scope="module")
def reference_dir() -> Path:
    configured = Settings().reference_dir
    path = (configured if configured.is_absolute() else REPO_ROOT / configured).resolve()
    if not (path / "samples" / "import" / "CEB623Message.xml").is_file():
        pytest.skip(f"official GACC reference folder not found at {path}; set SANDAN_REFERENCE_DIR")
    return path


def _codes(root: etree._Element) -> list[str]:
    names = ("agentCode", "ebcCode", "ebpCode", "copCode")
    return sorted({t.text.strip() for n in names for t in root.iter(f"{{*}}{n}") if t.text})


@pytest.fixture(scope="module")
def official(reference_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    codes = sorted(
        {c for side, stem in LIFECYCLE_SAMPLES for c in _codes(sample(reference_dir, side, stem))}
    )
    keys: KeySpec = {"agent": (codes, ["agent", "platform"]), "operator": (["2924"], ["operator"])}
    with deploy(tmp_path_factory.mktemp("official-lifecycle"), keys) as d:
        yield d


@pytest.mark.reference
@pytest.mark.parametrize(("side", "stem"), LIFECYCLE_SAMPLES)
def test_the_official_samples_are_judged_by_the_lifecycle_rules(
    official: Deployment, reference_dir: Path, side: str, stem: str
) -> None:
    """As published they name invtNos no consignment has: every document is refused with
    LIFECYCLE_UNKNOWN and its receipt, nothing stored; the XML answer is their receipt."""
    root = sample(reference_dir, side, stem)
    if stem in BROKEN_SAMPLES:
        root = repaired(root)
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    response = official.post(body, "agent")
    assert response.status_code == 200, response.text
    documents = response.json()["documents"]
    assert documents
    for document in documents:
        assert document["status"] == "rejected", document
        assert [e["code"] for e in document["errors"]] == ["LIFECYCLE_UNKNOWN"], document
        assert "invtNo" in document["key"]
    receipt = official.post(body, "agent", accept="application/xml")
    names = {etree.QName(e).localname for e in etree.fromstring(receipt.content)}
    assert names & {"InvtCancelReturn", "InvtRefundReturn", "RefundReturn"}, names
