"""The JetStream relay: copies the manifest outbox to the broker stream, in ``seq`` order.

The outbox is the queue (DESIGN.md); the stream is a copy. The relay publishes each entry with
its id as ``Nats-Msg-Id`` and waits for the ack before the next one, so the stream holds the
entries in ``seq`` order; its position is saved in the database only after the acks
(``service.store.relay``). A relay that dies between the two re-sends on restart and the
broker drops the duplicates within the stream's duplicate window. Any failure, of the broker or
of the database, is retried forever with a capped exponential backoff: an entry is never
skipped, the relay only falls behind (``relay_lag``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from service.config import Settings
from service.errors import ServiceUnavailable
from service.queue.broker import Broker, BrokerUnavailable, describe
from service.queue.manifest import Notifier
from service.store import relay as positions
from service.store.database import Database
from service.tasks import cancel

log = logging.getLogger(__name__)

# First retry soon (a broker restart takes a second or two); never wait longer than the cap,
# so a relay is back within seconds of the broker.
BACKOFF_FIRST_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 5.0
# How often the lag is logged at debug while the relay runs.
LAG_LOG_SECONDS = 30.0
# stop() lets the batch in hand finish (at most one publish timeout plus a short write) before
# it cancels: a task cancelled inside an aiosqlite write transaction can leave SQLite's write
# lock held until the engine is disposed, stalling every other writer of the process.
STOP_GRACE_SECONDS = 15.0


async def relay_lag(db: Database, stream: str) -> int:
    """Manifest entries the relay to ``stream`` has not yet copied (for metrics)."""
    async with db.read() as conn:
        return await positions.lag(conn, stream)


class Backoff:
    """Capped exponential delays: first, 2 x first, ... up to cap."""

    def __init__(self, first: float = BACKOFF_FIRST_SECONDS, cap: float = BACKOFF_CAP_SECONDS):
        self._first = first
        self._cap = cap
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self._cap, delay * 2)
        return delay

    def reset(self) -> None:
        self._next = self._first


class Relay:
    """One relay loop; safe to run in any number of processes at once."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        notifier: Notifier | None = None,
        broker: Broker | None = None,
    ) -> None:
        if settings.nats_url is None:
            raise ValueError("the relay needs SANDAN_NATS_URL")
        self.stream = settings.nats_stream
        self.broker = broker or Broker(
            settings.nats_url, settings.nats_stream, settings.nats_duplicate_window_seconds
        )
        self._db = db
        self._notifier = notifier
        self._batch = settings.relay_batch
        self._idle = settings.relay_idle_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._ensured = False
        # Acks this relay received: new messages, and re-sends the broker dropped.
        self.published = 0
        self.duplicates = 0
        # Batches it left to another relay that held the position at the time.
        self.deferred = 0

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self.run(), name="sandan-relay")

    def request_stop(self) -> None:
        """Make ``run`` return after the batch in hand."""
        self._stopping.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self.request_stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
        except TimeoutError:
            await cancel(task)

    async def run(self) -> None:
        """Relay until ``request_stop`` (or cancellation)."""
        backoff = Backoff()
        loop = asyncio.get_running_loop()
        next_lag_log = loop.time()
        try:
            while not self._stopping.is_set():
                try:
                    await self.broker.open()
                    sent = await self.step()
                    if loop.time() >= next_lag_log:
                        next_lag_log = loop.time() + LAG_LOG_SECONDS
                        await self._log_lag()
                except Exception as exc:  # broker or database: wait, then retry the same entries
                    await self._failed(exc, backoff.next())
                    continue
                backoff.reset()
                if sent is None:  # another relay holds the position
                    self.deferred += 1
                    await self._pause(self._idle)
                elif sent == 0:
                    # The notifier hears this process's commits and, on PostgreSQL, the
                    # other processes' (queue/wakeups.py); the timeout covers a lost listener.
                    await self._pause(self._idle, self._notifier)
        finally:
            await self.broker.close()

    async def _ensure_position(self) -> None:
        await positions.ensure(self._db, self.stream)
        async with self._db.read() as conn:
            start = await positions.position(conn, self.stream)
        log.info("relaying the manifest to stream %s after seq %d", self.stream, start)

    async def step(self) -> int | None:
        """One batch: how many entries were sent, ``None`` if another relay is at work."""
        if not self._ensured:
            await self._ensure_position()
            self._ensured = True
        return await positions.relay_batch(self._db, self.stream, self._batch, self._send)

    async def _send(self, row: dict[str, Any]) -> None:
        if await self.broker.publish(row):
            self.duplicates += 1
        else:
            self.published += 1

    async def _failed(self, exc: Exception, delay: float) -> None:
        if isinstance(exc, BrokerUnavailable):
            await self.broker.close()
        # Our own errors are expected outages; anything else is a bug worth its traceback.
        log.warning(
            "relay to %s: %s; retrying in %.1f s",
            self.stream,
            describe(exc),
            delay,
            exc_info=not isinstance(exc, ServiceUnavailable),
        )
        await self._pause(delay)

    async def _pause(self, seconds: float, wake: Notifier | None = None) -> None:
        """Sleep up to ``seconds``; a stop request ends it at once, and so does ``wake``."""
        waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._stopping.wait())}
        if wake is not None:
            waits.add(asyncio.ensure_future(wake.wait(seconds)))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _log_lag(self) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "relay to %s: lag %d entries", self.stream, await relay_lag(self._db, self.stream)
            )


def relay_for_serve(db: Database, settings: Settings, notifier: Notifier) -> Relay | None:
    """The relay ``sandan serve`` runs beside the API, when configured to."""
    if settings.nats_url is None or not settings.relay_in_serve:
        return None
    return Relay(db, settings, notifier)


async def run_relay(settings: Settings) -> None:
    """``sandan relay``: relay until SIGTERM or SIGINT, finishing the batch in hand."""
    db = Database(settings.database_url)
    relay = Relay(db, settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.request_stop)
    try:
        await relay.run()
        log.info("relay stopped")
    finally:
        await db.dispose()
