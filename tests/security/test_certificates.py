"""Registering, listing and revoking certificates, and the process-wide certificate book
(SPEC §11: an add or revoke takes effect in every running process within 5 seconds)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest

from service.clock import utcnow
from service.errors import CertificateExists, CertificateInvalid, InvalidRequest, NotFound
from service.security import certificate_registry as registry
from service.security.certificate_book import CertificateBook
from service.security.certificates import load_certificate
from service.store import audit
from service.store import certificates as store
from service.store.audit_chain import check
from service.store.database import Database
from tests.security.certs import NOW, certificate_pem

CODE = "3301960001"
OTHER = "3301960002"


async def add(db: Database, code: str, pem: bytes, name: str | None = None) -> dict[str, Any]:
    async with db.write() as conn:
        return await registry.add(conn, code=code, data=pem, name=name, actor="t", now=utcnow())


async def revoke(db: Database, serial: str, code: str | None = None) -> list[dict[str, Any]]:
    async with db.write() as conn:
        return await registry.revoke(conn, serial=serial, code=code, actor="t", now=utcnow())


async def eventually(probe: Any, accept: Any, within: float = 5.0) -> Any:
    """Await ``probe()`` until ``accept`` likes it: the answer, or fail after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within} s; last value: {value!r}")
        await asyncio.sleep(0.02)


async def test_add_stores_what_verification_needs_and_audits(db: Database) -> None:
    pem = certificate_pem(0x0A1B, name="Hangzhou Sender")
    row = await add(db, CODE, pem, "2026 signing key")
    assert row["serial"] == "0a1b"  # openssl's form: whole bytes, a leading zero kept
    assert row["serial_number"] == "a1b"
    assert row["algorithm"] == "rsa" and row["subject"] == "CN=Hangzhou Sender"
    assert row["name"] == "2026 signing key" and row["revoked_at"] is None
    book = CertificateBook(db, refresh_seconds=2.0)
    [cert] = await book.for_codes([CODE])
    assert cert.info == load_certificate(pem)  # the DER, dates and digest read back exactly
    assert cert.code == CODE and cert.name == "2026 signing key"
    async with db.read() as conn:
        [record] = await audit.log_page(conn, 10)
    assert record["action"] == "certificate.add" and record["subject"] == "certificate 0a1b"
    assert record["detail"]["code"] == CODE


async def test_the_same_serial_twice_for_a_code_is_refused(db: Database) -> None:
    pem = certificate_pem(77)
    await add(db, CODE, pem)
    with pytest.raises(CertificateExists):
        await add(db, CODE, pem)
    # another code may register it (a group sharing one certificate), and one code may hold
    # several at once (rollover)
    await add(db, OTHER, pem)
    await add(db, CODE, certificate_pem(78))
    async with db.read() as conn:
        assert len(await store.listed(conn, CODE)) == 2
        assert len(await store.listed(conn)) == 3


@pytest.mark.parametrize(
    "data",
    [b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
)
async def test_what_is_not_a_certificate_is_refused(db: Database, data: bytes) -> None:
    with pytest.raises(CertificateInvalid):
        await add(db, CODE, data)
    async with db.read() as conn:
        assert await store.listed(conn) == []
        assert await audit.log_page(conn, 10) == []


async def test_a_key_sandan_cannot_verify_with_is_refused(db: Database) -> None:
    with pytest.raises(CertificateInvalid, match="unsupported public key"):
        await add(db, CODE, certificate_pem(5, curve=True))


async def test_revoke_matches_the_serial_as_a_number_for_every_code(db: Database) -> None:
    pem = certificate_pem(0x0A1B)
    await add(db, CODE, pem)
    await add(db, OTHER, pem)
    rows = await revoke(db, "000A1B")
    assert {r["code"] for r in rows} == {CODE, OTHER}
    assert all(r["revoked_at"] is not None for r in rows)
    first = rows[0]["revoked_at"]
    again = await revoke(db, "a1b")  # nothing new: the first revocation time stands
    assert again[0]["revoked_at"] == first
    async with db.read() as conn:
        actions = [r["action"] for r in await audit.log_page(conn, 10)]
        assert actions == ["certificate.revoke", "certificate.add", "certificate.add"]
        assert (await check(audit.chain(conn))).ok


async def test_revoke_for_one_code_leaves_the_others(db: Database) -> None:
    pem = certificate_pem(99)
    await add(db, CODE, pem)
    await add(db, OTHER, pem)
    [row] = await revoke(db, "63", code=OTHER)
    assert row["code"] == OTHER
    book = CertificateBook(db, 2.0)
    [kept] = await book.for_codes([CODE])
    assert kept.revoked_at is None


async def test_revoking_an_unknown_or_malformed_serial(db: Database) -> None:
    with pytest.raises(NotFound):
        await revoke(db, "abcdef")
    with pytest.raises(InvalidRequest):
        await revoke(db, "not-hex")


async def test_the_book_keeps_revoked_and_expired_certificates_so_the_verifier_can_say_why(
    db: Database,
) -> None:
    expired = certificate_pem(
        1, not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=35)
    )
    await add(db, CODE, expired)
    await add(db, CODE, certificate_pem(2))
    await add(db, CODE, certificate_pem(3))
    await add(db, OTHER, certificate_pem(4))
    await revoke(db, "03")
    book = CertificateBook(db, 2.0)
    certs = {c.info.serial: c for c in await book.for_codes([CODE, CODE, "nobody"])}
    assert set(certs) == {"01", "02", "03"}
    now = utcnow()
    assert not certs["01"].active_at(now)  # expired
    assert certs["02"].active_at(now)
    assert certs["03"].revoked_at is not None and not certs["03"].active_at(now)
    assert (await book.for_codes([OTHER, CODE]))[0].code == OTHER
    assert await book.for_codes([]) == ()


