"""The ``sandan`` command: serve, migrate, keys, certs, audit, sweep, relay, demo; and for
integrators, over HTTP to any server: send, tail, explain (``service.cli_client``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from service import cli_client, trust_cli
from service.config import Settings, get_settings
from service.logs import configure


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from service.serve import serve
    from service.store.migrate import upgrade

    if args.workers is not None:
        try:
            # the rest of the environment as read, with the command line's worker count
            settings = Settings(workers=args.workers)
        except ValidationError as error:
            print(f"sandan serve: {_reasons(error)}", file=sys.stderr)
            return 2
    # Once, here, before any worker starts: never one migration per worker.
    if settings.is_sqlite:
        upgrade(settings.database_url)
    serve(settings, args.host or settings.host, args.port or settings.port)
    return 0


def _reasons(error: ValidationError) -> str:
    return "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from service.store.migrate import upgrade

    upgrade(settings.database_url)
    print("database schema is up to date")
    return 0


def _sweep(_args: argparse.Namespace, settings: Settings) -> int:
    from service.engine.sweeper import sweep_once
    from service.store.database import Database

    async def run() -> int:
        db = Database(settings.database_url)
        try:
            return len(await sweep_once(db, settings))
        finally:
            await db.dispose()

    print(f"decided {asyncio.run(run())} overdue bundles")
    return 0


def _relay(_args: argparse.Namespace, settings: Settings) -> int:
    from service.queue.relay import run_relay
    from service.store.migrate import upgrade

    if settings.nats_url is None:
        print("sandan relay: set SANDAN_NATS_URL to the NATS server to relay to", file=sys.stderr)
        return 2
    if settings.is_sqlite:
        upgrade(settings.database_url)
    asyncio.run(run_relay(settings))
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    import httpx

    from service.demo.play import ServerMissing, run_demo, wait_for_server
    from service.store.migrate import upgrade

    try:
        wait_for_server(args.url, args.wait)
        if settings.is_sqlite:
            # the keys go into this database: one the server never opened has no tables yet
            upgrade(settings.database_url)
        return asyncio.run(run_demo(settings, args.url, args.consignments, args.seed))
    except ServerMissing as missing:
        print(f"sandan demo: {missing}", file=sys.stderr)
    except httpx.HTTPError as error:
        print(f"sandan demo: the server at {args.url} failed: {error}", file=sys.stderr)
    return 1


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sandan", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service (migrates SQLite on start)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="server processes sharing the port (default SANDAN_WORKERS, else one per core "
        "on PostgreSQL and 1 on SQLite, which cannot have more)",
    )
    serve.set_defaults(run=_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)

    trust_cli.add_commands(sub)

    sub.add_parser("sweep", help="decide bundles past their deadline once").set_defaults(run=_sweep)

    sub.add_parser(
        "relay", help="copy the manifest to the NATS JetStream stream until stopped"
    ).set_defaults(run=_relay)

    demo = sub.add_parser("demo", help="seed demo keys and play mixed traffic at a server")
    demo.add_argument(
        "--url",
        default=os.environ.get("SANDAN_URL", "http://127.0.0.1:8000"),
        help="the server to play at (default SANDAN_URL, else http://127.0.0.1:8000); it must "
        "use this command's database (SANDAN_DATABASE_URL), where the demo keys are made",
    )
    demo.add_argument(
        "--wait",
        type=float,
        default=60.0,
        help="seconds to wait for the server to answer (60): it may still be starting",
    )
    demo.add_argument("--consignments", type=int, default=60)
    demo.add_argument("--seed", type=int, default=11)
    demo.set_defaults(run=_demo)

    cli_client.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as error:
        print(f"sandan: {_reasons(error)}", file=sys.stderr)
        return 2
    # `keys`, `certs` and `demo` talk to a person: plain text; the long-running commands log JSON.
    interactive = args.command in (
        *("keys", "certs", "audit", "demo", "migrate", "sweep"),
        *("send", "tail", "explain"),
    )
    configure(settings.log_level, "text" if interactive else settings.log_format)
    result: int = args.run(args, settings)
    return result


if __name__ == "__main__":
    sys.exit(main())
