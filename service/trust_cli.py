"""``sandan keys``, ``sandan certs`` and ``sandan audit`` (SPEC §6, §11).

Each command is one transaction against the configured database, audited as ``cli``; running
servers see a change within seconds (their key cache and certificate book refresh). What a
command needs is imported when it runs: every ``sandan`` command builds this parser.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from service.clock import as_utc, utcnow
from service.config import Settings
from service.errors import SandanError
from service.messages.registry import Role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from service.store.database import Database

ACTOR = "cli"
T = TypeVar("T")


def _in_database(
    settings: Settings, work: Callable[[Database], Awaitable[T]], *, migrate: bool = True
) -> T:
    from service.store.database import Database
    from service.store.migrate import upgrade

    if migrate and settings.is_sqlite:
        upgrade(settings.database_url)

    async def run() -> T:
        db = Database(settings.database_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def _writing(settings: Settings, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    async def write(db: Database) -> T:
        async with db.write() as conn:
            return await work(conn)

    return _in_database(settings, write)


def _refused(args: argparse.Namespace, error: SandanError) -> int:
    print(f"sandan {args.command} {args.action}: {error.message}", file=sys.stderr)
    return 1


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return as_utc(value).strftime("%Y-%m-%d %H:%M:%SZ")


def _table(header: Sequence[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    for line in [list(header), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


# --- keys ------------------------------------------------------------------------------


def _keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from service.security import key_lifecycle

    try:
        expires = key_lifecycle.parse_expiry(args.expires) if args.expires else None
        issued = _writing(
            settings,
            lambda conn: key_lifecycle.create(
                conn,
                codes=args.code,
                roles=args.role,
                name=args.name,
                expires_at=expires,
                actor=ACTOR,
                now=utcnow(),
            ),
        )
    except SandanError as error:
        return _refused(args, error)
    until = f", expires {_when(expires)}" if expires else ""
    print(f"key {issued.key_id} for {args.code[0]} with roles {', '.join(args.role)}{until}")
    print("(shown once):")
    print(issued.key)
    return 0


def _keys_list(args: argparse.Namespace, settings: Settings) -> int:
    from service.security import key_lifecycle
    from service.store import keys as key_store

    async def read(db: Database) -> list[dict[str, Any]]:
        async with db.read() as conn:
            return await key_store.listed(conn)

    rows = _in_database(settings, read)
    if not rows:
        print("no API keys")
        return 0
    now = utcnow()
    header = [
        *("id", "name", "code", "codes", "roles", "state"),
        *("created", "expires", "revoked", "last used", "replaced by"),
    ]
    _table(
        header,
        [
            [
                str(r["id"]),
                r["name"] or "-",
                r["code"],
                ",".join(r["codes"]),
                ",".join(r["roles"]),
                key_lifecycle.key_state(r, now),
                _when(r["created_at"]),
                _when(r["expires_at"]),
                _when(r["revoked_at"]),
                _when(r["last_used_at"]),
                str(r["replaced_by"] or "-"),
            ]
            for r in rows
        ],
    )
    return 0


def _keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from service.security import key_lifecycle

    try:
        _writing(
            settings,
            lambda conn: key_lifecycle.revoke(conn, args.key_id, actor=ACTOR, now=utcnow()),
        )
    except SandanError as error:
        return _refused(args, error)
    print(f"key {args.key_id} revoked (running servers refuse it within 5 s)")
    return 0


def _keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from service.security import key_lifecycle

    hours = settings.key_rotation_grace_hours if args.grace_hours is None else args.grace_hours
    now = utcnow()
    try:
        expires = key_lifecycle.parse_expiry(args.expires) if args.expires else None
        issued = _writing(
            settings,
            lambda conn: key_lifecycle.rotate(
                conn,
                args.key_id,
                grace=timedelta(hours=hours),
                actor=ACTOR,
                now=now,
                expires_at=expires,
            ),
        )
    except SandanError as error:
        return _refused(args, error)
    print(f"key {issued.key_id} replaces key {args.key_id}, which works until at most")
    print(f"{_when(now + timedelta(hours=hours))}; the new key (shown once):")
    print(issued.key)
    return 0


# --- certificates ----------------------------------------------------------------------


def _certs_add(args: argparse.Namespace, settings: Settings) -> int:
    from service.security import certificate_registry

    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        print(f"sandan certs add: {error}", file=sys.stderr)
        return 1
    try:
        row = _writing(
            settings,
            lambda conn: certificate_registry.add(
                conn, code=args.code, data=data, name=args.name, actor=ACTOR, now=utcnow()
            ),
        )
    except SandanError as error:
        return _refused(args, error)
    print(f"registered {row['algorithm']} certificate for {row['code']}: {row['subject']}")
    print(f"valid {_when(row['not_before'])} to {_when(row['not_after'])}; serial:")
    print(row["serial"])
    return 0


def _certs_list(args: argparse.Namespace, settings: Settings) -> int:
    from service.store import certificates as certificate_store

    async def read(db: Database) -> list[dict[str, Any]]:
        async with db.read() as conn:
            return await certificate_store.listed(conn, args.code)

    rows = _in_database(settings, read)
    if not rows:
        print("no certificates")
        return 0
    _table(
        ("serial", "code", "name", "algorithm", "not before", "not after", "revoked", "subject"),
        [
            [
                r["serial"],
                r["code"],
                r["name"] or "-",
                r["algorithm"],
                _when(r["not_before"]),
                _when(r["not_after"]),
                _when(r["revoked_at"]),
                r["subject"],
            ]
            for r in rows
        ],
    )
    return 0


def _certs_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from service.security import certificate_registry

    try:
        rows = _writing(
            settings,
            lambda conn: certificate_registry.revoke(
                conn, serial=args.serial, code=args.code, actor=ACTOR, now=utcnow()
            ),
        )
    except SandanError as error:
        return _refused(args, error)
    for row in rows:
        print(f"certificate {row['serial']} of {row['code']} revoked at {_when(row['revoked_at'])}")
    return 0


# --- audit -----------------------------------------------------------------------------


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from service.store import audit
    from service.store.audit_chain import check

    async def verify(db: Database) -> Any:
        async with db.read() as conn:
            return await check(audit.chain(conn))

    result = _in_database(settings, verify)
    if result.ok:
        print(f"OK: {result.count} records, last hash {result.last_hash}")
        return 0
    print(f"BROKEN at record {result.broken_at}: {result.problem}")
    print(f"{result.count} records before it hold; the last of them hashes to {result.last_hash}")
    return 1


# --- the parser ------------------------------------------------------------------------


def _key_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a key id is a number (see sandan keys list)") from None


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    create = keys_sub.add_parser("create", help="create a key; prints it as the last line")
    create.add_argument(
        "--code",
        action="append",
        required=True,
        help="enterprise code the key acts for; repeat to let it act for more codes",
    )
    create.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", default=None)
    create.add_argument(
        "--expires",
        default=None,
        metavar="DATE",
        help="ISO date (the key stops at the start of that day, UTC) or date and time",
    )
    create.set_defaults(run=_keys_create)
    keys_sub.add_parser("list", help="every key, never the key itself").set_defaults(run=_keys_list)
    revoke = keys_sub.add_parser("revoke", help="revoke a key: 401 from then on")
    revoke.add_argument("key_id", type=_key_id, metavar="KEY_ID")
    revoke.set_defaults(run=_keys_revoke)
    rotate = keys_sub.add_parser(
        "rotate",
        help="a new key like KEY_ID, printed as the last line; the old one keeps "
        "working for the grace period",
    )
    rotate.add_argument("key_id", type=_key_id, metavar="KEY_ID")
    rotate.add_argument(
        "--grace-hours",
        type=float,
        default=None,
        metavar="N",
        help="how long the old key keeps working (default SANDAN_KEY_ROTATION_GRACE_HOURS, 24)",
    )
    rotate.add_argument("--expires", default=None, metavar="DATE", help="the new key's expiry")
    rotate.set_defaults(run=_keys_rotate)

    certs = sub.add_parser("certs", help="manage senders' signing certificates")
    certs_sub = certs.add_subparsers(dest="action", required=True)
    add = certs_sub.add_parser("add", help="register a certificate; prints its serial last")
    add.add_argument("--code", required=True, help="the enterprise code (copCode) it signs for")
    add.add_argument("--name", default=None)
    add.add_argument("file", metavar="FILE.pem")
    add.set_defaults(run=_certs_add)
    listing = certs_sub.add_parser("list", help="registered certificates, revoked ones too")
    listing.add_argument("--code", default=None)
    listing.set_defaults(run=_certs_list)
    revoke_cert = certs_sub.add_parser(
        "revoke", help="revoke a serial (hex, any case) for every code that registered it"
    )
    revoke_cert.add_argument("serial", metavar="SERIAL")
    revoke_cert.add_argument("--code", default=None, help="only this code's registration")
    revoke_cert.set_defaults(run=_certs_revoke)

    audit_parser = sub.add_parser("audit", help="the audit log")
    audit_sub = audit_parser.add_subparsers(dest="action", required=True)
    audit_sub.add_parser(
        "verify", help="recompute the hash chain; exit 1 naming the first record that breaks it"
    ).set_defaults(run=_audit_verify)
