"""Command-line arguments of ``python -m loadtest`` and what they turn into: the traffic, the
driver, the process count, the output folder."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from loadtest.driver import DriveConfig
from loadtest.traffic import TrafficConfig, all_mistakes

OUT = Path(__file__).resolve().parent / "out"

# Order numbers default to a value that grows with the clock, so runs against one
# long-lived database do not reuse each other's (ebpCode, orderNo).
_EPOCH_2026 = 1_767_225_600


def default_first_number() -> int:
    return int(datetime.now(UTC).timestamp() - _EPOCH_2026) * 10_000


def share(text: str) -> tuple[str, float]:
    code, _, value = text.partition("=")
    if not value:
        raise argparse.ArgumentTypeError("expected CODE=SHARE, e.g. PAYMENT_AMOUNT=0.05")
    return code.strip().upper(), float(value)


def env(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError("expected NAME=VALUE, e.g. SANDAN_LOG_LEVEL=WARNING")
    return name, value


def traffic_args(
    p: argparse.ArgumentParser, consignments: int, several_sizes: bool = False
) -> None:
    g = p.add_argument_group("traffic")
    g.add_argument(
        "--consignments",
        type=int,
        default=consignments,
        help=f"consignments to play, 3-4 documents each (default {consignments})",
    )
    if several_sizes:
        # one command for the whole benchmark: "1,100" runs it once per size
        g.add_argument(
            "--docs-per-message",
            default="1",
            metavar="N[,N...]",
            help="documents of one kind per message, 1..100; a list such as 1,100 runs the "
            "bench once per size (default 1)",
        )
    else:
        g.add_argument(
            "--docs-per-message",
            type=int,
            default=1,
            metavar="N",
            help="documents of one kind per message, 1..100 (default 1)",
        )
    g.add_argument(
        "--mismatch-share",
        type=float,
        default=0.3,
        metavar="SHARE",
        help="share of consignments with one mistake, spread evenly over the mismatch "
        "codes that apply to each regime (default 0.3)",
    )
    g.add_argument(
        "--mismatch",
        type=share,
        action="append",
        metavar="CODE=SHARE",
        help="explicit share for one mismatch code (repeat; replaces --mismatch-share). "
        f"Codes: {', '.join(all_mistakes())}",
    )
    g.add_argument(
        "--spread",
        type=int,
        default=200,
        help="a consignment's documents arrive spread over this many consignments' worth "
        "of traffic, in shuffled order (default 200)",
    )
    g.add_argument("--seed", type=int, default=11)
    g.add_argument(
        "--first-number",
        type=int,
        default=None,
        help="first order number (default: grows with the clock, so reruns never collide)",
    )


def drive_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sending")
    g.add_argument("--connections", type=int, default=16, help="concurrent connections (16)")
    g.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="documents/s to offer (open loop); 0 = as fast as answers come (default)",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.add_argument(
        "--driver",
        choices=("wrk", "python"),
        default=None,
        help="who sends: wrk (pre-rendered bodies, a Lua script; not with --rate) or this "
        "Python process (httpx); default wrk when /usr/bin/wrk exists and --rate is 0",
    )
    g.add_argument(
        "--wrk-threads", type=int, default=2, help="wrk threads (default 2, one per core here)"
    )


def processes_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        help="separate `sandan serve` processes per target, each on its own port, the "
        "connections spread over them as by a load balancer (PostgreSQL only; default 1). One "
        "`sandan serve` on PostgreSQL already runs a worker process per core on its port "
        "(SANDAN_WORKERS), so N here means N x workers processes",
    )


def processes(args: argparse.Namespace) -> int | None:
    """The process count, or None (after saying why) when it cannot be used."""
    if args.processes < 1:
        print("--processes must be at least 1", file=sys.stderr)
        return None
    if args.processes > 1 and args.sqlite:
        print("--processes > 1 needs PostgreSQL: SQLite is the one-process shape", file=sys.stderr)
        return None
    return int(args.processes)


def traffic(args: argparse.Namespace) -> TrafficConfig:
    return TrafficConfig(
        consignments=args.consignments,
        docs_per_message=args.docs_per_message,
        mismatch_share=args.mismatch_share,
        mismatch_shares=dict(args.mismatch) if args.mismatch else None,
        spread=args.spread,
        seed=args.seed,
        first_number=(
            args.first_number if args.first_number is not None else default_first_number()
        ),
    )


def driver(args: argparse.Namespace) -> str:
    from loadtest.wrk import available

    if args.driver == "wrk" and args.rate > 0:
        raise SystemExit("--driver wrk cannot hold a --rate (wrk has no schedule): use python")
    if args.driver is not None:
        return str(args.driver)
    return "wrk" if available() and args.rate == 0 else "python"


def drive(args: argparse.Namespace) -> DriveConfig:
    return DriveConfig(
        connections=args.connections,
        rate=args.rate,
        progress=not args.no_progress,
        driver=driver(args),
        wrk_threads=args.wrk_threads,
    )


def out(args: argparse.Namespace, command: str) -> Path:
    if args.out is not None:
        return Path(args.out)
    return OUT / f"{command}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
