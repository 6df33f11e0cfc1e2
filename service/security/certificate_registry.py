"""Registering and revoking senders' certificates (SPEC §11), for the CLI and the admin API.

Each change is one transaction with its audit record. The same serial may be registered for
several codes (a group's companies sharing one certificate): revoking a serial revokes it for
every code, unless a code is named, because a revocation usually means the key is no longer
trusted, whoever registered it.
"""

from __future__ import annotations

import ssl
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import as_utc, iso
from service.errors import CertificateExists, CertificateInvalid, InvalidRequest, NotFound
from service.security.certificates import (
    CertificateRefused,
    load_certificate,
    serial_number,
    state_at,
)
from service.store import audit
from service.store import certificates as store

Row = dict[str, Any]
MAX_CODE = 18


def parse_serial(text: str) -> str:
    """A serial as typed (hex, any case, leading zeros, colons) as the number it matches."""
    try:
        return serial_number(text)
    except ValueError:
        raise InvalidRequest(f"{text!r} is not a serial number in hex", field="serial") from None


async def add(
    conn: AsyncConnection,
    *,
    code: str,
    data: bytes,
    name: str | None,
    actor: str,
    now: datetime,
) -> Row:
    """Register the certificate in ``data`` (PEM or DER) for ``code``; the new row."""
    code = code.strip()
    if not code or len(code) > MAX_CODE:
        raise InvalidRequest(f"an enterprise code of 1 to {MAX_CODE} characters", field="code")
    try:
        info = load_certificate(data)
    except CertificateRefused as exc:
        raise CertificateInvalid(str(exc)) from None
    try:
        row = await store.insert_certificate(
            conn,
            code=code,
            serial=info.serial,
            serial_number=info.serial_number,
            name=name,
            algorithm=info.algorithm,
            # Stored re-encoded from the DER: the book reads the DER back without parsing.
            pem=ssl.DER_cert_to_PEM_cert(info.der),
            der_sha256=info.der_sha256,
            subject=info.subject,
            not_before=info.not_before,
            not_after=info.not_after,
            now=now,
        )
    except IntegrityError:
        raise CertificateExists(
            f"certificate {info.serial} is already registered for {code}",
            serial=info.serial,
            enterprise=code,
        ) from None
    await audit.append(
        conn,
        actor=actor,
        action="certificate.add",
        subject=f"certificate {info.serial}",
        detail={
            "code": code,
            "serial": info.serial,
            "name": name,
            "algorithm": info.algorithm,
            "subject": info.subject,
            "derSha256": info.der_sha256,
            "notBefore": iso(info.not_before),
            "notAfter": iso(info.not_after),
        },
        at=now,
    )
    return row


async def revoke(
    conn: AsyncConnection, *, serial: str, code: str | None, actor: str, now: datetime
) -> list[Row]:
    """Revoke ``serial`` (for ``code`` only when given); every matching row afterwards.
    Revoking again changes nothing and records nothing."""
    number = parse_serial(serial)
    newly, matching = await store.revoke(conn, number, now, code)
    if not matching:
        where = f" for {code}" if code else ""
        raise NotFound(f"no certificate with serial {serial}{where}")
    if newly:
        await audit.append(
            conn,
            actor=actor,
            action="certificate.revoke",
            subject=f"certificate {newly[0]['serial']}",
            detail={"codes": [r["code"] for r in newly], "serial": newly[0]["serial"]},
            at=now,
        )
    return matching


def certificate_state(row: Row, now: datetime) -> str:
    """active | revoked | not_yet_valid | expired, as the verifier would count it ``now``."""
    revoked = row["revoked_at"]
    return state_at(
        now,
        as_utc(row["not_before"]),
        as_utc(row["not_after"]),
        as_utc(revoked) if revoked is not None else None,
    )


def certificate_json(row: Row) -> dict[str, Any]:
    return {
        "serial": row["serial"],
        "code": row["code"],
        "name": row["name"],
        "algorithm": row["algorithm"],
        "subject": row["subject"],
        "derSha256": row["der_sha256"],
        "notBefore": iso(row["not_before"]),
        "notAfter": iso(row["not_after"]),
        "createdAt": iso(row["created_at"]),
        "revokedAt": iso(row["revoked_at"]),
    }
