"""The export summary (汇总申报, SPEC §10) over HTTP, on a real server (on PostgreSQL a worker
per core): released 9610 export lists → proposal → CEB701 → the summary as JSON and CEB792,
on the bundle and in the receipts feed; the summary codes; two summaries of one list at
once; the official CEB701 sample through the pipeline."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from service.config import Settings
from service.demo.consignments import DEMO_PARTIES, Consignment, Enterprise
from service.demo.exports import clean_export
from service.demo.summary import summary_fields, summary_message
from service.messages.receipts import CUSTOMS_TZ
from service.messages.registry import Kind
from tests.databases import fresh_database, on_postgres
from tests.e2e.conftest import (
    KEYS,
    Deployment,
    KeySpec,
    deploy,
    fresh,
    make_keys,
    server_environment,
)
from tests.e2e.server import ServerProcess
from tests.e2e.test_lifecycle import released
from tests.e2e.test_receipts import receipts
from tests.messages.builders import cancel_for, serialize
from tests.messages.samples import sample

REPO_ROOT = Path(__file__).resolve().parents[2]
P = DEMO_PARTIES
# one ebc per test, so that the proposals of a period are each test's own
EBCS = [f"33019700{n:02d}" for n in range(1, 13)]
_ebcs = iter(EBCS)
_numbers = itertools.count(7_000_001)

SUMMARY_KEYS: KeySpec = {
    **KEYS,
    "platform": ([P.platform.code, P.ebc.code, *EBCS], ["platform"]),
}


@pytest.fixture(scope="module")
def sandan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(tmp_path_factory.mktemp("summary"), SUMMARY_KEYS) as deployment:
        yield deployment


def _export(ebc: str, regime: str = "9610") -> Consignment:
    number = next(_numbers)
    parties = replace(P, ebc=Enterprise(ebc, f"出口电商{ebc[-2:]}"))
    return clean_export(random.Random(number), number, regime=regime, parties=parties)


def _post(d: Deployment, body: bytes, role: str) -> dict[str, Any]:
    response = d.post(body, role)
    assert response.status_code == 200, response.text
    (document,) = response.json()["documents"]
    return dict(document)


def _apply(
    d: Deployment, ebc: str, invt_nos: list[str], role: str = "platform", **head: Any
) -> dict[str, Any]:
    fields = summary_fields(ebc, f"出口电商{ebc[-2:]}", **head)
    cop_code = ebc if role == "platform" else P.agent.code
    return _post(d, summary_message(fields, invt_nos, cop_code), role)


def _today() -> str:
    return datetime.now(CUSTOMS_TZ).date().isoformat()


def _proposal(d: Deployment, ebc: str, role: str = "platform", **extra: str) -> Any:
    params = {"ebcCode": ebc, "from": _today(), "to": _today(), **extra}
    return d.client.get("/v1/summaries/proposal", params=params, headers=d.headers(role))


def _expected_lines(
    consignments: list[Consignment],
) -> dict[tuple[str, ...], tuple[Decimal, Decimal]]:
    out: dict[tuple[str, ...], tuple[Decimal, Decimal]] = {}
    for c in consignments:
        for line in c.inventory_lines:
            key = (line["gcode"], line["country"], line["currency"], line["unit"])
            qty, total = out.get(key, (Decimal(0), Decimal(0)))
            out[key] = (qty + Decimal(line["qty"]), total + Decimal(line["totalPrice"]))
    return out


def _lines_by_key(lines: list[dict[str, Any]]) -> dict[tuple[str, ...], tuple[Decimal, Decimal]]:
    return {
        (g["gcode"], g["country"], g["currency"], g["unit"]): (
            Decimal(g["qty"]),
            Decimal(g["totalPrice"]),
        )
        for g in lines
    }


def test_released_lists_are_proposed_summarised_and_read(sandan: Deployment) -> None:
    ebc = next(_ebcs)
    exports = [_export(ebc) for _ in range(3)]
    invt_nos = sorted(released(sandan, c) for c in exports)

    proposed = _proposal(sandan, ebc)
    assert proposed.status_code == 200, proposed.text
    body = proposed.json()
    assert (body["ebcCode"], body["from"], body["to"]) == (ebc, _today(), _today())
    assert body["inventories"] == invt_nos
    assert _lines_by_key(body["lines"]) == _expected_lines(exports)

    fields = summary_fields(ebc, f"出口电商{ebc[-2:]}")
    message = summary_message(fields, invt_nos, ebc)
    answer = _post(sandan, message, "platform")
    assert (answer["status"], answer["returnStatus"]) == ("accepted", "120"), answer["errors"]
    sum_no = answer["key"]["sumNo"]
    # sent again: the earlier answer, with the same sumNo, and no second summary
    replay = _post(sandan, message, "platform")
    assert (replay["status"], replay["key"]["sumNo"]) == ("duplicate", sum_no), replay
    assert len(sum_no) == 18 and sum_no[8] == "S" and sum_no.startswith("2924")

    got = sandan.client.get(f"/v1/summaries/{sum_no}", headers=sandan.headers("platform"))
    assert got.status_code == 200, got.text
    summary = got.json()
    assert set(summary) == {"sumNo", "ebcCode", "inventories", "lines"}
    assert (summary["sumNo"], summary["ebcCode"], summary["inventories"]) == (
        sum_no,
        ebc,
        invt_nos,
    )
    assert summary["lines"] == body["lines"]  # the proposal said what the summary became
    assert all(
        set(line) == {"gcode", "gname", "country", "currency", "unit", "qty", "totalPrice"}
        for line in summary["lines"]
    )
    for c in exports:
        assert sandan.bundle_json(c.key)["summary"] == sum_no
    # summarised: proposed no more, and a second summary of one of them is refused
    assert _proposal(sandan, ebc).json()["inventories"] == []
    again = _apply(sandan, ebc, invt_nos[:1])
    assert [e["code"] for e in again["errors"]] == ["SUMMARY_DUPLICATE"], again
    assert sum_no in again["errors"][0]["message"]
    # the sender's feed: the CEB702 intake receipt naming the sumNo, then 399 审结
    mine = [
        (r["messageType"], r["returnStatus"])
        for r in receipts(sandan, "platform", after=0, limit=1000)["receipts"]
        if r["messageType"] == "CEB702Message"
    ]
    assert mine[:2] == [("CEB702Message", "120"), ("CEB702Message", "399")]
    xml = sandan.client.get(
        "/v1/receipts",
        params={"after": 0, "limit": 1000},
        headers=sandan.headers("platform", Accept="application/xml"),
    )
    assert f"<ceb:sumNo>{sum_no}</ceb:sumNo>".encode() in xml.content


def test_the_summary_is_read_by_its_parties_and_operators_only(sandan: Deployment) -> None:
    ebc = next(_ebcs)
    c = _export(ebc)
    invt_no = released(sandan, c)
    # the agent that declared the list sends the summary for the ebc
    answer = _apply(sandan, ebc, [invt_no], role="agent", agent_code=P.agent.code)
    assert answer["status"] == "accepted", answer["errors"]
    sum_no = answer["key"]["sumNo"]
    for role, status in (("agent", 200), ("platform", 200), ("operator", 200)):
        got = sandan.client.get(f"/v1/summaries/{sum_no}", headers=sandan.headers(role))
        assert got.status_code == status, (role, got.text)
    for role in ("other_platform", "warehouse"):
        got = sandan.client.get(f"/v1/summaries/{sum_no}", headers=sandan.headers(role))
        assert got.status_code == 404, (role, got.text)
    absent = sandan.client.get(
        "/v1/summaries/29242026S999999999", headers=sandan.headers("operator")
    )
    assert absent.status_code == 404


def test_the_summary_codes(sandan: Deployment) -> None:
    ebc = next(_ebcs)
    good = released(sandan, _export(ebc))
    # an import list (same ebc code in the demo's import parties is not this one's: use the
    # demo ebc for both)
    imported = released(sandan, fresh())
    export_of_demo_ebc = released(sandan, _export(P.ebc.code))
    pending = _export(ebc)
    pending_no = _post(sandan, pending.message(Kind.INVENTORY), "agent")["key"]["invtNo"]
    cancelled_c = _export(ebc)
    cancelled = released(sandan, cancelled_c)
    cancel = _post(
        sandan, serialize(cancel_for(cancelled_c, invt_no=cancelled, signed=True)), "agent"
    )
    assert cancel["status"] == "accepted", cancel

    def codes(ebc_code: str, listed: list[str], role: str = "platform") -> list[str]:
        return [e["code"] for e in _apply(sandan, ebc_code, listed, role)["errors"]]

    assert codes(ebc, [good, "29242026E000999999"]) == ["LIFECYCLE_UNKNOWN"]
    # BUNDLE_CANCELLED before every other code (the pending one is not released either)
    assert codes(ebc, [pending_no, cancelled]) == ["BUNDLE_CANCELLED"]
    assert codes(ebc, [good, pending_no]) == ["SUMMARY_NOT_RELEASED"]
    assert codes(ebc, [good, export_of_demo_ebc]) == ["SUMMARY_PARTY"]
    assert codes(P.ebc.code, [imported]) == ["SUMMARY_PARTY"]
    assert codes(ebc, [good, good]) == ["SUMMARY_DUPLICATE"]
    # nothing of the refused ones stuck: the good list is still to be summarised
    assert _proposal(sandan, ebc).json()["inventories"] == [good]
    assert sandan.bundle_json(_bundle_key(sandan, good, ebc))["summary"] is None


def _bundle_key(d: Deployment, invt_no: str, ebc: str) -> tuple[str, str]:
    # the proposal names inventories only; the demo's export orders are keyed by ebpCode
    for entry in d.manifest(after=0, limit=5000)["entries"]:
        if entry["invtNo"] == invt_no:
            return entry["ebpCode"], entry["orderNo"]
    raise AssertionError(f"no manifest entry for {invt_no}")


def test_a_period_replaces_the_lines(sandan: Deployment) -> None:
    ebc = next(_ebcs)
    exports = [_export(ebc) for _ in range(2)]
    invt_nos = sorted(released(sandan, c) for c in exports)
    now = datetime.now(CUSTOMS_TZ)
    start = (now - timedelta(hours=1)).strftime("%Y%m%d%H%M%S")
    end = (now + timedelta(hours=1)).strftime("%Y%m%d%H%M%S")
    # the line names an unknown list: ignored, as the official schema says
    answer = _apply(sandan, ebc, ["29242026E000999998"], start=start, end=end, by_owner=True)
    assert answer["status"] == "accepted", answer["errors"]
    summary = sandan.client.get(
        f"/v1/summaries/{answer['key']['sumNo']}", headers=sandan.headers("operator")
    ).json()
    assert summary["inventories"] == invt_nos
    assert _lines_by_key(summary["lines"]) == _expected_lines(exports)
    # nothing left in the period
    empty = _apply(sandan, ebc, ["29242026E000999998"], start=start, end=end)
    assert [e["code"] for e in empty["errors"]] == ["SUMMARY_NOT_RELEASED"]
    backwards = _apply(sandan, ebc, [invt_nos[0]], start=end, end=start)
    assert [e["code"] for e in backwards["errors"]] == ["SCHEMA_INVALID"]


def test_bad_proposal_dates_are_refused_with_a_code(sandan: Deployment) -> None:
    for params in (
        {"ebcCode": EBCS[0], "from": "2026-13-01", "to": "2026-12-31"},
        {"ebcCode": EBCS[0], "from": "20261201", "to": "2026-12-31"},
        {"ebcCode": EBCS[0], "from": "2026-12-31", "to": "2026-12-01"},
        {"ebcCode": EBCS[0], "to": "2026-12-01"},
    ):
        got = sandan.client.get(
            "/v1/summaries/proposal", params=params, headers=sandan.headers("platform")
        )
        assert got.status_code == 422, got.text
        assert got.json()["code"] == "INVALID_REQUEST", got.text


def test_two_summaries_of_one_list_at_once_accept_one(sandan: Deployment) -> None:
    """Sent at once (on PostgreSQL to two processes): one summary holds the lists, the
    other is refused SUMMARY_DUPLICATE and leaves nothing behind."""
    ebc = next(_ebcs)
    invt_nos = sorted(released(sandan, _export(ebc)) for _ in range(2))
    bodies = [summary_message(summary_fields(ebc, "出口电商"), invt_nos, ebc) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        answers = list(pool.map(lambda body: _post(sandan, body, "platform"), bodies))
    accepted = [a for a in answers if a["status"] == "accepted"]
    assert len(accepted) == 1, answers
    refused = [e["code"] for a in answers if a["status"] != "accepted" for e in a["errors"]]
    assert refused == ["SUMMARY_DUPLICATE"] * 3
    sum_no = accepted[0]["key"]["sumNo"]
    summary = sandan.client.get(f"/v1/summaries/{sum_no}", headers=sandan.headers("operator"))
    assert summary.json()["inventories"] == invt_nos


@pytest.mark.skipif(not on_postgres(), reason="two server processes need PostgreSQL")
def test_two_processes_summarising_one_list_accept_one(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Two single-worker servers on one PostgreSQL database, each sent a summary of the same
    lists at the same moment, round after round: one is accepted, the other refused
    SUMMARY_DUPLICATE, whichever process commits first."""
    tmp = tmp_path_factory.mktemp("two-processes")
    with fresh_database(tmp) as url:
        settings = Settings(database_url=url)
        keys = make_keys(settings, SUMMARY_KEYS)
        env = server_environment(url, SANDAN_WORKERS="1")
        servers = [ServerProcess(env, tmp / f"server{n}.log") for n in (1, 2)]
        for server in servers:
            server.start(timeout=120)
        first, second = (Deployment(server, keys, settings) for server in servers)
        try:
            ebc = next(_ebcs)
            for _ in range(4):
                invt_nos = sorted(released(first, _export(ebc)) for _ in range(2))
                bodies = [
                    (d, summary_message(summary_fields(ebc, "出口电商"), invt_nos, ebc))
                    for d in (first, second)
                ]
                with ThreadPoolExecutor(max_workers=2) as pool:
                    answers = list(
                        pool.map(lambda pair: _post(pair[0], pair[1], "platform"), bodies)
                    )
                statuses = sorted(a["status"] for a in answers)
                assert statuses == ["accepted", "rejected"], answers
                (refused,) = [a for a in answers if a["status"] == "rejected"]
                assert [e["code"] for e in refused["errors"]] == ["SUMMARY_DUPLICATE"], refused
                (won,) = [a for a in answers if a["status"] == "accepted"]
                held = second.client.get(
                    f"/v1/summaries/{won['key']['sumNo']}", headers=second.headers("operator")
                ).json()
                assert held["inventories"] == invt_nos
        finally:
            for d in (first, second):
                d.client.close()
                d.server.stop()


