"""The manifest queue (SPEC §6.3): cursor, at-least-once, ordering, long poll."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from service.messages.registry import Kind
from tests.e2e.conftest import Deployment, fresh
from tests.e2e.support import last_seq, revised

ENTRY_KEYS = {
    "seq",
    "ebpCode",
    "orderNo",
    "logisticsCode",
    "logisticsNo",
    "regime",
    "decision",
    "rules",
    "decidedAt",
    "by",
}


def release_some(d: Deployment, n: int) -> list[tuple[str, str]]:
    keys = []
    for _ in range(n):
        c = fresh()
        d.send_all(c)
        keys.append(c.key)
    return keys


def test_entry_shape(sandan: Deployment) -> None:
    c = fresh()
    seq = last_seq(sandan)
    sandan.send_all(c)
    page = sandan.manifest(after=seq)
    [entry] = page["entries"]
    assert set(entry) >= ENTRY_KEYS
    assert entry["seq"] == page["next"] > seq
    assert (entry["ebpCode"], entry["orderNo"]) == c.key
    assert (entry["logisticsCode"], entry["logisticsNo"]) == (
        c.logistics["logisticsCode"],
        c.logistics["logisticsNo"],
    )
    assert (entry["regime"], entry["decision"], entry["rules"], entry["by"]) == (
        "9610",
        "release",
        [],
        "engine",
    )
    assert entry["decidedAt"] == sandan.bundle_json(c.key)["decidedAt"]


def test_cursor_pages(sandan: Deployment) -> None:
    start = last_seq(sandan)
    keys = release_some(sandan, 5)
    everything = sandan.manifest(after=start)
    assert [(e["ebpCode"], e["orderNo"]) for e in everything["entries"]] == keys
    seqs = [e["seq"] for e in everything["entries"]]
    assert seqs == list(range(start + 1, start + 6))
    assert everything["next"] == seqs[-1]

    collected: list[dict[str, Any]] = []
    after = start
    while True:
        page = sandan.manifest(after=after, limit=2)
        assert len(page["entries"]) <= 2
        assert all(e["seq"] > after for e in page["entries"])
        # At-least-once: the same cursor gives the same entries.
        assert sandan.manifest(after=after, limit=2) == page
        if not page["entries"]:
            assert page["next"] == after
            break
        assert page["next"] == page["entries"][-1]["seq"]
        collected += page["entries"]
        after = page["next"]
    assert collected == everything["entries"]

    middle = sandan.manifest(after=seqs[1], limit=1)
    assert [e["seq"] for e in middle["entries"]] == [seqs[2]]
    assert middle["next"] == seqs[2]


def test_cursor_past_the_end(sandan: Deployment) -> None:
    end = last_seq(sandan)
    for after in (end, end + 1000):
        page = sandan.manifest(after=after)
        assert page == {"entries": [], "next": after}


def test_operator_sees_every_seq_without_gaps(sandan: Deployment) -> None:
    release_some(sandan, 3)
    # Some exceptions too, and a bundle with two entries.
    c = fresh()
    wrong = c.copy()
    wrong.payment["amountPaid"] += 1
    sandan.send_all(wrong)
    fixed = revised(c, Kind.PAYMENT)
    sandan.send_all(fixed, [Kind.PAYMENT])
    assert [e["decision"] for e in sandan.entries_for(c.key)] == ["exception", "release"]

    seqs: list[int] = []
    after = 0
    while True:
        page = sandan.manifest(after=after, limit=7)
        if not page["entries"]:
            break
        seqs += [e["seq"] for e in page["entries"]]
        after = page["next"]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= 5


def test_limit_is_respected(sandan: Deployment) -> None:
    start = last_seq(sandan)
    release_some(sandan, 3)
    assert len(sandan.manifest(after=start, limit=1)["entries"]) == 1
    assert len(sandan.manifest(after=start, limit=3)["entries"]) == 3
    response = sandan.client.get(
        "/v1/manifest", params={"after": start, "limit": 0}, headers=sandan.headers("operator")
    )
    assert response.status_code == 422


class Poll(threading.Thread):
    """A long poll on its own thread, timed with the monotonic clock."""

    def __init__(self, d: Deployment, role: str = "operator", **params: Any) -> None:
        super().__init__(daemon=True)
        self.url = d.server.url
        self.headers = d.headers(role)
        self.params = params
        self.started_at = 0.0
        self.returned_at = 0.0
        self.response: httpx.Response | None = None

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            self.started_at = time.monotonic()
            self.response = client.get("/v1/manifest", params=self.params, headers=self.headers)
            self.returned_at = time.monotonic()

    def body(self) -> dict[str, Any]:
        self.join(15)
        assert self.response is not None, "the long poll did not return"
        assert self.response.status_code == 200, self.response.text
        body: dict[str, Any] = self.response.json()
        return body


def test_long_poll_returns_when_an_entry_is_committed(sandan: Deployment) -> None:
    c = fresh()
    sandan.send_all(c, [Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS])
    after = last_seq(sandan)
    poll = Poll(sandan, after=after, wait=5)
    poll.start()
    time.sleep(0.5)  # let the poll reach the server and start waiting
    assert poll.is_alive(), "the poll returned before anything was decided"

    sandan.send_all(c, [Kind.INVENTORY])
    posted_at = time.monotonic()
    body = poll.body()
    assert poll.returned_at - posted_at < 1.5
    assert poll.returned_at - poll.started_at < 4
    assert [(e["ebpCode"], e["orderNo"]) for e in body["entries"]] == [c.key]
    assert body["entries"][0]["decision"] == "release"
    assert body["next"] == body["entries"][0]["seq"]


def test_long_poll_with_nothing_new_waits_and_returns_empty(sandan: Deployment) -> None:
    after = last_seq(sandan)
    started = time.monotonic()
    body = sandan.manifest(after=after, wait=1.5)
    elapsed = time.monotonic() - started
    assert body == {"entries": [], "next": after}
    assert 1.3 <= elapsed < 3.0


def test_long_poll_is_not_woken_by_entries_it_may_not_see(sandan: Deployment) -> None:
    after = last_seq(sandan)
    poll = Poll(sandan, "other_warehouse", after=after, wait=1.5)
    poll.start()
    time.sleep(0.3)
    c = fresh()
    sandan.send_all(c)
    body = poll.body()
    assert body == {"entries": [], "next": after}
    assert poll.returned_at - poll.started_at >= 1.3
