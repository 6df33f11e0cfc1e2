"""Sampling the server's resident memory and CPU once a second while traffic runs."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import psutil

from loadtest.driver import Clock


@dataclass(slots=True)
class Sample:
    t: float
    # resident memory of the largest server process (with its children): the per-worker figure
    rss_mb: float
    # CPU of the servers (all their processes) and of this generator, in % of one core
    server_cpu: float
    generator_cpu: float
    # CPU of the wrk sender (0 with the Python driver), in % of one core
    wrk_cpu: float = 0.0


@dataclass(slots=True)
class Sampler:
    pids: tuple[int, ...]
    clock: Clock
    interval: float = 1.0
    samples: list[Sample] = field(default_factory=list)

    @staticmethod
    def _tree(pid: int) -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            # a server with worker processes: its children are the workers
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    _me: psutil.Process = field(default_factory=psutil.Process)
    _trees: list[list[psutil.Process]] = field(default_factory=list)
    _wrk: list[psutil.Process] = field(default_factory=list)

    def add_generator(self, pid: int) -> None:
        """A sender process beside this one (wrk), sampled from now on."""
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            process.cpu_percent()  # the first reading only starts psutil's interval
            self._wrk.append(process)

    def sample(self) -> None:
        """One sample now (CPU: since the previous one)."""
        if not self._trees:
            self._trees = [self._tree(pid) for pid in self.pids]
        largest = cpu = 0.0
        for tree in self._trees:
            rss = 0.0
            for proc in tree:
                with contextlib.suppress(psutil.Error):
                    rss += proc.memory_info().rss
                    cpu += proc.cpu_percent()
            largest = max(largest, rss)
        wrk = 0.0
        for proc in self._wrk:
            with contextlib.suppress(psutil.Error):
                wrk += proc.cpu_percent()
        self.samples.append(Sample(self.clock(), largest / 2**20, cpu, self._me.cpu_percent(), wrk))

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def peak_rss_mb(self) -> float | None:
        return max((s.rss_mb for s in self.samples), default=None)
