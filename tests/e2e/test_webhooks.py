"""Webhooks against a real receiver that checks every signature: entries delivered in seq
order, retried with backoff after a 500 and after no answer, paused after N failures and
resumed, stopped by deletion (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.messages.registry import BUNDLE_KINDS
from tests.databases import on_postgres
from tests.e2e.conftest import KEYS, SENDER_OF, Deployment, deploy, fresh, server_environment
from tests.e2e.server import ServerProcess
from tests.e2e.support import wait_until
from tests.e2e.webhook_receiver import Answer, Receiver, receiver

FIRST_RETRY = 0.3
MAX_RETRY = 1.0
MAX_FAILURES = 3
TIMEOUT = 1.0
WEBHOOK_ENV = {
    "SANDAN_WEBHOOK_RETRY_FIRST_SECONDS": str(FIRST_RETRY),
    "SANDAN_WEBHOOK_RETRY_MAX_SECONDS": str(MAX_RETRY),
    "SANDAN_WEBHOOK_MAX_FAILURES": str(MAX_FAILURES),
    "SANDAN_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT),
    "SANDAN_WEBHOOK_IDLE_SECONDS": "0.1",
}
WITH_ADMIN = {**KEYS, "admin": (["2925"], ["admin"])}


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(tmp_path_factory.mktemp("webhooks"), WITH_ADMIN, **WEBHOOK_ENV) as d:
        yield d


@pytest.fixture
def hook(hooked: Deployment) -> Iterator[tuple[Receiver, dict[str, Any]]]:
    """A receiver and the warehouse's subscription to it, from the manifest's current end."""
    with receiver() as r:
        created = subscribe(hooked, r)
        yield r, created
        hooked.client.delete(f"/v1/webhooks/{created['id']}", headers=hooked.headers("warehouse"))


def subscribe(d: Deployment, r: Receiver, role: str = "warehouse") -> dict[str, Any]:
    response = d.client.post("/v1/webhooks", json={"url": r.url}, headers=d.headers(role))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    r.secret = created["secret"]
    return created


def released(d: Deployment, count: int = 1) -> list[int]:
    """``count`` consignments sent complete (released); the warehouse's seqs of them."""
    seqs = []
    for _ in range(count):
        c = fresh()
        d.send_all(c)
        key = (c.order["ebpCode"], c.order["orderNo"])
        seqs += [e["seq"] for e in d.entries_for(key)]
    return seqs


def webhook(d: Deployment, webhook_id: int, role: str = "warehouse") -> dict[str, Any]:
    response = d.client.get(f"/v1/webhooks/{webhook_id}", headers=d.headers(role))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def attempts(d: Deployment, webhook_id: int) -> list[dict[str, Any]]:
    """The subscription's delivery attempts, oldest first."""
    response = d.client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=d.headers("warehouse"))
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["deliveries"]))


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_entries_arrive_signed_in_seq_order_as_the_manifest_shows_them(
    hooked: Deployment, hook: tuple[Receiver, dict[str, Any]]
) -> None:
    r, created = hook
    assert set(created) >= {"id", "secret", "url", "state"} and created["state"] == "active"
    start = created["cursor"]
    seqs = released(hooked, 3)
    wait_until(lambda: r.seqs, lambda got: len(got) >= len(seqs))
    assert r.bad_signatures == 0
    assert r.seqs == seqs == sorted(seqs)
    # the very entries, in the very shape, GET /v1/manifest gives the warehouse
    polled = hooked.manifest("warehouse", after=start, limit=100)["entries"]
    assert [e for batch in r.deliveries for e in batch] == polled
    # the secret is shown once: never in a listing or a read
    listing = hooked.client.get("/v1/webhooks", headers=hooked.headers("warehouse")).json()
    assert [w["id"] for w in listing["webhooks"]] == [created["id"]]
    assert "secret" not in listing["webhooks"][0]
    assert "secret" not in webhook(hooked, created["id"])
    assert webhook(hooked, created["id"])["cursor"] == seqs[-1]
    tries = attempts(hooked, created["id"])
    assert all(t["statusCode"] == 200 and t["attempt"] == 1 for t in tries)
    assert sum(t["entries"] for t in tries) == len(seqs)
    assert tries[0]["firstSeq"] == seqs[0] and tries[-1]["lastSeq"] == seqs[-1]


