"""The review UI in a real browser (issue 5's "done when"): an operator signs in, filters the
queue, opens a bundle with a payment mismatch, sees both amounts highlighted, releases it with
a reason, and the manifest entry and the audit record are there; a stale page cannot override
a newer decision; no ID or phone number appears in clear on any page of a demo run (its cancels
and returns included)."""

from __future__ import annotations

import asyncio
import random
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from service.demo.consignments import Consignment
from service.demo.lifecycle_play import play_lifecycle
from service.demo.play import plan, play
from service.engine.prepare import PII_ELEMENTS
from service.messages.registry import Kind
from service.rules.catalogue import RULES
from tests.e2e.conftest import Deployment, fresh
from tests.e2e.support import mistaken, wait_until
from tests.ui.conftest import SCREENSHOTS, deployed_aside, sign_in, sync_api

Page = sync_api.Page


def settled(d: Deployment, c: Consignment, state: str) -> dict[str, Any]:
    key = c.key
    return wait_until(lambda: d.bundle_json(key), lambda b: b["state"] == state)


def bundle_path(c: Consignment) -> str:
    return f"/review/bundles/{c.key[0]}/{c.key[1]}"


def test_an_operator_releases_a_payment_mismatch_with_a_reason(
    review: Deployment, page: Page
) -> None:
    d = review
    target = mistaken(fresh(), "PAYMENT_AMOUNT")
    others = [fresh(), mistaken(fresh(), "CONSIGNEE_MISMATCH"), fresh(regime="1210")]
    for c in [*others, target]:
        d.send_all(c)
    settled(d, target, "exception")
    settled(d, others[1], "exception")

    sign_in(page, d)
    # Filter the queue by rule (the select applies itself), then search the order number.
    page.select_option("select[name=rule]", "PAYMENT_AMOUNT")
    page.wait_for_url(re.compile(r"rule=PAYMENT_AMOUNT"))
    rows = page.locator("#queue tbody tr")
    assert rows.count() >= 1
    for i in range(rows.count()):
        assert "PAYMENT_AMOUNT" in rows.nth(i).inner_text()
    assert others[1].key[1] not in page.content()
    assert page.locator("#rule-counts a[data-rule=CONSIGNEE_MISMATCH]").count() == 1
    page.fill("#search", target.key[1])
    page.press("#search", "Enter")
    page.wait_for_url(re.compile(r"q=" + target.key[1]))
    assert page.locator("#queue tbody tr").count() == 1

    page.click(f"#queue a:text('{target.key[1]}')")
    page.wait_for_url(re.compile(re.escape(bundle_path(target)) + "$"))
    paid = page.locator(".doc-order tr.mismatch[data-field=acturalPaid] td")
    amount = page.locator(".doc-payment tr.mismatch[data-field=amountPaid] td")
    assert paid.inner_text() == format(target.order["acturalPaid"], "f")
    assert amount.inner_text() == format(target.payment["amountPaid"], "f")
    assert paid.inner_text() != amount.inner_text()
    compared = page.locator("#compared tr.mismatch").first.inner_text()
    assert paid.inner_text() in compared and amount.inner_text() in compared
    finding = page.locator(".finding[data-code=PAYMENT_AMOUNT]").inner_text()
    assert RULES["PAYMENT_AMOUNT"].message_zh in finding
    assert RULES["PAYMENT_AMOUNT"].message_en in finding
    page.set_viewport_size({"width": 1400, "height": 1200})
    page.screenshot(path=str(SCREENSHOTS / "bundle.png"))

    page.fill("textarea[name=reason]", "已与支付企业核实，差额为手续费")
    page.click("button[value=release]")
    page.wait_for_selector("#done")
    assert page.locator("#state").get_attribute("class") == "state released"
    assert "已与支付企业核实" in page.locator("#audit").inner_text()

    entry = d.entries_for(target.key)[-1]
    assert (entry["decision"], entry["by"]) == ("release", "operator")
    actions = d.client.get("/v1/review/actions", headers=d.headers("operator")).json()["actions"]
    record = next(a for a in actions if (a["ebpCode"], a["orderNo"]) == target.key)
    assert (record["action"], record["by"], record["seq"]) == ("release", "operator", entry["seq"])
    assert record["reason"] == "已与支付企业核实，差额为手续费"

    # English: the page furniture switches (rule messages show in both languages always).
    assert "审单操作" in page.locator("section.audit h2").inner_text()
    page.click("header .lang a[hreflang=en]")
    assert page.locator("section.audit h2").inner_text() == "Operator actions"
    assert page.locator("button[value=reject]").inner_text() == "Reject"

    page.goto(d.server.url + "/review/dashboard")
    assert page.locator("#chart-throughput svg rect").count() >= 1
    assert page.locator("#chart-mix svg").count() == 1


