"""A private nats-server with JetStream, to stop and start at will (the machine's shared one on
4222 is left alone), and a reader of what a stream holds."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.js.errors import NotFoundError

from tests.e2e.server import free_port

NATS_SERVER = Path("/usr/sbin/nats-server")
SUBJECTS = "sandan.manifest.>"


class NatsServer:
    """``nats-server -js`` on a fixed port and store directory, so a restart finds its data."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._store = directory / "jetstream"
        self._log = directory / "nats.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        assert not self.running
        seen = self._log.read_text().count("Server is ready") if self._log.exists() else 0
        command = [str(NATS_SERVER), "-js", "-a", "127.0.0.1", "-p", str(self.port)]
        command += ["-sd", str(self._store), "-l", str(self._log)]
        self._proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"nats-server exited: {self.log()[-2000:]}")
            # Ready once it says so in this run's part of the log and takes connections.
            if self.log().count("Server is ready") > seen and self._accepts():
                return
            time.sleep(0.02)
        raise RuntimeError(f"nats-server did not start: {self.log()[-2000:]}")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(sig)
                self._proc.wait(10)
            self._proc = None

    def log(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False


@dataclass(frozen=True)
class StreamMessage:
    stream_seq: int
    subject: str
    msg_id: str
    entry: dict[str, Any]


async def stream_messages(url: str, stream: str) -> list[StreamMessage]:
    """Everything ``stream`` holds, in stream order, read as a consumer would: an ordered
    push consumer from the first message."""
    nc = await nats.connect(url, allow_reconnect=False)
    try:
        js = nc.jetstream()
        total = (await js.stream_info(stream)).state.messages
        sub = await js.subscribe(SUBJECTS, stream=stream, ordered_consumer=True)
        messages = []
        for _ in range(total):
            msg = await sub.next_msg(timeout=5)
            messages.append(
                StreamMessage(
                    msg.metadata.sequence.stream,
                    msg.subject,
                    (msg.headers or {}).get("Nats-Msg-Id", ""),
                    json.loads(msg.data.decode("utf-8")),
                )
            )
        await sub.unsubscribe()
        return messages
    finally:
        await nc.close()


async def stream_count(url: str, stream: str) -> int:
    nc = await nats.connect(url, allow_reconnect=False)
    try:
        return int((await nc.jetstream().stream_info(stream)).state.messages)
    finally:
        await nc.close()


async def delete_stream(url: str, stream: str) -> None:
    nc = await nats.connect(url, allow_reconnect=False)
    try:
        await nc.jetstream().delete_stream(stream)
    except NotFoundError:
        pass
    finally:
        await nc.close()
