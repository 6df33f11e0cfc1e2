"""Metrics shared by the worker processes of one `sandan serve` (prometheus_client's
multiprocess mode).

Workers share one port, so a scrape lands on any of them; each must answer the totals of all.
prometheus_client does that through files: with ``PROMETHEUS_MULTIPROC_DIR`` set before it is
imported, every process writes its values to memory-mapped files there, and a
``MultiProcessCollector`` sums them at scrape time. The parent creates a fresh directory
before it spawns the workers (a directory left by an earlier run would add that run's counts)
and removes it when they are gone. One process sets nothing and keeps its in-memory registry.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

ENV = "PROMETHEUS_MULTIPROC_DIR"


def shared() -> bool:
    return bool(os.environ.get(ENV))


@contextmanager
def shared_directory() -> Iterator[Path]:
    """A fresh directory in ``PROMETHEUS_MULTIPROC_DIR`` for the processes started inside the
    block (they inherit the environment); removed, and the variable restored, afterwards."""
    directory = tempfile.mkdtemp(prefix="sandan-metrics-")
    previous = os.environ.get(ENV)
    os.environ[ENV] = directory
    try:
        yield Path(directory)
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        shutil.rmtree(directory, ignore_errors=True)


def latest(registry: CollectorRegistry) -> bytes:
    """The text exposition: every process's values summed when they share a directory, else
    ``registry`` (this process's own)."""
    if not shared():
        return generate_latest(registry)
    # A new registry per scrape, as prometheus_client's docs prescribe: the collector reads
    # the files afresh each time, and this process's own registry must not be added twice.
    combined = CollectorRegistry()
    # prometheus_client leaves these two functions unannotated
    multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
    combined.register(WorkerProcesses(Path(os.environ[ENV])))
    return generate_latest(combined)


def worker_pids(directory: Path) -> list[int]:
    """The live processes that write to ``directory``: prometheus_client names each file
    ``<type>[_<mode>]_<pid>.db``, and every worker writes one when it imports the metrics."""
    pids = set()
    for path in directory.glob("*.db"):
        tail = path.stem.rsplit("_", 1)[-1]
        if tail.isdigit() and Path(f"/proc/{tail}").exists():
            pids.add(int(tail))
    return sorted(pids)


class WorkerProcesses(Collector):
    """prometheus_client's process metrics (``process_resident_memory_bytes``...) of every
    worker, each sample labelled with its ``pid``: its multiprocess mode has none, and this
    process's alone would say nothing of the others. Read from /proc at scrape time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def collect(self) -> list[Metric]:
        families: dict[str, Metric] = {}
        for pid in worker_pids(self.directory):
            one = ProcessCollector(pid=functools.partial(str, pid), registry=None)
            for family in one.collect():
                merged = families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    merged.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        return list(families.values())


def forget_this_process() -> None:
    """Drop this process's live gauges (``live*`` modes) when it stops, so a worker that exits
    stops counting; a no-op for the other modes and without a shared directory."""
    if shared():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
