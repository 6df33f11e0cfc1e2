"""``sandan relay`` as a process, and ``sandan serve`` with a broker: relay and /readyz."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from service.app import create_app
from service.config import Settings
from tests.e2e.conftest import deploy, fresh
from tests.e2e.server import REPO_ROOT
from tests.e2e.support import wait_until
from tests.queue.natsd import NatsServer, stream_count, stream_messages
from tests.queue.support import Outbox, caught_up


def relay_process(
    database_url: str, nats: NatsServer, stream: str, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SANDAN_DATABASE_URL": database_url,
        "SANDAN_NATS_URL": nats.url,
        "SANDAN_NATS_STREAM": stream,
        "SANDAN_RELAY_BATCH": "7",
        "SANDAN_RELAY_IDLE_SECONDS": "0.05",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "relay"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def test_a_killed_relay_process_resumes_where_its_position_says(
    outbox: Outbox, nats: NatsServer, stream: str, tmp_path: Path
) -> None:
    log = tmp_path / "relay.log"
    await outbox.append(40)
    first = relay_process(outbox.db.url, nats, stream, log)
    try:
        await caught_up(outbox, stream, within=20)
    finally:
        first.kill()  # kill -9: no shutdown, no last position write
        first.wait()
    await outbox.append(40)
    assert await stream_count(nats.url, stream) == 40

    second = relay_process(outbox.db.url, nats, stream, log)
    try:
        await caught_up(outbox, stream, within=20)
    finally:
        second.send_signal(signal.SIGTERM)
        returncode = await asyncio.to_thread(second.wait, 10)
    assert returncode == 0, log.read_text()
    messages = await stream_messages(nats.url, stream)
    assert [m.msg_id for m in messages] == [r["id"] for r in await outbox.rows()]
    assert "relaying the manifest to stream" in log.read_text()


def test_relay_without_a_broker_url_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SANDAN_NATS_URL"}
    env["SANDAN_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "relay"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert b"SANDAN_NATS_URL" in done.stderr


def readyz(url: str) -> httpx.Response:
    return httpx.get(url + "/readyz", timeout=10)


def checks(url: str) -> tuple[int, dict[str, Any]]:
    response = readyz(url)
    return response.status_code, response.json()["checks"]


def test_serve_relays_decisions_and_reports_the_broker(
    nats: NatsServer, stream: str, tmp_path: Path
) -> None:
    with deploy(
        tmp_path,
        SANDAN_NATS_URL=nats.url,
        SANDAN_NATS_STREAM=stream,
        SANDAN_RELAY_IN_SERVE="true",
        SANDAN_RELAY_IDLE_SECONDS="0.1",
    ) as d:
        ok = (200, {"database": "ok", "broker": "ok"})
        wait_until(lambda: checks(d.server.url), lambda answer: answer == ok)
        consignment = fresh()
        d.send_all(consignment)
        [entry] = d.entries_for(consignment.key)
        wait_until(lambda: asyncio.run(stream_count(nats.url, stream)), lambda n: n == 1)
        [message] = asyncio.run(stream_messages(nats.url, stream))
        assert message.subject == "sandan.manifest.9610.release"
        assert (message.msg_id, message.entry) == (entry["id"], entry)

        nats.stop()
        _, down = wait_until(lambda: checks(d.server.url), lambda answer: answer[0] == 503)
        assert down["database"] == "ok"
        assert down["broker"].startswith("unavailable: ")
        assert readyz(d.server.url).json()["status"] == "unavailable"

        nats.start()
        wait_until(lambda: checks(d.server.url), lambda answer: answer == ok, timeout=15)


def test_readyz_connects_briefly_when_serve_runs_no_relay(nats: NatsServer, tmp_path: Path) -> None:
    with deploy(tmp_path, SANDAN_NATS_URL=nats.url) as d:
        assert checks(d.server.url) == (200, {"database": "ok", "broker": "ok"})
        nats.stop()
        status, down = checks(d.server.url)
        assert status == 503
        assert down["broker"].startswith("unavailable: cannot connect to NATS")
        nats.start()
        assert checks(d.server.url) == (200, {"database": "ok", "broker": "ok"})


async def test_readyz_says_nothing_of_a_broker_when_none_is_configured(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sandan") as client,
    ):
        response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok"}
