"""The webhook deliverer: each subscription's manifest entries POSTed in ``seq`` order.

Runs as a background task in every ``sandan serve`` process. A pass finds the subscriptions
behind the manifest's last seq (one query), claims each with a lease (store/webhooks.py: one
deliverer per subscription whatever the number of processes), and POSTs the next entries the
subscription's key may read, exactly as GET /v1/manifest shows them, as ``{"entries": [...]}``
signed with the subscription's secret. The cursor moves only after a 2xx (at-least-once, in
order); any other answer or none within ``webhook_timeout_seconds`` is retried from the same
cursor with exponential backoff, and after ``webhook_max_failures`` failures in a row the
subscription pauses until resumed. Nothing of this runs in intake: the deliverer only reads
the manifest, woken by the process's commits (and on PostgreSQL by other processes', through
queue/wakeups.py) or every ``webhook_idle_seconds``. While no subscription is active it does
not wake for commits at all, only every ``webhook_idle_seconds`` or when one is created or
resumed in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import as_utc, utcnow
from service.config import Settings
from service.errors import ServiceUnavailable
from service.messages.registry import Role
from service.queue.manifest import Notifier, entry_json
from service.security.webhook_secrets import SecretUnreadable, signature, unseal
from service.store import keys as key_store
from service.store import manifest as outbox
from service.store import webhooks as store
from service.store.database import Database, is_unavailable
from service.tasks import cancel

log = logging.getLogger(__name__)

# Subscriptions one process serves in one pass, each on its own task.
PASS_LIMIT = 50
# Rotations followed from the subscription's key to the one that replaced it.
MAX_ROTATIONS = 20


def backoff(failures: int, settings: Settings) -> float:
    """Seconds before the retry after the ``failures``-th failure in a row (1, 2, ...)."""
    first = settings.webhook_retry_first_seconds
    return float(min(settings.webhook_retry_max_seconds, first * 2 ** (failures - 1)))


async def readable_codes(
    conn: AsyncConnection, key_id: int, settings: Settings, now: datetime
) -> frozenset[str] | str | None:
    """The codes whose manifest entries the subscription's key may read now (``None``: all),
    following rotations; a string saying why there are none when the key no longer works."""
    for _ in range(MAX_ROTATIONS):
        key = await key_store.get(conn, key_id)
        if key is None:
            return f"API key {key_id} no longer exists"
        ended = key["revoked_at"] is not None or (
            key["expires_at"] is not None and as_utc(key["expires_at"]) <= now
        )
        if ended and key["replaced_by"] is not None:
            key_id = int(key["replaced_by"])
            continue
        if ended:
            return f"API key {key_id} was revoked or has expired"
        roles = {Role(r) for r in key["roles"]}
        if roles & {Role.OPERATOR, Role.ADMIN}:
            return None
        scope = settings.warehouse_scopes.get(key["code"], []) if Role.WAREHOUSE in roles else []
        return frozenset(key["codes"]) | frozenset(scope)
    return f"API key {key_id}: too many rotations to follow"


def body_of(entries: list[dict[str, Any]]) -> bytes:
    return json.dumps({"entries": entries}, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookDeliverer:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        notifier: Notifier,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._notifier = notifier
        self._transport = transport
        self._owner = outbox.process_token()
        # a lease outlives any one attempt: the answer's timeout plus the database writes
        self._lease = timedelta(seconds=max(60.0, 3 * settings.webhook_timeout_seconds))
        self._task: asyncio.Task[None] | None = None
        # set when a subscription is created or resumed here (``subscriptions_changed``),
        # cleared before each pass: a change during a pass is not lost
        self._subscriptions = asyncio.Event()

    def subscriptions_changed(self) -> None:
        """A subscription was created or resumed: look for work now, whatever the state."""
        self._subscriptions.set()
        self._notifier.notify()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sandan-webhooks")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None
        # A delivery cut short leaves its lease: let go of it now rather than make the next
        # process (this one restarted, on SQLite) wait for it to run out.
        try:
            async with self._db.write() as conn:
                await store.release_all(conn, self._owner)
        except Exception as exc:  # the leases run out on their own
            log.warning("webhook leases not released: %r", exc)

    async def _run(self) -> None:
        # Redirects are not followed: the signature was made for the URL the warehouse gave.
        # HTTP(S)_PROXY and NO_PROXY apply, as for any httpx client.
        async with httpx.AsyncClient(transport=self._transport, follow_redirects=False) as client:
            while True:
                self._subscriptions.clear()
                try:
                    busy = await self.pass_once(client)
                except Exception as exc:  # keep delivering: the next pass retries what failed
                    if isinstance(exc, ServiceUnavailable) or is_unavailable(exc):
                        # an outage: one line a pass, not a traceback
                        log.warning("webhook pass: database unavailable: %s", exc)
                    else:
                        log.exception("webhook pass failed")
                    busy = False
                if busy is None:
                    # No subscription is active: a commit has no one to wake, so none is
                    # waited for (on a busy intake that is two reads per batch saved). One
                    # created or resumed in this process wakes it at once, in another within
                    # the idle interval.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._subscriptions.wait(), self._settings.webhook_idle_seconds
                        )
                elif not busy:
                    await self._notifier.wait(self._settings.webhook_idle_seconds)

    async def pass_once(self, client: httpx.AsyncClient) -> bool | None:
        """Serve every due subscription once; whether any entries were delivered, ``None``
        when no subscription is active."""
        now = utcnow()
        async with self._db.read() as conn:
            top = await outbox.max_seq(conn)
            ids = await store.due(conn, now, top, PASS_LIMIT)
            if not ids:
                return False if await store.any_active(conn) else None
        done = await asyncio.gather(
            *(self._serve(client, i, top) for i in ids), return_exceptions=True
        )
        failed = [d for d in done if isinstance(d, BaseException)]
        if failed:  # the others' work stands; the failed ones are due again next pass
            raise failed[0]
        return any(done)

    async def _serve(self, client: httpx.AsyncClient, webhook_id: int, top: int) -> bool:
        now = utcnow()
        async with self._db.write() as conn:
            row = await store.claim(conn, webhook_id, self._owner, now, now + self._lease)
        if row is None:  # another process holds it, or it changed since the pass looked
            return False
        try:
            return await self._deliver(client, row, top)
        except Exception:
            async with self._db.write() as conn:
                await store.release(conn, webhook_id, self._owner)
            raise

    async def _deliver(self, client: httpx.AsyncClient, row: dict[str, Any], top: int) -> bool:
        webhook_id = int(row["id"])
        async with self._db.read() as conn:
            codes = await readable_codes(conn, int(row["key_id"]), self._settings, utcnow())
            if isinstance(codes, str):
                rows: list[dict[str, Any]] = []
            else:
                rows = await outbox.read_after(
                    conn, int(row["cursor"]), self._settings.webhook_batch, codes
                )
        if isinstance(codes, str):
            return await self._pause(webhook_id, codes)
        if not rows:
            # Everything up to ``top`` had committed before the read: none of it is theirs.
            async with self._db.write() as conn:
                await store.pass_over(conn, webhook_id, self._owner, top)
            return False
        try:
            secret = unseal(row["secret"], self._settings.pii_key)
        except SecretUnreadable as exc:
            return await self._pause(webhook_id, str(exc))
        body = body_of([entry_json(r) for r in rows])
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Sandan-Webhook/1",
            "X-Sandan-Timestamp": timestamp,
            "X-Sandan-Signature": signature(secret, timestamp, body),
        }
        status, error = await self._post(client, row["url"], body, headers)
        now = utcnow()
        attempt: dict[str, Any] = {
            "at": now,
            "attempt": int(row["failures"]) + 1,
            "first_seq": int(rows[0]["seq"]),
            "last_seq": int(rows[-1]["seq"]),
            "entries": len(rows),
            "status_code": status,
            "error": error,
            "retry_at": None,
        }
        async with self._db.write() as conn:
            if status is not None and 200 <= status < 300:
                return await store.delivered(conn, webhook_id, self._owner, attempt, now)
            failures = int(row["failures"]) + 1
            paused = failures >= self._settings.webhook_max_failures
            if not paused:
                attempt["retry_at"] = now + timedelta(seconds=backoff(failures, self._settings))
            await store.failed(
                conn,
                webhook_id,
                self._owner,
                attempt,
                failures=failures,
                paused=paused,
                error=error or f"HTTP {status}",
            )
        if paused:
            log.warning("webhook %s paused after %d failures: %s", webhook_id, failures, error)
        return False

    async def _post(
        self, client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        """The receiver's status, or None and what went wrong."""
        timeout = self._settings.webhook_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                request = client.build_request(
                    "POST", url, content=body, headers=headers, timeout=timeout
                )
                # only the status counts: the receiver's body is never read
                response = await client.send(request, stream=True)
                await response.aclose()
        except TimeoutError:
            return None, f"no answer within {timeout:g} s"
        except httpx.TimeoutException:
            return None, f"no answer within {timeout:g} s"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        return response.status_code, None

    async def _pause(self, webhook_id: int, error: str) -> bool:
        async with self._db.write() as conn:
            await store.pause(conn, webhook_id, self._owner, error)
        log.warning("webhook %s paused: %s", webhook_id, error)
        return False
