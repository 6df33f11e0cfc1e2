"""Sending a run's messages with wrk and reading back what it saw.

The messages are written to the run's directory (``messages.bin`` + ``messages.idx``, each
line carrying the sender key of that message's role, as the Python driver picks it), then
``send.lua`` sends each exactly once, round-robin over wrk's threads and their connections,
and logs every answer with its send and answer times. While wrk runs this coroutine only
watches for the threads' done files (the follower keeps reading the manifest beside it);
afterwards the answers become the same ``Sent`` the Python driver returns.

Not done here: ``--rate`` (wrk has no schedule; the Python driver does open loop) and
retrying a 503 (it counts as an error and its documents as failed).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from loadtest.driver import Clock, DriveConfig, Sent, record_answer
from loadtest.traffic import Message
from service.messages.registry import Kind

WRK = Path("/usr/bin/wrk")
SCRIPT = Path(__file__).with_name("send.lua")
Documents = tuple[tuple[int, Kind], ...]
# wrk only stops at its duration; the driver interrupts it long before this one.
_WRK_DURATION = "24h"


def available() -> bool:
    return WRK.is_file() and os.access(WRK, os.X_OK)


def write_messages(
    directory: Path, keys: dict[str, str], outgoing: Iterable[Message]
) -> list[Documents]:
    """The bodies and their index for ``send.lua``; per message, the documents it carries
    (the bodies themselves are not kept: lazily built traffic stays out of memory)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in [*directory.glob("answers-*.log"), *directory.glob("done-*")]:
        stale.unlink()
    (directory / "summary.json").unlink(missing_ok=True)
    documents: list[Documents] = []
    offset = 0
    with (
        (directory / "messages.bin").open("wb") as bodies,
        (directory / "messages.idx").open("w") as index,
    ):
        for number, message in enumerate(outgoing):
            bodies.write(message.body)
            index.write(f"{offset} {len(message.body)} {keys[message.role]} {number}\n")
            offset += len(message.body)
            documents.append(message.documents)
    return documents


def wrk_command(url: str, threads: int, connections: int, timeout: float) -> list[str]:
    return [
        str(WRK),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{_WRK_DURATION}",
        f"--timeout={max(1, round(timeout))}s",
        "-s",
        str(SCRIPT),
        url,
    ]


async def drive_wrk(
    urls: tuple[str, ...],
    documents: list[Documents],
    config: DriveConfig,
    clock: Clock,
    directory: Path,
    on_start: Callable[[int], None] | None = None,
) -> Sent:
    """Send the messages ``write_messages`` put in ``directory`` with wrk; ``on_start`` gets
    wrk's pid (to sample its CPU)."""
    sent = Sent(started=clock())
    sent.documents = sum(len(d) for d in documents)
    if not documents:
        sent.finished = clock()
        return sent
    # Every thread needs a message, and every server process a thread (wrk: threads <= conns).
    threads = max(1, min(config.wrk_threads, config.connections, len(documents)), len(urls))
    threads = min(threads, len(documents))
    connections = max(threads, min(config.connections, len(documents)))
    env = {
        **os.environ,
        "SANDAN_WRK_DIR": str(directory),
        "SANDAN_WRK_THREADS": str(threads),
        "SANDAN_WRK_PORTS": ",".join(str(urlsplit(u).port) for u in urls),
    }
    command = wrk_command(urls[0] + "/v1/messages", threads, connections, config.timeout)
    # wrk is our only child that exits during the run: the children's rusage delta is its CPU
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    offset = time.monotonic() - clock()  # wrk's CLOCK_MONOTONIC times -> the run's clock
    with (directory / "wrk.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
        )
        if on_start is not None:
            on_start(proc.pid)
        stalled = await _until_done(proc, directory, threads, config.timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    answered = _read_answers(directory, threads, documents, offset, sent)
    if stalled:
        sent.errors["WRK_STALLED"] += 1
    unanswered = [d for n, d in enumerate(documents) if n not in answered]
    if unanswered:
        sent.errors["WRK_UNANSWERED"] += len(unanswered)
        sent.statuses["failed"] += sum(len(d) for d in unanswered)
    if sent.requests:
        sent.started = min(began for began, _, _ in sent.requests)
        sent.finished = max(began + latency for began, latency, _ in sent.requests)
    else:
        sent.finished = clock()
    sent.generator = _generator(directory, threads, connections, cpu, sent)
    return sent


async def _until_done(
    proc: asyncio.subprocess.Process, directory: Path, threads: int, stall_seconds: float
) -> bool:
    """Wait for every thread's done file (or a stall), then interrupt wrk so it reports and
    exits. True when it was stopped because no answer arrived for ``stall_seconds``."""
    last_size, last_change, stalled = -1, time.monotonic(), False
    while proc.returncode is None:
        finished, size = _progress(directory)
        if finished >= threads:
            break
        if size != last_size:
            last_size, last_change = size, time.monotonic()
        elif time.monotonic() - last_change > stall_seconds:
            stalled = True
            break
        await asyncio.sleep(0.05)
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)  # wrk's own way to end early: it then calls done()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
    await proc.wait()
    return stalled


def _progress(directory: Path) -> tuple[int, int]:
    """Threads done, and bytes of answers logged so far (a few stat calls on local files)."""
    finished = sum(1 for _ in directory.glob("done-*"))
    return finished, sum(p.stat().st_size for p in directory.glob("answers-*.log"))


def _read_answers(
    directory: Path, threads: int, documents: list[Documents], offset: float, sent: Sent
) -> set[int]:
    """Each logged answer into ``sent``, as the Python driver records them; the numbers of
    the messages answered."""
    answered: set[int] = set()
    for thread in range(threads):
        path = directory / f"answers-{thread}.log"
        if not path.exists():
            continue
        data = path.read_bytes()
        at = 0
        while at < len(data):
            end = data.index(b"\n", at)
            number_text, began_text, done_text, status_text, size_text = data[at:end].split()
            body = data[end + 1 : end + 1 + int(size_text)]
            at = end + 2 + int(size_text)
            number, status = int(number_text), int(status_text)
            began, done = float(began_text) - offset, float(done_text) - offset
            message = documents[number]
            answered.add(number)
            if status != 200:
                sent.errors[f"HTTP_{status}"] += 1
                sent.statuses["failed"] += len(message)
                continue
            sent.requests.append((began, done - began, len(message)))
            record_answer(json.loads(body), message, done, sent)
    return answered


def _generator(
    directory: Path, threads: int, connections: int, cpu: float, sent: Sent
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "driver": "wrk",
        "threads": threads,
        "connections": connections,
        "cpu_seconds": round(cpu, 3),
        "cpu_pct": round(100 * cpu / max(sent.finished - sent.started, 1e-9), 1),
    }
    summary_path = directory / "summary.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text())
        latency = summary["latency_us"]
        out["latency_ms"] = {
            **{q: round(latency[q] / 1000, 2) for q in ("p50", "p95", "p99")},
            "max": round(latency["max"] / 1000, 2),
            "count": summary["requests"],
        }
        out["socket_errors"] = summary["errors"]
    return out
