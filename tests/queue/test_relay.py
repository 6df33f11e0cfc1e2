"""The relay against a real nats-server and a real database: order, subjects, headers, bodies,
its position, restarts, and a crash between publishing and saving the position."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import nats as nats_client
import pytest
from nats.js.api import StorageType, StreamConfig

from service.queue.broker import Broker
from service.queue.manifest import Notifier, entry_json
from service.queue.relay import Relay, relay_lag
from service.store import relay as positions
from tests.queue.natsd import NatsServer, stream_count, stream_messages
from tests.queue.support import Outbox, caught_up, eventually, relay_settings


@contextlib.asynccontextmanager
async def running(relay: Relay) -> AsyncIterator[Relay]:
    await relay.start()
    try:
        yield relay
    finally:
        await relay.stop()


def relay_for(outbox: Outbox, nats: NatsServer, stream: str, **overrides: Any) -> Relay:
    return Relay(outbox.db, relay_settings(outbox.db.url, nats.url, stream, **overrides))


async def test_entries_reach_the_stream_in_seq_order_with_subject_id_and_body(
    outbox: Outbox, nats: NatsServer, stream: str
) -> None:
    await outbox.append(13)
    await outbox.append(12)
    async with running(relay_for(outbox, nats, stream, relay_batch=7)) as relay:
        await caught_up(outbox, stream)
    rows = await outbox.rows()
    messages = await stream_messages(nats.url, stream)

    assert [m.entry["seq"] for m in messages] == [r["seq"] for r in rows] == list(range(1, 26))
    for message, row in zip(messages, rows, strict=True):
        assert message.msg_id == row["id"]
        assert message.subject == f"sandan.manifest.{row['regime'] or 'unknown'}.{row['decision']}"
        assert message.entry == json.loads(json.dumps(entry_json(row)))
    assert {m.subject.split(".")[2] for m in messages} == {"9610", "1210", "9710", "unknown"}
    assert (relay.published, relay.duplicates) == (25, 0)
    assert await outbox.position(stream) == 25


async def test_the_stream_is_created_as_configured(nats: NatsServer, stream: str) -> None:
    broker = Broker(nats.url, stream, duplicate_window=90)
    await broker.open()
    await broker.close()
    config = await _stream_config(nats, stream)
    assert config.subjects == ["sandan.manifest.>"]
    assert config.storage == StorageType.FILE
    assert config.duplicate_window == 90


async def test_a_different_duplicate_window_is_updated(nats: NatsServer, stream: str) -> None:
    nc = await nats_client.connect(nats.url)
    await nc.jetstream().add_stream(
        StreamConfig(name=stream, subjects=["sandan.manifest.>"], duplicate_window=120)
    )
    await nc.close()
    broker = Broker(nats.url, stream, duplicate_window=3600)
    await broker.open()
    await broker.close()
    assert (await _stream_config(nats, stream)).duplicate_window == 3600


async def test_a_restarted_relay_goes_on_after_its_saved_position(
    outbox: Outbox, nats: NatsServer, stream: str
) -> None:
    await outbox.append(20)
    async with running(relay_for(outbox, nats, stream)) as first:
        await caught_up(outbox, stream)
    assert await outbox.position(stream) == 20
    await outbox.append(10)
    assert await relay_lag(outbox.db, stream) == 10

    async with running(relay_for(outbox, nats, stream)) as second:
        await caught_up(outbox, stream)
    assert (first.published, second.published, second.duplicates) == (20, 10, 0)
    assert await relay_lag(outbox.db, stream) == 0
    assert [m.entry["seq"] for m in await stream_messages(nats.url, stream)] == list(range(1, 31))


async def test_stop_finishes_the_batch_in_hand(
    outbox: Outbox, nats: NatsServer, stream: str
) -> None:
    await outbox.append(600)
    relay = relay_for(outbox, nats, stream, relay_batch=40)
    await relay.start()
    await eventually(lambda: outbox.position(stream))
    await relay.stop()
    position = await outbox.position(stream)
    assert 0 < position < 600, "stopped while catching up"
    # Everything published was saved: nothing for the next relay to re-send ...
    assert await stream_count(nats.url, stream) == position
    # ... and no write transaction was left open behind a cancelled task.
    await asyncio.wait_for(outbox.append(1), 5)


async def test_an_in_process_commit_wakes_an_idle_relay(
    outbox: Outbox, nats: NatsServer, stream: str
) -> None:
    notifier = Notifier()
    settings = relay_settings(outbox.db.url, nats.url, stream, relay_idle_seconds=30)
    await outbox.append(1)
    async with running(Relay(outbox.db, settings, notifier)):
        await caught_up(outbox, stream)  # the first look finds it
        await asyncio.sleep(0.2)  # now idle for 30 s unless woken
        await outbox.append(2)
        notifier.notify()
        await caught_up(outbox, stream, within=3)


class ProcessDied(BaseException):
    """What the relay sees of its process dying: nothing after this runs."""


class DyingBroker(Broker):
    """A real broker connection whose process dies right after the ``fatal``-th ack."""

    def __init__(self, broker: Broker, fatal: int) -> None:
        super().__init__(broker.url, broker.stream, broker.duplicate_window)
        self._left = fatal

    async def publish(self, row: dict[str, Any]) -> bool:
        duplicate = await super().publish(row)
        self._left -= 1
        if self._left == 0:
            raise ProcessDied
        return duplicate


async def test_a_crash_between_publish_and_saving_the_position_resends_without_duplicates(
    outbox: Outbox, nats: NatsServer, stream: str
) -> None:
    await outbox.append(30)
    doomed = relay_for(outbox, nats, stream, relay_batch=30)
    doomed.broker = DyingBroker(doomed.broker, fatal=17)
    await doomed.broker.open()
    with pytest.raises(ProcessDied):
        await doomed.step()
    await doomed.broker.close()
    assert await outbox.position(stream) == 0
    assert await stream_count(nats.url, stream) == 17

    async with running(relay_for(outbox, nats, stream)) as survivor:
        await caught_up(outbox, stream)
    # It re-sent the 17 and the broker dropped them by Nats-Msg-Id.
    assert (survivor.duplicates, survivor.published) == (17, 13)
    messages = await stream_messages(nats.url, stream)
    assert [m.msg_id for m in messages] == [r["id"] for r in await outbox.rows()]


async def test_a_failed_send_keeps_the_position_of_what_was_acknowledged(
    outbox: Outbox, stream: str
) -> None:
    await outbox.append(10)
    await positions.ensure(outbox.db, stream)
    sent: list[int] = []

    async def send(row: dict[str, Any]) -> None:
        if row["seq"] == 5:
            raise ConnectionError("broker went away")
        sent.append(row["seq"])

    with pytest.raises(ConnectionError):
        await positions.relay_batch(outbox.db, stream, 10, send)
    assert sent == [1, 2, 3, 4]
    assert await outbox.position(stream) == 4

    async def dies(row: dict[str, Any]) -> None:
        sent.append(row["seq"])
        if row["seq"] == 7:
            raise ProcessDied

    with pytest.raises(ProcessDied):
        await positions.relay_batch(outbox.db, stream, 10, dies)
    assert await outbox.position(stream) == 4  # nothing saved: the next relay re-sends 5..7


async def test_a_relay_holding_the_position_keeps_others_out(outbox: Outbox, stream: str) -> None:
    await outbox.append(3)
    await positions.ensure(outbox.db, stream)
    inside = asyncio.Event()
    release = asyncio.Event()

    async def slow(row: dict[str, Any]) -> None:
        inside.set()
        await release.wait()

    async def never(row: dict[str, Any]) -> None:
        raise AssertionError("a second relay sent while the first held the position")

    holder = asyncio.create_task(positions.relay_batch(outbox.db, stream, 10, slow))
    await inside.wait()
    assert await positions.relay_batch(outbox.db, stream, 10, never) is None
    release.set()
    assert await holder == 3
    assert await positions.relay_batch(outbox.db, stream, 10, never) == 0


async def _stream_config(nats_server: NatsServer, stream: str) -> StreamConfig:
    nc = await nats_client.connect(nats_server.url)
    try:
        return (await nc.jetstream().stream_info(stream)).config
    finally:
        await nc.close()
