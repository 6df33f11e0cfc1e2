"""What a warehouse (or an operator) does with webhook subscriptions: create, read, delete,
resume, and the JSON they are answered in. The API and the review UI both come here.

Creating, deleting and resuming go to the audit chain (SPEC §11) in their own transaction: a
subscription decides where a warehouse's customs decisions are sent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from service.clock import iso, utcnow
from service.config import Settings
from service.errors import Forbidden, NotFound, WebhookUrlInvalid
from service.messages.registry import Role
from service.security.keys import Caller
from service.security.webhook_secrets import new_secret, seal
from service.store import audit
from service.store import manifest as outbox
from service.store import webhooks as store
from service.store.database import Database

MAX_URL_LENGTH = 2000


def checked_url(url: str) -> str:
    """``url`` when Sandan can deliver to it: http or https, a host, no credentials."""
    if not url.strip():
        raise WebhookUrlInvalid("url must be a non-empty string", field="url")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlInvalid(f"url is longer than {MAX_URL_LENGTH} characters", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError as exc:
        raise WebhookUrlInvalid(f"url is not a URL: {exc}", field="url") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlInvalid("url must be http:// or https://", field="url")
    if not parts.hostname:
        raise WebhookUrlInvalid("url has no host", field="url")
    if parts.username is not None or parts.password is not None:
        # it would be shown in every listing: a receiver checks the signature instead
        raise WebhookUrlInvalid("url must not carry credentials", field="url")
    if port == 0:
        raise WebhookUrlInvalid("url has port 0", field="url")
    return url


def subscription_json(row: dict[str, Any]) -> dict[str, Any]:
    """A subscription as answered; never its secret."""
    return {
        "id": row["id"],
        "url": row["url"],
        "code": row["code"],
        "state": row["state"],
        "cursor": row["cursor"],
        "failures": row["failures"],
        "retryAt": iso(row["retry_at"]),
        "lastError": row["last_error"],
        "lastDeliveredAt": iso(row["last_delivered_at"]),
        "createdAt": iso(row["created_at"]),
    }


def delivery_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": iso(row["at"]),
        "attempt": row["attempt"],
        "firstSeq": row["first_seq"],
        "lastSeq": row["last_seq"],
        "entries": row["entries"],
        "statusCode": row["status_code"],
        "error": row["error"],
        "retryAt": iso(row["retry_at"]),
    }


def _owner_codes(caller: Caller) -> frozenset[str] | None:
    """Whose subscriptions ``caller`` may see: their own codes', or every one (operator)."""
    return None if caller.sees_everything else caller.codes


async def create(
    db: Database, settings: Settings, caller: Caller, url: str, after: int | None = None
) -> dict[str, Any]:
    """A new subscription of the caller's warehouse: ``{"id", "secret", ...}``, the secret
    shown this once. Deliveries start after manifest seq ``after`` (default: the manifest's
    end, so only entries decided from now on)."""
    if Role.WAREHOUSE not in caller.roles:
        raise Forbidden("webhooks are for warehouse keys")
    target = checked_url(url)
    secret = new_secret()
    now = utcnow()
    async with db.write() as conn:
        cursor = after if after is not None else await outbox.max_seq(conn)
        webhook_id = await store.create(
            conn,
            code=caller.code,
            key_id=caller.key_id,
            url=target,
            sealed_secret=seal(secret, settings.pii_key),
            cursor=cursor,
            now=now,
        )
        await audit.append(
            conn,
            actor=caller.label,
            action="webhook.create",
            subject=f"webhook {webhook_id}",
            detail={"keyId": caller.key_id, "code": caller.code, "url": target, "after": cursor},
            at=now,
        )
        row = await store.get(conn, webhook_id)
    assert row is not None
    return {**subscription_json(row), "secret": secret}


async def find(db: Database, caller: Caller, webhook_id: int) -> dict[str, Any]:
    """The subscription, when ``caller`` may see it (else NOT_FOUND: others' ids are not told)."""
    async with db.read() as conn:
        row = await store.get(conn, webhook_id)
    codes = _owner_codes(caller)
    if row is None or (codes is not None and row["code"] not in codes):
        raise NotFound(f"no webhook {webhook_id}")
    return row


async def listed(db: Database, caller: Caller) -> list[dict[str, Any]]:
    async with db.read() as conn:
        return await store.listed(conn, _owner_codes(caller))


async def deliveries(
    db: Database, caller: Caller, webhook_id: int, limit: int, before: int | None
) -> list[dict[str, Any]]:
    await find(db, caller, webhook_id)
    async with db.read() as conn:
        return await store.deliveries(conn, webhook_id, limit, before)


async def remove(db: Database, caller: Caller, webhook_id: int) -> None:
    """Deleted with its attempts; a delivery under way finds it gone and records nothing."""
    row = await find(db, caller, webhook_id)
    now = utcnow()
    async with db.write() as conn:
        if not await store.remove(conn, webhook_id):
            raise NotFound(f"no webhook {webhook_id}")
        await audit.append(
            conn,
            actor=caller.label,
            action="webhook.delete",
            subject=f"webhook {webhook_id}",
            detail={"keyId": caller.key_id, "code": row["code"], "url": row["url"]},
            at=now,
        )


async def resume(db: Database, caller: Caller, webhook_id: int) -> dict[str, Any]:
    """Active again (paused or not), its failure count reset: delivered at once."""
    row = await find(db, caller, webhook_id)
    now = utcnow()
    async with db.write() as conn:
        await store.resume(conn, webhook_id, now)
        await audit.append(
            conn,
            actor=caller.label,
            action="webhook.resume",
            subject=f"webhook {webhook_id}",
            detail={
                "keyId": caller.key_id,
                "code": row["code"],
                "stateBefore": row["state"],
                "lastError": row["last_error"],
            },
            at=now,
        )
        resumed = await store.get(conn, webhook_id)
    if resumed is None:
        raise NotFound(f"no webhook {webhook_id}")
    return resumed
