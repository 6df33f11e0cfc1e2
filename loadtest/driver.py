"""Sending messages over N connections, at a target rate or as fast as the server answers.

Each answer is recorded against the clock the whole run shares (seconds since the run
started), per document: when its consignment's documents were accepted is what the decision
latency is measured from.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from tqdm import tqdm

from loadtest.traffic import Message
from service.demo.consignments import clean_import, message_of
from service.demo.exports import clean_export
from service.demo.play import KIND_ROLE
from service.messages.registry import BUNDLE_KINDS, Kind

# A copCode no key acts for: warm-up documents are parsed and checked, then refused.
_NOBODY = "0000000000"


@dataclass(frozen=True, slots=True)
class DriveConfig:
    connections: int = 16
    # Documents per second to offer; 0 = as fast as the server answers (closed loop).
    rate: float = 0.0
    timeout: float = 60.0
    # A 503 (back-pressure) or a dropped connection is retried, as a sender's system would.
    retries: int = 5
    progress: bool = True
    # "python" (this module, httpx) or "wrk" (loadtest.wrk: pre-rendered bodies, C sender)
    driver: str = "python"
    # wrk threads; each takes every n-th message and an equal share of the connections
    wrk_threads: int = 2


@dataclass(slots=True)
class Sent:
    """Everything the senders saw."""

    started: float = 0.0
    finished: float = 0.0
    # (time the request went out, latency in seconds, documents in it)
    requests: list[tuple[float, float, int]] = field(default_factory=list)
    # (consignment index, kind) -> time its "accepted" answer arrived
    accepted_at: dict[tuple[int, Kind], float] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    documents: int = 0
    # The generator's own account (wrk: its latency percentiles, CPU, socket errors); its
    # "latency_ms", when present, is the report's ingest latency.
    generator: dict[str, Any] = field(default_factory=lambda: {"driver": "python"})


class Clock:
    """Seconds since the run started: one time base for the senders and the follower."""

    def __init__(self) -> None:
        self._zero = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self._zero


async def warm_up(url: str, keys: dict[str, str]) -> None:
    """One message of every type before the clock starts, so one-off costs (compiling the
    schemas, first connections) are not in the figures. Each is refused by the sender check
    (SENDER_MISMATCH), so nothing is stored and no order number is used up."""
    rng = random.Random(0)
    samples = [clean_import(rng, 1), clean_export(rng, 1)]
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for consignment in samples:
            for kind in BUNDLE_KINDS:
                await client.post(
                    "/v1/messages",
                    content=message_of([consignment], kind, _NOBODY),
                    headers={
                        "Authorization": f"Bearer {keys[KIND_ROLE[kind]]}",
                        "Content-Type": "application/xml",
                    },
                )


async def drive(
    urls: tuple[str, ...],
    keys: dict[str, str],
    outgoing: Iterable[Message],
    config: DriveConfig,
    clock: Clock,
    total_documents: int,
) -> Sent:
    sent = Sent(started=clock())
    queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=config.connections * 2)
    bar = tqdm(
        total=total_documents, unit="doc", disable=not config.progress, smoothing=0.1, ncols=90
    )
    limits = httpx.Limits(
        max_connections=config.connections, max_keepalive_connections=config.connections
    )
    # Connection i goes to server i mod N, as a load balancer would spread them.
    clients = [
        httpx.AsyncClient(base_url=url, timeout=config.timeout, limits=limits) for url in urls
    ]
    try:

        async def produce() -> None:
            offered = 0
            for message in outgoing:
                if config.rate > 0:
                    # Open loop: the schedule, not the answers, says when a message goes.
                    due = sent.started + offered / config.rate
                    delay = due - clock()
                    if delay > 0:
                        await asyncio.sleep(delay)
                offered += len(message.documents)
                await queue.put(message)
            for _ in range(config.connections):
                await queue.put(None)

        async def send(client: httpx.AsyncClient) -> None:
            while (message := await queue.get()) is not None:
                await _post(client, keys, message, config, clock, sent)
                bar.update(len(message.documents))

        await asyncio.gather(
            produce(),
            *(send(clients[i % len(clients)]) for i in range(config.connections)),
        )
    finally:
        for client in clients:
            await client.aclose()
    bar.close()
    sent.finished = clock()
    return sent


async def _post(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    message: Message,
    config: DriveConfig,
    clock: Clock,
    sent: Sent,
) -> None:
    headers = {"Authorization": f"Bearer {keys[message.role]}", "Content-Type": "application/xml"}
    sent.documents += len(message.documents)
    for attempt in range(config.retries + 1):
        began = clock()
        try:
            response = await client.post("/v1/messages", content=message.body, headers=headers)
        except httpx.TransportError as exc:
            sent.errors[f"TRANSPORT_{type(exc).__name__}"] += 1
            await asyncio.sleep(0.05 * (attempt + 1))
            continue
        done = clock()
        if response.status_code == 503:
            sent.errors["HTTP_503"] += 1
            await asyncio.sleep(0.05 * (attempt + 1))
            continue
        if response.status_code != 200:
            sent.errors[f"HTTP_{response.status_code}"] += 1
            sent.statuses["failed"] += len(message.documents)
            return
        sent.requests.append((began, done - began, len(message.documents)))
        record_answer(response.json(), message.documents, done, sent)
        return
    sent.statuses["failed"] += len(message.documents)


def record_answer(
    body: dict[str, Any], documents: tuple[tuple[int, Kind], ...], done: float, sent: Sent
) -> None:
    """One 200 answer: Sandan's per-document statuses, or the physics ceiling's counts."""
    if isinstance(body["documents"], int):
        # {"documents": N, "valid": V}: nothing is stored, a valid document counts as accepted
        sent.statuses["accepted"] += body["valid"]
        if body["valid"] < body["documents"]:
            sent.statuses["rejected"] += body["documents"] - body["valid"]
        else:
            sent.accepted_at.update(dict.fromkeys(documents, done))
        return
    for (index, kind), doc in zip(documents, body["documents"], strict=True):
        status = doc["status"]
        sent.statuses[status] += 1
        if status == "accepted":
            sent.accepted_at[(index, kind)] = done
        for error in doc.get("errors") or []:
            sent.errors[error["code"]] += 1