# --- the official sample ------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_dir() -> Path:
    configured = Settings().reference_dir
    path = (configured if configured.is_absolute() else REPO_ROOT / configured).resolve()
    if not (path / "samples" / "export" / "CEB701Message.xml").is_file():
        pytest.skip(f"official GACC reference folder not found at {path}; set SANDAN_REFERENCE_DIR")
    return path


@pytest.mark.reference
def test_the_summary_result_is_valid_against_the_official_schema(
    sandan: Deployment, reference_dir: Path
) -> None:
    ebc = next(_ebcs)
    invt_nos = sorted(released(sandan, _export(ebc)) for _ in range(2))
    answer = _apply(sandan, ebc, invt_nos, item_name_flag=True)
    sum_no = answer["key"]["sumNo"]
    got = sandan.client.get(
        f"/v1/summaries/{sum_no}", headers=sandan.headers("platform", Accept="application/xml")
    )
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/xml")
    official = etree.XMLSchema(etree.parse(str(reference_dir / "xsd" / "export.xsd")))
    root = etree.fromstring(got.content)
    assert official.validate(root), official.error_log
    c = "{http://www.chinaport.gov.cn/ceb}"
    assert root.findtext(f"{c}SummaryResult/{c}SummaryResultHead/{c}sumNo") == sum_no
    items = root.findall(f"{c}SummaryResult/{c}SummaryResultList")
    assert sorted({i.findtext(f"{c}invtNo") for i in items}) == invt_nos
    lines = sandan.client.get(f"/v1/summaries/{sum_no}", headers=sandan.headers("platform")).json()[
        "lines"
    ]
    # each inventory line points at a group (gseqno = the line's place) of its gcode
    for item in items:
        group = lines[int(item.findtext(f"{c}gseqno") or 0) - 1]
        assert group["gcode"] == item.findtext(f"{c}gcode")


