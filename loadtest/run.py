"""One traffic run against one server: send, follow the manifest, sample memory, summarise."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from loadtest import phases
from loadtest.driver import Clock, DriveConfig, drive, warm_up
from loadtest.follower import Follower
from loadtest.memory import Sampler
from loadtest.report import summarise
from loadtest.traffic import Message, Planned


@dataclass(frozen=True, slots=True)
class Target:
    # one URL per server process; the senders' connections are spread over them
    urls: tuple[str, ...]
    # role -> API key; "operator" (or "admin") reads the manifest
    keys: dict[str, str]
    # False for the ceiling: nothing is stored, so nothing is ever decided
    decides: bool = True
    server_pids: tuple[int, ...] = ()


async def run_traffic(
    target: Target,
    planned: list[Planned],
    outgoing: Iterable[Message],
    total_documents: int,
    config: DriveConfig,
    drain_seconds: float = 30.0,
) -> dict[str, Any]:
    for url in target.urls:
        await warm_up(url, target.keys)
    phases_before = await phases.scrape(target.urls)
    clock = Clock()
    sampler = Sampler(target.server_pids, clock)
    sampling = asyncio.create_task(sampler.run())
    follower: Follower | None = None
    following: asyncio.Task[None] | None = None
    if target.decides:
        key = target.keys.get("operator") or target.keys["admin"]
        follower = Follower(target.urls[0], key, clock, drain_seconds)
        following = asyncio.create_task(follower.run(await follower.start_cursor()))
    try:
        sent = await drive(target.urls, target.keys, outgoing, config, clock, total_documents)
        if follower is not None and following is not None:
            expected = {
                p.key
                for p in planned
                if all((p.index, kind) in sent.accepted_at for kind in p.required)
            }
            follower.stop(expected)
            await following
        sampler.sample()  # the state at the end, however short the run
    finally:
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
        if following is not None and not following.done():
            following.cancel()
    report = summarise(planned, sent, follower.seen if follower else None, sampler.samples)
    batches = phases.summary(
        phases_before, await phases.scrape(target.urls), sent.finished - sent.started
    )
    if batches:
        report["intake_batches"] = batches
    return report
