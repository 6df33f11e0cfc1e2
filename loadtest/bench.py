"""``python -m loadtest bench``: the ceilings, the baseline and Sandan, same traffic, one run.

- physics: the bare parse-and-validate endpoint (``loadtest.physics``): the service's parser
  and compiled schemas behind uvicorn on httptools + uvloop, nothing else. Every target's
  documents/s is reported as a share of it.
- ceiling: the parse-and-validate-only app (``loadtest.ceiling``): what ingest costs before
  the store. Our share of it says how much the store and the engine take.
- baseline: the real service with group commit off (``SANDAN_INTAKE_BATCH_MAX_DOCUMENTS=1``,
  ``SANDAN_INTAKE_BATCH_INTERVAL_MS=0``) and every document in its own message, so each
  document is its own transaction: the naive design the batcher exists to beat. (With
  batching off, a 100-document message would still be one transaction, hence the split.)
- sandan: the real service as configured.

Each gets a fresh database; the messages are rendered before the clock starts, so the
generator's XML building is not in the figures; the same consignments (same seed) go to all.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from loadtest.driver import DriveConfig
from loadtest.machine import describe, machine, postgres
from loadtest.plot import plot
from loadtest.run import Target, run_traffic
from loadtest.servers import (
    ceiling_command,
    fleet,
    fresh_database,
    physics_command,
    provision_keys,
    sandan_command,
)
from loadtest.signature_bench import verification_costs
from loadtest.traffic import Message, TrafficConfig, document_count, messages, plan
from service.config import Settings
from service.demo.play import KIND_ROLE

TARGETS = ("physics", "ceiling", "baseline", "sandan")
# Targets that store nothing: no database, no decisions to follow.
CEILINGS = ("physics", "ceiling")
BASELINE_ENV = {"SANDAN_INTAKE_BATCH_MAX_DOCUMENTS": "1", "SANDAN_INTAKE_BATCH_INTERVAL_MS": "0"}
# Settings that shape the figures, echoed in the report from the server's own configuration.
_SETTINGS = (
    "intake_batch_max_documents",
    "intake_batch_interval_ms",
    "intake_queue_limit",
    "batches_in_flight",
    "worker_count",
    "prepare_worker_count",
    "access_log",
    "log_level",
    "log_format",
)


@dataclass(frozen=True, slots=True)
class BenchConfig:
    traffic: TrafficConfig
    drive: DriveConfig
    out: Path
    # PostgreSQL server URL (any database on it) or None for SQLite files in ``out``
    database: str | None
    targets: tuple[str, ...] = TARGETS
    # server processes per target (on PostgreSQL), as behind a load balancer
    processes: int = 1
    # extra environment for every server (SANDAN_...)
    env: dict[str, str] = field(default_factory=dict)
    keep_databases: bool = False


def server_settings(env: dict[str, str], database: str | None = None) -> dict[str, Any]:
    """The settings the servers run with (``database``: their kind of database, which
    decides several defaults)."""
    values: dict[str, Any] = {k.removeprefix("SANDAN_").lower(): v for k, v in env.items()}
    if database is not None:
        values.setdefault("database_url", database)
    settings = Settings.model_validate(values)
    return {name: getattr(settings, name) for name in _SETTINGS}


def run_bench(config: BenchConfig) -> dict[str, Any]:
    config.out.mkdir(parents=True, exist_ok=True)
    planned = plan(config.traffic)
    total = document_count(planned)
    print(f"rendering {total} documents of {len(planned)} consignments ...", flush=True)
    traffic: list[Message] = list(messages(config.traffic, planned))
    single: list[Message] | None = None
    if "baseline" in config.targets and config.traffic.docs_per_message > 1:
        single = list(messages(replace(config.traffic, docs_per_message=1), planned))
    conditions: dict[str, Any] = {"machine": machine()}
    if config.database is not None:
        conditions["postgres"] = postgres(config.database)
    conditions["settings"] = server_settings(config.env, config.database)
    print(describe(conditions), flush=True)
    reports: dict[str, dict[str, Any]] = {}
    for name in config.targets:
        env = {**config.env, **(BASELINE_ENV if name == "baseline" else {})}
        outgoing = single if name == "baseline" and single is not None else traffic
        print(f"--- {name}: {len(outgoing)} messages", flush=True)
        reports[name] = _one(config, name, env, planned, outgoing, total)
        reports[name]["server_settings"] = server_settings(env, config.database)
        print(_line(name, reports[name]), flush=True)
    conditions["machine_after"] = machine()
    # SPEC §11: what verifying a signed message costs, beside the throughput it bounds.
    signatures = verification_costs()
    print(
        "signature verification per message: "
        + "; ".join(
            f"{name} " + ", ".join(f"{part} {us:.0f} µs" for part, us in parts.items())
            for name, parts in signatures.items()
        ),
        flush=True,
    )
    result = {
        "kind": "bench",
        "processes": config.processes,
        "traffic": traffic_json(config.traffic),
        "drive": drive_json(config.drive),
        "database": "postgresql" if config.database else "sqlite",
        "baseline_messages": "one document per message" if single is not None else "as traffic",
        "conditions": conditions,
        "ratios": ratios(reports),
        "signature_verification_us": signatures,
        "runs": reports,
    }
    (config.out / "bench.json").write_text(json.dumps(result, indent=2, default=str))
    plot(reports, config.out / "bench.png", _title(config))
    print(json.dumps(result["ratios"], indent=2))
    print(f"report: {config.out / 'bench.json'}  plot: {config.out / 'bench.png'}")
    return result


def _one(
    config: BenchConfig,
    name: str,
    env: dict[str, str],
    planned: list[Any],
    outgoing: list[Message],
    total: int,
) -> dict[str, Any]:
    if name == "physics":
        # no keys to check and nothing to store: any bearer will do, no database needed
        keys = {role: "physics" for role in (*KIND_ROLE.values(), "operator")}
        return _serve(config, name, physics_command(), env, keys, planned, outgoing, total)
    with fresh_database(
        config.database, f"sandan_bench_{name}", config.out, config.keep_databases
    ) as url:
        keys = provision_keys(url)
        command = ceiling_command() if name == "ceiling" else sandan_command()
        server_env = {"SANDAN_DATABASE_URL": url, **env}
        return _serve(config, name, command, server_env, keys, planned, outgoing, total)


def _serve(
    config: BenchConfig,
    name: str,
    command: list[str],
    env: dict[str, str],
    keys: dict[str, str],
    planned: list[Any],
    outgoing: list[Message],
    total: int,
) -> dict[str, Any]:
    log = config.out / f"{name}.log"
    with fleet(command, env, log, config.processes) as servers:
        target = Target(
            tuple(s.url for s in servers),
            keys,
            decides=name not in CEILINGS,
            server_pids=tuple(s.pid for s in servers if s.pid is not None),
        )
        report = asyncio.run(
            run_traffic(target, planned, outgoing, total, config.drive, directory=config.out / name)
        )
        report["processes"] = config.processes
        return report


def ratios(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Sandan's documents/s over the ceiling's and the baseline's (issue 6 targets: ≥ 0.6, ≥ 3),
    and every target's over the physics ceiling's."""
    ours = reports.get("sandan", {}).get("docs_per_s")
    out: dict[str, Any] = {}
    for other in ("ceiling", "baseline"):
        theirs = reports.get(other, {}).get("docs_per_s")
        out[f"sandan_over_{other}"] = round(ours / theirs, 3) if ours and theirs else None
    physics = reports.get("physics", {}).get("docs_per_s")
    for name, report in reports.items():
        if name != "physics":
            mine = report.get("docs_per_s")
            out[f"{name}_over_physics"] = round(mine / physics, 3) if mine and physics else None
    for name, report in reports.items():
        out[f"{name}_docs_per_s"] = report.get("docs_per_s")
    return out