def test_a_500_and_no_answer_are_retried_with_backoff_from_the_same_entries(
    hooked: Deployment, hook: tuple[Receiver, dict[str, Any]]
) -> None:
    r, created = hook
    r.plan = [Answer(500), Answer(200, delay=TIMEOUT + 1.5)]
    (seq,) = released(hooked)
    wait_until(lambda: attempts(hooked, created["id"]), lambda t: len(t) == 3, timeout=15)
    first, second, third = attempts(hooked, created["id"])
    assert (first["attempt"], first["statusCode"], first["error"]) == (1, 500, None)
    assert second["attempt"] == 2 and second["statusCode"] is None
    assert "no answer" in second["error"]
    assert (third["attempt"], third["statusCode"], third["retryAt"]) == (3, 200, None)
    # in order: every attempt starts at the same entry until one is answered 2xx
    assert first["firstSeq"] == second["firstSeq"] == third["firstSeq"] == seq
    # exponential backoff, as scheduled and as kept
    assert at(first["retryAt"]) - at(first["at"]) == timedelta(seconds=FIRST_RETRY)
    assert at(second["retryAt"]) - at(second["at"]) == timedelta(seconds=2 * FIRST_RETRY)
    assert at(second["at"]) >= at(first["retryAt"])
    assert at(third["at"]) >= at(second["retryAt"])
    # at-least-once: the entry reached the receiver each time, and the cursor moved after the 2xx
    assert r.seqs.count(seq) >= 2 and r.seqs[-1] == seq
    state = webhook(hooked, created["id"])
    assert (state["cursor"], state["failures"], state["lastError"]) == (seq, 0, None)


