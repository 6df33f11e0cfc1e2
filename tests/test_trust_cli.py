"""``sandan certs``, ``sandan keys`` (list, revoke, rotate, --expires) and ``sandan audit
verify`` (SPEC §11), run as an operator types them, against SQLite or PostgreSQL
(tests/databases.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from service.store.database import Database
from tests.databases import fresh_database
from tests.security.certs import certificate_pem
from tests.test_cli import sandan

CODE = "3301960001"


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as database_url:
        yield database_url


def sql(url: str, statement: str) -> list[Any]:
    async def run() -> list[Any]:
        db = Database(url)
        try:
            async with db.write() as conn:
                result = await conn.execute(text(statement))
                return list(result.all()) if result.returns_rows else []
        finally:
            await db.dispose()

    return asyncio.run(run())


def last_line(done: Any) -> str:
    assert done.returncode == 0, done.stderr
    return str(done.stdout.strip().splitlines()[-1])


def test_certs_add_list_revoke(url: str, tmp_path: Path) -> None:
    pem = tmp_path / "sender.pem"
    pem.write_bytes(certificate_pem(0x0B0C0D, name="Sender Ltd"))
    done = sandan(url, "certs", "add", "--code", CODE, str(pem), "--name", "2026 key")
    assert last_line(done) == "0b0c0d"  # as `openssl x509 -serial` prints it
    again = sandan(url, "certs", "add", "--code", CODE, str(pem))
    assert again.returncode == 1 and "already registered" in again.stderr
    assert last_line(sandan(url, "certs", "add", "--code", "3301960002", str(pem))) == "0b0c0d"

    listing = sandan(url, "certs", "list", "--code", CODE)
    assert listing.returncode == 0, listing.stderr
    assert "0b0c0d" in listing.stdout and "CN=Sender Ltd" in listing.stdout
    assert "2026 key" in listing.stdout and "3301960002" not in listing.stdout

    # compared as a number: case and leading zeros do not matter; every code's is revoked
    revoked = sandan(url, "certs", "revoke", "000B0C0D")
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.count("revoked at") == 2
    [(count,)] = sql(url, "SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL")
    assert count == 2
    unknown = sandan(url, "certs", "revoke", "ffff")
    assert unknown.returncode == 1 and "no certificate" in unknown.stderr


def test_certs_add_refuses_what_is_not_a_certificate(url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    done = sandan(url, "certs", "add", "--code", CODE, str(bad))
    assert done.returncode == 1
    assert "not an X.509 certificate" in done.stderr and "Traceback" not in done.stderr
    missing = sandan(url, "certs", "add", "--code", CODE, str(tmp_path / "absent.pem"))
    assert missing.returncode == 1 and "absent.pem" in missing.stderr
    assert sql(url, "SELECT count(*) FROM certificates") == [(0,)]


def test_keys_list_revoke_rotate_expires(url: str) -> None:
    created = sandan(url, *("keys", "create", "--code", CODE, "--role", "platform"))
    key = last_line(created)
    dated = sandan(
        url, *("keys", "create", "--code", CODE, "--role", "agent", "--expires", "2099-01-31")
    )
    last_line(dated)
    [(expires,)] = sql(url, "SELECT expires_at FROM api_keys WHERE id = 2")
    assert str(expires).startswith("2099-01-31 00:00:00")  # the start of that day, UTC
    past = sandan(
        url, *("keys", "create", "--code", CODE, "--role", "agent", "--expires", "2001-01-01")
    )
    assert past.returncode == 1 and "past" in past.stderr

    rotated = sandan(url, "keys", "rotate", "1", "--grace-hours", "2")
    new_key = last_line(rotated)
    assert new_key.startswith("sk_") and new_key != key
    [(replaced_by, old_expires)] = sql(
        url, "SELECT replaced_by, expires_at FROM api_keys WHERE id = 1"
    )
    assert replaced_by == 3 and old_expires is not None
    assert sandan(url, "keys", "rotate", "1").returncode == 1  # already rotated

    assert sandan(url, "keys", "revoke", "3").returncode == 0
    assert sandan(url, "keys", "revoke", "3").returncode == 1  # already revoked
    assert sandan(url, "keys", "revoke", "42").returncode == 1

    listing = sandan(url, "keys", "list")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].split()[:6] == ["id", "name", "code", "codes", "roles", "state"]
    by_id = {line.split()[0]: line for line in lines[1:]}
    assert "rotated" in by_id["1"] and "revoked" in by_id["3"] and "active" in by_id["2"]
    assert "2099-01-31 00:00:00Z" in by_id["2"]
    hashes = [h for (h,) in sql(url, "SELECT key_hash FROM api_keys")]
    for secret in (key, new_key, *hashes):
        assert secret not in listing.stdout


def test_audit_verify_names_the_first_record_that_does_not_match(url: str, tmp_path: Path) -> None:
    ok = sandan(url, "audit", "verify")
    assert last_line(ok).startswith("OK: 0 records")
    for n in range(3):
        last_line(
            sandan(url, "keys", "create", "--code", CODE, "--role", "platform", "--name", f"k{n}")
        )
    pem = tmp_path / "c.pem"
    pem.write_bytes(certificate_pem(0x99))
    last_line(sandan(url, "certs", "add", "--code", CODE, str(pem)))
    [(last_hash,)] = sql(url, "SELECT hash FROM audit_log WHERE id = 4")
    verified = sandan(url, "audit", "verify")
    assert last_line(verified) == f"OK: 4 records, last hash {last_hash}"

    sql(url, "UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    broken = sandan(url, "audit", "verify")
    assert broken.returncode == 1
    assert "BROKEN at record 2" in broken.stdout and "changed" in broken.stdout
