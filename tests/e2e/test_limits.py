"""Per-key rate limits over HTTP (SPEC §11): over the limit, 429 with Retry-After and
RATE_LIMITED, nothing stored; other keys and GET routes unaffected; on PostgreSQL the limit
holds across server processes.

The rates are low and the bursts sent fast, so refill during a test is small; every bound
on what got through adds the refill the elapsed time allows, rather than assuming none.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from service.demo.consignments import Consignment, message_of
from service.messages.registry import Kind
from tests.databases import on_postgres
from tests.e2e.conftest import KEYS, deploy, fresh

# Two keys of one platform: the limit is per key, not per enterprise.
LIMITED_KEYS = {**KEYS, "platform2": KEYS["platform"]}


def _assert_refused(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    problem = response.json()
    assert problem["code"] == "RATE_LIMITED"
    after = int(response.headers["Retry-After"])
    assert after >= 1
    assert problem["retryAfter"] == after
    return after


def test_over_the_limit_a_key_gets_429_and_nothing_is_stored(tmp_path: Path) -> None:
    rate = 2
    with deploy(
        tmp_path, LIMITED_KEYS, SANDAN_WORKERS="1", SANDAN_RATE_LIMIT_DOCUMENTS_PER_SECOND=str(rate)
    ) as d:
        sent = [fresh() for _ in range(10)]
        started = time.monotonic()
        answers = [d.post(c.message(Kind.ORDER), "platform") for c in sent]
        elapsed = time.monotonic() - started

        accepted = [c for c, r in zip(sent, answers, strict=True) if r.status_code == 200]
        refused = [(c, r) for c, r in zip(sent, answers, strict=True) if r.status_code != 200]
        assert answers[0].status_code == answers[1].status_code == 200  # the burst
        assert len(accepted) <= rate + rate * elapsed + 1e-9, (len(accepted), elapsed)
        assert refused, elapsed
        for c, response in refused:
            _assert_refused(response)
            assert d.bundle(c.key).status_code == 404  # nothing stored
        for c in accepted:
            # GET routes are not limited: the exhausted key still reads its bundles
            assert d.bundle(c.key, role="platform").status_code == 200

        # Other keys, even of the same enterprise, have buckets of their own.
        other = fresh()
        assert d.send(other, Kind.ORDER, role="platform2")["status"] == "accepted"
        assert d.send(accepted[0], Kind.PAYMENT)["status"] == "accepted"

        # Waiting as long as Retry-After says is enough.
        late, response = refused[-1]
        time.sleep(_assert_refused(d.post(late.message(Kind.ORDER), "platform")))
        assert d.send(late, Kind.ORDER, role="platform")["status"] == "accepted"


def test_a_message_larger_than_the_burst_goes_when_the_bucket_is_full(tmp_path: Path) -> None:
    with deploy(tmp_path, SANDAN_WORKERS="1", SANDAN_RATE_LIMIT_DOCUMENTS_PER_SECOND="2") as d:
        big: list[Consignment] = [fresh() for _ in range(5)]
        started = time.monotonic()
        response = d.post(message_of(big, Kind.ORDER), "platform")
        assert response.status_code == 200, response.text
        assert [doc["status"] for doc in response.json()["documents"]] == ["accepted"] * 5
        # 3 in debt: one more document waits (1 - -3) / 2 = 2 s, less what refilled since
        after = _assert_refused(d.post(fresh().message(Kind.ORDER), "platform"))
        if time.monotonic() - started < 1:
            assert after == 2


def _requests_by_worker(directory: Path, pids: list[int]) -> dict[int, float]:
    """POST /v1/messages answered by each worker, from its histogram file."""
    answered: dict[int, float] = {}
    for pid in pids:
        path = directory / f"histogram_{pid}.db"
        metrics = MultiProcessCollector.merge([str(path)] if path.exists() else [])  # type: ignore[no-untyped-call]
        answered[pid] = sum(
            s.value
            for m in metrics
            for s in m.samples
            if s.name == "sandan_http_request_seconds_count" and s.labels.get("method") == "POST"
        )
    return answered


@pytest.mark.skipif(not on_postgres(), reason="several server processes need PostgreSQL")
def test_the_limit_holds_across_server_processes(tmp_path: Path) -> None:
    rate = 5
    with deploy(
        tmp_path, LIMITED_KEYS, SANDAN_WORKERS="2", SANDAN_RATE_LIMIT_DOCUMENTS_PER_SECOND=str(rate)
    ) as d:
        workers = [p for p in d.server.children() if "spawn_main" in " ".join(p.cmdline())]
        assert len(workers) == 2, d.server.log()[-2000:]
        url = d.server.url + "/v1/messages"
        # No keep-alive: each request on a connection of its own, which the kernel hands to
        # either worker.
        client = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=30)

        def post_alone(body: bytes, role: str = "platform") -> int:
            headers = d.headers(role, **{"Content-Type": "application/xml"})
            return client.post(url, content=body, headers=headers).status_code

        # Warm both workers up (schemas, pools, the statement) with another key's bucket.
        warm = [fresh().message(Kind.ORDER) for _ in range(20)]
        with ThreadPoolExecutor(8) as pool:
            assert 200 in list(pool.map(post_alone, warm, ["platform2"] * len(warm)))

        bodies = [fresh().message(Kind.ORDER) for _ in range(40)]
        with ThreadPoolExecutor(8) as pool:
            started = time.monotonic()
            statuses = list(pool.map(post_alone, bodies))
            elapsed = time.monotonic() - started
        client.close()
        assert set(statuses) <= {200, 429}
        # One bucket for both: a burst of 5 plus what refilled (a bucket each would let
        # 2 x 5 through, plus twice the refill).
        assert statuses.count(200) <= rate + rate * elapsed + 1e-9, (statuses, elapsed)
        directory = Path(workers[0].environ()["PROMETHEUS_MULTIPROC_DIR"])
        answered = _requests_by_worker(directory, [w.pid for w in workers])
        assert all(answered.values()), answered  # both took part