async def test_a_change_in_another_process_reaches_the_book_within_its_refresh(
    db: Database, other_db: Database
) -> None:
    """Two processes: one registers and revokes, the other's book sees both in time."""
    refresh = 0.3
    book = CertificateBook(other_db, refresh)
    assert await book.for_codes([CODE]) == ()
    started = time.monotonic()
    await add(db, CODE, certificate_pem(0x51))
    [seen] = await eventually(lambda: book.for_codes([CODE]), lambda certs: len(certs) == 1)
    assert seen.revoked_at is None
    await revoke(db, "51")
    await eventually(lambda: book.for_codes([CODE]), lambda certs: certs[0].revoked_at is not None)
    # each change seen within about one refresh (generous for a loaded machine; the
    # guarantee is 5 s)
    assert time.monotonic() - started < 2 * refresh + 2.0


async def test_invalidate_makes_this_processes_change_visible_at_once(db: Database) -> None:
    book = CertificateBook(db, refresh_seconds=3600)
    assert await book.for_codes([CODE]) == ()
    await add(db, CODE, certificate_pem(0x61))
    assert await book.for_codes([CODE]) == ()  # the copy is trusted for its refresh time
    book.invalidate()
    assert len(await book.for_codes([CODE])) == 1


class CountingBook(CertificateBook):
    def __init__(self, db: Database, refresh: float) -> None:
        super().__init__(db, refresh)
        self.reloads = 0
        self.reads = 0

    async def _reload(self, previous: Any) -> Any:
        self.reloads += 1
        snapshot = await super()._reload(previous)
        if snapshot is not previous and snapshot.by_code:
            self.reads += 1
        return snapshot


async def test_callers_finding_the_copy_old_wait_for_one_reload(db: Database) -> None:
    await add(db, CODE, certificate_pem(0x71))
    book = CountingBook(db, refresh=3600)
    results = await asyncio.gather(*(book.for_codes([CODE]) for _ in range(50)))
    assert book.reloads == 1
    assert all(r == results[0] and len(r) == 1 for r in results)
    # the snapshot handed out is replaced whole, never changed under a caller
    first = results[0]
    await add(db, CODE, certificate_pem(0x72))
    book.invalidate()
    assert len(await book.for_codes([CODE])) == 2 and len(first) == 1


async def test_an_unchanged_table_is_not_read_again(db: Database, other_db: Database) -> None:
    book = CountingBook(other_db, refresh=0.05)
    assert await book.for_codes([CODE]) == ()  # nothing registered: no rows read at all
    await add(db, CODE, certificate_pem(0x81))
    await eventually(lambda: book.for_codes([CODE]), lambda certs: len(certs) == 1)
    assert book.reads == 1
    reloads = book.reloads
    for _ in range(3):
        await asyncio.sleep(0.06)  # past the refresh: the next call looks again
        assert len(await book.for_codes([CODE])) == 1
    assert book.reloads == reloads + 3 and book.reads == 1  # looked, found it unchanged