def _line(name: str, r: dict[str, Any]) -> str:
    text = (
        f"{name}: {r['docs_per_s']} docs/s accepted over {r['duration_s']} s, "
        f"ingest p50/p95/p99 {r['ingest_latency_ms']['p50']}/{r['ingest_latency_ms']['p95']}/"
        f"{r['ingest_latency_ms']['p99']} ms"
    )
    if "decision_latency_ms" in r:
        d = r["decision_latency_ms"]
        text += f", {r['decisions_per_s']} decisions/s, decision p50/p99 {d['p50']}/{d['p99']} ms"
    if r["errors"]:
        text += f", errors {r['errors']}"
    if r.get("server_rss_mb"):
        text += f", peak RSS per process {r['server_rss_mb']['peak']} MB"
    cpu = r.get("cpu_pct_mean")
    if cpu:
        g = r["generator"]
        text += f"\n  CPU % of a core: server {cpu['server']}, generator ({g['driver']}) "
        text += f"python {cpu['generator']}"
        if g["driver"] == "wrk":
            text += f" + wrk {cpu['wrk']} (wrk over the run: {g['cpu_pct']})"
    if r.get("intake_batches"):
        b = r["intake_batches"]
        spent = ", ".join(f"{p} {s}" for p, s in b["seconds_per_phase"].items())
        text += (
            f"\n  {b['batches']} batches, busy {b['batchers_busy']} of the run, seconds: {spent}"
        )
    if r.get("profile"):
        text += "\n" + profile_text(r["profile"])
    return text


def profile_text(p: dict[str, Any]) -> str:
    stages = ", ".join(f"{k} {v}" for k, v in p["us_per_document"].items() if v is not None)
    fixed = p["fixed_cost"]
    return (
        f"  µs per document: {stages}\n"
        f"  {p['documents_per_batch']} documents and {p['statements_per_batch']} statements per "
        f"batch ({p['batch_ms_mean']} ms), {p['statement_texts']} distinct statement texts "
        f"({p['statement_texts_new']} new in the run); fixed cost per batch "
        f"{fixed['ms_per_batch']} ms + {fixed['us_per_document']} µs per document "
        f"({fixed['method']}, {fixed['points']} points, batch sizes {fixed['spread']})"
    )


def _title(config: BenchConfig) -> str:
    t = config.traffic
    return (
        f"bench: {t.consignments} consignments, {t.docs_per_message} doc(s)/message, "
        f"{config.drive.connections} connections, "
        f"{'PostgreSQL' if config.database else 'SQLite'}"
        + (f", {config.processes} server processes" if config.processes > 1 else "")
    )


def traffic_json(t: TrafficConfig) -> dict[str, Any]:
    return {
        "consignments": t.consignments,
        "docs_per_message": t.docs_per_message,
        "mismatch_share": t.mismatch_share,
        "mismatch_shares": dict(t.mismatch_shares) if t.mismatch_shares else None,
        "spread": t.spread,
        "seed": t.seed,
        "first_number": t.first_number,
    }


def drive_json(d: DriveConfig) -> dict[str, Any]:
    return {
        "driver": d.driver,
        "connections": d.connections,
        "rate": d.rate,
        "retries": d.retries,
        **({"wrk_threads": d.wrk_threads} if d.driver == "wrk" else {}),
    }
