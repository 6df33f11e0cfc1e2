"""The review UI's tools of issue 15 in a real browser: the prefix search, the CSV button
carrying the queue's filters, ticking bundles and deciding them in bulk with one reason, the
customs' Chinese field names beside the XML names, Beijing time, and the dashboard's days with
counts that lead to a queue showing the same numbers."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from service.clock import beijing, beijing_today, utcnow
from service.demo.consignments import Consignment
from service.demo.mistakes import with_mistake
from service.web.labels import label, note
from tests.e2e.conftest import Deployment, fresh
from tests.e2e.support import mistaken
from tests.ui.conftest import sign_in, sync_api
from tests.ui.test_review_ui import bundle_path, settled

Page = sync_api.Page


def exception(d: Deployment, code: str = "PAYMENT_AMOUNT") -> Consignment:
    c = mistaken(fresh(), code)
    d.send_all(c)
    settled(d, c, "exception")
    return c


def shown_orders(page: Page) -> list[str]:
    return page.locator("#queue tbody tr td:nth-child(2) a").all_inner_texts()


def test_prefix_search_and_the_csv_of_what_the_queue_shows(
    review: Deployment, page: Page, tmp_path: Path
) -> None:
    d = review
    target = exception(d)
    exception(d, "CONSIGNEE_MISMATCH")
    invt_no = d.bundle_json(target.key)["invtNo"]
    sign_in(page, d)

    # The start of the waybill number finds the bundle; so does the start of its invtNo.
    for prefix in (target.logistics["logisticsNo"][:-2], invt_no[:-4], target.key[1][:-1]):
        page.fill("#search", prefix)
        page.press("#search", "Enter")
        page.wait_for_url(re.compile(r"q=" + re.escape(prefix)))
        assert target.key[1] in shown_orders(page), prefix
    page.select_option("select[name=rule]", "PAYMENT_AMOUNT")
    page.wait_for_url(re.compile(r"rule=PAYMENT_AMOUNT"))
    shown = shown_orders(page)
    assert target.key[1] in shown

    # The button carries the filters on the page; the file lists what the queue lists.
    href = page.locator("#csv").get_attribute("href") or ""
    assert href.startswith("/review/exceptions.csv?")
    assert "rule=PAYMENT_AMOUNT" in href and "q=" + target.key[1][:-1] in href
    with page.expect_download() as info:
        page.click("#csv")
    saved = tmp_path / "queue.csv"
    info.value.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [r["orderNo"] for r in rows] == shown
    assert all(r["errors"].split() == ["PAYMENT_AMOUNT"] for r in rows)
    # The age column: hours and minutes, the first document's Beijing time on hover.
    age = page.locator("#queue tbody tr td.num").first
    assert re.fullmatch(r"\d+h\d\dm", age.inner_text())
    assert age.get_attribute("title") == rows[0]["firstSeenAtBeijing"] + " 北京时间"

    # A search that is only LIKE's wildcard finds nothing.
    page.fill("#search", "%")
    page.press("#search", "Enter")
    page.wait_for_url(re.compile(r"q=%25"))
    assert page.locator("#total").inner_text() == "0"


def test_an_operator_releases_ticked_bundles_with_one_reason(
    review: Deployment, page: Page
) -> None:
    d = review
    chosen = [exception(d, "CONSIGNEE_MISMATCH") for _ in range(3)]
    sign_in(page, d)
    page.select_option("select[name=rule]", "CONSIGNEE_MISMATCH")
    page.wait_for_url(re.compile(r"rule=CONSIGNEE_MISMATCH"))
    # The header box ticks the page, a second click clears it.
    page.check("#select-all")
    boxes = page.locator("#queue input[name=bundle]")
    assert boxes.count() >= 3 and all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.uncheck("#select-all")
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))
    for c in chosen:
        page.check(f"#queue input[name=bundle][value$=':{c.key[0]}:{c.key[1]}']")
    assert "/bundles/" not in page.url  # ticking opened no bundle

    # Meanwhile another operator decides the second one: its ticked version is stale.
    stale = chosen[1]
    version = d.bundle_json(stale.key)["version"]
    answer = d.client.post(
        f"/v1/bundles/{stale.key[0]}/{stale.key[1]}/actions",
        json={"action": "reject", "reason": "另一审单员", "version": version},
        headers=d.headers("operator"),
    )
    assert answer.status_code == 200, answer.text

    page.fill("#bulk textarea[name=reason]", "收货人信息已与物流企业核实")
    page.click("#bulk button[value=release]")
    page.wait_for_selector("#bulk-summary")
    assert page.locator("#bulk-done").inner_text() == "2"
    assert page.locator("#bulk-refused").inner_text() == "1"
    refused = page.locator(f"#bulk-results tr[data-order-no='{stale.key[1]}']")
    assert refused.get_attribute("data-outcome") == "refused"
    assert "VERSION_CONFLICT" in refused.inner_text() and "刷新" in refused.inner_text()

    actions = d.client.get("/v1/review/actions", headers=d.headers("operator")).json()["actions"]
    for c in (chosen[0], chosen[2]):
        assert d.bundle_json(c.key)["state"] == "released"
        (record,) = [a for a in actions if (a["ebpCode"], a["orderNo"]) == c.key]
        assert (record["action"], record["reason"]) == ("release", "收货人信息已与物流企业核实")
    assert d.bundle_json(stale.key)["state"] == "rejected"
    page.click("#back-to-queue")
    page.wait_for_url(re.compile(r"/review\?.*rule=CONSIGNEE_MISMATCH"))


def test_a_bulk_form_without_the_session_token_is_refused(review: Deployment, page: Page) -> None:
    d = review
    c = exception(d)
    version = d.bundle_json(c.key)["version"]
    sign_in(page, d)
    response = page.request.post(
        d.server.url + "/review/bulk",
        form={
            "action": "release",
            "reason": "forged",
            "bundle": f"{version}:{c.key[0]}:{c.key[1]}",
            "csrf": "x",
        },
    )
    assert response.status == 403
    assert d.bundle_json(c.key)["state"] == "exception"


def test_field_names_in_chinese_and_times_in_beijing_time(review: Deployment, page: Page) -> None:
    d = review
    target = exception(d)
    view = d.bundle_json(target.key)
    sign_in(page, d)
    page.goto(d.server.url + bundle_path(target))

    amount = page.locator(".doc-payment tr[data-field=amountPaid] th")
    assert amount.locator(".label-zh").inner_text() == "支付金额"
    assert amount.locator(".xml-name").inner_text() == "amountPaid"
    assert amount.locator(".label-zh").get_attribute("title") == note("payment", "amountPaid", "I")
    order_no = page.locator(".doc-order tr[data-field=orderNo] th .label-zh")
    assert order_no.inner_text() == "订单编号"
    assert "交易平台的订单编号" in (order_no.get_attribute("title") or "")
    line = page.locator(".doc-inventory tr[data-field='InventoryList[1].gname'] th .label-zh")
    assert line.inner_text() == label("inventory", "InventoryList[1].gname", "I") == "商品名称"
    # The compared pair names both fields the same way.
    compared = page.locator("#compared td.compared-field[data-field=amountPaid] .label-zh")
    assert compared.first.inner_text() == "支付金额"

    # Times: Beijing wall time, the instant as the API writes it in the element.
    first = page.locator("#history tbody tr").first.locator("time")
    at = view["history"][0]["at"]
    assert first.get_attribute("datetime") == at
    assert first.inner_text() == beijing(at)
    utc = datetime.fromisoformat(at.replace("Z", "+00:00"))
    assert first.inner_text() == (utc + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert "北京时间" in page.locator("#history thead").inner_text()
    assert "北京时间" in page.locator("#timezone-note").inner_text()


def number(page: Page, selector: str) -> int:
    return int(page.locator(selector).inner_text())


def test_the_dashboard_days_and_its_counts_lead_to_the_same_queue(
    review: Deployment, page: Page
) -> None:
    d = review
    both = with_mistake(mistaken(fresh(), "PAYMENT_AMOUNT"), "TAX_TOTAL")
    d.send_all(both)
    settled(d, both, "exception")
    today = beijing_today(utcnow()).isoformat()
    sign_in(page, d)
    page.goto(d.server.url + "/review/dashboard")
    page.fill("#range input[name=from]", today)
    page.fill("#range input[name=to]", today)
    page.click("#range button[type=submit]")
    page.wait_for_url(re.compile(rf"from={today}&to={today}"))
    assert page.locator("#range input[name=from]").input_value() == today

    rules: dict[str, dict[str, Any]] = {}
    for item in page.locator("#top-rules li").all():
        code = item.locator("a").get_attribute("data-rule") or ""
        errors = item.locator("[data-errors]")
        warnings = item.locator("[data-warnings]")
        rules[code] = {
            "bundles": int(item.locator("b.bundles").inner_text()),
            "errors": int(errors.get_attribute("data-errors") or 0) if errors.count() else 0,
            "warnings": int(warnings.get_attribute("data-warnings") or 0)
            if warnings.count()
            else 0,
        }
    assert rules["PAYMENT_AMOUNT"]["errors"] >= 1 and rules["TAX_TOTAL"]["warnings"] >= 1
    assert rules["TAX_TOTAL"]["errors"] == 0
    assert page.locator("#chart-rules svg rect[fill='#f9a825']").count() >= 1  # warnings apart

    # Each count leads to the queue under the same days, which shows the same number.
    for code in ("PAYMENT_AMOUNT", "TAX_TOTAL"):
        page.click(f"#top-rules a[data-rule={code}]")
        page.wait_for_url(re.compile(rf"/review\?from={today}&to={today}&rule={code}"))
        assert number(page, "#total") == rules[code]["bundles"]
        severity = "warning" if code == "TAX_TOTAL" else "error"
        side = page.locator(f".counts a[data-rule={code}][data-severity={severity}] + b")
        assert int(side.inner_text()) == rules[code][severity + "s"]
        page.go_back()
    exceptions = number(page, "#state-counts a[data-state=exception] + b")
    page.click("#state-counts a[data-state=exception]")
    page.wait_for_url(re.compile(r"state=exception"))
    assert number(page, "#total") == exceptions

    # Days before any traffic: nothing, in the dashboard as in the queue.
    page.goto(d.server.url + "/review/dashboard?from=2020-01-01&to=2020-01-31")
    assert page.locator("#top-rules li").count() == 0
    assert number(page, "#state-counts a[data-state=exception] + b") == 0
    page.goto(d.server.url + "/review?from=2020-01-01&to=2020-01-31")
    assert number(page, "#total") == 0
    refused = page.goto(d.server.url + "/review/dashboard?from=2020-02-01&to=2020-01-01")
    assert refused is not None and refused.status == 422
    assert "from" in page.locator("p.error").inner_text()
