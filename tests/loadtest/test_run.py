"""A tiny generator run against a real server: the report's shape, every document accepted,
every consignment decided and its decision seen on the manifest."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from loadtest.driver import DriveConfig
from loadtest.run import Target, run_traffic
from loadtest.traffic import TrafficConfig, document_count, messages, plan
from tests.loadtest.conftest import Served

TOP_LEVEL = {
    "duration_s",
    "consignments",
    "documents",
    "messages",
    "docs_per_s",
    "messages_per_s",
    "ingest_latency_ms",
    "errors",
    "mistakes_planned",
    "decisions_per_s",
    "decision_latency_ms",
    "decisions",
    "rules_seen",
    "server_rss_mb",
    "timeline",
}


def _run(served: Served, config: TrafficConfig, drive: DriveConfig) -> dict[str, Any]:
    planned = plan(config)
    target = Target((served.server.url,), served.keys, server_pids=(served.server.pid,))
    return asyncio.run(
        run_traffic(
            target,
            planned,
            messages(config, planned),
            document_count(planned),
            drive,
            drain_seconds=20,
        )
    )


@pytest.mark.parametrize(("per_message", "first"), [(1, 1_000), (10, 2_000)])
def test_a_tiny_run_is_accepted_decided_and_reported(
    sandan: Served, per_message: int, first: int
) -> None:
    config = TrafficConfig(
        consignments=24,
        docs_per_message=per_message,
        spread=6,
        seed=first,
        first_number=first,
        mismatch_share=0.4,
    )
    report = _run(sandan, config, DriveConfig(connections=4, progress=False))
    total = document_count(plan(config))

    assert report.keys() >= TOP_LEVEL
    assert report["documents"] == {"sent": total, "accepted": total}
    assert report["errors"] == {}
    assert report["consignments"] == 24
    decisions = report["decisions"]
    assert decisions["bundles_decided"] == 24
    assert decisions["observed"] == 24
    assert "unexpected_decision" not in decisions
    # (no claim on "mistake_rule_absent": a 9710 bundle decides without its optional receipt,
    # so a receipt mistake may only show in a later entry, depending on arrival order)
    assert decisions.get("release", 0) + decisions.get("exception", 0) == 24
    for block in ("ingest_latency_ms", "decision_latency_ms"):
        figures = report[block]
        assert set(figures) == {"p50", "p95", "p99", "max", "count"}
        assert 0 <= figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["max"]
    assert report["decision_latency_ms"]["count"] == 24
    assert report["docs_per_s"] > 0 and report["decisions_per_s"] > 0
    assert sum(row["docs_per_s"] for row in report["timeline"]) == total
    assert sum(row["decisions_per_s"] for row in report["timeline"]) == 24
    assert report["server_rss_mb"]["peak"] > 0


def test_rate_limited_run_spreads_documents_over_time(sandan: Served) -> None:
    config = TrafficConfig(consignments=8, seed=5, first_number=3_000, spread=4)
    total = document_count(plan(config))
    report = _run(sandan, config, DriveConfig(connections=2, rate=40, progress=False))
    assert report["documents"]["accepted"] == total
    # 40 documents/s offered: the last one cannot go before (total - 1) / 40 s
    assert report["duration_s"] >= (total - 1) / 40
