"""The trust pages of the review UI (SPEC §11), for admins: signing certificates, API keys and
the audit log.

Every change goes through the functions behind ``sandan certs`` / ``sandan keys`` and the admin
API (``certificate_registry``, ``key_lifecycle``), audited under the signed-in admin's name, and
reaches this process's caches at once (the others' within seconds). Forms post with the
session's CSRF token; a refused change shows its reason on the page and changes nothing.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from service.api.deps import ServicesDep
from service.clock import iso, utcnow
from service.errors import ActionNotAllowed, CertificateExists, InvalidRequest, NotFound
from service.security import certificate_registry, key_lifecycle
from service.store import audit
from service.store import certificates as certificate_store
from service.store import keys as key_store
from service.store.audit_chain import check
from service.web import session
from service.web.access import AdminPage
from service.web.i18n import text
from service.web.pages import field, render

router = APIRouter(prefix="/review", include_in_schema=False)

AUDIT_PAGE = 50
# A rotation's grace, in hours: up to a year (the CLI and API take any; a form typo should not).
MAX_GRACE_HOURS = 24 * 366

Refused = InvalidRequest | CertificateExists | NotFound | ActionNotAllowed


def _csrf_refusal(request: Request, form: Any) -> str | None:
    if session.csrf_ok(request, field(form, "csrf")):
        return None
    return text("csrf", session.language(request))


# --- certificates ----------------------------------------------------------------------


async def _certificates_page(
    request: Request,
    services: ServicesDep,
    status: int = 200,
    error: str | None = None,
    entered: dict[str, str] | None = None,
) -> Response:
    async with services.db.read() as conn:
        rows = await certificate_store.listed(conn)
    now = utcnow()
    listed = [
        {
            **certificate_registry.certificate_json(row),
            "state": certificate_registry.certificate_state(row, now),
        }
        for row in rows
    ]
    return render(
        request,
        "certificates.html",
        status,
        certificates=listed,
        error=error,
        entered=entered or {},
        added=request.query_params.get("added"),
        revoked=request.query_params.get("revoked"),
    )


async def _uploaded(form: Any) -> bytes:
    """The certificate the form carries: the file chosen, else the PEM pasted."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        if data.strip():
            return data
    return (field(form, "pem") or "").strip().encode()


@router.get("/certificates")
async def certificates(request: Request, services: ServicesDep, me: AdminPage) -> Response:
    return await _certificates_page(request, services)


@router.post("/certificates")
async def add_certificate(request: Request, services: ServicesDep, me: AdminPage) -> Response:
    form = await request.form()
    entered = {k: field(form, k) or "" for k in ("code", "name", "pem")}
    refusal = _csrf_refusal(request, form)
    if refusal:
        return await _certificates_page(request, services, 403, refusal, entered)
    data = await _uploaded(form)
    if not data:
        lang = session.language(request)
        return await _certificates_page(request, services, 422, text("pem_missing", lang), entered)
    try:
        async with services.db.write() as conn:
            row = await certificate_registry.add(
                conn,
                code=entered["code"],
                data=data,
                name=entered["name"].strip() or None,
                actor=me.label,
                now=utcnow(),
            )
    except (InvalidRequest, CertificateExists) as exc:
        return await _certificates_page(request, services, exc.status, exc.message, entered)
    services.certificates.invalidate()
    return RedirectResponse(f"/review/certificates?added={row['serial']}", status_code=303)


@router.post("/certificates/{serial}/revoke")
async def revoke_certificate(
    request: Request, services: ServicesDep, me: AdminPage, serial: str
) -> Response:
    form = await request.form()
    refusal = _csrf_refusal(request, form)
    if refusal:
        return await _certificates_page(request, services, 403, refusal)
    try:
        async with services.db.write() as conn:
            # The row's button revokes the row: this serial for this code.
            await certificate_registry.revoke(
                conn, serial=serial, code=field(form, "code") or None, actor=me.label, now=utcnow()
            )
    except (InvalidRequest, NotFound) as exc:
        return await _certificates_page(request, services, exc.status, exc.message)
    services.certificates.invalidate()
    return RedirectResponse(f"/review/certificates?revoked={serial}", status_code=303)


