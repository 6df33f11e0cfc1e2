"""`sandan serve` with two worker processes on one port (PostgreSQL): any worker takes any
request, /metrics answers the totals of both, and stopping the server stops them all."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from service.messages.registry import BUNDLE_KINDS, Kind
from tests.databases import on_postgres
from tests.e2e.conftest import SENDER_OF, Deployment, deploy, fresh
from tests.e2e.test_operations import _metric

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="several server processes need PostgreSQL: SQLite serves one"
)


def _workers(d: Deployment) -> list[psutil.Process]:
    """The uvicorn workers: spawned children (not multiprocessing's resource tracker)."""
    return [p for p in d.server.children() if "spawn_main" in " ".join(p.cmdline())]


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _documents_by_worker(directory: Path, pids: list[int]) -> dict[int, float]:
    """Accepted documents each worker counted, read from its own file in the shared directory."""
    counted: dict[int, float] = {}
    for pid in pids:
        path = directory / f"counter_{pid}.db"
        files = [str(path)] if path.exists() else []
        metrics = MultiProcessCollector.merge(files)  # type: ignore[no-untyped-call]
        counted[pid] = sum(
            s.value
            for m in metrics
            for s in m.samples
            if s.name == "sandan_documents_total" and s.labels.get("status") == "accepted"
        )
    return counted


def _post_alone(d: Deployment, body: bytes, role: str) -> None:
    """One request on a connection of its own, so the kernel hands it to either worker."""
    response = httpx.post(
        d.server.url + "/v1/messages",
        content=body,
        headers=d.headers(role, **{"Content-Type": "application/xml"}),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["documents"][0]["status"] == "accepted"


def test_two_workers_share_a_port_and_report_the_totals(tmp_path: Path) -> None:
    with deploy(tmp_path, SANDAN_WORKERS="2") as d:
        workers = _workers(d)
        assert len(workers) == 2, d.server.log()[-2000:]
        directory = Path(workers[0].environ()["PROMETHEUS_MULTIPROC_DIR"])
        assert directory.is_dir()
        pids = [w.pid for w in workers]

        # Orders on new connections until both workers have taken some (the kernel chooses).
        sent = 0
        while sent < 10 or (sent < 200 and 0 in _documents_by_worker(directory, pids).values()):
            _post_alone(d, fresh().message(Kind.ORDER), SENDER_OF[Kind.ORDER])
            sent += 1
        counted = _documents_by_worker(directory, pids)
        assert all(counted.values()), counted
        assert sum(counted.values()) == sent

        # Every answer, whichever worker gives it, has all of them.
        for _ in range(6):
            text = httpx.get(d.server.url + "/metrics", timeout=30).text
            assert _metric(text, "sandan_documents_total", status="accepted", kind="order") == sent
            assert _metric(text, "sandan_bundles", state="pending") == sent

        # Process metrics of each worker, labelled with its pid (none has them alone).
        text = httpx.get(d.server.url + "/metrics", timeout=30).text
        for pid in pids:
            rss = _metric(text, "process_resident_memory_bytes", pid=str(pid))
            assert 10_000_000 < rss < 10_000_000_000, (pid, rss)
            assert _metric(text, "process_cpu_seconds_total", pid=str(pid)) > 0

        # SIGTERM to the supervisor only, as a process manager sends it: it stops the rest.
        everything = d.server.children()
        d.server.stop()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in everything):
            time.sleep(0.1)
        assert not [p for p in everything if _alive(p)]
        assert not directory.exists()


def test_a_complete_bundle_is_decided_whichever_workers_take_its_documents(
    tmp_path: Path,
) -> None:
    with deploy(tmp_path, SANDAN_WORKERS="2") as d:
        c = fresh()
        for kind in BUNDLE_KINDS:
            _post_alone(d, c.message(kind), SENDER_OF[kind])
        key = (c.order["ebpCode"], c.order["orderNo"])
        assert d.bundle_json(key)["state"] == "released"
        text = httpx.get(d.server.url + "/metrics", timeout=30).text
        assert _metric(text, "sandan_decisions_total", decision="release") == 1
