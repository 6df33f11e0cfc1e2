"""The NATS JetStream side of the relay: the connection, the stream, one entry per message.

Every NATS failure leaves this module as ``BrokerUnavailable``. The connection does not
reconnect by itself: a lost connection closes, and the relay reconnects with its own capped
backoff, so there is one retry policy and a publish never sits in a client buffer while the
server is away.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from service.errors import ServiceUnavailable
from service.queue.manifest import entry_json

log = logging.getLogger(__name__)

SUBJECTS = "sandan.manifest.>"
# JetStream drops a message whose id it stored within the stream's duplicate window.
MSG_ID = "Nats-Msg-Id"
# A JetStream ack is a local disk write on a healthy server; past this the server is taken for
# gone and the connection is rebuilt.
PUBLISH_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 2
# /readyz must answer fast even when the broker host swallows packets.
PROBE_TIMEOUT_SECONDS = 1


class BrokerUnavailable(ServiceUnavailable):
    """The broker could not be reached, or refused or did not acknowledge a request."""


def subject(row: dict[str, Any]) -> str:
    """``sandan.manifest.<regime>.<decision>`` (SPEC §8); a bundle never classified: unknown."""
    return f"sandan.manifest.{row['regime'] or 'unknown'}.{row['decision']}"


def body(row: dict[str, Any]) -> bytes:
    """The entry exactly as ``GET /v1/manifest`` shows it, compact UTF-8 JSON."""
    return json.dumps(entry_json(row), ensure_ascii=False, separators=(",", ":")).encode()


def describe(exc: BaseException) -> str:
    """An error's class and message for logs and /readyz: NATS errors carry no entry data."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


async def _quiet(exc: Exception) -> None:
    # nats-py logs every failed connect at ERROR with a traceback; the relay reports outages
    # itself, once per retry, at WARNING.
    log.debug("nats: %s", describe(exc))


async def _connect(url: str, connect_seconds: int) -> NATS:
    try:
        return await nats.connect(
            servers=[u.strip() for u in url.split(",")],
            allow_reconnect=False,
            # Even without reconnecting, nats-py retries a failed first connect this many
            # times per server, waiting this long in between (default: 60 x 2 s); our caller
            # has its own backoff. 1 is the least it takes (0 means forever).
            max_reconnect_attempts=1,
            reconnect_time_wait=0,
            connect_timeout=connect_seconds,
            error_cb=_quiet,
            name="sandan",
        )
    except Exception as exc:
        raise BrokerUnavailable(f"cannot connect to NATS ({describe(exc)})") from exc


class Broker:
    """One NATS connection and the manifest stream on it."""

    def __init__(self, url: str, stream: str, duplicate_window: float) -> None:
        self.url = url
        self.stream = stream
        self.duplicate_window = duplicate_window
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def open(self) -> None:
        """Connect and make sure the stream is as configured; a no-op while connected."""
        if self.connected:
            return
        await self.close()
        self._nc = await _connect(self.url, CONNECT_TIMEOUT_SECONDS)
        self._js = self._nc.jetstream(timeout=PUBLISH_TIMEOUT_SECONDS)
        try:
            await self._ensure_stream(self._js)
        except Exception as exc:
            await self.close()
            raise BrokerUnavailable(f"cannot set up stream ({describe(exc)})") from exc

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        try:
            info = await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=self.stream,
                    subjects=[SUBJECTS],
                    storage=StorageType.FILE,
                    duplicate_window=self.duplicate_window,
                )
            )
            log.info("created stream %s", self.stream)
            return
        config = info.config
        # The server keeps nanoseconds; compare at millisecond precision.
        if round(config.duplicate_window or 0, 3) != round(self.duplicate_window, 3):
            config.duplicate_window = self.duplicate_window
            await js.update_stream(config)
            log.info("stream %s: duplicate window now %s s", self.stream, self.duplicate_window)

    async def publish(self, row: dict[str, Any]) -> bool:
        """Publish one manifest entry and wait for its ack; True if the broker had it already."""
        if self._js is None or not self.connected:
            raise BrokerUnavailable("not connected to NATS")
        try:
            ack = await self._js.publish(
                subject(row),
                body(row),
                stream=self.stream,
                headers={MSG_ID: str(row["id"])},
            )
        except Exception as exc:
            raise BrokerUnavailable(f"publish not acknowledged ({describe(exc)})") from exc
        return bool(ack.duplicate)

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            try:
                await nc.close()
            except Exception as exc:  # closing a broken connection may fail; it is gone anyway
                log.debug("closing NATS connection: %s", describe(exc))


class BrokerCheck:
    """The broker line of /readyz: the relay's connection when this process runs one, else a
    quick connect."""

    def __init__(self, url: str, broker: Broker | None = None) -> None:
        self._url = url
        self._broker = broker

    async def check(self) -> str:
        if self._broker is not None:
            return "ok" if self._broker.connected else "unavailable: not connected to NATS"
        try:
            nc = await _connect(self._url, PROBE_TIMEOUT_SECONDS)
        except BrokerUnavailable as exc:
            return f"unavailable: {exc.message}"
        await nc.close()
        return "ok"