def test_n_failures_pause_the_subscription_until_it_is_resumed(
    hooked: Deployment, hook: tuple[Receiver, dict[str, Any]]
) -> None:
    r, created = hook
    r.plan = [Answer(503)] * MAX_FAILURES
    (seq,) = released(hooked)
    paused = wait_until(
        lambda: webhook(hooked, created["id"]), lambda w: w["state"] == "paused", timeout=15
    )
    assert (paused["failures"], paused["lastError"], paused["retryAt"]) == (
        MAX_FAILURES,
        "HTTP 503",
        None,
    )
    tries = attempts(hooked, created["id"])
    assert [t["attempt"] for t in tries] == [1, 2, 3]
    assert [t["statusCode"] for t in tries] == [503] * MAX_FAILURES
    # the backoff doubles, capped at the maximum; the last failure schedules nothing
    assert at(tries[1]["retryAt"]) - at(tries[1]["at"]) == timedelta(
        seconds=min(MAX_RETRY, 2 * FIRST_RETRY)
    )
    assert tries[-1]["retryAt"] is None

    # paused: a new entry is not sent (the deliverer passes over it many times meanwhile)
    (later,) = released(hooked)
    time.sleep(1.0)
    assert len(attempts(hooked, created["id"])) == MAX_FAILURES
    assert len(r.deliveries) == MAX_FAILURES

    response = hooked.client.post(
        f"/v1/webhooks/{created['id']}/resume", headers=hooked.headers("warehouse")
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "active" and response.json()["failures"] == 0
    wait_until(lambda: webhook(hooked, created["id"])["cursor"], lambda c: c == later)
    # the paused entry first, then the new one: nothing skipped, still in order
    assert r.seqs[MAX_FAILURES:] == [seq, later]
    records = hooked.client.get("/v1/admin/audit", headers=hooked.headers("admin")).json()
    resumed = [x for x in records["records"] if x["action"] == "webhook.resume"]
    assert resumed[0]["subject"] == f"webhook {created['id']}"
    assert resumed[0]["detail"]["stateBefore"] == "paused"


def test_a_deleted_subscription_gets_nothing_more(hooked: Deployment) -> None:
    with receiver() as gone, receiver() as kept:
        doomed = subscribe(hooked, gone)
        other = subscribe(hooked, kept)
        first = released(hooked)
        wait_until(lambda: gone.seqs, lambda s: s == first)
        response = hooked.client.delete(
            f"/v1/webhooks/{doomed['id']}", headers=hooked.headers("warehouse")
        )
        assert response.status_code == 204
        for path in (f"/v1/webhooks/{doomed['id']}", f"/v1/webhooks/{doomed['id']}/deliveries"):
            missing = hooked.client.get(path, headers=hooked.headers("warehouse"))
            assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
        second = released(hooked)
        # the other subscription, served in the same passes, receives the new entry...
        wait_until(lambda: kept.seqs, lambda s: s == first + second)
        time.sleep(0.5)
        # ...and the deleted one never does
        assert gone.seqs == first
        hooked.client.delete(f"/v1/webhooks/{other['id']}", headers=hooked.headers("warehouse"))


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/hook", "http"),
        ("example.com/hook", "http"),
        ("http:///hook", "host"),
        ("https://user:pw@example.com/hook", "credentials"),
        ("http://example.com:99999/", "URL"),
        ("   ", "empty"),
    ],
)
def test_a_url_sandan_cannot_deliver_to_is_refused_with_its_code(
    hooked: Deployment, url: str, why: str
) -> None:
    before = hooked.client.get("/v1/webhooks", headers=hooked.headers("warehouse")).json()
    response = hooked.client.post(
        "/v1/webhooks", json={"url": url}, headers=hooked.headers("warehouse")
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "WEBHOOK_URL_INVALID"
    assert why in response.json()["message"] or why == "URL"
    after = hooked.client.get("/v1/webhooks", headers=hooked.headers("warehouse")).json()
    assert after == before


def test_only_warehouses_subscribe_and_each_sees_its_own(hooked: Deployment) -> None:
    body = {"url": "http://127.0.0.1:9/hook"}
    refused = hooked.client.post("/v1/webhooks", json=body, headers=hooked.headers("platform"))
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    missing = hooked.client.post("/v1/webhooks", json={}, headers=hooked.headers("warehouse"))
    assert missing.status_code == 422 and missing.json()["code"] == "INVALID_REQUEST"
    mine = hooked.client.post("/v1/webhooks", json=body, headers=hooked.headers("warehouse"))
    assert mine.status_code == 201
    hook_id = mine.json()["id"]
    other = hooked.headers("other_warehouse")
    assert hooked.client.get("/v1/webhooks", headers=other).json() == {"webhooks": []}
    for method in ("GET", "DELETE"):
        answer = hooked.client.request(method, f"/v1/webhooks/{hook_id}", headers=other)
        assert answer.status_code == 404
    assert hooked.client.post(f"/v1/webhooks/{hook_id}/resume", headers=other).status_code == 404
    # an operator sees every subscription
    listed = hooked.client.get("/v1/webhooks", headers=hooked.headers("operator")).json()
    assert hook_id in [w["id"] for w in listed["webhooks"]]
    gone = hooked.client.delete(f"/v1/webhooks/{hook_id}", headers=hooked.headers("warehouse"))
    assert gone.status_code == 204


def test_a_revoked_key_pauses_its_subscription(tmp_path: Path) -> None:
    keys = {**WITH_ADMIN, "short_lived": (KEYS["warehouse"][0], ["warehouse"])}
    with deploy(tmp_path, keys, SANDAN_WORKERS="1", **WEBHOOK_ENV) as d, receiver() as r:
        created = subscribe(d, r, role="short_lived")
        # another key of the same warehouse code sees the subscription too
        seen = webhook(d, created["id"], role="warehouse")
        listed = d.client.get("/v1/admin/keys", headers=d.headers("admin")).json()
        (short,) = [k for k in listed["keys"] if k["name"] == "short_lived"]
        revoked = d.client.post(f"/v1/admin/keys/{short['id']}/revoke", headers=d.headers("admin"))
        assert revoked.status_code == 200, revoked.text
        released(d)
        paused = wait_until(
            lambda: webhook(d, created["id"], role="warehouse"),
            lambda w: w["state"] == "paused",
        )
        assert "revoked" in paused["lastError"] and seen["code"] == paused["code"]
        assert r.deliveries == []


@pytest.mark.skipif(not on_postgres(), reason="several server processes need PostgreSQL")
def test_two_server_processes_deliver_each_entry_once_in_order(tmp_path: Path) -> None:
    """Two ``sandan serve`` on one database, each deciding half the consignments and each
    running a deliverer: the lease lets one at a time serve the subscription, so a slow
    receiver never has two of its requests in flight and sees every seq once, in order."""
    env = {**WEBHOOK_ENV, "SANDAN_WORKERS": "1"}
    with deploy(tmp_path, WITH_ADMIN, **env) as d, receiver() as r:
        second = ServerProcess(
            server_environment(d.settings.database_url, **env), tmp_path / "second.log"
        )
        second.start()
        try:
            r.plan = [Answer(200, delay=0.2)] * 40
            created = subscribe(d, r)
            seqs: list[int] = []
            for n in range(8):
                c = fresh()
                url = (d.server.url, second.url)[n % 2]
                for kind in BUNDLE_KINDS:
                    answer = httpx.post(
                        url + "/v1/messages",
                        content=c.message(kind),
                        headers=d.headers(SENDER_OF[kind], **{"Content-Type": "application/xml"}),
                        timeout=30,
                    )
                    assert answer.json()["documents"][0]["status"] == "accepted", answer.text
                key = (c.order["ebpCode"], c.order["orderNo"])
                seqs += [e["seq"] for e in d.entries_for(key)]
            wait_until(lambda: r.seqs, lambda got: len(got) >= len(seqs), timeout=20)
            time.sleep(0.5)
            assert r.bad_signatures == 0
            assert r.seqs == seqs == sorted(seqs)
            assert r.most_in_flight == 1
            assert all(t["attempt"] == 1 for t in attempts(d, created["id"]))
        finally:
            second.stop()
