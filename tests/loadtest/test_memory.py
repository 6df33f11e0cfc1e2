"""The bench's sampler on a real `sandan serve`: CPU over every process of the server, memory
per serving process, the supervisor of worker processes apart."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from loadtest.memory import Sampler
from loadtest.servers import running, sandan_command
from tests.databases import fresh_database, on_postgres


def _sampled(pid: int) -> Sampler:
    sampler = Sampler((pid,), time.monotonic)
    sampler.sample()  # psutil's CPU baseline
    time.sleep(0.3)
    sampler.sample()
    return sampler


def test_one_process_server_is_its_own_figure(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        env = {"SANDAN_DATABASE_URL": url, "SANDAN_WORKERS": "1"}
        with running(sandan_command(), env, tmp_path / "server.log") as server:
            assert server.pid is not None
            last = _sampled(server.pid).samples[-1]
    assert last.serving == 1
    assert last.parent_rss_mb == 0
    assert last.rss_mb > 20  # an interpreter with the app imported


@pytest.mark.skipif(not on_postgres(), reason="worker processes need PostgreSQL")
def test_workers_are_measured_each_and_the_supervisor_apart(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        env = {"SANDAN_DATABASE_URL": url, "SANDAN_WORKERS": "2"}
        with running(sandan_command(), env, tmp_path / "server.log") as server:
            assert server.pid is not None
            last = _sampled(server.pid).samples[-1]
    assert last.serving == 2
    # the supervisor imports the command line and uvicorn, a worker the whole service
    assert 0 < last.parent_rss_mb < last.rss_mb