# --- keys ------------------------------------------------------------------------------


async def _keys_page(
    request: Request, services: ServicesDep, status: int = 200, error: str | None = None
) -> Response:
    await services.key_uses.flush()  # this process's uses, so "last used" is current here
    async with services.db.read() as conn:
        rows = await key_store.listed(conn)
    now = utcnow()
    return render(
        request,
        "keys.html",
        status,
        keys=[key_lifecycle.key_json(row, now) for row in rows],
        error=error,
        grace_hours=services.settings.key_rotation_grace_hours,
        revoked=request.query_params.get("revoked"),
    )


def _grace(entered: str | None, default: float) -> timedelta:
    if entered is None or not entered.strip():
        return timedelta(hours=default)
    try:
        hours = float(entered)
    except ValueError:
        hours = math.nan
    if not 0 <= hours <= MAX_GRACE_HOURS:  # NaN fails too
        raise InvalidRequest(
            f"the grace period is a number of hours from 0 to {MAX_GRACE_HOURS}", field="grace"
        )
    return timedelta(hours=hours)


@router.get("/keys")
async def keys(request: Request, services: ServicesDep, me: AdminPage) -> Response:
    return await _keys_page(request, services)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, services: ServicesDep, me: AdminPage, key_id: int
) -> Response:
    form = await request.form()
    refusal = _csrf_refusal(request, form)
    if refusal:
        return await _keys_page(request, services, 403, refusal)
    try:
        async with services.db.write() as conn:
            await key_lifecycle.revoke(conn, key_id, actor=me.label, now=utcnow())
    except (NotFound, ActionNotAllowed) as exc:
        return await _keys_page(request, services, exc.status, exc.message)
    services.keys.forget(key_id)
    # Revoking one's own key ends this session too: the next page sends it to the sign-in.
    return RedirectResponse(f"/review/keys?revoked={key_id}", status_code=303)


@router.post("/keys/{key_id}/rotate")
async def rotate_key(
    request: Request, services: ServicesDep, me: AdminPage, key_id: int
) -> Response:
    form = await request.form()
    refusal = _csrf_refusal(request, form)
    if refusal:
        return await _keys_page(request, services, 403, refusal)
    now = utcnow()
    try:
        grace = _grace(field(form, "grace_hours"), services.settings.key_rotation_grace_hours)
        async with services.db.write() as conn:
            issued = await key_lifecycle.rotate(conn, key_id, grace=grace, actor=me.label, now=now)
            old = await key_store.get(conn, key_id)
    except (InvalidRequest, NotFound, ActionNotAllowed) as exc:
        return await _keys_page(request, services, exc.status, exc.message)
    services.keys.forget(key_id)
    assert old is not None
    page = render(request, "key_issued.html", issued=issued, old=key_lifecycle.key_json(old, now))
    # The key is in this answer only: no cache may keep it.
    page.headers["Cache-Control"] = "no-store"
    return page


# --- the audit log ---------------------------------------------------------------------


def _record_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": iso(row["at"]),
        "actor": row["actor"],
        "action": row["action"],
        "subject": row["subject"],
        "detail": json.dumps(row["detail"], ensure_ascii=False, sort_keys=True),
        "hash": row["hash"],
    }


def _before(entered: str | None) -> int | None:
    return int(entered) if entered is not None and entered.isdigit() else None


@router.get("/audit")
async def audit_log(request: Request, services: ServicesDep, me: AdminPage) -> Response:
    """The newest records first, a page at a time (``?before=ID``), under the chain's check."""
    before = _before(request.query_params.get("before"))
    async with services.db.read() as conn:
        verified = await check(audit.chain(conn))
        rows = await audit.log_page(conn, AUDIT_PAGE + 1, before)
    older = rows[AUDIT_PAGE - 1]["id"] if len(rows) > AUDIT_PAGE else None
    return render(
        request,
        "audit.html",
        verified=verified,
        records=[_record_view(r) for r in rows[:AUDIT_PAGE]],
        before=before,
        older=older,
    )
