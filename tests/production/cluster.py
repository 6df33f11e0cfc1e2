"""Several `sandan serve` processes on one database, and traffic for them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from service.config import Settings
from service.demo.consignments import Consignment, clean_import, message_of
from service.messages.registry import BUNDLE_KINDS, Kind
from tests.databases import fresh_database
from tests.e2e.conftest import SENDER_OF, make_keys, server_environment
from tests.e2e.server import ServerProcess


@dataclass
class Cluster:
    url: str
    servers: list[ServerProcess]
    keys: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", "Content-Type": "application/xml"}


@contextmanager
def cluster(tmp_path: Path, size: int, **env: str) -> Iterator[Cluster]:
    with fresh_database(tmp_path) as url:
        keys = make_keys(Settings(database_url=url))
        servers = [
            ServerProcess(server_environment(url, **env), tmp_path / f"server-{i}.log")
            for i in range(size)
        ]
        try:
            for server in servers:
                server.start()
            yield Cluster(url, servers, keys)
        finally:
            for server in servers:
                server.stop()


@dataclass(frozen=True)
class Message:
    kind: Kind
    body: bytes
    guids: tuple[str, ...]


def consignments(count: int, first: int = 1) -> list[Consignment]:
    return [
        clean_import(random.Random(n), n, regime="1210" if n % 3 else "9610")
        for n in range(first, first + count)
    ]


def messages(items: list[Consignment], per_message: int, rng: random.Random) -> list[Message]:
    """Every document of ``items`` in same-kind messages of up to ``per_message``, shuffled."""
    out: list[Message] = []
    for kind in BUNDLE_KINDS:
        group = items[:]
        rng.shuffle(group)
        for start in range(0, len(group), per_message):
            chunk = group[start : start + per_message]
            guids = tuple(
                {
                    Kind.ORDER: c.order,
                    Kind.PAYMENT: c.payment,
                    Kind.LOGISTICS: c.logistics,
                    Kind.INVENTORY: c.inventory,
                }[kind]["guid"]
                for c in chunk
            )
            out.append(Message(kind, message_of(chunk, kind), guids))
    rng.shuffle(out)
    return out


def post_all(
    target: Cluster, plan: list[tuple[int, Message]], workers: int = 16
) -> list[tuple[Message, int, dict[str, Any] | None]]:
    """Post each (server index, message); (message, HTTP status, answer) for each, any order."""

    def post(item: tuple[int, Message]) -> tuple[Message, int, dict[str, Any] | None]:
        index, message = item
        server = target.servers[index]
        try:
            response = httpx.post(
                server.url + "/v1/messages",
                content=message.body,
                headers=target.headers(SENDER_OF[message.kind]),
                timeout=120,
            )
        except httpx.HTTPError:
            return message, 0, None
        body = response.json() if response.status_code == 200 else None
        return message, response.status_code, body

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(post, plan))
