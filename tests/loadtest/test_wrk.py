"""The wrk driver sends every pre-rendered message exactly once and reads every answer back.

A real, short run: wrk and its Lua script against the physics app in its own process.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from loadtest.driver import Clock, DriveConfig
from loadtest.servers import physics_command, running
from loadtest.traffic import Message
from loadtest.wrk import available, drive_wrk, write_messages
from service.demo.consignments import clean_import, message_of
from service.demo.play import KIND_ROLE
from service.messages.registry import Kind

pytestmark = pytest.mark.skipif(not available(), reason="needs wrk at /usr/bin/wrk")


def traffic(count: int) -> list[Message]:
    """``count`` messages of 1 to 3 orders each, consignment numbers never repeated."""
    out, index = [], 0
    for n in range(count):
        size = n % 3 + 1
        consignments = [clean_import(random.Random(index + i), index + i) for i in range(size)]
        documents = tuple((index + i, Kind.ORDER) for i in range(size))
        out.append(
            Message(
                message_of(consignments, Kind.ORDER), KIND_ROLE[Kind.ORDER], Kind.ORDER, documents
            )
        )
        index += size
    return out


@pytest.mark.parametrize(("messages", "connections"), [(11, 4), (3, 8)])
def test_every_message_is_sent_once_and_every_document_counted(
    tmp_path: Path, messages: int, connections: int
) -> None:
    outgoing = traffic(messages)
    keys = {KIND_ROLE[Kind.ORDER]: "sk_test"}
    directory = tmp_path / "wrk"
    documents = write_messages(directory, keys, outgoing)
    config = DriveConfig(connections=connections, driver="wrk", wrk_threads=2, timeout=10)
    with running(physics_command(), {}, tmp_path / "physics.log") as server:
        sent = asyncio.run(drive_wrk((server.url,), documents, config, Clock(), directory))

    total = sum(len(m.documents) for m in outgoing)
    assert sent.errors == {}
    assert sent.documents == sent.statuses["accepted"] == total
    # one answer per message, each matched to its own message: every document accepted once
    assert len(sent.requests) == messages
    assert set(sent.accepted_at) == {d for m in outgoing for d in m.documents}
    numbers = [
        int(line.split()[0])
        for log in directory.glob("answers-*.log")
        for line in log.read_bytes().splitlines()
        if line[:1].isdigit()
    ]
    assert sorted(numbers) == list(range(messages))
    # wrk itself counted exactly these requests: no filler, nothing sent twice
    assert sent.generator["driver"] == "wrk"
    assert sent.generator["latency_ms"]["count"] == messages
    assert sent.generator["latency_ms"]["p50"] > 0
    assert sent.generator["cpu_seconds"] >= 0
