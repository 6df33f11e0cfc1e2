"""A long poll held by one server process wakes when another process decides (PostgreSQL
LISTEN/NOTIFY), not only at its next periodic re-read."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from service.messages.registry import BUNDLE_KINDS
from tests.databases import on_postgres
from tests.e2e.conftest import SENDER_OF
from tests.production.cluster import cluster, consignments

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="wake-ups between processes are PostgreSQL's LISTEN/NOTIFY"
)

# Far longer than the wake-up may take: without it, the poll returns only at its re-read.
POLL_INTERVAL = 30.0


def test_a_decision_in_one_process_wakes_a_long_poll_in_another(tmp_path: Path) -> None:
    (c,) = consignments(1, first=77)
    env = {"SANDAN_MANIFEST_POLL_INTERVAL_SECONDS": str(POLL_INTERVAL)}
    with cluster(tmp_path, 2, **env) as target:
        poller, decider = target.servers
        operator = {"Authorization": f"Bearer {target.keys['operator']}"}

        def long_poll() -> tuple[float, list[dict[str, object]]]:
            began = time.monotonic()
            answer = httpx.get(
                poller.url + "/v1/manifest",
                params={"after": 0, "wait": 25},
                headers=operator,
                timeout=60,
            )
            assert answer.status_code == 200, answer.text
            return time.monotonic() - began, answer.json()["entries"]

        with ThreadPoolExecutor(1) as pool:
            began = time.monotonic()
            polling = pool.submit(long_poll)
            time.sleep(1.0)  # the poll is waiting on the other server
            assert not polling.done()
            for kind in BUNDLE_KINDS:
                answer = httpx.post(
                    decider.url + "/v1/messages",
                    content=c.message(kind),
                    headers=target.headers(SENDER_OF[kind]),
                    timeout=60,
                )
                assert answer.json()["documents"][0]["status"] == "accepted", answer.text
            decided_at = time.monotonic()
            waited, entries = polling.result()

        assert [(e["orderNo"], e["decision"]) for e in entries] == [(c.order["orderNo"], "release")]
        # woken by the other process's commit (within a second or so of it), long before the
        # poll's own re-read at the end of its 25 s wait
        assert waited - (decided_at - began) < 5.0, waited