def _codes(root: etree._Element) -> list[str]:
    names = ("agentCode", "ebcCode", "copCode")
    return sorted({t.text.strip() for n in names for t in root.iter(f"{{*}}{n}") if t.text})


@pytest.mark.reference
def test_the_official_sample_is_judged_by_the_summary_rules(
    reference_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """As published it names invtNos no consignment has: its ten documents (one guid) are
    refused LIFECYCLE_UNKNOWN, each with its CEB702 receipt; nothing is stored."""
    root = sample(reference_dir, "export", "CEB701")
    keys: KeySpec = {"agent": (_codes(root), ["agent"]), "operator": (["2924"], ["operator"])}
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    with deploy(tmp_path_factory.mktemp("official-summary"), keys) as official:
        response = official.post(body, "agent")
        assert response.status_code == 200, response.text
        documents = response.json()["documents"]
        assert len(documents) == 10
        for document in documents:
            assert document["status"] == "rejected", document
            assert [e["code"] for e in document["errors"]] == ["LIFECYCLE_UNKNOWN"], document
            assert document["kind"] == "summary" and document["key"]["ebcCode"] == "1105910159"
        receipt = official.post(body, "agent", accept="application/xml")
        parsed = etree.fromstring(receipt.content)
        assert etree.QName(parsed).localname == "CEB702Message"
        schema = etree.XMLSchema(etree.parse(str(reference_dir / "xsd" / "export.xsd")))
        assert schema.validate(parsed), schema.error_log
        assert len(parsed) == 10
