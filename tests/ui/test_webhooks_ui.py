"""The webhooks page in a real browser: a subscription whose receiver keeps failing shows as
paused with its last error; the operator's resume button sets it delivering again, and the
resume is in the audit log under the operator's name."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Deployment
from tests.e2e.support import wait_until
from tests.e2e.test_webhooks import MAX_FAILURES, WEBHOOK_ENV, WITH_ADMIN, released, subscribe
from tests.e2e.test_webhooks import webhook as webhook_state
from tests.e2e.webhook_receiver import Answer, receiver
from tests.ui.conftest import deployed_aside, sign_in, sync_api

Page = sync_api.Page


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployed_aside(tmp_path_factory.mktemp("webhooks-ui"), WITH_ADMIN, **WEBHOOK_ENV) as d:
        yield d


def test_an_operator_sees_a_paused_webhook_and_resumes_it(hooked: Deployment, page: Page) -> None:
    d = hooked
    with receiver() as r:
        r.plan = [Answer(500)] * MAX_FAILURES
        created = subscribe(d, r)
        (seq,) = released(d)
        wait_until(lambda: webhook_state(d, created["id"]), lambda w: w["state"] == "paused")

        sign_in(page, d)
        page.click("#nav-webhooks")
        page.wait_for_url(re.compile(r"/review/webhooks$"))
        row = page.locator(f"#webhooks tr[data-webhook='{created['id']}']")
        assert row.locator(".state").get_attribute("data-state") == "paused"
        assert row.locator(".last-error").inner_text() == "HTTP 500"
        assert r.url in row.inner_text() and created["code"] in row.inner_text()
        assert "已暂停" in row.inner_text()

        row.locator("button.resume").click()
        page.wait_for_url(re.compile(rf"/review/webhooks\?resumed={created['id']}$"))
        assert page.locator("#done").count() == 1
        wait_until(lambda: webhook_state(d, created["id"])["cursor"], lambda c: c == seq)
        assert r.seqs[-1] == seq and r.bad_signatures == 0
        page.goto(d.server.url + "/review/webhooks")
        row = page.locator(f"#webhooks tr[data-webhook='{created['id']}']")
        assert row.locator(".state").get_attribute("data-state") == "active"
        assert row.locator("button.resume").count() == 0

    records = d.client.get("/v1/admin/audit", headers=d.headers("admin")).json()["records"]
    resumed = [x for x in records if x["action"] == "webhook.resume"]
    assert resumed[0]["actor"] == "operator"
    assert resumed[0]["subject"] == f"webhook {created['id']}"
