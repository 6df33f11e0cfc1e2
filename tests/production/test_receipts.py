"""The receipts feed with several server processes on one PostgreSQL: gapless and ordered
under concurrent intake, nothing skipped by a reader paging while it fills, and a long poll
held by one process woken by another's commit."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.messages.registry import Kind
from tests.databases import on_postgres
from tests.e2e.conftest import KEYS, SENDER_OF
from tests.production.cluster import Cluster, cluster, consignments, messages, post_all
from tests.production.inspect import query

pytestmark = pytest.mark.skipif(
    not on_postgres(),
    reason="many servers on one database is the PostgreSQL deployment: "
    "set SANDAN_TEST_DATABASE_URL=postgresql+asyncpg://...",
)

BUNDLES = 600
SERVERS = 2


class Reader(threading.Thread):
    """A consumer reading one key's feed by cursor from one server while traffic flows."""

    def __init__(self, target: Cluster, server: int, role: str) -> None:
        super().__init__(daemon=True)
        self.url = target.servers[server].url
        self.headers = {"Authorization": f"Bearer {target.keys[role]}"}
        self.after = 0
        self.seen: list[dict[str, Any]] = []
        self.pages_while_filling = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def page(self, client: httpx.Client, wait: float) -> list[dict[str, Any]]:
        params = {"after": self.after, "limit": 37, "wait": wait}
        response = client.get("/v1/receipts", params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        found: list[dict[str, Any]] = body["receipts"]
        assert all(r["seq"] > self.after for r in found)
        self.seen += found
        self.after = body["next"]
        return found

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, timeout=60) as client:
                while not self.stop.is_set():
                    self.pages_while_filling += bool(self.page(client, wait=0.5))
                while self.page(client, wait=0):  # what committed before the stop
                    pass
        except BaseException as exc:
            self.error = exc


def test_concurrent_intake_keeps_the_feed_gapless_and_ordered(tmp_path: Path) -> None:
    rng = random.Random(623)
    items = consignments(BUNDLES, first=900_000)
    plan = [(rng.randrange(SERVERS), m) for m in messages(items, 20, rng)]
    # a quarter sent again to the other server at the same time: replays add no receipt
    plan += [((i + 1) % SERVERS, m) for i, m in plan if rng.random() < 0.25]
    rng.shuffle(plan)

    with cluster(tmp_path, SERVERS) as target:
        readers = [Reader(target, 0, "agent"), Reader(target, 1, "platform")]
        for reader in readers:
            reader.start()
        results = post_all(target, plan, workers=16)
        for reader in readers:
            reader.stop.set()
            reader.join(60)
            assert reader.error is None, reader.error
        url = target.url

        assert Counter(status for _m, status, _b in results) == {200: len(plan)}
        seqs = [s for (s,) in query(url, "SELECT seq FROM receipts ORDER BY seq")]
        # one intake receipt per document (4 per bundle) and one release per bundle
        assert seqs == list(range(1, 5 * BUNDLES + 1)), "receipt seqs have no gaps or duplicates"
        intake = query(
            url,
            "SELECT guid, count(*) FROM receipts WHERE return_status = '120' GROUP BY guid",
        )
        every_guid = {g for _i, m in plan for g in m.guids}
        assert {g for g, _n in intake} == every_guid
        assert {n for _g, n in intake} == {1}, "a replay added a receipt"
        released = query(
            url, "SELECT bundle_id, count(*) FROM receipts WHERE return_status = '800' GROUP BY 1"
        )
        assert len(released) == BUNDLES and {n for _b, n in released} == {1}
        # An inventory's receipts come in order: its 120, then its bundle's 800.
        order = query(
            url,
            "SELECT guid, array_agg(return_status ORDER BY seq) FROM receipts "
            "WHERE message_type = 'CEB622Message' GROUP BY guid",
        )
        assert {tuple(statuses) for _g, statuses in order} == {("120", "800")}

        # Readers paging while the feed filled saw every receipt of their codes, in seq order.
        for reader, role in zip(readers, ("agent", "platform"), strict=True):
            codes = KEYS[role][0]
            stored = query(
                url,
                "SELECT seq FROM receipts WHERE recipient = ANY(:codes) ORDER BY seq",
                codes=codes,
            )
            seen = [r["seq"] for r in reader.seen]
            assert reader.pages_while_filling > 3, "the reader read only after the traffic"
            assert seen == [s for (s,) in stored], role
            assert seen == sorted(set(seen))


def test_a_receipt_in_one_process_wakes_a_long_poll_in_another(tmp_path: Path) -> None:
    (c,) = consignments(1, first=910_000)
    with cluster(tmp_path, 2, SANDAN_MANIFEST_POLL_INTERVAL_SECONDS="30") as target:
        poller, sender = target.servers
        agent = {"Authorization": f"Bearer {target.keys['agent']}"}

        def long_poll() -> tuple[float, list[dict[str, Any]]]:
            answer = httpx.get(
                poller.url + "/v1/receipts",
                params={"after": 0, "wait": 25},
                headers=agent,
                timeout=60,
            )
            assert answer.status_code == 200, answer.text
            return time.monotonic(), answer.json()["receipts"]

        with ThreadPoolExecutor(1) as pool:
            polling = pool.submit(long_poll)
            time.sleep(1.0)  # the poll is waiting on the other server
            assert not polling.done()
            # only the inventory: an intake receipt, no decision (the bundle is pending)
            answer = httpx.post(
                sender.url + "/v1/messages",
                content=c.message(Kind.INVENTORY),
                headers=target.headers(SENDER_OF[Kind.INVENTORY]),
                timeout=60,
            )
            assert answer.json()["documents"][0]["status"] == "accepted", answer.text
            issued_at = time.monotonic()
            returned_at, found = polling.result()

        assert [(r["guid"], r["returnStatus"]) for r in found] == [(c.inventory["guid"], "120")]
        # woken by the other process's commit, long before the poll's own re-read
        assert returned_at - issued_at < 5.0
