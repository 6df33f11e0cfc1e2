"""Four server processes on one PostgreSQL, overlapping traffic: one decision per bundle."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from tests.databases import on_postgres
from tests.production.cluster import cluster, consignments, messages, post_all
from tests.production.inspect import query

pytestmark = pytest.mark.skipif(
    not on_postgres(),
    reason="many servers on one database is the PostgreSQL deployment: "
    "set SANDAN_TEST_DATABASE_URL=postgresql+asyncpg://...",
)

BUNDLES = 5000
SERVERS = 4


def test_four_servers_decide_each_bundle_once(tmp_path: Path) -> None:
    rng = random.Random(2026)
    items = consignments(BUNDLES)
    plan = [(rng.randrange(SERVERS), m) for m in messages(items, 40, rng)]
    # A quarter of the messages are sent again to another server at the same time: the
    # same documents race through different processes' batches.
    plan += [((i + rng.randrange(1, SERVERS)) % SERVERS, m) for i, m in plan if rng.random() < 0.25]
    rng.shuffle(plan)

    with cluster(tmp_path, SERVERS) as target:
        results = post_all(target, plan, workers=24)
        url = target.url

        statuses = Counter(status for _m, status, _b in results)
        assert statuses == {200: len(plan)}, statuses
        accepted: Counter[str] = Counter()
        for _message, _status, body in results:
            assert body is not None
            for doc in body["documents"]:
                assert doc["status"] in ("accepted", "duplicate"), doc
                if doc["status"] == "accepted":
                    accepted[doc["guid"]] += 1
        every_guid = {g for _i, m in plan for g in m.guids}
        assert len(every_guid) == 4 * BUNDLES
        # each document accepted exactly once, however many servers it went to
        assert set(accepted) == every_guid and set(accepted.values()) == {1}

        assert query(url, "SELECT count(*) FROM documents") == [(4 * BUNDLES,)]
        per_bundle = query(
            url,
            "SELECT b.id, count(m.seq) FROM bundles b LEFT JOIN manifest m "
            "ON m.bundle_id = b.id AND m.by = 'engine' GROUP BY b.id",
        )
        assert len(per_bundle) == BUNDLES
        assert {n for _id, n in per_bundle} == {1}, "every bundle decided exactly once"
        seqs = [s for (s,) in query(url, "SELECT seq FROM manifest ORDER BY seq")]
        assert seqs == list(range(1, BUNDLES + 1)), "manifest seq has no gaps or duplicates"
        states = dict(query(url, "SELECT state, count(*) FROM bundles GROUP BY state"))
        assert states == {"released": BUNDLES}
