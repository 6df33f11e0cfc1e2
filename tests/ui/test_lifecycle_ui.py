"""The review UI after the decision (SPEC §10, issue 13): a cancelled and a returned
consignment in a real browser — invtNo, cancel time, returns with their lines and values, the
lifecycle events in the history, no operator action left to take — the queue's filters for the
new states, the dashboard's counts of them, and no ID or phone number in clear on these pages
(the cancel and return documents carry the buyer's)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from service.clock import beijing
from service.demo.consignments import DEMO_PARTIES, Consignment
from tests.e2e.conftest import Deployment, fresh
from tests.messages.builders import cancel_for, refund_for, serialize
from tests.ui.conftest import sign_in, sync_api
from tests.ui.test_review_ui import bundle_path, clear_personal_data, settled

Page = sync_api.Page


def released(d: Deployment, lines: int = 1) -> tuple[Consignment, str]:
    """A released import consignment of at least ``lines`` lines, and its invtNo."""
    c = fresh()
    while len(c.inventory_lines) < lines:
        c = fresh()
    d.send_all(c)
    invt_no = settled(d, c, "released")["invtNo"]
    assert re.fullmatch(r"2924\d{4}I\d{9}", invt_no), invt_no
    return c, invt_no


def accepted(d: Deployment, body: bytes) -> dict[str, Any]:
    response = d.post(body, "agent")
    assert response.status_code == 200, response.text
    (document,) = response.json()["documents"]
    assert document["status"] == "accepted", document
    result: dict[str, Any] = document
    return result


def cancelled(d: Deployment) -> tuple[Consignment, str]:
    c, invt_no = released(d)
    accepted(d, serialize(cancel_for(c, invt_no=invt_no, signed=True)))
    return c, invt_no


def no_clear_personal_data(page: Page, *consignments: Consignment) -> None:
    html = page.content()
    secrets = clear_personal_data(list(consignments))
    assert secrets and not [s for s in secrets if s in html]


def test_a_cancelled_consignment_shows_its_invt_no_cancel_time_and_history(
    review: Deployment, page: Page
) -> None:
    d = review
    c, invt_no = cancelled(d)
    bundle = d.bundle_json(c.key)
    assert bundle["state"] == "cancelled" and bundle["cancelledAt"]

    sign_in(page, d)
    page.goto(d.server.url + bundle_path(c))
    assert page.locator("#state").get_attribute("class") == "state cancelled"
    assert page.locator("#state").inner_text() == "已撤单"
    assert page.locator("#invt-no").inner_text() == invt_no
    assert page.locator("#cancelled-at").inner_text() == beijing(bundle["cancelledAt"])
    assert page.locator("#cancelled-at time").get_attribute("datetime") == bundle["cancelledAt"]
    assert page.locator("#returns").count() == 0
    # the cancel in the history, in words: what it was before, why, and its manifest entry
    event = page.locator("#history tr[data-event=lifecycle][data-kind=cancel]")
    assert event.locator("td.ev").inner_text() == "撤单（撤销申请单）"
    assert event.locator(".kv[data-key=stateBefore]").inner_text() == "原状态 已放行"
    assert "消费者取消订单" in event.locator(".kv[data-key=reason]").inner_text()
    entry = page.locator("#history tr[data-event=decision]").last
    assert entry.locator(".kv[data-key=decision]").inner_text() == "决定 撤单"
    assert entry.locator(".kv[data-key=by]").inner_text() == f"决定方 {DEMO_PARTIES.agent.code}"
    # nothing left for an operator: no form, no button, and the API refuses alike
    assert page.locator("#decide").count() == 0
    assert page.locator("section.decide button").count() == 0
    assert "已撤单" in page.locator("#no-actions").inner_text()
    refused = d.client.post(
        f"/v1/bundles/{c.key[0]}/{c.key[1]}/actions",
        json={"action": "reopen", "reason": "试试", "version": bundle["version"]},
        headers=d.headers("operator"),
    )
    assert refused.status_code == 409, refused.text
    no_clear_personal_data(page, c)

    page.click("header .lang a[hreflang=en]")
    assert page.locator("#state").inner_text() == "Cancelled"
    assert event.locator("td.ev").inner_text() == "Cancelled (cancel document)"
    assert event.locator(".kv[data-key=stateBefore]").inner_text() == "State before Released"
    no_clear_personal_data(page, c)


def test_a_partly_returned_consignment_shows_its_returns(review: Deployment, page: Page) -> None:
    d = review
    c, invt_no = released(d, lines=2)
    first = c.inventory_lines[0]
    accepted(d, serialize(refund_for(c, {1: first["qty"]}, invt_no=invt_no, signed=True)))
    bundle = d.bundle_json(c.key)
    assert bundle["state"] == "released"
    value = first["qty"] * first["price"]
    (returned,) = bundle["returns"]
    assert Decimal(returned["value"]) == value

    sign_in(page, d)
    page.goto(d.server.url + bundle_path(c))
    assert page.locator("#state").get_attribute("class") == "state released"
    assert page.locator("#partly-returned").inner_text() == "部分退货"
    assert page.locator("#invt-no").inner_text() == invt_no
    rows = page.locator("#returns tbody.return tr[data-gnum]")
    assert rows.count() == 1
    cells = rows.first.locator("td")
    assert [cells.nth(i).inner_text() for i in range(cells.count())] == [
        beijing(returned["at"]),  # the UI's times are Beijing time
        invt_no,
        "1",
        first["gname"],
        returned["lines"][0]["qty"],
        returned["lines"][0]["value"],
    ]
    assert Decimal(page.locator("#returned-total").inner_text()) == value
    event = page.locator("#history tr[data-event=lifecycle][data-kind=return]")
    assert event.locator("td.ev").inner_text() == "退货（退货申请单）"
    assert Decimal(event.locator(".kv[data-key=value]").inner_text().split()[-1]) == value
    # still released: an operator may still reject or reopen it
    assert page.locator("section.decide button").evaluate_all("els => els.map(e => e.value)") == [
        "reject",
        "reopen",
    ]
    no_clear_personal_data(page, c)

    # the rest goes back too: the consignment is returned, and nothing is left to decide
    rest = {int(line["gnum"]): line["qty"] for line in c.inventory_lines[1:]}
    accepted(d, serialize(refund_for(c, rest, invt_no=invt_no, signed=True)))
    page.reload()
    assert page.locator("#state").get_attribute("class") == "state returned"
    assert page.locator("#partly-returned").count() == 0
    assert page.locator("#returns tbody.return").count() == 2
    assert page.locator("#returns tr[data-gnum]").count() == len(c.inventory_lines)
    total = sum((line["qty"] * line["price"] for line in c.inventory_lines), Decimal(0))
    assert Decimal(page.locator("#returned-total").inner_text()) == total
    assert page.locator("#history tr[data-event=lifecycle]").count() == 2
    assert page.locator("#decide").count() == 0
    assert "已退货" in page.locator("#no-actions").inner_text()
    no_clear_personal_data(page, c)


def queue_total(d: Deployment, state: str) -> int:
    response = d.client.get(
        "/v1/review/exceptions", params={"state": state}, headers=d.headers("operator")
    )
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


def test_the_queue_filters_by_the_new_states_and_the_dashboard_counts_them(
    review: Deployment, page: Page
) -> None:
    d = review
    gone, gone_invt_no = cancelled(d)
    back, back_invt_no = released(d)
    accepted(d, serialize(refund_for(back, None, invt_no=back_invt_no, signed=True)))
    settled(d, back, "returned")

    sign_in(page, d)
    for state, c, label in (("cancelled", gone, "已撤单"), ("returned", back, "已退货")):
        page.goto(d.server.url + "/review")
        page.select_option("select[name=state]", state)
        page.wait_for_url(re.compile(rf"state={state}"))
        rows = page.locator("#queue tbody tr")
        assert rows.count() == int(page.locator("#total").inner_text()) == queue_total(d, state)
        for i in range(rows.count()):
            assert rows.nth(i).locator(".state").get_attribute("class") == f"state {state}"
            assert rows.nth(i).locator(".state").inner_text() == label
        assert page.locator(f"#queue a:text('{c.key[1]}')").count() == 1
    # an invtNo finds its consignment whatever its state
    page.goto(d.server.url + "/review?state=all")
    page.fill("#search", gone_invt_no)
    page.press("#search", "Enter")
    page.wait_for_url(re.compile(r"q=" + gone_invt_no))
    assert page.locator("#queue tbody tr").count() == 1
    assert page.locator("#queue td.invt-no").inner_text() == gone_invt_no

    page.goto(d.server.url + "/review/dashboard")
    counts = page.locator("#state-counts li")
    shown = {
        counts.nth(i).locator("a").get_attribute("data-state"): int(
            counts.nth(i).locator("b").inner_text()
        )
        for i in range(counts.count())
    }
    states = ("exception", "pending", "released", "rejected", "cancelled", "returned", "closed")
    assert list(shown) == list(states)
    assert shown == {state: queue_total(d, state) for state in states}
    assert shown["cancelled"] >= 1 and shown["returned"] >= 1
    legend = page.locator("#chart-mix svg").text_content() or ""
    assert "撤单" in legend and "退货" in legend
    entries = [e["decision"] for e in d.manifest(after=0, limit=1000)["entries"]]
    mix = d.client.get("/v1/review/dashboard", headers=d.headers("operator")).json()
    counted = {
        decision: sum(row.get(decision, 0) for row in mix["decisionMix"])
        for decision in ("cancel", "return")
    }
    assert counted == {"cancel": entries.count("cancel"), "return": entries.count("return")}
    # a state's count leads to the queue of that state
    page.click("#state-counts a[data-state=cancelled]")
    page.wait_for_url(re.compile(r"/review\?state=cancelled$"))
    assert int(page.locator("#total").inner_text()) == shown["cancelled"]
    # the charts follow a language switch on the dashboard itself
    page.goto(d.server.url + "/review/dashboard?lang=en")
    states_chart = page.locator("#chart-states svg").text_content() or ""
    assert "Bundles by state" in states_chart and "Cancelled" in states_chart
    assert "cancel" in (page.locator("#chart-mix svg").text_content() or "")
