"""``python -m loadtest soak``: the same traffic at zero and at N pending bundles.

One server, one fresh database. Phase 1 plays the traffic on the empty database; then N
order-only bundles are seeded by bulk SQL (``loadtest.seed``), so the bundles table and its
indexes are N rows bigger, as on a Double 11 evening when orders run hours ahead of their
waybills; phase 2 plays fresh traffic of the same shape. The report compares the two phases'
throughput and shows the server's RSS over time (issue 6: within 15 %, ≤ 300 MB per worker).
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtest.bench import drive_json, server_settings, traffic_json
from loadtest.driver import DriveConfig
from loadtest.machine import describe, machine, postgres
from loadtest.plot import plot
from loadtest.run import Target, run_traffic
from loadtest.seed import seed_pending
from loadtest.servers import fleet, fresh_database, provision_keys, sandan_command
from loadtest.traffic import TrafficConfig, document_count, messages, plan

# Documents per consignment on average over the default regime mix (3.9): sizes a phase.
_DOCS_PER_CONSIGNMENT = 3.9


@dataclass(frozen=True, slots=True)
class SoakConfig:
    drive: DriveConfig
    out: Path
    database: str | None
    pending: int = 1_000_000
    # seconds per phase at ``drive.rate``; with rate 0 (as fast as possible) ``consignments``
    duration: float = 120.0
    consignments: int = 20_000
    docs_per_message: int = 1
    mismatch_share: float = 0.3
    # server processes (on PostgreSQL), as behind a load balancer
    processes: int = 1
    env: dict[str, str] = field(default_factory=dict)
    keep_databases: bool = False


def phase_traffic(config: SoakConfig, phase: int) -> TrafficConfig:
    count = (
        math.ceil(config.drive.rate * config.duration / _DOCS_PER_CONSIGNMENT)
        if config.drive.rate > 0
        else config.consignments
    )
    return TrafficConfig(
        consignments=max(count, 1),
        docs_per_message=config.docs_per_message,
        mismatch_share=config.mismatch_share,
        seed=11 + phase,
        # the phases' order numbers never meet
        first_number=1 + phase * 10**9,
    )


def run_soak(config: SoakConfig) -> dict[str, Any]:
    config.out.mkdir(parents=True, exist_ok=True)
    conditions: dict[str, Any] = {"machine": machine()}
    if config.database is not None:
        conditions["postgres"] = postgres(config.database)
    conditions["settings"] = server_settings(config.env, config.database)
    print(describe(conditions), flush=True)
    phases: dict[str, dict[str, Any]] = {}
    with fresh_database(config.database, "sandan_soak", config.out, config.keep_databases) as url:
        keys = provision_keys(url)
        env = {"SANDAN_DATABASE_URL": url, **config.env}
        log = config.out / "sandan.log"
        with fleet(sandan_command(), env, log, config.processes) as servers:
            target = Target(
                tuple(s.url for s in servers),
                keys,
                server_pids=tuple(s.pid for s in servers if s.pid is not None),
            )
            phases["0 pending"] = _phase(config, target, 0)
            print(f"seeding {config.pending} pending bundles ...", flush=True)
            seeded = asyncio.run(seed_pending(url, config.pending))
            print(f"seeded {seeded.rows} rows in {seeded.seconds:.1f} s", flush=True)
            phases[f"{config.pending} pending"] = _phase(config, target, 1)
    zero, loaded = phases.values()
    result = {
        "kind": "soak",
        "drive": drive_json(config.drive),
        "traffic": traffic_json(phase_traffic(config, 1)),
        "database": "postgresql" if config.database else "sqlite",
        "pending": config.pending,
        "processes": config.processes,
        "seeding": {"rows": seeded.rows, "seconds": round(seeded.seconds, 1)},
        "conditions": {**conditions, "machine_after": machine()},
        "throughput_ratio_pending_over_zero": (
            round(loaded["docs_per_s"] / zero["docs_per_s"], 3) if zero["docs_per_s"] else None
        ),
        "peak_rss_mb": max(
            (p.get("server_rss_mb", {}).get("peak", 0) for p in phases.values()), default=None
        ),
        "phases": phases,
    }
    (config.out / "soak.json").write_text(json.dumps(result, indent=2, default=str))
    plot(phases, config.out / "soak.png", f"soak: 0 vs {config.pending} pending bundles")
    summary = {k: v for k, v in result.items() if k not in ("phases", "conditions")}
    print(json.dumps(summary, indent=2, default=str))
    print(f"report: {config.out / 'soak.json'}  plot: {config.out / 'soak.png'}")
    return result


def _phase(config: SoakConfig, target: Target, phase: int) -> dict[str, Any]:
    traffic = phase_traffic(config, phase)
    planned = plan(traffic)
    total = document_count(planned)
    print(f"phase {phase + 1}: rendering {total} documents ...", flush=True)
    outgoing = list(messages(traffic, planned))
    report = asyncio.run(run_traffic(target, planned, outgoing, total, config.drive))
    print(
        f"phase {phase + 1}: {report['docs_per_s']} docs/s, ingest p99 "
        f"{report['ingest_latency_ms']['p99']} ms, decision p99 "
        f"{report.get('decision_latency_ms', {}).get('p99')} ms, RSS "
        f"{report.get('server_rss_mb')}",
        flush=True,
    )
    return report