def test_a_stale_page_cannot_override_a_newer_decision(
    review: Deployment, browser: sync_api.Browser
) -> None:
    d = review
    target = mistaken(fresh(), "PAYMENT_AMOUNT")
    d.send_all(target)
    settled(d, target, "exception")
    first, second = (browser.new_context() for _ in range(2))
    try:
        alice, bob = first.new_page(), second.new_page()
        for page in (alice, bob):
            sign_in(page, d)
            page.goto(d.server.url + bundle_path(target))
        alice.fill("textarea[name=reason]", "伪报")
        alice.click("button[value=reject]")
        alice.wait_for_selector("#done")

        # Bob still looks at the exception as it was: his release is refused.
        bob.fill("textarea[name=reason]", "看起来没问题")
        bob.click("button[value=release]")
        error = bob.wait_for_selector("#action-error")
        assert error is not None and "刷新" in error.inner_text()
        assert bob.locator("#state").get_attribute("class") == "state rejected"
        # The reason he typed is kept for his next try.
        assert bob.locator("textarea[name=reason]").input_value() == "看起来没问题"
        # The language switch on the refused form's answer leads back to the bundle.
        bob.click("header .lang a[hreflang=en]")
        assert bob.url.endswith(bundle_path(target) + "?lang=en")
        assert bob.locator("#state").inner_text() == "Rejected"
    finally:
        first.close()
        second.close()
    assert [e["decision"] for e in d.entries_for(target.key)] == ["exception", "reject"]
    actions = d.client.get("/v1/review/actions", headers=d.headers("operator")).json()["actions"]
    assert [a["action"] for a in actions if (a["ebpCode"], a["orderNo"]) == target.key] == [
        "reject"
    ]


def test_forms_without_the_session_token_are_refused(review: Deployment, page: Page) -> None:
    d = review
    target = mistaken(fresh(), "PAYMENT_AMOUNT")
    d.send_all(target)
    version = settled(d, target, "exception")["version"]
    sign_in(page, d)
    response = page.request.post(
        d.server.url + bundle_path(target) + "/actions",
        form={"action": "release", "reason": "forged", "version": str(version), "csrf": "x"},
    )
    assert response.status == 403
    assert d.bundle_json(target.key)["state"] == "exception"


def test_a_key_without_the_operator_role_cannot_sign_in(review: Deployment, page: Page) -> None:
    page.goto(review.server.url + "/review/login")
    page.fill("input[name=key]", review.keys["platform"])
    page.click("form[action='/review/login'] button[type=submit]")
    assert "审单员权限" in page.locator(".error").inner_text()
    page.goto(review.server.url + "/review")
    assert page.url.endswith("/review/login")


def clear_personal_data(consignments: list[Consignment]) -> set[str]:
    """Every ID and phone number the demo traffic carried, in clear."""
    found = set()
    for c in consignments:
        for head in (c.order, c.payment, c.logistics, c.inventory):
            for name in PII_ELEMENTS:
                value = head.get(name)
                if value:
                    found.add(str(value))
    return found


def test_no_id_number_appears_in_clear_on_any_page_of_a_demo_run(
    tmp_path: Path, page: Page
) -> None:
    # A server of its own: the demo's order numbers would meet the other tests' ones.
    with deployed_aside(tmp_path) as d:
        crawl_a_demo_run(d, page)


def crawl_a_demo_run(d: Deployment, page: Page) -> None:
    rng = random.Random(5)
    planned = plan(rng, 30)
    extra: list[tuple[Consignment, list[Kind]]] = []

    async def send_more(more: list[tuple[Consignment, list[Kind]]]) -> None:
        extra.extend(more)
        await play(d.server.url, d.keys, more, rng)

    async def the_demo() -> None:
        await play(d.server.url, d.keys, planned, rng)
        done = await play_lifecycle(d.server.url, d.keys, planned, rng, send_more)
        assert {x.state_after for x in done} >= {"cancelled", "returned"}, done

    # Playwright's sync API holds this thread's event loop: play from another thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, the_demo()).result()
    secrets = clear_personal_data([c for c, _ in planned + extra])
    assert len(secrets) > 20

    sign_in(page, d)
    # One operator action, so the audit trail and history pages have content too.
    queue = d.client.get(
        "/v1/review/exceptions", params={"size": 20}, headers=d.headers("operator")
    ).json()
    first = queue["items"][0]
    response = d.client.post(
        f"/v1/bundles/{first['ebpCode']}/{first['orderNo']}/actions",
        json={"action": "reject", "reason": "抽查", "version": first["version"]},
        headers=d.headers("operator"),
    )
    assert response.status_code == 200, response.text

    seen: list[str] = []

    def visit(path: str) -> str:
        page.goto(d.server.url + path)
        html = page.content()
        leaked = sorted(s for s in secrets if s in html)
        assert not leaked, f"{path} shows {len(leaked)} personal numbers in clear"
        seen.append(path)
        return html

    bundle_links: set[str] = set()
    for state in ("all", "exception", "pending", "released", "rejected", "cancelled", "returned"):
        page_no = 1
        while True:
            visit(f"/review?state={state}&size=100&page={page_no}")
            links = page.locator("#queue tbody a").evaluate_all("els => els.map(e => e.pathname)")
            bundle_links.update(links)
            if page.locator(".pager a[rel=next]").count() == 0:
                break
            page_no += 1
    assert len(bundle_links) >= 25
    # Import bundles show the buyer's ID masked instead (export documents carry none).
    masked = sum("**********" in visit(link) for link in sorted(bundle_links))
    assert masked >= 5
    for path in ("/review/actions", "/review/login", "/review?lang=en"):
        visit(path)
    assert len(seen) >= 30

    # The README's screenshots, taken here where the demo traffic fills every chart.
    visit("/review?lang=zh")
    page.screenshot(path=str(SCREENSHOTS / "queue.png"))
    visit("/review/dashboard")
    assert page.locator("#chart-rules svg rect").count() >= 3
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"))


def test_the_keyboard_moves_through_the_queue(review: Deployment, page: Page) -> None:
    d = review
    target = mistaken(fresh(), "PAYMENT_AMOUNT")
    d.send_all(target)
    settled(d, target, "exception")
    sign_in(page, d)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.type(target.key[1])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q="))
    page.locator("h1").click()  # leave the search box
    page.keyboard.press("j")
    assert page.locator("#queue tbody tr.cursor").count() == 1
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(bundle_path(target)) + "$"))
