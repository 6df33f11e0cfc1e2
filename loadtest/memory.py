"""Sampling the server's resident memory and CPU once a second while traffic runs.

A server pid is a whole process tree: ``sandan serve`` on PostgreSQL is a supervisor and a
worker process per core sharing its port (and any process may have prepare helpers). CPU is
summed over every process of every tree: it is what the service costs. Memory is reported
per serving process, the figure that sizes a machine per core: a worker with its own
helpers; the supervisor, which only watches the workers, separately. The trees are walked
again at each sample, since a worker that died is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import psutil

from loadtest.driver import Clock


@dataclass(slots=True)
class Sample:
    t: float
    # resident memory of the largest serving process (a worker, or a one-process server, with
    # its prepare helpers): the per-process figure
    rss_mb: float
    # CPU of the servers (all their processes) and of this generator, in % of one core
    server_cpu: float
    generator_cpu: float
    # CPU of the wrk sender (0 with the Python driver), in % of one core
    wrk_cpu: float = 0.0
    # resident memory of the largest supervisor (a server with worker processes); 0 without
    parent_rss_mb: float = 0.0
    # processes serving HTTP (workers, or one-process servers) found in the trees
    serving: int = 0


@dataclass(slots=True)
class _Reading:
    cpu: float = 0.0
    serving_rss: float = 0.0
    parent_rss: float = 0.0
    serving: int = 0


@dataclass(slots=True)
class Sampler:
    pids: tuple[int, ...]
    clock: Clock
    interval: float = 1.0
    samples: list[Sample] = field(default_factory=list)

    _me: psutil.Process = field(default_factory=psutil.Process)
    # one Process per pid for the whole run: cpu_percent() measures since its own last call
    _known: dict[int, psutil.Process] = field(default_factory=dict)
    _listens: dict[int, bool] = field(default_factory=dict)
    _wrk: list[psutil.Process] = field(default_factory=list)

    def add_generator(self, pid: int) -> None:
        """A sender process beside this one (wrk), sampled from now on."""
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            process.cpu_percent()  # the first reading only starts psutil's interval
            self._wrk.append(process)

    def _process(self, found: psutil.Process) -> psutil.Process:
        known = self._known.get(found.pid)
        if known is None or known != found:  # new, or its pid reused by another process
            self._known[found.pid] = known = found
            self._listens.pop(found.pid, None)
        return known

    def _is_worker(self, process: psutil.Process) -> bool:
        """A child that listens on a TCP port: a uvicorn worker holds the server's socket,
        a prepare helper or multiprocessing's resource tracker holds none."""
        listens = self._listens.get(process.pid)
        if listens is None:
            connections = process.net_connections(kind="tcp")
            listens = any(c.status == psutil.CONN_LISTEN for c in connections)
            self._listens[process.pid] = listens
        return listens

    def _read(self, pid: int, reading: _Reading) -> None:
        root = self._process(psutil.Process(pid))
        rss: dict[int, float] = {}
        descendants: dict[int, list[int]] = {}
        for process in [root, *(self._process(p) for p in root.children(recursive=True))]:
            with contextlib.suppress(psutil.Error):
                rss[process.pid] = float(process.memory_info().rss)
                reading.cpu += process.cpu_percent()
        workers = []
        for child in root.children():
            with contextlib.suppress(psutil.Error):
                if self._is_worker(self._process(child)):
                    workers.append(child.pid)
                    descendants[child.pid] = [p.pid for p in child.children(recursive=True)]
        if not workers:  # one process serves: it and its helpers are the figure
            reading.serving_rss = max(reading.serving_rss, sum(rss.values()))
            reading.serving += 1
            return
        reading.serving += len(workers)
        reading.parent_rss = max(reading.parent_rss, rss.get(root.pid, 0.0))
        for worker in workers:
            footprint = rss.get(worker, 0.0) + sum(rss.get(p, 0.0) for p in descendants[worker])
            reading.serving_rss = max(reading.serving_rss, footprint)

    def sample(self) -> None:
        """One sample now (CPU: since the previous one)."""
        reading = _Reading()
        for pid in self.pids:
            with contextlib.suppress(psutil.Error):
                self._read(pid, reading)
        wrk = 0.0
        for proc in self._wrk:
            with contextlib.suppress(psutil.Error):
                wrk += proc.cpu_percent()
        self.samples.append(
            Sample(
                self.clock(),
                reading.serving_rss / 2**20,
                reading.cpu,
                self._me.cpu_percent(),
                wrk,
                reading.parent_rss / 2**20,
                reading.serving,
            )
        )

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def peak_rss_mb(self) -> float | None:
        return max((s.rss_mb for s in self.samples), default=None)
