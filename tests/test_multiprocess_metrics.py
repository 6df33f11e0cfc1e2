"""Process metrics with several workers: prometheus_client's multiprocess mode has none, so
/metrics reads each worker's from /proc, one series per worker labelled ``pid``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.metrics import REGISTRY
from service.multiprocess_metrics import ENV, latest, worker_pids

# A worker as far as metrics go: imports them with the shared directory set, then waits.
WORKER = "import sys, service.metrics; print('ready', flush=True); sys.stdin.read()"


@pytest.fixture
def workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    monkeypatch.setenv(ENV, str(tmp_path))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env={**os.environ, ENV: str(tmp_path)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield [p.pid for p in procs]
    finally:
        for proc in procs:
            proc.communicate("")


def _samples(text: str, name: str) -> dict[str, float]:
    return {
        sample.labels["pid"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_every_worker_has_its_process_metrics(workers: list[int], tmp_path: Path) -> None:
    assert worker_pids(tmp_path) == sorted(workers)
    text = latest(REGISTRY).decode()
    rss = _samples(text, "process_resident_memory_bytes")
    assert set(rss) == {str(pid) for pid in workers}
    assert all(5_000_000 < value < 10_000_000_000 for value in rss.values()), rss
    assert set(_samples(text, "process_cpu_seconds_total")) == set(rss)
    assert set(_samples(text, "process_open_fds")) == set(rss)


def test_a_worker_gone_has_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", "import service.metrics"],
        env={**os.environ, ENV: str(tmp_path)},
        check=True,
    )
    assert done.returncode == 0 and list(tmp_path.glob("*.db"))  # it left its files
    assert worker_pids(tmp_path) == []
    assert _samples(latest(REGISTRY).decode(), "process_resident_memory_bytes") == {}
