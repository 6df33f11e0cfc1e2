"""/docs and /redoc in a real browser with every request outside 127.0.0.1 refused: the
customs site's network. The pages must render the operations from Sandan's own assets, and
must not even try to reach anything else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from service.messages.registry import MESSAGE_TYPES
from tests.e2e.conftest import Deployment
from tests.ui.conftest import deployed_aside, sync_api

Page = sync_api.Page


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployed_aside(tmp_path_factory.mktemp("docs-ui")) as deployment:
        yield deployment


def offline(page: Page) -> list[str]:
    """Refuse every request not to 127.0.0.1; the list of those refused."""
    refused: list[str] = []

    def route(r: sync_api.Route) -> None:
        url = r.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            refused.append(url)
            r.abort()

    page.route("**/*", route)
    return refused


def test_swagger_ui_renders_offline_with_an_authorize_button(
    served: Deployment, page: Page
) -> None:
    refused = offline(page)
    page.goto(served.server.url + "/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    paths = {
        page.locator("[data-path]").nth(i).get_attribute("data-path")
        for i in range(page.locator("[data-path]").count())
    }
    assert {"/v1/messages", "/v1/manifest", "/v1/receipts", "/metrics"} <= paths, paths
    assert page.locator("button.authorize").count() == 1

    # an integrator enters a key, picks an example message and sends it
    page.locator("button.authorize").click()
    page.locator(".auth-container input").fill(served.keys["agent"])
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".auth-btn-wrapper button.btn-done").click()
    ingest = page.locator("#operations-ingest-post_message_v1_messages_post")
    ingest.locator(".opblock-summary").click()
    ingest.locator("button.try-out__btn").click()
    choices = ingest.locator(".examples-select select option").all_inner_texts()
    assert len(choices) == len(MESSAGE_TYPES) and "CEB311Message (import order)" in choices
    ingest.locator(".examples-select select").select_option("CEB621Message")
    body = ingest.locator("textarea.body-param__text")
    # the message itself, not a sample generated around it
    assert body.input_value().startswith('<?xml version="1.0" encoding="UTF-8"?>\n<ceb:CEB621')
    ingest.locator("button.execute").click()
    status = ingest.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=30_000)
    assert status.inner_text().strip() == "200"
    answer = json.loads(
        ingest.locator(".live-responses-table tbody .microlight").first.inner_text()
    )
    assert answer["message"]["type"] == "CEB621Message"
    assert [d["status"] for d in answer["documents"]] == ["accepted"], answer
    assert refused == []


def test_redoc_renders_offline(served: Deployment, page: Page) -> None:
    refused = offline(page)
    page.goto(served.server.url + "/redoc")
    heading = page.locator("h2", has_text="Post one CEB message (1..100 documents)")
    heading.wait_for(timeout=60_000)
    assert refused == []
