"""The process-wide copy of the registered certificates, for the signature verifier.

Intake asks for the certificates of a message's codes on every signed message: a database
round trip each time would cost more than the check. The book keeps the whole table in
memory and looks again once its copy is older than ``certificate_refresh_seconds`` (2 s by
default), so an add or a revoke in any process takes effect in every process within that time.
Looking again is one aggregate query when nothing changed (``store.certificates.fingerprint``);
only a change reads the rows. One look at a time: callers that find the copy old while another
reload is under way wait for it rather than each querying. Each reload builds a new snapshot
and swaps it in whole, so a caller never sees half of one.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from service.clock import as_utc
from service.security.certificates import CertificateInfo, RegisteredCertificate
from service.store import certificates as store
from service.store.database import Database


@dataclass(frozen=True, slots=True)
class Snapshot:
    fingerprint: tuple[Any, ...]
    by_code: dict[str, tuple[RegisteredCertificate, ...]] = field(default_factory=dict)


def registered(row: dict[str, Any]) -> RegisteredCertificate:
    """A stored row as the verifier sees it. The stored PEM is the DER re-encoded on
    registration, so the DER is read back without parsing the certificate again."""
    der = ssl.PEM_cert_to_DER_cert(row["pem"])
    return RegisteredCertificate(
        code=row["code"],
        info=CertificateInfo(
            serial=row["serial"],
            serial_number=row["serial_number"],
            algorithm=row["algorithm"],
            der=der,
            der_sha256=hashlib.sha256(der).hexdigest(),
            subject=row["subject"],
            not_before=as_utc(row["not_before"]),
            not_after=as_utc(row["not_after"]),
        ),
        revoked_at=as_utc(row["revoked_at"]) if row["revoked_at"] is not None else None,
        name=row["name"],
    )


def _by_code(rows: list[dict[str, Any]]) -> dict[str, tuple[RegisteredCertificate, ...]]:
    grouped: dict[str, list[RegisteredCertificate]] = {}
    for row in rows:
        grouped.setdefault(row["code"], []).append(registered(row))
    return {code: tuple(certs) for code, certs in grouped.items()}


class CertificateBook:
    def __init__(
        self,
        db: Database,
        refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._refresh = refresh_seconds
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._checked_at = float("-inf")
        self._invalidated_at = float("-inf")
        self._lock = asyncio.Lock()

    async def for_codes(self, codes: Iterable[str]) -> tuple[RegisteredCertificate, ...]:
        """Every certificate registered for ``codes``, revoked and expired ones included
        (``revoked_at`` set, validity dates as registered) so the verifier can say why one
        does not count."""
        snapshot = await self._current()
        return tuple(
            cert for code in dict.fromkeys(codes) for cert in snapshot.by_code.get(code, ())
        )

    def invalidate(self) -> None:
        """Look again on the next call: this process just changed the table."""
        self._checked_at = float("-inf")
        self._invalidated_at = self._clock()

    async def _current(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and self._clock() - self._checked_at < self._refresh:
            return snapshot
        async with self._lock:
            # Another caller may have reloaded while this one waited for the lock.
            snapshot = self._snapshot
            if snapshot is not None and self._clock() - self._checked_at < self._refresh:
                return snapshot
            started = self._clock()
            snapshot = await self._reload(snapshot)
            self._snapshot = snapshot
            # A change made here during the reload may not be in it: look again next time.
            self._checked_at = started if self._invalidated_at < started else float("-inf")
            return snapshot

    async def _reload(self, previous: Snapshot | None) -> Snapshot:
        async with self._db.read() as conn:
            fingerprint = await store.fingerprint(conn)
            if previous is not None and previous.fingerprint == fingerprint:
                return previous
            if fingerprint[0] == 0:
                return Snapshot(fingerprint)
            # Read after the fingerprint: a change in between is only read again next time.
            rows = await store.load_all(conn)
        return Snapshot(fingerprint, _by_code(rows))
