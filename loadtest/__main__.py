"""``python -m loadtest {run,bench,soak,ceiling,physics}``: see each command's --help."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any

from loadtest import arguments


def _run(args: argparse.Namespace) -> int:
    from loadtest.bench import drive_json, traffic_json
    from loadtest.machine import describe, machine
    from loadtest.plot import plot
    from loadtest.run import Target, run_traffic
    from loadtest.servers import provision_keys
    from loadtest.traffic import document_count, messages, plan

    keys = dict(args.key or [])
    if args.provision is not None:
        keys = {**provision_keys(args.provision), **keys}
    if not keys:
        print(
            "give --key ROLE=KEY for each sender role, or --provision DATABASE_URL", file=sys.stderr
        )
        return 2
    config = arguments.traffic(args)
    planned = plan(config)
    total = document_count(planned)
    outgoing: Any = messages(config, planned)
    if args.prerender:
        print(f"rendering {total} documents ...", flush=True)
        outgoing = list(outgoing)
    conditions = {"machine": machine()}
    print(describe(conditions), flush=True)
    urls = tuple(url.strip() for url in args.url.split(",") if url.strip())
    target = Target(
        urls, keys, decides=not args.no_decisions, server_pids=tuple(args.server_pid or [])
    )
    report = asyncio.run(run_traffic(target, planned, outgoing, total, arguments.drive(args)))
    result = {
        "kind": "run",
        "url": args.url,
        "traffic": traffic_json(config),
        "drive": drive_json(arguments.drive(args)),
        "conditions": conditions,
        **report,
    }
    out = arguments.out(args, "run")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(result, indent=2, default=str))
    plot({"sandan": report}, out / "report.png", f"run against {args.url}")
    summary = {k: v for k, v in result.items() if k not in ("timeline", "conditions")}
    print(json.dumps(summary, indent=2, default=str))
    print(f"report: {out / 'report.json'}  plot: {out / 'report.png'}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from loadtest.bench import TARGETS, BenchConfig, run_bench
    from loadtest.profile import fit_runs

    targets = tuple(args.targets.split(",")) if args.targets else TARGETS
    unknown = set(targets) - set(TARGETS)
    if unknown:
        print(f"unknown targets {sorted(unknown)}; choose from {TARGETS}", file=sys.stderr)
        return 2
    processes = arguments.processes(args)
    if processes is None:
        return 2
    sizes = [int(size) for size in str(args.docs_per_message).split(",")]
    out = arguments.out(args, "bench")
    summary: dict[str, Any] = {}
    profiles: dict[str, dict[str, Any]] = {}
    # One command for the whole benchmark: each message size is its own bench, in turn.
    for size in sizes:
        args.docs_per_message = size
        result = run_bench(
            BenchConfig(
                traffic=arguments.traffic(args),
                drive=arguments.drive(args),
                out=out if len(sizes) == 1 else out / f"{size}-per-message",
                database=None if args.sqlite else args.database,
                targets=targets,
                processes=processes,
                env=dict(args.env or []),
                keep_databases=args.keep_databases,
            )
        )
        summary[f"{size} per message"] = result["ratios"]
        sandan = result["runs"].get("sandan", {})
        if sandan.get("profile"):
            profiles[f"{size} per message"] = sandan["profile"]
    fixed = fit_runs(profiles)
    if fixed is not None:
        # batches of very different sizes: a firmer fixed cost than one run's windows
        summary["sandan_fixed_cost_per_batch"] = fixed
    if len(sizes) > 1:
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        print(json.dumps(summary, indent=2))
    return 0


def _soak(args: argparse.Namespace) -> int:
    from loadtest.soak import SoakConfig, run_soak

    processes = arguments.processes(args)
    if processes is None:
        return 2
    run_soak(
        SoakConfig(
            drive=arguments.drive(args),
            out=arguments.out(args, "soak"),
            database=None if args.sqlite else args.database,
            pending=args.pending,
            duration=args.duration,
            consignments=args.consignments,
            docs_per_message=args.docs_per_message,
            mismatch_share=args.mismatch_share,
            processes=processes,
            env=dict(args.env or []),
            keep_databases=args.keep_databases,
        )
    )
    return 0


def _ceiling(args: argparse.Namespace) -> int:
    from loadtest.ceiling.app import serve
    from service.config import get_settings
    from service.logs import configure

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    serve(settings, args.host, args.port)
    return 0


def _physics(args: argparse.Namespace) -> int:
    from loadtest.physics.app import serve

    serve(args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from loadtest.servers import DEFAULT_POSTGRES

    parser = argparse.ArgumentParser(
        prog="python -m loadtest",
        description="Sandan's traffic generator and benchmark. Reports (JSON + PNG) go to "
        "loadtest/out/<command>-<time>/ unless --out says otherwise.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="play traffic against a running service",
        description="Play consignments against a running Sandan: docs/s accepted, "
        "decisions/s, ingest latency, decision latency (completing document accepted -> "
        "manifest entry read by a long-polling operator key), errors by code.",
    )
    run.add_argument(
        "--url",
        default="http://127.0.0.1:8000",
        help="the service; several server processes as a comma-separated list",
    )
    run.add_argument(
        "--key",
        type=arguments.env,
        action="append",
        metavar="ROLE=KEY",
        help="API key per role: platform, payment, logistics, agent, and operator (reads "
        "the manifest); repeat",
    )
    run.add_argument(
        "--provision",
        metavar="DATABASE_URL",
        help="create the keys in the service's database instead (the demo enterprises)",
    )
    run.add_argument(
        "--no-decisions", action="store_true", help="do not follow the manifest (a ceiling)"
    )
    run.add_argument(
        "--prerender",
        action="store_true",
        help="build every message before the clock starts (else while sending)",
    )
    run.add_argument(
        "--server-pid",
        type=int,
        action="append",
        help="sample this server's RSS and CPU, with its worker processes (repeat for several "
        "servers)",
    )
    run.add_argument("--out", help="report directory")
    arguments.traffic_args(run, 2000)
    arguments.drive_args(run)
    run.set_defaults(func=_run)

    bench = sub.add_parser(
        "bench",
        help="physics, ceiling, baseline and sandan with the same traffic, in one run",
        description="Start the bare parse-and-validate endpoint (physics), the "
        "parse-and-validate-only ceiling, the one-transaction-per-document baseline and the "
        "real service, each on a fresh database, play the same traffic against each, and "
        "report Sandan's figures as ratios to them (every target's to physics), with the "
        "machine's conditions and a per-stage profile of Sandan's batches.",
    )
    bench.add_argument(
        "--database",
        default=DEFAULT_POSTGRES,
        help=f"PostgreSQL server to create the databases on (default {DEFAULT_POSTGRES})",
    )
    bench.add_argument("--sqlite", action="store_true", help="SQLite files instead")
    bench.add_argument(
        "--targets",
        help="comma-separated subset of physics,ceiling,baseline,sandan (default all)",
    )
    bench.add_argument(
        "--env",
        type=arguments.env,
        action="append",
        metavar="NAME=VALUE",
        help="extra environment for every server, e.g. SANDAN_INTAKE_BATCH_MAX_DOCUMENTS=1000",
    )
    arguments.processes_arg(bench)
    bench.add_argument("--keep-databases", action="store_true")
    bench.add_argument("--out", help="report directory")
    arguments.traffic_args(bench, 5000, several_sizes=True)
    arguments.drive_args(bench)
    bench.set_defaults(func=_bench)

    soak = sub.add_parser(
        "soak",
        help="hold a rate at zero, then at N pending bundles; throughput and memory",
        description="Start Sandan on a fresh database, hold the traffic for --duration "
        "seconds, seed --pending order-only bundles by bulk SQL (deadline a year away, so "
        "they stay pending), hold the same traffic again, and compare: throughput and the "
        "server's RSS over time.",
    )
    soak.add_argument("--database", default=DEFAULT_POSTGRES)
    soak.add_argument("--sqlite", action="store_true", help="SQLite file instead")
    soak.add_argument("--pending", type=int, default=1_000_000, help="bundles to seed (1e6)")
    soak.add_argument(
        "--duration",
        type=float,
        default=120,
        help="seconds per phase at --rate: sizes the traffic (default 120)",
    )
    soak.add_argument(
        "--consignments",
        type=int,
        default=20_000,
        help="consignments per phase when --rate is 0 (as fast as possible; default 20000)",
    )
    soak.add_argument("--docs-per-message", type=int, default=1)
    soak.add_argument("--mismatch-share", type=float, default=0.3)
    soak.add_argument("--env", type=arguments.env, action="append", metavar="NAME=VALUE")
    arguments.processes_arg(soak)
    soak.add_argument("--keep-databases", action="store_true")
    soak.add_argument("--out", help="report directory")
    arguments.drive_args(soak)
    soak.set_defaults(func=_soak)

    ceiling = sub.add_parser(
        "ceiling",
        help="serve the parse-and-validate-only endpoint (keys from SANDAN_DATABASE_URL)",
    )
    ceiling.add_argument("--host", default="127.0.0.1")
    ceiling.add_argument("--port", type=int, default=8001)
    ceiling.set_defaults(func=_ceiling)

    physics = sub.add_parser(
        "physics",
        help="serve the bare parse-and-validate endpoint (no keys, no database)",
        description="POST /v1/messages parsed by the service's hardened parser and checked "
        "against its compiled schemas, answered {documents, valid}; uvicorn on httptools "
        "and uvloop.",
    )
    physics.add_argument("--host", default="127.0.0.1")
    physics.add_argument("--port", type=int, default=8002)
    physics.set_defaults(func=_physics)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
