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
from service.store.manifest import CHANNEL, PROCESS_TOKEN

log = logging.getLogger(__name__)


def asyncpg_dsn(database_url: str) -> str:
    """The plain ``postgresql://`` form of a SQLAlchemy ``postgresql+asyncpg://`` URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ManifestListener:
    def __init__(self, database_url: str, notifier: Notifier, retry_seconds: float = 1.0) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._notifier = notifier
        self._retry = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="manifest-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload != PROCESS_TOKEN:  # this process's own commits woke its polls already
            self._notifier.notify()

    async def _run(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._heard)
                self.listening.set()
                self._notifier.notify()  # whatever was committed while nobody listened
                await lost.wait()
                log.warning("manifest listener: connection lost, reconnecting")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("manifest listener: %s; retrying in %.1f s", exc, self._retry)
            finally:
                self.listening.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 5)
            await asyncio.sleep(self._retry)
