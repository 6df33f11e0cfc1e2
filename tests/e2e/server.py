"""A real Sandan server in a subprocess, for end-to-end tests over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import httpx
import psutil

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``sandan serve`` on a free port with the given environment.

    On PostgreSQL that is a supervisor and a worker process per core (``SANDAN_WORKERS``). It
    runs in a session of its own, so that ``kill`` can take every process of it at once: a
    worker whose supervisor died of SIGKILL would go on serving the port.
    """

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {**os.environ, **env}
        self._log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def start(self, timeout: float = 30.0) -> None:
        log = self._log_path.open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port)],
            cwd=REPO_ROOT,  # with -m, the repository's own service/ comes first on the path
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"server exited: {self._log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        # Not left running: nobody would stop a server whose start failed (its workers went
        # on serving a dropped database, taking the cores of every later test).
        self.kill()
        raise RuntimeError(f"server did not start: {self._log_path.read_text()[-3000:]}")

    def children(self) -> list[psutil.Process]:
        """The server's processes below its own: workers, prepare helpers."""
        if self._proc is None:
            return []
        try:
            return psutil.Process(self._proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        """SIGTERM, as a process manager sends it: the server stops its own workers."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._kill_session()
                self._proc.wait()
        self._proc = None

    def kill(self) -> None:
        """kill -9 of every process of the server: no shutdown hooks, no flushing."""
        if self._proc is not None:
            self._kill_session()
            self._proc.wait()
            self._proc = None

    def _kill_session(self) -> None:
        assert self._proc is not None
        with suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)

    def log(self) -> str:
        return self._log_path.read_text(errors="replace")
