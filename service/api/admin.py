"""The admin API (SPEC §11), role ``admin``: signing certificates, API keys, the audit log.

The same operations as ``sandan certs``, ``sandan keys`` and ``sandan audit``, each change
audited under the admin key's name. Changes made here take effect in this process at once and
in the others within seconds (their caches' refresh).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from service.api.deps import AdminDep, ServicesDep
from service.api.openapi import answers
from service.api.schemas.admin import (
    AuditCheck,
    AuditLog,
    Certificate,
    Certificates,
    IssuedKey,
    Key,
    Keys,
    RotatedKey,
)
from service.clock import iso, utcnow
from service.security import certificate_registry, key_lifecycle
from service.store import audit
from service.store import certificates as certificate_store
from service.store import keys as key_store
from service.store.audit_chain import check

router = APIRouter(tags=["admin"])


class CertificateRequest(BaseModel):
    code: str = Field(description="the enterprise code (copCode) the certificate signs for")
    pem: str = Field(description="the X.509 certificate, PEM")
    name: str | None = Field(default=None, max_length=200)


class KeyRequest(BaseModel):
    codes: list[str] = Field(min_length=1, description="enterprise codes, its own first")
    roles: list[str] = Field(min_length=1)
    name: str | None = Field(default=None, max_length=200)
    expires: str | None = Field(default=None, description="ISO date (start of day, UTC) or time")


class RotateRequest(BaseModel):
    graceHours: float | None = Field(default=None, ge=0, description="default 24")
    expires: str | None = Field(default=None, description="the new key's expiry")


# --- certificates ----------------------------------------------------------------------


@router.post(
    "/v1/admin/certificates",
    summary="Register a certificate",
    **answers(Certificate, 401, 403, 409, 422, status=201, description="Registered"),
)
async def add_certificate(
    body: CertificateRequest, admin: AdminDep, services: ServicesDep
) -> dict[str, Any]:
    async with services.db.write() as conn:
        row = await certificate_registry.add(
            conn,
            code=body.code,
            data=body.pem.encode(),
            name=body.name,
            actor=admin.label,
            now=utcnow(),
        )
    services.certificates.invalidate()
    return certificate_registry.certificate_json(row)


@router.get(
    "/v1/admin/certificates",
    summary="Registered certificates, revoked ones included",
    **answers(Certificates, 401, 403),
)
async def list_certificates(
    admin: AdminDep,
    services: ServicesDep,
    code: Annotated[str | None, Query(description="one enterprise code")] = None,
) -> dict[str, Any]:
    async with services.db.read() as conn:
        rows = await certificate_store.listed(conn, code)
    return {"certificates": [certificate_registry.certificate_json(r) for r in rows]}


@router.delete(
    "/v1/admin/certificates/{serial}",
    summary="Revoke a certificate by serial (hex; for every code unless ?code= names one)",
    **answers(Certificates, 401, 403, 404),
)
async def revoke_certificate(
    serial: str,
    admin: AdminDep,
    services: ServicesDep,
    code: Annotated[str | None, Query(description="only this code's")] = None,
) -> dict[str, Any]:
    async with services.db.write() as conn:
        rows = await certificate_registry.revoke(
            conn, serial=serial, code=code, actor=admin.label, now=utcnow()
        )
    services.certificates.invalidate()
    return {"certificates": [certificate_registry.certificate_json(r) for r in rows]}


# --- keys ------------------------------------------------------------------------------


@router.get(
    "/v1/admin/keys", summary="API keys (never the keys themselves)", **answers(Keys, 401, 403)
)
async def list_keys(admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    await services.key_uses.flush()  # this process's uses, so "last used" is current here
    async with services.db.read() as conn:
        rows = await key_store.listed(conn)
    now = utcnow()
    return {"keys": [key_lifecycle.key_json(r, now) for r in rows]}


@router.post(
    "/v1/admin/keys",
    summary="Create a key; shown in this answer only",
    **answers(IssuedKey, 401, 403, 422, status=201, description="Created"),
)
async def create_key(body: KeyRequest, admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    expires = key_lifecycle.parse_expiry(body.expires) if body.expires else None
    async with services.db.write() as conn:
        issued = await key_lifecycle.create(
            conn,
            codes=body.codes,
            roles=body.roles,
            name=body.name,
            expires_at=expires,
            actor=admin.label,
            now=utcnow(),
        )
    return {"id": issued.key_id, "key": issued.key, "expiresAt": iso(expires)}


@router.post(
    "/v1/admin/keys/{key_id}/revoke",
    summary="Revoke a key: 401 from now on",
    **answers(Key, 401, 403, 404),
)
async def revoke_key(key_id: int, admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    now = utcnow()
    async with services.db.write() as conn:
        row = await key_lifecycle.revoke(conn, key_id, actor=admin.label, now=now)
    services.keys.forget(key_id)
    return key_lifecycle.key_json(row, now)


@router.post(
    "/v1/admin/keys/{key_id}/rotate",
    summary="A new key with the same codes and roles; the old one works for the grace period",
    **answers(RotatedKey, 401, 403, 404, 409, status=201, description="Created"),
)
async def rotate_key(
    key_id: int, admin: AdminDep, services: ServicesDep, body: RotateRequest | None = None
) -> dict[str, Any]:
    body = body or RotateRequest()
    hours = body.graceHours
    if hours is None:
        hours = services.settings.key_rotation_grace_hours
    expires = key_lifecycle.parse_expiry(body.expires) if body.expires else None
    now = utcnow()
    async with services.db.write() as conn:
        issued = await key_lifecycle.rotate(
            conn,
            key_id,
            grace=timedelta(hours=hours),
            actor=admin.label,
            now=now,
            expires_at=expires,
        )
        old = await key_store.get(conn, key_id)
    services.keys.forget(key_id)
    assert old is not None
    return {
        "id": issued.key_id,
        "key": issued.key,
        "replaces": key_lifecycle.key_json(old, now),
    }


# --- audit -----------------------------------------------------------------------------


def _record_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": iso(row["at"]),
        "actor": row["actor"],
        "action": row["action"],
        "subject": row["subject"],
        "detail": row["detail"],
        "prevHash": row["prev_hash"],
        "hash": row["hash"],
    }


@router.get(
    "/v1/admin/audit", summary="The audit log, newest first", **answers(AuditLog, 401, 403, 422)
)
async def list_audit(
    admin: AdminDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(description="records before this id")] = None,
) -> dict[str, Any]:
    async with services.db.read() as conn:
        rows = await audit.log_page(conn, limit, before)
    return {"records": [_record_json(r) for r in rows]}


@router.get(
    "/v1/admin/audit/verify", summary="Recompute the hash chain", **answers(AuditCheck, 401, 403)
)
async def verify_audit(admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    async with services.db.read() as conn:
        result = await check(audit.chain(conn))
    return {
        "ok": result.ok,
        "count": result.count,
        "lastHash": result.last_hash,
        "brokenAt": result.broken_at,
        "problem": result.problem,
    }
