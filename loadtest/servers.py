"""Fresh migrated databases, API keys, and server processes for a benchmark.

Every target of a benchmark gets its own new database, so no run starts on another's data.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from service.config import Settings
from service.demo.play import DEMO_KEYS
from service.security.provision import create_api_key
from service.store.migrate import upgrade

REPO_ROOT = Path(__file__).resolve().parents[1]
# The local server, through its Unix socket when it has one: a co-located database is
# reached that way in production too, and a round trip costs about half of one over TCP on
# loopback (67 against 114 µs, measured here).
_SOCKET_DIR = Path("/var/run/postgresql")
DEFAULT_POSTGRES = (
    "postgresql+asyncpg://postgres@/postgres?host=/var/run/postgresql"
    if (_SOCKET_DIR / ".s.PGSQL.5432").exists()
    else "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def admin_dsn(url: str, database: str) -> str:
    """A plain asyncpg DSN for ``database`` on the server of SQLAlchemy ``url``."""
    return (
        make_url(url)
        .set(drivername="postgresql", database=database)
        .render_as_string(hide_password=False)
    )


async def admin(url: str, *statements: str) -> None:
    """Run statements (CREATE/DROP DATABASE) on the server of ``url``, outside a transaction."""
    conn = await asyncpg.connect(admin_dsn(url, make_url(url).database or "postgres"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def fresh_database(
    base: str | None, name: str, directory: Path, keep: bool = False
) -> Iterator[str]:
    """A new migrated database named ``name``: on the PostgreSQL server of ``base`` (any
    database there; only used to create others), or a SQLite file in ``directory``."""
    if base is not None and base.startswith("postgresql"):
        asyncio.run(admin(base, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            yield url
        finally:
            if not keep:
                with suppress(OSError, asyncpg.PostgresError):
                    asyncio.run(admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        return
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.db"
    _remove_sqlite(path)
    url = f"sqlite+aiosqlite:///{path}"
    try:
        upgrade(url)
        yield url
    finally:
        if not keep:
            _remove_sqlite(path)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def provision_keys(database_url: str) -> dict[str, str]:
    """The demo's keys (a platform, payment company, carrier, agent, operator, warehouse):
    role -> key. The operator's sees the whole manifest."""

    async def create() -> dict[str, str]:
        settings = Settings(database_url=database_url)
        return {
            k.role: await create_api_key(settings, list(k.codes), [k.role], f"loadtest {k.role}")
            for k in DEMO_KEYS
        }

    return asyncio.run(create())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A server command on a free port (``{port}`` in ``command`` is replaced).

    ``pid`` is the command's process; ``sandan serve`` on PostgreSQL has its worker processes
    below it (loadtest/memory.py samples the tree). It runs in a session of its own so that a
    server that will not stop is killed with all its processes, workers included.
    """

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [part.replace("{port}", str(self.port)) for part in command]
        self.env = env
        self._log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def start(self, timeout: float = 60.0) -> None:
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.command,
                cwd=REPO_ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"server exited: {self._log_path.read_text()[-3000:]}")
            with suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self._log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        self._proc = None


def sandan_command() -> list[str]:
    """`sandan serve` with its defaults, as an operator runs it: on PostgreSQL, a worker
    process per core behind the one port."""
    return [sys.executable, "-m", "service.cli", "serve", "--port", "{port}"]


def physics_command() -> list[str]:
    return [sys.executable, "-m", "loadtest", "physics", "--port", "{port}"]


def ceiling_command() -> list[str]:
    return [sys.executable, "-m", "loadtest", "ceiling", "--port", "{port}"]


@contextmanager
def running(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[ServerProcess]:
    with fleet(command, env, log_path, 1) as servers:
        yield servers[0]


@contextmanager
def fleet(
    command: list[str], env: dict[str, str], log_path: Path, processes: int
) -> Iterator[list[ServerProcess]]:
    """``processes`` copies of a server command, each on its own port (as behind a load
    balancer); logs ``name.log``, ``name-2.log``, ..."""
    servers = [
        ServerProcess(
            command,
            env,
            log_path if i == 0 else log_path.with_name(f"{log_path.stem}-{i + 1}{log_path.suffix}"),
        )
        for i in range(processes)
    ]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()
