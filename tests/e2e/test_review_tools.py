"""The review API's tools of issue 15 over HTTP: the queue as CSV under its filters, the prefix
search (wildcards taken literally), bulk release and reject (each bundle audited as a single
action, one's refusal not stopping the others), and the dashboard counting what the queue
counts under the same days."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest

from service.clock import beijing_today, utcnow
from service.demo.consignments import Consignment
from service.demo.mistakes import with_mistake
from service.engine.review_export import COLUMNS, queue_csv
from service.engine.review_view import parse_filter
from service.messages.registry import Kind
from service.store.database import Database
from tests.e2e.conftest import Deployment, fresh
from tests.e2e.support import mistaken, unchanged, wait_until


def settled(d: Deployment, c: Consignment, state: str) -> dict[str, Any]:
    return wait_until(lambda: d.bundle_json(c.key), lambda b: b["state"] == state)


def exception(d: Deployment, code: str = "PAYMENT_AMOUNT") -> Consignment:
    c = mistaken(fresh(), code)
    d.send_all(c)
    settled(d, c, "exception")
    return c


def queue(d: Deployment, role: str = "operator", **params: Any) -> dict[str, Any]:
    response = d.client.get("/v1/review/exceptions", params=params, headers=d.headers(role))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def whole_queue(d: Deployment, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = queue(d, size=100, page=page, **params)
        items.extend(answer["items"])
        if page >= answer["pages"]:
            return items
        page += 1


def download(d: Deployment, role: str = "operator", **params: Any) -> httpx.Response:
    return d.client.get("/v1/review/exceptions.csv", params=params, headers=d.headers(role))


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


# --- CSV ---------------------------------------------------------------------------------


def test_the_csv_holds_every_bundle_the_filters_select_in_the_queues_order(
    sandan: Deployment,
) -> None:
    mixed = with_mistake(mistaken(fresh(), "PAYMENT_AMOUNT"), "TAX_TOTAL")
    sandan.send_all(mixed)
    settled(sandan, mixed, "exception")
    for _ in range(3):
        exception(sandan)
    exception(sandan, "CONSIGNEE_MISMATCH")

    for params in (
        {"rule": "PAYMENT_AMOUNT"},
        {"rule": "PAYMENT_AMOUNT", "sort": "newest"},
        {"state": "all"},
        {"q": mixed.key[1]},
    ):
        response = download(sandan, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"].startswith("attachment; filename=")
        # UTF-8 with a byte order mark, for Excel; RFC 4180 line ends.
        assert response.content.startswith("\ufeff".encode())
        assert response.content.decode("utf-8-sig").startswith(",".join(COLUMNS) + "\r\n")
        rows = rows_of(response)
        items = whole_queue(sandan, **params)
        assert [(r["ebpCode"], r["orderNo"]) for r in rows] == [
            (i["ebpCode"], i["orderNo"]) for i in items
        ]
        for row, item in zip(rows, items, strict=True):
            assert row["state"] == item["state"] and row["version"] == str(item["version"])
            assert row["firstSeenAt"] == item["firstSeenAt"]
            assert row["invtNo"] == (item["invtNo"] or "")

    (row,) = rows_of(download(sandan, q=mixed.key[1]))
    # Errors and warnings apart; times in UTC as the API writes them and in Beijing time.
    assert row["errors"] == "PAYMENT_AMOUNT" and row["warnings"] == "TAX_TOTAL"
    assert row["regime"] == "I9610"
    assert row["firstSeenAt"].endswith("Z")
    assert row["firstSeenAtBeijing"][:10] == beijing_today(utcnow()).isoformat() or (
        # a test started just before Beijing midnight
        row["firstSeenAtBeijing"][:10] == (beijing_today(utcnow()) - timedelta(days=1)).isoformat()
    )


def test_the_csv_reads_the_queue_a_chunk_at_a_time_without_losing_a_row(
    sandan: Deployment,
) -> None:
    for _ in range(5):
        exception(sandan)
    f, _, _ = parse_filter({"state": "all"})

    async def text(chunk: int) -> str:
        db = Database(sandan.settings.database_url)
        try:
            return "".join([part async for part in queue_csv(db, f, chunk)])
        finally:
            await db.dispose()

    def without_ages(csv_text: str) -> list[list[str]]:
        age = COLUMNS.index("ageSeconds")
        return [row[:age] for row in csv.reader(io.StringIO(csv_text, newline=""))]

    whole, in_twos = asyncio.run(text(1000)), asyncio.run(text(2))
    assert len(without_ages(whole)) == 1 + len(whole_queue(sandan, state="all")) >= 7
    assert without_ages(in_twos) == without_ages(whole)


def test_the_csv_needs_an_operator_and_good_filters(sandan: Deployment) -> None:
    assert sandan.client.get("/v1/review/exceptions.csv").status_code == 401
    assert download(sandan, "platform").status_code == 403
    for bad in (
        {"state": "lost"},
        {"from": "yesterday"},
        {"from": "2026-12-02", "to": "2026-12-01"},
    ):
        answer = download(sandan, **bad)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "INVALID_REQUEST"


# --- prefix search -----------------------------------------------------------------------


def test_the_search_takes_the_start_of_an_order_waybill_or_invt_number(
    sandan: Deployment,
) -> None:
    target = exception(sandan, "CONSIGNEE_MISMATCH")
    bundle = sandan.bundle_json(target.key)
    waybill = target.logistics["logisticsNo"]
    invt_no = bundle["invtNo"]
    assert invt_no
    for prefix in (target.key[1], target.key[1][:-1], waybill[:-2], invt_no[:-3], invt_no):
        found = queue(sandan, q=prefix, state="all", size=100)
        keys = [(i["ebpCode"], i["orderNo"]) for i in found["items"]]
        assert target.key in keys, prefix
        assert all(
            any(
                (value or "").startswith(prefix)
                for value in (i["orderNo"], i["logisticsNo"], i["invtNo"])
            )
            for i in found["items"]
        )
    # Only a start: the middle of a number finds nothing, and the case counts.
    assert queue(sandan, q=target.key[1][3:], state="all")["total"] == 0
    assert queue(sandan, q=target.key[1].lower(), state="all")["total"] == 0
    # LIKE's wildcards are characters like any other.
    order_no = target.key[1]
    for q in (order_no[:2] + "_" + order_no[3:], order_no[:4] + "%", "%", "_", "\\"):
        assert queue(sandan, q=q, state="all")["total"] == 0, q


# --- bulk --------------------------------------------------------------------------------


def bulk(d: Deployment, body: dict[str, Any], role: str = "operator") -> httpx.Response:
    return d.client.post("/v1/review/bulk", json=body, headers=d.headers(role))


def target(d: Deployment, c: Consignment, version_offset: int = 0) -> dict[str, Any]:
    version = d.bundle_json(c.key)["version"] + version_offset
    return {"ebpCode": c.key[0], "orderNo": c.key[1], "version": version}


def audit_of(d: Deployment, c: Consignment) -> list[dict[str, Any]]:
    response = d.client.get("/v1/review/actions", headers=d.headers("operator"))
    actions: list[dict[str, Any]] = response.json()["actions"]
    return [a for a in actions if (a["ebpCode"], a["orderNo"]) == c.key]


def test_bulk_release_audits_each_bundle_and_a_refusal_stops_no_other(
    sandan: Deployment,
) -> None:
    first, stale, second = (exception(sandan) for _ in range(3))
    released = fresh()
    sandan.send_all(released)
    settled(sandan, released, "released")
    body = {
        "action": "release",
        "reason": "支付企业已核实，差额为手续费",
        "bundles": [
            target(sandan, first),
            target(sandan, stale, -1),
            target(sandan, released),
            target(sandan, second),
        ],
    }
    before = [sandan.bundle_json(c.key) for c in (stale, released)]
    answer = bulk(sandan, body)
    assert answer.status_code == 200, answer.text
    # the refused ones are as they were (the others' entries are the manifest's news)
    assert [sandan.bundle_json(c.key) for c in (stale, released)] == before
    done = answer.json()
    assert (done["action"], done["done"], done["refused"]) == ("release", 2, 2)
    outcomes = [(r["orderNo"], r["outcome"], r.get("code")) for r in done["results"]]
    assert outcomes == [
        (first.key[1], "done", None),
        (stale.key[1], "refused", "VERSION_CONFLICT"),
        (released.key[1], "refused", "ACTION_NOT_ALLOWED"),
        (second.key[1], "done", None),
    ]
    for c, result in ((first, done["results"][0]), (second, done["results"][3])):
        assert sandan.bundle_json(c.key)["state"] == "released"
        entry = sandan.entries_for(c.key)[-1]
        assert (entry["decision"], entry["by"], entry["seq"]) == (
            "release",
            "operator",
            result["seq"],
        )
        (record,) = audit_of(sandan, c)
        assert record["action"] == "release" and record["reason"] == body["reason"]
        assert record["seq"] == result["seq"] and record["id"] == result["auditId"]
    assert audit_of(sandan, stale) == [] and audit_of(sandan, released) == []

    # Reject applies to a released bundle too, with the same one-by-one record.
    rejected = bulk(
        sandan,
        {"action": "reject", "reason": "抽查不符", "bundles": [target(sandan, released)]},
    ).json()
    assert rejected["results"][0]["outcome"] == "done"
    assert sandan.bundle_json(released.key)["state"] == "rejected"
    assert [a["action"] for a in audit_of(sandan, released)] == ["reject"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"reason": None}, "reason"),
        ({"action": "reopen"}, "action"),
        ({"action": "approve"}, "action"),
        ({"bundles": []}, "bundles"),
        ({"bundles": "many"}, None),
    ],
)
def test_a_bad_bulk_request_changes_nothing(
    sandan: Deployment, change: dict[str, Any], field: str | None
) -> None:
    c = exception(sandan)
    body = {"action": "release", "reason": "ok", "bundles": [target(sandan, c)], **change}
    with unchanged(sandan, c.key):
        answer = bulk(sandan, body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "INVALID_REQUEST"
        if field:
            assert answer.json()["field"] == field
    assert audit_of(sandan, c) == []


def test_bulk_takes_at_most_a_page_and_needs_an_operator(sandan: Deployment) -> None:
    c = exception(sandan)
    one = target(sandan, c)
    with unchanged(sandan, c.key):
        too_many = bulk(sandan, {"action": "reject", "reason": "x", "bundles": [one] * 101})
        assert too_many.status_code == 422 and too_many.json()["field"] == "bundles"
        body = {"action": "reject", "reason": "x", "bundles": [one]}
        assert bulk(sandan, body, "platform").status_code == 403
        assert sandan.client.post("/v1/review/bulk", json=body).status_code == 401


# --- the dashboard counts what the queue counts ------------------------------------------


def dashboard(d: Deployment, **params: Any) -> dict[str, Any]:
    response = d.client.get("/v1/review/dashboard", params=params, headers=d.headers("operator"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_dashboard_counts_what_the_queue_counts_under_the_same_days(
    sandan: Deployment,
) -> None:
    with_warning = with_mistake(mistaken(fresh(), "CONSIGNEE_MISMATCH"), "TAX_TOTAL")
    sandan.send_all(with_warning)
    settled(sandan, with_warning, "exception")
    exception(sandan, "PAYMENT_AMOUNT")
    warned_only = with_mistake(fresh(), "TAX_TOTAL")  # a warning alone releases
    sandan.send_all(warned_only)
    settled(sandan, warned_only, "released")
    pending = fresh()
    sandan.send_all(pending, [Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY])
    settled(sandan, pending, "pending")

    today = beijing_today(utcnow())
    for days in ({}, {"from": today.isoformat(), "to": today.isoformat()}, {"to": "2020-01-01"}):
        figures = dashboard(sandan, **days)
        assert (figures["from"], figures["to"]) == (days.get("from"), days.get("to"))
        counts = queue(sandan, **days)  # the queue's default: bundles in exception
        assert {r["code"]: r["bundles"] for r in figures["topRules"]} == dict(
            list(counts["counts"].items())[:10]
        )
        for r in figures["topRules"]:
            assert {"error": r["errors"], "warning": r["warnings"]} == counts["countsBySeverity"][
                r["code"]
            ]
            # picking the rule in the queue finds as many bundles as the chart shows
            assert queue(sandan, rule=r["code"], **days)["total"] == r["bundles"]
        for s in figures["bundlesByState"]:
            assert queue(sandan, state=s["state"], **days)["total"] == s["bundles"]
        pending_total = sum(b["bundles"] for b in figures["pendingByAge"])
        assert pending_total == queue(sandan, state="pending", **days)["total"]
        if not days or "from" in days:
            rules = {r["code"]: r for r in figures["topRules"]}
            assert rules["TAX_TOTAL"]["warnings"] >= 1 and rules["TAX_TOTAL"]["errors"] == 0
            assert rules["CONSIGNEE_MISMATCH"]["errors"] >= 1
            assert sum(m.get("exception", 0) for m in figures["decisionMix"]) >= 2
        else:
            assert figures["topRules"] == [] and figures["decisionMix"] == []
            assert all(s["bundles"] == 0 for s in figures["bundlesByState"])

    bad = sandan.client.get(
        "/v1/review/dashboard", params={"from": "2026-13-01"}, headers=sandan.headers("operator")
    )
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_REQUEST"
