"""A real webhook receiver for the tests: an HTTP server in the test process that checks every
delivery's signature the way the README tells a warehouse to, and answers as planned."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def verified(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """The README's recipe: HMAC-SHA256 of timestamp + "." + body, keyed by the secret."""
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + expected.hexdigest(), header)


@dataclass
class Answer:
    status: int = 200
    # seconds to wait before answering (longer than Sandan's timeout: no answer in time)
    delay: float = 0.0


@dataclass
class Receiver:
    secret: str = ""
    # answers for the next requests, in order; 200 at once when none is left
    plan: list[Answer] = field(default_factory=list)
    # every correctly signed delivery's entries, in arrival order (one list per request)
    deliveries: list[list[dict[str, Any]]] = field(default_factory=list)
    bad_signatures: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    @property
    def seqs(self) -> list[int]:
        with self.lock:
            return [e["seq"] for batch in self.deliveries for e in batch]

    def receive(self, headers: Any, body: bytes) -> Answer:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            answer = self.plan.pop(0) if self.plan else Answer()
            good = verified(
                self.secret,
                headers.get("X-Sandan-Timestamp", ""),
                body,
                headers.get("X-Sandan-Signature", ""),
            )
            if good:
                self.deliveries.append(json.loads(body)["entries"])
            else:
                self.bad_signatures += 1
        if answer.delay:
            time.sleep(answer.delay)
        with self.lock:
            self.in_flight -= 1
        return answer if good else Answer(401)


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            answer = state.receive(self.headers, body)
            with suppress(OSError):  # Sandan may have given up waiting (the timeout case)
                self.send_response(answer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/sandan"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
