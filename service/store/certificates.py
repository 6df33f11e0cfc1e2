"""Registered signing certificates (SPEC §11): rows added and revoked, never deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.tables import certificates

Row = dict[str, Any]

# What a listing shows: everything but the PEM.
_LISTED = [c for c in certificates.c if c.name != "pem"]


async def insert_certificate(
    conn: AsyncConnection,
    *,
    code: str,
    serial: str,
    serial_number: str,
    name: str | None,
    algorithm: str,
    pem: str,
    der_sha256: str,
    subject: str,
    not_before: datetime,
    not_after: datetime,
    now: datetime,
) -> Row:
    """The new row (without its PEM); ``IntegrityError`` when ``code`` has this serial."""
    result = await conn.execute(
        insert(certificates)
        .values(
            code=code,
            serial=serial,
            serial_number=serial_number,
            name=name,
            algorithm=algorithm,
            pem=pem,
            der_sha256=der_sha256,
            subject=subject,
            not_before=not_before,
            not_after=not_after,
            created_at=now,
        )
        .returning(*_LISTED)
    )
    return dict(result.mappings().one())


async def listed(conn: AsyncConnection, code: str | None = None) -> list[Row]:
    stmt = select(*_LISTED).order_by(certificates.c.code, certificates.c.id)
    if code is not None:
        stmt = stmt.where(certificates.c.code == code)
    return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]


async def revoke(
    conn: AsyncConnection, serial_number: str, now: datetime, code: str | None = None
) -> tuple[list[Row], list[Row]]:
    """Revoke every certificate with this serial (of ``code`` only, when given).

    Returns (newly revoked, every matching row after the change); one revoked earlier keeps
    its first revocation time.
    """
    where = [certificates.c.serial_number == serial_number]
    if code is not None:
        where.append(certificates.c.code == code)
    newly = (
        (
            await conn.execute(
                update(certificates)
                .where(*where, certificates.c.revoked_at.is_(None))
                .values(revoked_at=now)
                .returning(*_LISTED)
            )
        )
        .mappings()
        .all()
    )
    matching = (
        (await conn.execute(select(*_LISTED).where(*where).order_by(certificates.c.id)))
        .mappings()
        .all()
    )
    return [dict(r) for r in newly], [dict(r) for r in matching]


async def fingerprint(conn: AsyncConnection) -> tuple[Any, ...]:
    """Changes whenever a row is added, revoked or removed: one aggregate over a small table, so a
    process can tell that its copy is still right without reading the rows."""
    row = (
        await conn.execute(
            select(
                func.count(),
                func.max(certificates.c.id),
                func.count(certificates.c.revoked_at),
                func.max(certificates.c.revoked_at),
            )
        )
    ).one()
    return tuple(row)


async def load_all(conn: AsyncConnection) -> list[Row]:
    """Every row, PEM included: what the process-wide certificate book holds."""
    return [
        dict(r)
        for r in (await conn.execute(select(certificates).order_by(certificates.c.id)))
        .mappings()
        .all()
    ]
