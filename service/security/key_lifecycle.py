"""API keys over their life (SPEC §6, §11): created, rotated, revoked; for the CLI and the
admin API. Each change is one transaction with its audit record.

A rotated key keeps working until the end of its grace period (its ``expires_at`` brought
forward to at most then) and names its replacement, which has the same codes, roles and name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import as_utc, iso
from service.errors import ActionNotAllowed, InvalidRequest, NotFound
from service.messages.registry import Role
from service.security.keys import key_digest, new_key
from service.store import audit
from service.store import keys as key_store

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: its id, and the key itself, shown this once."""

    key_id: int
    key: str


def parse_expiry(text: str) -> datetime:
    """``--expires``: an ISO date means the start of that day in UTC (the key works until
    the day begins); a date and time without an offset is UTC."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            f"{text!r} is not an ISO date (2027-01-31) or date and time (2027-01-31T18:00)",
            field="expires",
        ) from None
    return as_utc(parsed)


def key_state(row: Row, now: datetime) -> str:
    """active | revoked | expired | rotated (still working in its grace period)."""
    if row["revoked_at"] is not None:
        return "revoked"
    if row["expires_at"] is not None and now >= as_utc(row["expires_at"]):
        return "expired"
    return "rotated" if row["replaced_by"] is not None else "active"


async def create(
    conn: AsyncConnection,
    *,
    codes: list[str],
    roles: list[str],
    name: str | None,
    expires_at: datetime | None,
    actor: str,
    now: datetime,
    replaces: int | None = None,
) -> IssuedKey:
    unknown = sorted(set(roles) - {role.value for role in Role})
    if unknown:
        raise InvalidRequest(f"unknown roles: {', '.join(unknown)}", field="role")
    if not codes:
        raise InvalidRequest("a key needs at least one enterprise code", field="code")
    if expires_at is not None and expires_at <= now:
        raise InvalidRequest(f"the expiry {iso(expires_at)} is already past", field="expires")
    key = new_key()
    codes = list(dict.fromkeys(codes))
    roles = sorted(set(roles))
    key_id = await key_store.insert_key(
        conn,
        key_hash=key_digest(key),
        codes=codes,
        roles=roles,
        name=name,
        now=now,
        expires_at=expires_at,
    )
    await audit.append(
        conn,
        actor=actor,
        action="key.create",
        subject=f"key {key_id}",
        detail={
            "codes": codes,
            "roles": roles,
            "name": name,
            "expiresAt": iso(expires_at),
            "replaces": replaces,
        },
        at=now,
    )
    return IssuedKey(key_id, key)


async def _usable(conn: AsyncConnection, key_id: int, now: datetime, doing: str) -> Row:
    row = await key_store.get(conn, key_id, lock=True)
    if row is None:
        raise NotFound(f"no API key {key_id}")
    state = key_state(row, now)
    if state == "revoked" or (state == "expired" and doing == "rotate"):
        raise ActionNotAllowed(f"cannot {doing} key {key_id}: it is {state}", state=state)
    if doing == "rotate" and row["replaced_by"] is not None:
        raise ActionNotAllowed(
            f"key {key_id} was already rotated to key {row['replaced_by']}: rotate that one",
            state=state,
        )
    return row


async def revoke(conn: AsyncConnection, key_id: int, *, actor: str, now: datetime) -> Row:
    """Revoke ``key_id``: 401 from the next request it makes (within 5 s in other processes).
    Revoking a revoked key is refused, so the first revocation time stands."""
    await _usable(conn, key_id, now, "revoke")
    await key_store.change(conn, key_id, revoked_at=now)
    await audit.append(
        conn, actor=actor, action="key.revoke", subject=f"key {key_id}", detail={}, at=now
    )
    row = await key_store.get(conn, key_id)
    assert row is not None
    return row


async def rotate(
    conn: AsyncConnection,
    key_id: int,
    *,
    grace: timedelta,
    actor: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> IssuedKey:
    """A new key with ``key_id``'s codes, roles and name; the old one works for ``grace``."""
    if grace < timedelta(0):
        raise InvalidRequest("the grace period cannot be negative", field="grace")
    old = await _usable(conn, key_id, now, "rotate")
    issued = await create(
        conn,
        codes=list(old["codes"]),
        roles=list(old["roles"]),
        name=old["name"],
        expires_at=expires_at,
        actor=actor,
        now=now,
        replaces=key_id,
    )
    until = now + grace
    if old["expires_at"] is not None:
        until = min(until, as_utc(old["expires_at"]))
    await key_store.change(conn, key_id, expires_at=until, replaced_by=issued.key_id)
    await audit.append(
        conn,
        actor=actor,
        action="key.rotate",
        subject=f"key {key_id}",
        detail={"replacedBy": issued.key_id, "worksUntil": iso(until)},
        at=now,
    )
    return issued


def key_json(row: Row, now: datetime) -> dict[str, Any]:
    """A key as listed: everything but the key and its hash."""
    return {
        "id": row["id"],
        "name": row["name"],
        "code": row["code"],
        "codes": list(row["codes"]),
        "roles": list(row["roles"]),
        "state": key_state(row, now),
        "createdAt": iso(row["created_at"]),
        "expiresAt": iso(row["expires_at"]),
        "revokedAt": iso(row["revoked_at"]),
        "lastUsedAt": iso(row["last_used_at"]),
        "replacedBy": row["replaced_by"],
    }
