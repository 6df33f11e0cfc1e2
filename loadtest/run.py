"""One traffic run against one server: send, follow the manifest, sample memory, summarise."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtest import phases
from loadtest.driver import Clock, DriveConfig, drive, warm_up
from loadtest.follower import Follower
from loadtest.memory import Sampler
from loadtest.profile import Poller, profile
from loadtest.report import summarise
from loadtest.traffic import Message, Planned
from loadtest.wrk import drive_wrk, write_messages


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
    directory: Path | None = None,
) -> dict[str, Any]:
    """``directory`` keeps the wrk driver's files (bodies, answers); a temporary one if None."""
    if config.driver == "wrk" and directory is None:
        with tempfile.TemporaryDirectory(prefix="sandan-wrk-") as temporary:
            return await run_traffic(
                target, planned, outgoing, total_documents, config, drain_seconds, Path(temporary)
            )
    wrk_files = None if directory is None else directory / "wrk"
    # Written before the clock starts, as the bench renders its messages before it.
    documents = (
        write_messages(wrk_files, target.keys, outgoing)
        if config.driver == "wrk" and wrk_files is not None
        else None
    )
    for url in target.urls:
        await warm_up(url, target.keys)
    phases_before = await phases.scrape(target.urls)
    clock = Clock()
    sampler = Sampler(target.server_pids, clock)
    sampling = asyncio.create_task(sampler.run())
    poller = Poller(target.urls)
    polling = asyncio.create_task(poller.run())
    follower: Follower | None = None
    following: asyncio.Task[None] | None = None
    if target.decides:
        key = target.keys.get("operator") or target.keys["admin"]
        follower = Follower(target.urls[0], key, clock, drain_seconds)
        following = asyncio.create_task(follower.run(await follower.start_cursor()))
    try:
        if documents is not None and wrk_files is not None:
            sent = await drive_wrk(
                target.urls, documents, config, clock, wrk_files, sampler.add_generator
            )
        else:
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
        for task in (sampling, polling):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if following is not None and not following.done():
            following.cancel()
    report = summarise(planned, sent, follower.seen if follower else None, sampler.samples)
    phases_after = await phases.scrape(target.urls)
    batches = phases.summary(phases_before, phases_after, sent.finished - sent.started)
    if batches:
        report["intake_batches"] = batches
    stages = profile(phases_before, phases_after, poller.snapshots)
    if stages:
        report["profile"] = stages
    return report
