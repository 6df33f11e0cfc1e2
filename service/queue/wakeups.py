"""Wake-ups from other service processes: PostgreSQL LISTEN on the manifest channel.

Each process's ``Notifier`` hears its own commits. With several processes on one database, a
warehouse's long poll held by one process must also wake when another process decides: every
transaction that appends manifest entries notifies ``store.manifest.CHANNEL`` on commit, and
this listener turns those notifications into ``Notifier.notify()``. It is an accelerator
only: while its connection is down, polls and relays still see every entry at their next
re-read (``manifest_poll_interval_seconds``, ``relay_idle_seconds``), and each reconnect wakes
them once for anything committed in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from service.queue.manifest import Notifier
from service.store.manifest import CHANNEL, RECEIPTS_CHANNEL, process_token
from service.tasks import cancel

log = logging.getLogger(__name__)


# Options of SQLAlchemy's asyncpg dialect, not of asyncpg.connect.
_DIALECT_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func", "async_fallback")


def connect_arguments(database_url: str) -> dict[str, Any]:
    """``asyncpg.connect`` keyword arguments for a ``postgresql+asyncpg://`` URL, read the
    way the engine reads it (so ``?ssl=require`` means TLS here too)."""
    url = make_url(database_url)
    params: dict[str, Any] = url.translate_connect_args(username="user")
    params.update({k: v for k, v in url.query.items() if k not in _DIALECT_ONLY})
    return params


class ManifestListener:
    def __init__(
        self,
        database_url: str,
        notifier: Notifier,
        retry_seconds: float = 1.0,
        check_seconds: float = 30.0,
        receipts: Notifier | None = None,
    ) -> None:
        self._connect = connect_arguments(database_url)
        self._notifier = notifier
        # the receipts feed's polls, told of other processes' receipts on their own channel
        self._receipts = receipts
        self._retry = retry_seconds
        # A connection that died without a reset (a partition, a failover) is only noticed
        # by using it: it is asked SELECT 1 this often.
        self._check = check_seconds
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="manifest-listener")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    def _heard(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        if payload == process_token():  # this process's own commits woke its polls already
            return
        if channel == RECEIPTS_CHANNEL and self._receipts is not None:
            self._receipts.notify()
        elif channel == CHANNEL:
            self._notifier.notify()

    async def _watch(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Until the connection is lost or stops answering."""
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self._check)
            if not lost.is_set():
                await asyncio.wait_for(conn.fetchval("SELECT 1"), self._check)

    async def _run(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                connected = await asyncio.wait_for(asyncpg.connect(**self._connect), 30)
                conn = connected
                lost = asyncio.Event()
                connected.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await connected.add_listener(CHANNEL, self._heard)
                if self._receipts is not None:
                    await connected.add_listener(RECEIPTS_CHANNEL, self._heard)
                self.listening.set()
                self._notifier.notify()  # whatever was committed while nobody listened
                await self._watch(connected, lost)
                log.warning("manifest listener: connection lost, reconnecting")
            except Exception as exc:  # any failure: wait, reconnect; polls still re-read
                log.warning("manifest listener: %r; retrying in %.1f s", exc, self._retry)
            finally:
                self.listening.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 5)
            await asyncio.sleep(self._retry)
