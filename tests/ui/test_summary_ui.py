"""The review UI's export summaries (SPEC §10, issue 14) in a real browser: the summary on
the bundle page, the summaries page reached from the navigation with its period,
inventories, lines and totals, and its CSV download."""

from __future__ import annotations

import csv
import io
import random
from decimal import Decimal
from pathlib import Path

from service.demo.consignments import DEMO_PARTIES, Consignment
from service.demo.exports import clean_export
from service.demo.summary import summary_fields, summary_message
from tests.e2e.conftest import Deployment
from tests.ui.conftest import sign_in, sync_api
from tests.ui.test_review_ui import bundle_path, settled

Page = sync_api.Page
P = DEMO_PARTIES


def released_exports(d: Deployment, first: int, count: int) -> list[tuple[Consignment, str]]:
    out = []
    for number in range(first, first + count):
        c = clean_export(random.Random(number), number, regime="9610")
        d.send_all(c)
        out.append((c, settled(d, c, "released")["invtNo"]))
    return out


def test_a_summary_on_its_bundles_and_on_the_summaries_page_with_csv(
    review: Deployment, page: Page
) -> None:
    d = review
    held = released_exports(d, 9_100_001, 2)
    invt_nos = sorted(no for _, no in held)
    body = summary_message(summary_fields(P.ebc.code, P.ebc.name), invt_nos, P.ebc.code)
    response = d.post(body, "platform")
    (document,) = response.json()["documents"]
    assert document["status"] == "accepted", document
    sum_no = document["key"]["sumNo"]
    summary = d.client.get(f"/v1/summaries/{sum_no}", headers=d.headers("operator")).json()
    qty = sum((Decimal(line["qty"]) for line in summary["lines"]), Decimal(0))
    total = sum((Decimal(line["totalPrice"]) for line in summary["lines"]), Decimal(0))

    sign_in(page, d)
    page.goto(d.server.url + bundle_path(held[0][0]))
    assert page.locator("#summary").inner_text() == sum_no

    page.click("#nav-summaries")
    page.wait_for_url(d.server.url + "/review/summaries")
    row = page.locator(f"#summaries tr[data-sum-no='{sum_no}']")
    assert row.locator(".ebc").inner_text() == P.ebc.code
    assert row.locator(".inventories").inner_text().split() == invt_nos
    assert int(row.locator(".lines").inner_text()) == len(summary["lines"])
    assert Decimal(row.locator(".qty").inner_text()) == qty
    assert Decimal(row.locator(".total").inner_text()) == total
    assert "–" in row.locator(".period").inner_text()

    with page.expect_download() as download:
        page.click("#summaries-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = {r["sumNo"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows[sum_no]["inventories"].split() == invt_nos
    assert Decimal(rows[sum_no]["totalPrice"]) == total
    assert rows[sum_no]["ebcCode"] == P.ebc.code
