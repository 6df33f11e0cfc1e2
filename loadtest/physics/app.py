"""``POST /v1/messages`` → ``{"documents": N, "valid": V}``; ``GET /healthz``; nothing else.

The body goes through ``service.messages.parse.parse_message`` (the hardened parser ingest
uses) and ``SchemaChecker.check`` (the same compiled lxml schemas, one validation of the
whole message when it is valid). A refused message answers 400 with the service's error body
(``{"code": "XML_MALFORMED", ...}``), so a bench can tell refusals from answers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from service.errors import MessageRefused, UnknownMessageType
from service.messages.parse import parse_message
from service.messages.registry import message_type_for
from service.messages.schema import SchemaChecker, schema_checker

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# As the service's default (``Settings.max_message_bytes``): the same refusals for size.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
_HEALTHY = b'{"status":"ok"}'


class PhysicsApp:
    """The ASGI callable; the schemas are compiled when it is built, not on the first message."""

    def __init__(
        self, checker: SchemaChecker | None = None, max_bytes: int = MAX_MESSAGE_BYTES
    ) -> None:
        self._checker = checker or schema_checker()
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        # echoed as the service does: the wrk driver matches answers to messages by it
        echo = [(k, v) for k, v in scope["headers"] if k == b"x-request-id"][:1]
        if method == "GET" and path == "/healthz":
            await _answer(send, 200, _HEALTHY, echo)
        elif method == "POST" and path == "/v1/messages":
            status, body = self.check(await _body(receive, self._max_bytes))
            await _answer(send, status, body, echo)
        else:
            await _answer(send, 404, b'{"code":"NOT_FOUND"}', echo)

    def check(self, body: bytes) -> tuple[int, bytes]:
        """The HTTP status and JSON answer for one posted message."""
        try:
            root = parse_message(body, self._max_bytes)
            message_type = message_type_for(root.tag if isinstance(root.tag, str) else "")
            if message_type is None:
                raise UnknownMessageType("unsupported message type")
            check = self._checker.check(message_type, root)
        except MessageRefused as exc:
            return exc.status, json.dumps(exc.problem()).encode()
        documents = len(check.documents)
        invalid = sum(1 for index in check.errors if index >= 0)
        return 200, b'{"documents":%d,"valid":%d}' % (documents, documents - invalid)


async def _body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        # One byte over the limit is enough for the parser to refuse it; keep no more.
        if size <= limit + 1:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def serve(host: str, port: int) -> None:
    import uvicorn

    # httptools and uvloop: the fastest HTTP parsing and event loop uvicorn offers, so the
    # ceiling is the parser and the schema, not the server around them.
    uvicorn.run(
        PhysicsApp(),
        host=host,
        port=port,
        http="httptools",
        loop="uvloop",
        lifespan="on",
        access_log=False,
        log_level="warning",
    )
